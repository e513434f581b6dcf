"""Rules across the rows of one file: duplicates, overlapping periods, unit names.

A record's natural key is school + 学号 + 课程代码 + 实习开始时间 + 实习结束时间 + the unit
(its credit code, or its name where the code is 无). A second row with the same key is
an error naming the first. The same student in the same course over overlapping
periods is an error; in two different courses it is a warning (possible, but rare).
One unit code written with two different unit names is a warning naming both rows.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple

import attrs

from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.rules import RowValues

__all__ = ["BatchChecker"]

DUPLICATE = Rule(
    code="SXPT-E-BATCH-DUPLICATE",
    severity=Severity.ERROR,
    layer=Layer.BATCH,
    fields=("学号", "课程代码", "实习开始时间", "实习结束时间", "实习单位统一社会信用代码"),
    statement=(
        "同一学生、课程、起止时间和实习单位的记录只能有一条。",
        "One record per student, course, period and unit.",
    ),
    message=("与第 {first} 行重复（学号、课程代码、起止时间和实习单位都相同）",
             "Duplicate of row {first} (same student, course, dates and unit)"),
    hint=("请删除重复的一行。", "Delete the repeated row."),
)

OVERLAP_SAME_COURSE = Rule(
    code="SXPT-E-BATCH-OVERLAP",
    severity=Severity.ERROR,
    layer=Layer.BATCH,
    fields=("学号", "课程代码", "实习开始时间", "实习结束时间"),
    statement=(
        "同一学生同一课程的多条记录时间不能重叠；分时间段实习每段一条。",
        "Records of one student in one course do not overlap; each period is one record.",
    ),
    message=("与第 {other} 行的实习时间（{other_start} 至 {other_end}）重叠",
             "Overlaps row {other} ({other_start} to {other_end})"),
    hint=("同一课程分时间段或分地点实习时，每条记录的时间段应互不重叠，请核对起止时间。",
          "Split internships have one record per period without overlaps; check the dates."),
    source="全国大学生实习公共服务系统常见问题",
)

OVERLAP_OTHER_COURSE = Rule(
    code="SXPT-W-BATCH-OVERLAP-COURSES",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("学号", "实习开始时间", "实习结束时间"),
    statement=(
        "同一学生两门课程的实习时间重叠时需要核实。",
        "Overlapping internships of one student in two courses are checked.",
    ),
    message=("与第 {other} 行（课程 {other_course}）的实习时间重叠",
             "Overlaps row {other} (course {other_course})"),
    hint=("请确认该学生确实同时参加了两门课程的实习。", "Confirm the student took both internships at once."),
)

UNIT_NAMES_DIFFER = Rule(
    code="SXPT-W-BATCH-UNIT-NAMES",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("实习单位统一社会信用代码", "实习单位名称"),
    statement=(
        "同一统一社会信用代码应对应同一实习单位名称。",
        "One credit code goes with one unit name.",
    ),
    message=("代码 {code} 在第 {first} 行的单位名称是“{first_name}”，这里是“{value}”",
             "Code {code} is named {first_name} in row {first} but {value} here"),
    hint=("请统一为单位登记的全称。", "Use the unit's registered full name in every row."),
)


@attrs.frozen
class BatchFinding:
    """A batch rule that fired on ``row``, shown in the cell of attribute ``attr``."""

    row: int
    attr: str
    finding: Finding


class _Period(NamedTuple):
    row: int
    course: str
    start: datetime.date
    end: datetime.date


class BatchChecker:
    """Collects rows one at a time, then reports duplicates, overlaps and unit names.

    >>> import datetime
    >>> d = datetime.date
    >>> checker = BatchChecker(school="东海理工大学")
    >>> row = {"student_id": "2105010101", "course_code": "JX3101", "start_date": d(2024, 7, 1),
    ...        "end_date": d(2024, 7, 31), "unit_code": "91110000600037341L", "unit_name": "甲公司"}
    >>> checker.add(2, row)
    >>> checker.add(3, row)
    >>> [(f.row, f.finding.code) for f in checker.finish()]
    [(3, 'SXPT-E-BATCH-DUPLICATE')]
    """

    def __init__(self, *, school: str = "") -> None:
        self.school = school
        self._keys: dict[tuple[object, ...], int] = {}
        self._periods: dict[str, list[_Period]] = defaultdict(list)
        self._unit_names: dict[str, tuple[int, str]] = {}
        self._found: list[BatchFinding] = []

    def add(self, row: int, values: RowValues) -> None:
        """Add one row's normalised values; rows with a rejected key field are skipped."""
        student, course = values.get("student_id"), values.get("course_code")
        start, end = values.get("start_date"), values.get("end_date")
        code, name = values.get("unit_code"), values.get("unit_name")

        if code is not None and code != "无" and name is not None:
            first = self._unit_names.get(code)
            if first is None:
                self._unit_names[code] = (row, name)
            elif first[1] != name:
                finding = UNIT_NAMES_DIFFER(code=code, first=first[0], first_name=first[1], value=name)
                self._found.append(BatchFinding(row, "unit_name", finding))

        if student is None or course is None or start is None or end is None or end < start:
            return
        unit = name if code == "无" else code
        if unit is not None:
            key = (self.school, student, course, start, end, unit)
            first_row = self._keys.setdefault(key, row)
            if first_row != row:
                self._found.append(BatchFinding(row, "student_id", DUPLICATE(first=first_row)))
                return
        self._periods[student].append(_Period(row, course, start, end))

    def finish(self) -> list[BatchFinding]:
        """Return every batch finding, in row order."""
        found = list(self._found)
        for periods in self._periods.values():
            if len(periods) > 1:
                found.extend(self._overlaps(periods))
        found.sort(key=lambda item: item.row)
        return found

    @staticmethod
    def _overlaps(periods: list[_Period]) -> Iterator[BatchFinding]:
        """Yield a finding for each later row that overlaps an earlier one of the student."""
        ordered = sorted(periods, key=lambda period: (period.start, period.row))
        for index, period in enumerate(ordered):
            for other in ordered[index + 1:]:
                if other.start > period.end:
                    break
                later, earlier = (other, period) if other.row > period.row else (period, other)
                params = {"other": earlier.row, "other_start": str(earlier.start), "other_end": str(earlier.end)}
                if later.course == earlier.course:
                    finding = OVERLAP_SAME_COURSE(**params)
                else:
                    finding = OVERLAP_OTHER_COURSE(**params, other_course=earlier.course)
                yield BatchFinding(later.row, "start_date", finding)
