"""The store interface of statistics and exports.

Every query takes a ``StatsFilter``. With ``approved_only`` it reads each record's
approved version, as the province and the ministry do, and skips records that were
never approved. Otherwise it reads the current version, as the school and its
departments do. The department and reporting-month filters apply to the version read.
Deleted records are never counted or exported.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, Literal, Protocol

import attrs

__all__ = ["GROUPS", "FailedUnit", "Group", "StatsFilter", "StatsStore"]

# The groupings of count_records_by: the version's reporting month, its 实习类型 cell,
# its department, the record's school, and the record's review state.
Group = Literal["month", "type", "department", "school", "state"]
GROUPS: tuple[Group, ...] = ("month", "type", "department", "school", "state")


@attrs.frozen
class StatsFilter:
    """The records that a statistic counts or an export writes.

    ``month_from`` and ``month_to`` are reporting months such as ``2025-10``, both
    included. Records without a reporting month (no valid end date) fall outside every
    month range.
    """

    province: str | None = None
    school: str | None = None
    department: str | None = None
    month_from: str | None = None
    month_to: str | None = None
    approved_only: bool = False


@attrs.frozen
class FailedUnit:
    """A host organisation whose verification failed, with the number of records that use it."""

    unit_code: str
    unit_name: str
    reason: str | None
    checked_at: datetime.datetime | None
    records: int


class StatsStore(Protocol):
    """Aggregate queries for the statistics pages and the record iterators of exports."""

    def count_records_by(self, group: Group, query: StatsFilter) -> list[tuple[str | None, int]]:
        """Count the records of ``query`` per value of ``group``, sorted by value, None (a blank cell) last."""

    def count_late_records(self, query: StatsFilter) -> list[tuple[str, int]]:
        """Count late reports (补报) per reporting month, sorted by month.

        A record is late when its first upload, in China time, falls in a month after
        the reporting month of the version read, as ``sxpt_core.stats.is_late_month``
        decides.
        """

    def failed_unit_checks(self, query: StatsFilter, *, limit: int) -> list[FailedUnit]:
        """Return the failed unit checks that records of ``query`` use, most used first, at most ``limit``."""

    def count_failed_unit_checks(self, query: StatsFilter) -> tuple[int, int]:
        """Return how many failed unit checks records of ``query`` use, and how many such records there are."""

    def reported_courses(self, query: StatsFilter) -> set[tuple[str, str]]:
        """Return the (学号, 课程代码) pairs of the records of ``query``."""

    def iter_record_cells(self, query: StatsFilter, *, page_size: int = 500) -> Iterator[dict[str, Any]]:
        """Yield the cells of the records of ``query`` in ascending record id, read ``page_size`` at a time."""
