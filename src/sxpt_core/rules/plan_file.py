"""Rules of the training plan file itself (实习培养方案), run by ``sxpt validate --kind plan``.

The plan is reported per term before the records, and the record checks look courses
up in it, so a faulty plan row misleads every record of that course.

Per row: 年级 is the cohort's year of enrolment, so it cannot lie after the first year
of the row's 学年. The 学年 lies between 2014-2015 (the academic year of the earliest
plausible internship date, 2015-01-01) and the academic year after the current one,
because a plan may be reported a year ahead.

Across rows: one row per 学年 + 学期 + 专业代码 + 年级 + 课程代码. A repeated key is an
error naming the first row. The same course for two cohorts in one term of one major is
only a warning, because a school may schedule that on purpose. A course code is one
course, so its name, credits and type should agree in every row of the file, and a
专业代码 should have one 专业名称. Differences there are warnings naming both rows,
because a new plan year may change a course.
"""

from __future__ import annotations

import datetime

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.context import Context, SchoolSettings
from sxpt_core.rules import Placed, RowValues
from sxpt_core.rules.batch import BatchFinding
from sxpt_core.rules.record import EARLIEST_DATE

__all__ = ["PlanBatchChecker", "check_plan_row", "plan_year_range"]

GRADE_AFTER_YEAR = Rule(
    code="SXPT-E-PLAN-GRADE-AFTER-YEAR",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("年级", "学年"),
    statement=(
        "年级（入学年份）不能晚于学年的第一个年份。",
        "The cohort (年级, the year of enrolment) is not after the first year of the academic year.",
    ),
    message=("年级 {value} 晚于学年 {year} 的起始年份", "Cohort {value} is after the start of the academic year {year}"),
    hint=(
        "年级填学生的入学年份，例如 2022 级填 2022；请核对是否填成了毕业年份，或学年填错。",
        "The cohort is the students' year of enrolment, e.g. 2022; check whether the year of "
        "graduation was entered, or the academic year is wrong.",
    ),
)

YEAR_OUT_OF_RANGE = Rule(
    code="SXPT-E-PLAN-YEAR-RANGE",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("学年",),
    statement=(
        "培养方案的学年须在 2014-2015 学年至当前学年的下一学年之间。",
        "The plan's academic year lies between 2014-2015 and the academic year after the current one.",
    ),
    message=("学年 {value} 不在合理范围内（{earliest} 至 {latest}）",
             "Academic year {value} is outside the plausible range {earliest} to {latest}"),
    hint=("请检查年份是否填错。", "Check the years."),
)

DUPLICATE = Rule(
    code="SXPT-E-PLAN-DUPLICATE",
    severity=Severity.ERROR,
    layer=Layer.BATCH,
    fields=("学年", "学期", "专业代码", "年级", "课程代码"),
    statement=(
        "同一学年、学期、专业和年级的同一课程在培养方案中只能有一行。",
        "A course appears once per academic year, term, major and cohort in the plan.",
    ),
    message=("与第 {first} 行重复（学年、学期、专业代码、年级和课程代码都相同）",
             "Duplicate of row {first} (same academic year, term, major code, cohort and course code)"),
    hint=("请删除重复的一行；若两行内容不同，请保留正确的一行。",
          "Delete the repeated row; if the two rows differ, keep the correct one."),
)

SAME_TERM_GRADES = Rule(
    code="SXPT-W-PLAN-SAME-TERM-GRADES",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("学年", "学期", "专业代码", "年级", "课程代码"),
    statement=(
        "同一专业的同一课程在同一学期为两个年级开设时需要核实。",
        "One course of one major in one term for two cohorts is checked.",
    ),
    message=("课程 {course} 在第 {first} 行已为 {first_grade} 级开设（同一学年、学期和专业），这里是 {value} 级",
             "Course {course} is already planned for cohort {first_grade} in row {first} "
             "(same academic year, term and major); this row is for {value}"),
    hint=("请确认两个年级确实在同一学期参加这门实习；否则请更正年级。",
          "Confirm that both cohorts take this internship in the same term; otherwise correct the cohort."),
)

