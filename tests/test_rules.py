"""Tests of the row, roster, plan, batch and calendar rules, called directly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.models import PlanCourse, RosterEntry
from sxpt_core.rules.batch import BatchChecker
from sxpt_core.rules.calendar import check_calendar
from sxpt_core.rules.identity import check_identity
from sxpt_core.rules.plan import check_plan
from sxpt_core.rules.record import check_days, check_on_campus_unit, check_record, check_unit_and_city

d = datetime.date
TODAY = d(2025, 10, 15)
SCHOOL = SchoolSettings(name="东海理工大学", unit_code="12330000MB12345676")


def codes(found: list) -> list[str]:
    return [finding.code for _, finding in found]


@pytest.fixture
def roster() -> RosterIndex:
    return RosterIndex([
        RosterEntry("2201010001", "林晓雨", department="机械工程学院"),
        RosterEntry("2201010002", "周明远", department="机械工程学院"),
        RosterEntry("0201010003", "郑可馨", department="机械工程学院"),
        RosterEntry("2201010004", "陈浩", level="专科"),
        RosterEntry("2201010005", "吴佳", status="退学"),
        RosterEntry("2201010006", "许诺", level="专升本", enrolment_date=d(2025, 9, 1)),
        RosterEntry("2201010007", "冯远", status="休学"),
        RosterEntry("2201010008", "邓宁", status="毕业"),
    ])


@pytest.fixture
def context() -> Context:
    course = PlanCourse("2024-2025", "第三学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022,
                        "0803101", "生产实习", Decimal("4"), "生产实习", "集中实习", "现场实习")
    return Context(TODAY, load_divisions(), SCHOOL, plan=PlanIndex([course]))


def record(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "student_id": "2201010001", "student_name": "林晓雨", "department": "机械工程学院",
        "course_code": "0803101", "course_name": "生产实习", "academic_year": "2024-2025",
        "credits": Decimal("4"), "internship_type": "生产实习", "organisation_form": "集中实习",
        "mode": "现场实习", "start_date": d(2025, 7, 1), "end_date": d(2025, 9, 30), "actual_days": 80,
        "unit_name": "云栖数控设备有限公司", "unit_code": "91110000600037341L", "city_code": "330100",
        "enrolment_year": 2022, "is_overseas_base": False,
    }
    values.update(changes)
    return values


class TestRecord:
    def test_clean_record_passes(self, context: Context) -> None:
        """A consistent record has no cross-field findings."""
        assert check_record(record(), context) == []

    def test_days_equal_span_accepted(self) -> None:
        """Days equal to the inclusive span are accepted."""
        assert check_days(record(start_date=d(2025, 7, 1), end_date=d(2025, 7, 31), actual_days=31)) == []

    def test_days_over_span_rejected(self) -> None:
        """One day more than the span is an error on 实际实习天数."""
        found = check_days(record(start_date=d(2025, 7, 1), end_date=d(2025, 7, 31), actual_days=32))
        assert codes(found) == ["SXPT-E-DAYS-EXCEED-SPAN"]
        assert found[0][0] == "actual_days"

    def test_end_before_start(self, context: Context) -> None:
        """An end date before the start is an error on the end date."""
        found = check_record(record(start_date=d(2025, 9, 1), end_date=d(2025, 8, 1)), context)
        assert codes(found) == ["SXPT-E-DATE-END-BEFORE-START"]

    def test_date_before_2015(self, context: Context) -> None:
        """A date before 2015 is implausible."""
        found = check_record(record(start_date=d(2014, 12, 31)), context)
        assert "SXPT-E-DATE-OUT-OF-RANGE" in codes(found)

    def test_date_over_one_year_ahead(self, context: Context) -> None:
        """A date more than one year after today is implausible."""
        found = check_record(record(end_date=d(2026, 10, 16)), context)
        assert "SXPT-E-DATE-OUT-OF-RANGE" in codes(found)

    @pytest.mark.parametrize("city", ["990000", "810000", "820000", "710000"])
    def test_none_outside_mainland_accepted(self, city: str) -> None:
        """无 goes with abroad, Hong Kong, Macao and Taiwan."""
        assert check_unit_and_city(record(unit_code="无", city_code=city)) == []

    def test_none_in_mainland_rejected(self) -> None:
        """无 with a mainland city is an error."""
        assert codes(check_unit_and_city(record(unit_code="无"))) == ["SXPT-E-UNIT-NONE-MAINLAND"]

    def test_code_abroad_warned(self) -> None:
        """A valid code with 990000 is a warning."""
        assert codes(check_unit_and_city(record(city_code="990000"))) == ["SXPT-W-UNIT-CODE-ABROAD"]

    @pytest.mark.parametrize("name", ["本校", "校内", "我校"])
    def test_on_campus_word_names_school(self, name: str) -> None:
        """本校 and the like are errors whose hint names the configured school."""
        found = check_on_campus_unit(record(unit_name=name), SCHOOL)
        assert codes(found) == ["SXPT-E-UNIT-ON-CAMPUS-WORD"]
        assert "东海理工大学" in found[0][1].params["school_hint"]
        assert "12330000MB12345676" in found[0][1].params["school_hint"]

    def test_on_campus_without_settings(self) -> None:
        """Without school settings, the hint names where to set them."""
        found = check_on_campus_unit(record(unit_name="本校"), SchoolSettings())
        assert "sxpt.toml" in found[0][1].params["school_hint"]

    def test_school_code_other_name(self) -> None:
        """The school's own code with another name is a warning."""
        found = check_on_campus_unit(record(unit_name="东海理工", unit_code="12330000MB12345676"), SCHOOL)
        assert codes(found) == ["SXPT-W-UNIT-SCHOOL-NAME"]

    def test_overseas_base_in_mainland(self, context: Context) -> None:
        """An overseas base in a mainland city is a warning."""
        found = check_record(record(is_overseas_base=True), context)
        assert codes(found) == ["SXPT-W-OVERSEAS-BASE-CITY"]


