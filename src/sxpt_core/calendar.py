"""The reporting calendar: in which month an internship is reported, and whether late.

Records are reported monthly: an internship is reported in the month after the month
in which it ended (ended in September, reported in October). A record reported after
that month is a late report (补报), which the national system accepts. An internship
that has not ended yet cannot be reported; one that ended earlier in the current month
belongs to next month's report.

Every function takes today's date as an argument; nothing here reads a clock.
"""

from __future__ import annotations

import datetime
import enum

import attrs

__all__ = ["PeriodStatus", "ReportingPeriod", "classify_period", "reporting_month"]


class PeriodStatus(str, enum.Enum):
    """The position of an internship in the reporting calendar on a given day."""

    NOT_ENDED = "not_ended"  # ends after today: cannot be reported yet
    EARLY = "early"  # ended this month: belongs to next month's report
    DUE = "due"  # its reporting month is the current month
    LATE = "late"  # its reporting month has passed: a late report (补报)


@attrs.frozen
class ReportingPeriod:
    """The reporting month of an internship and its status on ``today``."""

    start: datetime.date
    end: datetime.date
    month: tuple[int, int]
    status: PeriodStatus
    months_late: int

    @property
    def month_text(self) -> str:
        """Return the reporting month as ``2024-10``."""
        return f"{self.month[0]}-{self.month[1]:02d}"


def reporting_month(end: datetime.date) -> tuple[int, int]:
    """Return (year, month) of the month after the month of ``end``.

    >>> reporting_month(datetime.date(2024, 9, 30))
    (2024, 10)
    >>> reporting_month(datetime.date(2024, 12, 15))
    (2025, 1)
    """
    if end.month == 12:
        return (end.year + 1, 1)
    return (end.year, end.month + 1)


def classify_period(
    start: datetime.date, end: datetime.date, *, today: datetime.date
) -> ReportingPeriod:
    """Return the reporting month of the internship ``start``–``end`` and its status.

    >>> today = datetime.date(2024, 10, 15)
    >>> classify_period(datetime.date(2024, 7, 1), datetime.date(2024, 9, 30), today=today).status
    <PeriodStatus.DUE: 'due'>
    >>> period = classify_period(datetime.date(2024, 7, 1), datetime.date(2024, 8, 21), today=today)
    >>> period.status, period.months_late
    (<PeriodStatus.LATE: 'late'>, 1)
    >>> classify_period(datetime.date(2024, 10, 1), datetime.date(2024, 10, 10), today=today).status
    <PeriodStatus.EARLY: 'early'>
    >>> classify_period(datetime.date(2024, 10, 1), datetime.date(2024, 11, 10), today=today).status
    <PeriodStatus.NOT_ENDED: 'not_ended'>
    """
    month = reporting_month(end)
    current = (today.year, today.month)
    months_late = (current[0] - month[0]) * 12 + (current[1] - month[1])
    if end > today:
        status = PeriodStatus.NOT_ENDED
    elif months_late < 0:
        status = PeriodStatus.EARLY
    elif months_late == 0:
        status = PeriodStatus.DUE
    else:
        status = PeriodStatus.LATE
    return ReportingPeriod(start, end, month, status, max(months_late, 0))
