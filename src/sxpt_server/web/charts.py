"""Bar charts drawn on the server as SVG, so pages need no chart library and no script.

``bar_chart`` computes the geometry; the ``bar_chart`` macro of ``macros.html`` writes
the SVG elements. Bars are horizontal, one row per value, because the labels (months,
department names, course names) are long Chinese texts that do not fit under columns.
The page's Content-Security-Policy forbids style attributes, so colours come from the
stylesheet through class names.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = ["Bar", "BarChart", "bar_chart"]

LABEL_WIDTH = 170
BAR_AREA_WIDTH = 290
VALUE_WIDTH = 90
ROW_HEIGHT = 26
BAR_HEIGHT = 18
PADDING = 6
# Longer labels are cut and end in "…"; the full label is the bar's tooltip.
LABEL_MAX_CHARACTERS = 13


@attrs.frozen
class Bar:
    """One bar: its label, the value and its text, and its place in the SVG's coordinates."""

    label: str
    short_label: str
    value: float
    text: str
    y: float
    width: float
    text_x: float
    text_y: float


@attrs.frozen
class BarChart:
    """A horizontal bar chart of the SVG size ``width`` × ``height``."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_area_width: int
    bar_height: int

    @property
    def empty(self) -> bool:
        """Whether the chart has no bars."""
        return not self.bars


def _shorten(label: str) -> str:
    return label if len(label) <= LABEL_MAX_CHARACTERS else label[: LABEL_MAX_CHARACTERS - 1] + "…"


def bar_chart(items: Sequence[tuple[str, float, str]], *, maximum: float | None = None) -> BarChart:
    """Lay out one bar per (label, value, value text); ``maximum`` is the value of a full bar.

    Without ``maximum`` the largest value fills the bar area. A value of 0 gets no bar
    but keeps its row and its text.
    """
    top = maximum if maximum is not None else max((value for _label, value, _text in items), default=0.0)
    bars = []
    for index, (label, value, text) in enumerate(items):
        y = PADDING + index * ROW_HEIGHT
        width = BAR_AREA_WIDTH * min(value / top, 1.0) if top > 0 and value > 0 else 0.0
        bars.append(Bar(label=label, short_label=_shorten(label), value=value, text=text, y=y, width=round(width, 1),
                        text_x=LABEL_WIDTH + round(width, 1) + 6, text_y=y + BAR_HEIGHT - 4))
    height = PADDING * 2 + ROW_HEIGHT * len(bars)
    return BarChart(bars=tuple(bars), width=LABEL_WIDTH + BAR_AREA_WIDTH + VALUE_WIDTH, height=height,
                    label_width=LABEL_WIDTH, bar_area_width=BAR_AREA_WIDTH, bar_height=BAR_HEIGHT)
