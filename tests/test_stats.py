"""Plan coverage (漏报 candidates) and late reports (补报) in sxpt_core.stats."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sxpt_core.models import PlanCourse, RosterEntry
from sxpt_core.records import month_of
from sxpt_core.stats import (
    CHINA_TIME,
    china_date,
    course_coverage,
    is_late,
    is_late_month,
    months_late,
    should_take,
)

MECHANICAL = "机械工程学院"
LANGUAGES = "外国语学院"
MAJOR = "机械设计制造及其自动化"
ENGLISH = "英语"


def course(code: str = "JX4001", *, major: str = MAJOR, grade: int = 2021, department: str = MECHANICAL,
           year: str = "2024-2025", term: str = "第二学期") -> PlanCourse:
    return PlanCourse(year, term, department, "080202", major, grade, code, "生产实习", Decimal(4),
                      "生产实习", "集中实习", "现场实习")


def student(number: str, *, major: str = MAJOR, year: int | None = 2021, department: str = MECHANICAL,
            level: str = "本科", status: str = "在籍") -> RosterEntry:
    enrolment = datetime.date(year, 9, 1) if year is not None else None
    return RosterEntry(number, f"学生{number[-2:]}", department=department, major=major, level=level,
                       status=status, enrolment_date=enrolment)


# --- late reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "uploaded", "late_by"),
    [
        (datetime.date(2025, 9, 30), datetime.date(2025, 9, 30), 0),  # ended this month: early
        (datetime.date(2025, 9, 30), datetime.date(2025, 10, 1), 0),
        (datetime.date(2025, 9, 30), datetime.date(2025, 10, 31), 0),
        (datetime.date(2025, 9, 30), datetime.date(2025, 11, 1), 1),
        (datetime.date(2024, 12, 15), datetime.date(2025, 1, 31), 0),  # reported in January of the next year
        (datetime.date(2024, 12, 15), datetime.date(2025, 2, 1), 1),
        (datetime.date(2024, 7, 1), datetime.date(2025, 10, 15), 14),
    ],
)
def test_months_late_cases(end: datetime.date, uploaded: datetime.date, late_by: int) -> None:
    assert months_late(end, uploaded) == late_by
    assert is_late(end, uploaded) is (late_by > 0)
    assert is_late_month(month_of({"end_date": end}), uploaded) is (late_by > 0)


def test_china_date_crosses_midnight() -> None:
    """An upload at 23:30 in Beijing on 31 October is still in October; at 00:30 it is November."""
    before = datetime.datetime(2025, 10, 31, 15, 30, tzinfo=datetime.timezone.utc)
    after = datetime.datetime(2025, 10, 31, 16, 30, tzinfo=datetime.timezone.utc)
    assert china_date(before) == datetime.date(2025, 10, 31)
    assert china_date(after) == datetime.date(2025, 11, 1)
    assert not is_late_month("2025-10", china_date(before))
    assert is_late_month("2025-10", china_date(after))


def test_china_date_keeps_china_times() -> None:
    moment = datetime.datetime(2025, 11, 1, 0, 30, tzinfo=CHINA_TIME)
    assert china_date(moment) == datetime.date(2025, 11, 1)


def test_china_date_rejects_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        china_date(datetime.datetime(2025, 10, 31, 16, 30))


def test_month_without_end_never_late() -> None:
    assert not is_late_month("", datetime.date(2030, 1, 1))


dates = st.dates(min_value=datetime.date(2015, 1, 1), max_value=datetime.date(2035, 12, 31))


@given(end=dates, uploaded=dates)
def test_late_month_agrees_with_end_date(end: datetime.date, uploaded: datetime.date) -> None:
    """Deciding from the stored month gives the same result as deciding from the end date."""
    assert is_late_month(month_of({"end_date": end}), uploaded) == is_late(end, uploaded)


@given(end=dates, uploaded=dates)
def test_late_report_never_before_end(end: datetime.date, uploaded: datetime.date) -> None:
    """An upload in the month of the end date or before it is never late."""
    if (uploaded.year, uploaded.month) <= (end.year, end.month):
        assert not is_late(end, uploaded)


# --- who should take a course --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (student("2101"), True),
        (student("2102", year=2022), False),
        (student("2103", major=ENGLISH), False),
        (student("2104", year=None), True),  # enrolment date unknown: the grade does not narrow
        (student("2105", major="", department=MECHANICAL), True),  # no major: same department
        (student("2106", major="", department=LANGUAGES), False),
        (student("2107", major="", department=""), True),  # neither major nor department known
        (student("2108", level="专科"), False),
        (student("2109", level="专升本"), True),
        (student("2110", status="退学"), False),
        (student("2111", status="休学"), False),
        (student("2112", status="毕业"), True),
        (student("2113", status="结业"), True),
        (student("2114", department=LANGUAGES), True),  # the major decides, not the department
    ],
)
def test_should_take_cases(entry: RosterEntry, expected: bool) -> None:
    assert should_take(course(), entry) is expected


def test_should_take_course_without_major() -> None:
    """A plan row without a major matches students of its department."""
    general = course(major="")
    assert should_take(general, student("2101", major=ENGLISH, department=MECHANICAL))
    assert not should_take(general, student("2102", major=ENGLISH, department=LANGUAGES))


# --- coverage ------------------------------------------------------------------------


def roster_of(count: int, *, prefix: str = "21010", **fields: Any) -> list[RosterEntry]:
    return [student(f"{prefix}{n}", **fields) for n in range(1, count + 1)]


def test_coverage_counts_reported_students() -> None:
    roster = roster_of(5)
    reported = {("210101", "JX4001"), ("210103", "JX4001"), ("210105", "OTHER")}
    [result] = course_coverage([course()], roster, reported, missing_limit=10)
    assert result.students == 5
    assert result.reported == 2
    assert result.missing_count == 3
    assert result.missing == ("210102", "210104", "210105")
    assert result.share == pytest.approx(0.4)


def test_coverage_caps_missing_list() -> None:
    [result] = course_coverage([course()], roster_of(5), [], missing_limit=2)
    assert result.missing == ("210101", "210102")
    assert result.missing_count == 5


def test_coverage_missing_limit_zero() -> None:
    [result] = course_coverage([course()], roster_of(3), [], missing_limit=0)
    assert result.missing == ()
    assert result.missing_count == 3


def test_coverage_rejects_negative_limit() -> None:
    with pytest.raises(ValueError, match="missing_limit"):
        course_coverage([course()], [], [], missing_limit=-1)


def test_coverage_without_students() -> None:
    """A course whose grade has no students in the roster has no share."""
    [result] = course_coverage([course(grade=2019)], roster_of(3), [], missing_limit=5)
    assert result.students == 0
    assert result.share is None
    assert result.missing == ()


def test_coverage_counts_repeated_plan_rows_once() -> None:
    """The same course in two terms, for the same major and grade, is one line."""
    plan = [course(term="第一学期"), course(term="第二学期")]
    results = course_coverage(plan, roster_of(2), [("210101", "JX4001")], missing_limit=5)
    assert len(results) == 1
    assert results[0].reported == 1


def test_coverage_counts_repeated_roster_rows_once() -> None:
    roster = [student("210101"), student("210101"), student("210102")]
    [result] = course_coverage([course()], roster, [], missing_limit=5)
    assert result.students == 2


def test_coverage_separates_grades_and_majors() -> None:
    plan = [course(grade=2021), course(grade=2022), course("YY3001", major=ENGLISH, department=LANGUAGES)]
    roster = [*roster_of(2), *roster_of(3, prefix="22010", year=2022),
              *roster_of(4, prefix="21020", major=ENGLISH, department=LANGUAGES)]
    reported = [("220101", "JX4001"), ("210201", "YY3001")]
    results = course_coverage(plan, roster, reported, missing_limit=10)
    summary = [(r.department, r.course_code, r.grade, r.students, r.reported) for r in results]
    assert summary == [
        (LANGUAGES, "YY3001", 2021, 4, 1),
        (MECHANICAL, "JX4001", 2021, 2, 0),
        (MECHANICAL, "JX4001", 2022, 3, 1),
    ]


def test_coverage_narrowed_to_department() -> None:
    plan = [course(), course("YY3001", major=ENGLISH, department=LANGUAGES)]
    roster = [*roster_of(2), *roster_of(2, prefix="21020", major=ENGLISH, department=LANGUAGES),
              student("210199", department="")]
    results = course_coverage(plan, roster, [], missing_limit=10, department=MECHANICAL)
    assert [r.course_code for r in results] == ["JX4001"]
    assert results[0].missing == ("210101", "210102", "210199")


def test_coverage_skips_other_department_students() -> None:
    """A student of another department with the same major is not the department's to report."""
    roster = [student("210101"), student("210102", department=LANGUAGES)]
    [result] = course_coverage([course()], roster, [], missing_limit=10, department=MECHANICAL)
    assert result.students == 1


def test_coverage_reports_blank_major_as_none() -> None:
    [result] = course_coverage([course(major="")], roster_of(1), [], missing_limit=1)
    assert result.major is None
    assert result.grade == 2021


numbers = st.lists(st.integers(min_value=1, max_value=60), max_size=40)


@given(roster_numbers=numbers, reported_numbers=numbers, limit=st.integers(min_value=0, max_value=10))
def test_coverage_totals_agree(roster_numbers: list[int], reported_numbers: list[int], limit: int) -> None:
    """Reported and missing students add up to the expected students, whatever the input."""
    roster = [student(f"21{n:04d}") for n in roster_numbers]
    reported = [(f"21{n:04d}", "JX4001") for n in reported_numbers]
    [result] = course_coverage([course()], roster, reported, missing_limit=limit)
    expected = {entry.student_id for entry in roster}
    done = {student_id for student_id, _code in reported}
    assert result.students == len(expected)
    assert result.reported == len(expected & done)
    assert result.missing == tuple(sorted(expected - done))[:limit]
    if result.share is not None:
        assert 0 <= result.share <= 1