class TestIdentity:
    def test_match_passes(self, roster: RosterIndex) -> None:
        """Number and name as in the roster pass."""
        assert check_identity(record(), roster) == []

    def test_no_roster_skips(self) -> None:
        """Without a roster the identity rules do nothing."""
        assert check_identity(record(student_id="x"), None) == []

    def test_number_not_found(self, roster: RosterIndex) -> None:
        """An unknown number is an error on 学号."""
        found = check_identity(record(student_id="2201019999", student_name="王芳"), roster)
        assert codes(found) == ["SXPT-E-ROSTER-NOT-FOUND"]
        assert found[0][0] == "student_id"

    def test_not_found_hint_names_real_number(self, roster: RosterIndex) -> None:
        """When the name is in the roster, the hint gives that student's number."""
        found = check_identity(record(student_id="2201019999"), roster)
        assert "2201010001" in found[0][1].params["hint"]

    def test_leading_zero_lost(self, roster: RosterIndex) -> None:
        """A number that lost its leading zero is named with the roster's number."""
        found = check_identity(record(student_id="201010003", student_name="郑可馨"), roster)
        assert codes(found) == ["SXPT-E-ROSTER-LEADING-ZERO"]
        assert found[0][1].params["candidate"] == "0201010003"

    def test_name_differs(self, roster: RosterIndex) -> None:
        """A known number with an unknown name is a name mismatch."""
        found = check_identity(record(student_name="林小雨"), roster)
        assert codes(found) == ["SXPT-E-ROSTER-NAME-MISMATCH"]
        assert found[0][1].params["roster_name"] == "林晓雨"

    def test_swapped_rows(self, roster: RosterIndex) -> None:
        """A number and a name of two different students are reported as swapped."""
        found = check_identity(record(student_name="周明远"), roster)
        assert codes(found) == ["SXPT-E-ROSTER-SWAPPED"]
        assert found[0][1].params["other_id"] == "2201010002"

    def test_zhuanke_out_of_scope(self, roster: RosterIndex) -> None:
        """A 专科 student need not be reported."""
        found = check_identity(record(student_id="2201010004", student_name="陈浩", department=None), roster)
        assert codes(found) == ["SXPT-E-ROSTER-ZHUANKE"]

    def test_dropped_out(self, roster: RosterIndex) -> None:
        """A student who left is not reported."""
        found = check_identity(record(student_id="2201010005", student_name="吴佳", department=None), roster)
        assert codes(found) == ["SXPT-E-ROSTER-STATUS"]

    def test_upgrade_before_enrolment(self, roster: RosterIndex) -> None:
        """A 专升本 internship before the undergraduate enrolment is an error."""
        found = check_identity(record(student_id="2201010006", student_name="许诺", department=None), roster)
        assert codes(found) == ["SXPT-E-ROSTER-BEFORE-UPGRADE"]

    def test_upgrade_after_enrolment(self, roster: RosterIndex) -> None:
        """A 专升本 internship after the undergraduate enrolment passes."""
        values = record(student_id="2201010006", student_name="许诺", department=None, start_date=d(2025, 9, 2))
        assert check_identity(values, roster) == []

    def test_suspended_warned(self, roster: RosterIndex) -> None:
        """A suspended student is a warning."""
        found = check_identity(record(student_id="2201010007", student_name="冯远", department=None), roster)
        assert codes(found) == ["SXPT-W-ROSTER-SUSPENDED"]

    def test_graduate_reported(self, roster: RosterIndex) -> None:
        """A graduate's internship is still reported."""
        values = record(student_id="2201010008", student_name="邓宁", department=None)
        assert check_identity(values, roster) == []

    def test_department_differs(self, roster: RosterIndex) -> None:
        """A department other than the roster's is a warning."""
        found = check_identity(record(department="计算机科学与技术学院"), roster)
        assert codes(found) == ["SXPT-W-ROSTER-DEPARTMENT"]


