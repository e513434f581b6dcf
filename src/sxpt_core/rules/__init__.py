"""Rules over whole records, the roster, the plan, the batch and the calendar.

Cell-level rules live with the normalisers (:mod:`sxpt_core.normalise`). The rules here
read a row's normalised values, keyed by the model's attribute names, with None for a
blank or rejected cell. A rule skips itself when a value it needs is None, because that
cell already has its own issue. Each row rule returns a list of :data:`Placed` findings:
the attribute whose cell shows the finding (None for the row as a whole) and the finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sxpt_core.catalogue import Finding

__all__ = ["Placed", "RowValues"]

RowValues = Mapping[str, Any]
Placed = tuple[str | None, Finding]
