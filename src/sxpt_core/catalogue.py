"""The rule catalogue: every check sxpt runs, with its code, severity and messages.

Rules are declared next to the code that applies them (``sxpt_core.normalise.*``,
``sxpt_core.rules.*``, ``sxpt_core.io.*``) by constructing a :class:`Rule`, which
registers itself here. :func:`all_rules` imports those modules and returns the whole
catalogue, which the documentation generator and the tests read.

Codes are stable: ``SXPT-E-…`` for errors, ``SXPT-W-…`` for warnings. Messages are
``str.format`` templates filled from a finding's parameters, in Chinese and English.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "LAYERS",
    "Finding",
    "Layer",
    "Rule",
    "Severity",
    "all_rules",
    "get_rule",
]


class Severity(str, enum.Enum):
    """The weight of an issue: an error blocks the upload, a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class Layer(str, enum.Enum):
    """The stage of checking a rule belongs to, reported separately to the user."""

    FILE = "file"
    FORMAT = "format"
    CHECKSUM = "checksum"
    CODE_TABLE = "code_table"
    ROSTER = "roster"
    PLAN = "plan"
    BATCH = "batch"
    CALENDAR = "calendar"
    UNIT = "unit"


LAYERS: tuple[Layer, ...] = tuple(Layer)

LAYER_TITLES: Mapping[Layer, tuple[str, str]] = {
    Layer.FILE: ("文件与工作表", "File and sheet"),
    Layer.FORMAT: ("字段格式", "Field format"),
    Layer.CHECKSUM: ("校验位", "Check character"),
    Layer.CODE_TABLE: ("代码表", "Code tables"),
    Layer.ROSTER: ("学籍名单", "Student roster"),
    Layer.PLAN: ("实习培养方案", "Training plan"),
    Layer.BATCH: ("文件内重复与冲突", "Duplicates and overlaps"),
    Layer.CALENDAR: ("报送时间", "Reporting calendar"),
    Layer.UNIT: ("实习单位校验", "Unit verification"),
}

# Modules whose import declares rules. Kept as names so that importing the catalogue
# stays cheap and free of cycles.
RULE_MODULES = (
    "sxpt_core.io.table",
    "sxpt_core.normalise.fields",
    "sxpt_core.normalise.names",
    "sxpt_core.normalise.dates",
    "sxpt_core.normalise.identifiers",
    "sxpt_core.normalise.city",
    "sxpt_core.rules.unit",
    "sxpt_core.rules.record",
    "sxpt_core.rules.identity",
    "sxpt_core.rules.plan",
    "sxpt_core.rules.batch",
    "sxpt_core.rules.calendar",
    "sxpt_core.rules.plan_file",
    "sxpt_core.rules.roster_file",
    "sxpt_core.review",
)

_REGISTRY: dict[str, Rule] = {}


@attrs.frozen(eq=False)
class Rule:
    """One check of the catalogue.

    ``message`` and ``hint`` are pairs of (Chinese, English) ``str.format`` templates;
    ``statement`` is one sentence per language saying the rule itself, for the docs.
    """

    code: str
    severity: Severity
    layer: Layer
    fields: tuple[str, ...]
    statement: tuple[str, str]
    message: tuple[str, str]
    hint: tuple[str, str] = ("", "")
    source: str = "sxpt"

    def __attrs_post_init__(self) -> None:
        prefix = "SXPT-E-" if self.severity is Severity.ERROR else "SXPT-W-"
        if not self.code.startswith(prefix):
            raise ValueError(f"rule code {self.code!r} must start with {prefix!r}")
        if self.code in _REGISTRY:
            raise ValueError(f"rule code {self.code!r} is declared twice")
        _REGISTRY[self.code] = self

    def __call__(self, **params: Any) -> Finding:
        """Return a finding of this rule with message parameters ``params``."""
        return Finding(self, {key: str(value) for key, value in params.items()})

    def render_message(self, params: Mapping[str, str], lang: str = "zh") -> str:
        """Return the message filled with ``params`` in ``lang``."""
        return _fill(self.message[1 if lang == "en" else 0], params)

    def render_hint(self, params: Mapping[str, str], lang: str = "zh") -> str:
        """Return the hint filled with ``params`` in ``lang`` (may be empty)."""
        return _fill(self.hint[1 if lang == "en" else 0], params)


@attrs.frozen
class Finding:
    """A rule that fired, with the parameters of its message; the place is added later."""

    rule: Rule
    params: dict[str, str] = attrs.field(factory=dict, hash=False)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self) -> Severity:
        return self.rule.severity


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, params: Mapping[str, str]) -> str:
    return template.format_map(_Defaulting(params))


def all_rules() -> tuple[Rule, ...]:
    """Import every rule module and return the catalogue sorted by layer, then code."""
    for name in RULE_MODULES:
        importlib.import_module(name)
    order = {layer: index for index, layer in enumerate(LAYERS)}
    return tuple(sorted(_REGISTRY.values(), key=lambda rule: (order[rule.layer], rule.code)))


def get_rule(code: str) -> Rule:
    """Return the rule with ``code``; raise ``KeyError`` when there is none."""
    if code not in _REGISTRY:
        all_rules()
    return _REGISTRY[code]
