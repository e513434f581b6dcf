"""Rules of the reporting calendar: not ended yet, early, and late reports (补报)."""

from __future__ import annotations

import datetime
import functools

from sxpt_core.calendar import PeriodStatus, classify_period
from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.rules import Placed, RowValues
from sxpt_core.rules.record import EARLIEST_DATE, one_year_after

__all__ = ["check_calendar"]

SOURCE = "全国大学生实习公共服务系统常见问题；教高厅函〔2023〕1号"

NOT_ENDED = Rule(
    code="SXPT-E-CAL-NOT-ENDED",
    severity=Severity.ERROR,
    layer=Layer.CALENDAR,
    fields=("实习结束时间",),
    statement=(
        "尚未结束的实习不能报送；实习结束后的下一个月报送。",
        "An internship that has not ended is not reported; it is reported the month after it ends.",
    ),
    message=("实习结束时间 {end} 晚于今天 {today}，实习尚未结束",
             "The internship ends on {end}, after today ({today})"),
    hint=("请在 {month} 报送这条记录；若结束时间填错，请更正。",
          "Report this record in {month}, or correct the end date."),
    source=SOURCE,
)

EARLY = Rule(
    code="SXPT-W-CAL-EARLY",
    severity=Severity.WARNING,
    layer=Layer.CALENDAR,
    fields=("实习结束时间",),
    statement=(
        "本月结束的实习属于下个月的报送批次。",
        "An internship that ended this month belongs to next month's report.",
    ),
    message=("实习在本月（{end}）结束，应在 {month} 报送", "The internship ended this month ({end}); it is due in {month}"),
    hint=("可以现在上传，也可以留到 {month} 随下月数据一起报送。", "You may upload it now or with the {month} report."),
    source=SOURCE,
)

LATE = Rule(
    code="SXPT-W-CAL-LATE",
    severity=Severity.WARNING,
    layer=Layer.CALENDAR,
    fields=("实习结束时间",),
    statement=(
        "应在实习结束后的下一个月报送；之后报送的记录为补报，系统接收并标记。",
        "A record reported after the month following its end is a late report, accepted and flagged.",
    ),
    message=("应于 {month} 报送，现为补报（晚 {months} 个月）", "Due in {month}; this is a late report ({months} months late)"),
    hint=("补报会被接收；请尽快上传，并核对是否还有同期漏报的记录。",
          "Late reports are accepted; upload soon and check for other missed records."),
    source=SOURCE,
)


def check_calendar(values: RowValues, today: datetime.date) -> list[Placed]:
    """Classify the internship's reporting month against ``today``.

    >>> d = datetime.date
    >>> check_calendar({"start_date": d(2024, 9, 1), "end_date": d(2024, 9, 30)}, d(2024, 10, 8))
    []
    >>> [f.code for _, f in check_calendar({"start_date": d(2024, 7, 1), "end_date": d(2024, 8, 21)}, d(2024, 10, 8))]
    ['SXPT-W-CAL-LATE']
    >>> [f.code for _, f in check_calendar({"start_date": d(2024, 10, 1), "end_date": d(2024, 12, 1)}, d(2024, 10, 8))]
    ['SXPT-E-CAL-NOT-ENDED']
    """
    start, end = values.get("start_date"), values.get("end_date")
    if start is None or end is None or end < start or start < EARLIEST_DATE:
        return []
    if end > one_year_after(today):  # already an implausible date
        return []
    return list(_findings_for_end(end, today))


@functools.lru_cache(maxsize=4096)
def _findings_for_end(end: datetime.date, today: datetime.date) -> tuple[Placed, ...]:
    """Return the calendar findings of an internship ending on ``end``.

    They depend on the end date alone, and a file has few distinct end dates, so they
    are computed once per date.
    """
    period = classify_period(end, end, today=today)
    if period.status is PeriodStatus.NOT_ENDED:
        finding = NOT_ENDED(end=end.isoformat(), today=today.isoformat(), month=period.month_text)
    elif period.status is PeriodStatus.EARLY:
        finding = EARLY(end=end.isoformat(), month=period.month_text)
    elif period.status is PeriodStatus.LATE:
        finding = LATE(month=period.month_text, months=period.months_late)
    else:
        return ()
    return (("end_date", finding),)