class TestPlan:
    def test_course_matches(self, context: Context) -> None:
        """A record agreeing with the plan passes."""
        assert check_plan(record(), context) == []

    def test_course_not_in_plan(self, context: Context) -> None:
        """A course code the plan does not have is an error."""
        assert codes(check_plan(record(course_code="JX9999"), context)) == ["SXPT-E-PLAN-NOT-FOUND"]

    def test_course_name_hint(self, context: Context) -> None:
        """When the course name is in the plan, the hint gives its code."""
        found = check_plan(record(course_code="JX9999"), context)
        assert "0803101" in found[0][1].params["hint"]

    def test_course_leading_zero(self, context: Context) -> None:
        """A course code that lost its leading zero is named."""
        found = check_plan(record(course_code="803101"), context)
        assert codes(found) == ["SXPT-E-PLAN-LEADING-ZERO"]

    def test_credits_differ(self, context: Context) -> None:
        """Credits other than the plan's are an error."""
        assert codes(check_plan(record(credits=Decimal("2")), context)) == ["SXPT-E-PLAN-CREDITS"]

    def test_credits_equal_decimal_forms(self, context: Context) -> None:
        """4.0 and 4 are the same credits."""
        assert check_plan(record(credits=Decimal("4.0")), context) == []

    def test_type_differs(self, context: Context) -> None:
        """Another internship type is an error."""
        assert codes(check_plan(record(internship_type="认识实习"), context)) == ["SXPT-E-PLAN-TYPE"]

    def test_form_and_mode_warned(self, context: Context) -> None:
        """Another organisation form or mode is a warning each."""
        found = check_plan(record(organisation_form="分散实习", mode="虚拟实习"), context)
        assert codes(found) == ["SXPT-W-PLAN-FORM", "SXPT-W-PLAN-MODE"]

    def test_year_cell_contradicts_plan(self, context: Context) -> None:
        """A 学年 cell that disagrees with the plan year of the dates is a warning."""
        found = check_plan(record(academic_year="2025-2026"), context)
        assert codes(found) == ["SXPT-W-PLAN-YEAR"]
        assert found[0][1].params["plan_year"] == "2024-2025"

    def test_course_not_in_year(self, context: Context) -> None:
        """A course missing from the plan of both the cell's year and the dates' year is an error."""
        values = record(academic_year="2025-2026", start_date=d(2025, 9, 1), end_date=d(2025, 9, 30))
        assert codes(check_plan(values, context)) == ["SXPT-E-PLAN-NOT-IN-YEAR"]

    def test_major_differs(self, context: Context) -> None:
        """A course planned only for other majors is a warning."""
        found = check_plan(record(major="英语"), context)
        assert codes(found) == ["SXPT-W-PLAN-MAJOR"]