COURSE_NAMES_DIFFER = Rule(
    code="SXPT-W-PLAN-COURSE-NAMES-DIFFER",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("课程代码", "课程名称"),
    statement=("同一课程代码应对应同一课程名称。", "One course code goes with one course name."),
    message=("课程代码 {code} 在第 {first} 行的名称是“{first_value}”，这里是“{value}”",
             "Course {code} is named {first_value} in row {first} but {value} here"),
    hint=("请统一课程名称，或核对课程代码是否填错。", "Use one name for the course, or check the course code."),
)

COURSE_CREDITS_DIFFER = Rule(
    code="SXPT-W-PLAN-COURSE-CREDITS-DIFFER",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("课程代码", "学分"),
    statement=("同一课程代码的学分一般相同。", "One course code usually has the same credits in every row."),
    message=("课程代码 {code} 在第 {first} 行是 {first_value} 学分，这里是 {value} 学分",
             "Course {code} has {first_value} credits in row {first} but {value} here"),
    hint=("若新版培养方案调整了学分，可保留；否则请统一学分。",
          "Keep it if a newer plan changed the credits; otherwise use the same credits."),
)

COURSE_TYPES_DIFFER = Rule(
    code="SXPT-W-PLAN-COURSE-TYPES-DIFFER",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("课程代码", "实习类型"),
    statement=("同一课程代码的实习类型一般相同。", "One course code usually has the same internship type."),
    message=("课程代码 {code} 在第 {first} 行是“{first_value}”，这里是“{value}”",
             "Course {code} is {first_value} in row {first} but {value} here"),
    hint=("若新版培养方案调整了实习类型，可保留；否则请统一实习类型。",
          "Keep it if a newer plan changed the type; otherwise use the same type."),
)

MAJOR_NAMES_DIFFER = Rule(
    code="SXPT-W-PLAN-MAJOR-NAMES-DIFFER",
    severity=Severity.WARNING,
    layer=Layer.BATCH,
    fields=("专业代码", "专业名称"),
    statement=("同一专业代码应对应同一专业名称。", "One major code goes with one major name."),
    message=("专业代码 {code} 在第 {first} 行的名称是“{first_value}”，这里是“{value}”",
             "Major code {code} is named {first_value} in row {first} but {value} here"),
    hint=("请按本科专业目录统一专业名称，或核对专业代码。",
          "Use the name from the catalogue of majors, or check the major code."),
)


def _first_year(academic_year: str) -> int:
    return int(academic_year[:4])


def plan_year_range(today: datetime.date, school: SchoolSettings) -> tuple[str, str]:
    """Return the earliest and latest plausible academic years of a plan row.

    >>> plan_year_range(datetime.date(2025, 10, 15), SchoolSettings())
    ('2014-2015', '2026-2027')
    """
    earliest = school.academic_year_of(EARLIEST_DATE)
    latest_first = _first_year(school.academic_year_of(today)) + 1
    return earliest, f"{latest_first}-{latest_first + 1}"


def check_plan_row(values: RowValues, context: Context) -> list[Placed]:
    """Check the academic year of one plan row and its cohort against that year.

    >>> from sxpt_core.codes.divisions import load_divisions
    >>> context = Context(datetime.date(2025, 10, 15), load_divisions())
    >>> check_plan_row({"academic_year": "2024-2025", "grade": 2022}, context)
    []
    >>> [(attr, f.code) for attr, f in check_plan_row({"academic_year": "2024-2025", "grade": 2025}, context)]
    [('grade', 'SXPT-E-PLAN-GRADE-AFTER-YEAR')]
    >>> [(attr, f.code) for attr, f in check_plan_row({"academic_year": "2030-2031", "grade": 2028}, context)]
    [('academic_year', 'SXPT-E-PLAN-YEAR-RANGE')]
    """
    year, grade = values.get("academic_year"), values.get("grade")
    if year is None:
        return []
    found: list[Placed] = []
    earliest, latest = plan_year_range(context.today, context.school)
    if not _first_year(earliest) <= _first_year(year) <= _first_year(latest):
        found.append(("academic_year", YEAR_OUT_OF_RANGE(value=year, earliest=earliest, latest=latest)))
    if grade is not None and grade > _first_year(year):
        found.append(("grade", GRADE_AFTER_YEAR(value=grade, year=year)))
    return found