class TestBatch:
    def add_rows(self, *rows: dict[str, object]) -> list[tuple[int, str]]:
        checker = BatchChecker(school="东海理工大学")
        for number, values in enumerate(rows, start=2):
            checker.add(number, values)
        return [(item.row, item.finding.code) for item in checker.finish()]

    def test_distinct_rows_pass(self) -> None:
        """Two students in one course do not clash."""
        assert self.add_rows(record(), record(student_id="2201010002")) == []

    def test_duplicate_names_first_row(self) -> None:
        """A repeated natural key is an error naming the first row."""
        checker = BatchChecker()
        checker.add(5, record())
        checker.add(9, record())
        found = checker.finish()
        assert [(item.row, item.finding.code) for item in found] == [(9, "SXPT-E-BATCH-DUPLICATE")]
        assert found[0].finding.params["first"] == "5"

    def test_none_unit_keyed_by_name(self) -> None:
        """With 无 as the code, two different unit names are two records."""
        first = record(unit_code="无", unit_name="Northwind Ltd.", city_code="990000",
                       start_date=d(2025, 7, 1), end_date=d(2025, 7, 10))
        second = record(unit_code="无", unit_name="Contoso GmbH", city_code="990000",
                        start_date=d(2025, 7, 11), end_date=d(2025, 7, 20))
        assert self.add_rows(first, second) == []

    def test_overlap_same_course(self) -> None:
        """Overlapping periods of one course are an error on the later row."""
        first = record(start_date=d(2025, 7, 1), end_date=d(2025, 7, 31))
        second = record(start_date=d(2025, 7, 20), end_date=d(2025, 8, 20), unit_code="无",
                        unit_name="Northwind Ltd.")
        assert self.add_rows(first, second) == [(3, "SXPT-E-BATCH-OVERLAP")]

    def test_adjacent_periods_pass(self) -> None:
        """Consecutive periods of one course (split by place) do not overlap."""
        first = record(start_date=d(2025, 7, 1), end_date=d(2025, 7, 31))
        second = record(start_date=d(2025, 8, 1), end_date=d(2025, 8, 31), unit_code="无",
                        unit_name="Northwind Ltd.")
        assert self.add_rows(first, second) == []

    def test_overlap_other_course(self) -> None:
        """Overlapping periods of two courses are a warning."""
        first = record(start_date=d(2025, 7, 1), end_date=d(2025, 7, 31))
        second = record(course_code="0803102", start_date=d(2025, 7, 15), end_date=d(2025, 8, 15))
        assert self.add_rows(first, second) == [(3, "SXPT-W-BATCH-OVERLAP-COURSES")]

    def test_unit_code_two_names(self) -> None:
        """One unit code with two names is a warning naming the first row."""
        second = record(student_id="2201010002", unit_name="云栖数控")
        assert self.add_rows(record(), second) == [(3, "SXPT-W-BATCH-UNIT-NAMES")]

    def test_missing_key_skipped(self) -> None:
        """Rows whose key fields were rejected are not compared."""
        assert self.add_rows(record(start_date=None), record(start_date=None)) == []


class TestCalendar:
    @pytest.mark.parametrize(
        ("end", "expected"),
        [
            (d(2025, 9, 30), []),
            (d(2025, 8, 21), ["SXPT-W-CAL-LATE"]),
            (d(2025, 10, 10), ["SXPT-W-CAL-EARLY"]),
            (d(2025, 10, 15), ["SXPT-W-CAL-EARLY"]),
            (d(2025, 10, 16), ["SXPT-E-CAL-NOT-ENDED"]),
        ],
    )
    def test_status_by_end_date(self, end: datetime.date, expected: list[str]) -> None:
        """The reporting month follows the month of the end date."""
        found = check_calendar(record(start_date=d(2025, 7, 1), end_date=end), TODAY)
        assert codes(found) == expected

    def test_late_counts_months(self) -> None:
        """A late report gives how many months late it is."""
        found = check_calendar(record(start_date=d(2025, 3, 1), end_date=d(2025, 5, 31)), TODAY)
        assert found[0][1].params["months"] == "4"
        assert found[0][1].params["month"] == "2025-06"

    def test_year_end_rolls_over(self) -> None:
        """An internship ending in December is reported in January."""
        found = check_calendar(record(start_date=d(2024, 12, 1), end_date=d(2024, 12, 20)), d(2025, 1, 5))
        assert found == []


class TestScopeEdges:
    def test_other_school_roster_entry(self) -> None:
        """A roster entry of another school does not confirm the student."""
        roster = RosterIndex([RosterEntry("2201010001", "林晓雨", school="东山大学")])
        found = check_identity(record(department=None), roster, "东海理工大学")
        assert codes(found) == ["SXPT-E-ROSTER-OTHER-SCHOOL"]

    def test_same_school_roster_entry(self) -> None:
        """A roster entry of the same school confirms the student."""
        roster = RosterIndex([RosterEntry("2201010001", "林晓雨", school="东海理工大学")])
        assert check_identity(record(department=None), roster, "东海理工大学") == []

    def test_implausible_date_no_calendar(self) -> None:
        """A date before 2015 gets no late-report warning on top of its error."""
        assert check_calendar(record(start_date=d(2014, 7, 1), end_date=d(2014, 8, 1)), TODAY) == []