# Attributes that belong to a course code, each with the rule for a second value.
_COURSE_PROPERTIES = (
    ("course_name", COURSE_NAMES_DIFFER),
    ("credits", COURSE_CREDITS_DIFFER),
    ("internship_type", COURSE_TYPES_DIFFER),
)


class PlanBatchChecker:
    """Checker of the rules across plan rows: repeated rows and conflicting values.

    Rows are added one at a time; :meth:`finish` returns the findings.

    >>> from decimal import Decimal
    >>> checker = PlanBatchChecker()
    >>> row = {"academic_year": "2024-2025", "term": "第二学期", "major_code": "080202",
    ...        "major": "机械设计制造及其自动化", "grade": 2022, "course_code": "JX3101",
    ...        "course_name": "生产实习", "credits": Decimal("4"), "internship_type": "生产实习"}
    >>> checker.add(2, row)
    >>> checker.add(3, row)
    >>> checker.add(4, {**row, "term": "第三学期", "credits": Decimal("3")})
    >>> [(f.row, f.attr, f.finding.code) for f in checker.finish()]
    [(3, 'course_code', 'SXPT-E-PLAN-DUPLICATE'), (4, 'credits', 'SXPT-W-PLAN-COURSE-CREDITS-DIFFER')]
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[object, ...], int] = {}
        self._terms: dict[tuple[object, ...], tuple[int, int]] = {}
        # (attribute, course or major code) → (first row, its value of the attribute)
        self._firsts: dict[tuple[str, str], tuple[int, object]] = {}
        self._found: list[BatchFinding] = []

    def add(self, row: int, values: RowValues) -> None:
        """Add one row's normalised values. Each rule skips the row when a field it reads was rejected."""
        self._check_key(row, values)
        code = values.get("course_code")
        if code is not None:
            for attr, rule in _COURSE_PROPERTIES:
                self._check_same(row, attr, rule, code, values.get(attr))
        major_code = values.get("major_code")
        if major_code is not None:
            self._check_same(row, "major", MAJOR_NAMES_DIFFER, major_code, values.get("major"))

    def _check_key(self, row: int, values: RowValues) -> None:
        term_key = tuple(values.get(attr) for attr in ("academic_year", "term", "major_code", "course_code"))
        grade = values.get("grade")
        if grade is None or None in term_key:
            return
        first_row = self._rows.setdefault((*term_key, grade), row)
        if first_row != row:
            self._found.append(BatchFinding(row, "course_code", DUPLICATE(first=first_row)))
            return
        first_row, first_grade = self._terms.setdefault(term_key, (row, grade))
        if first_row != row:
            finding = SAME_TERM_GRADES(course=term_key[3], first=first_row, first_grade=first_grade, value=grade)
            self._found.append(BatchFinding(row, "grade", finding))

    def _check_same(self, row: int, attr: str, rule: Rule, code: str, value: object) -> None:
        """Report ``value`` when the first row with ``code`` has another value of ``attr``."""
        if value is None:
            return
        first_row, first_value = self._firsts.setdefault((attr, code), (row, value))
        if first_value != value:
            finding = rule(code=code, first=first_row, first_value=first_value, value=value)
            self._found.append(BatchFinding(row, attr, finding))

    def finish(self) -> list[BatchFinding]:
        """Return every finding, in row order."""
        return sorted(self._found, key=lambda item: item.row)
