"""Plan check: a record's course against the training plan (实习培养方案).

Only internships of courses in the major's training plan, with a course name and
credits, are reported. The record's 学年 comes from the plan's course. Suppose the 学年
cell names a year in which the plan does not have the course. When the plan has it in
the year that contains the internship's start (or end) date, the cell is only flagged
(warning). When the plan has the course in neither, the record is an error.

Credits and internship type are properties of the course and must match the plan.
The organisation form and the mode may differ for a single student with the school's
approval, so a difference there is a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.context import Context, PlanIndex
from sxpt_core.models import PlanCourse
from sxpt_core.rules import Placed, RowValues

__all__ = ["check_plan"]

SOURCE = "全国大学生实习公共服务系统常见问题"

NOT_IN_PLAN = Rule(
    code="SXPT-E-PLAN-NOT-FOUND",
    severity=Severity.ERROR,
    layer=Layer.PLAN,
    fields=("课程代码",),
    statement=(
        "报送的实习须是人才培养方案中有课程名称和学分的实习课程。",
        "Only courses of the training plan, with a name and credits, are reported.",
    ),
    message=("课程代码 {value} 不在实习培养方案中", "Course code {value} is not in the training plan"),
    hint=("{hint}", "{hint_en}"),
    source=SOURCE,
)

LEADING_ZERO = Rule(
    code="SXPT-E-PLAN-LEADING-ZERO",
    severity=Severity.ERROR,
    layer=Layer.PLAN,
    fields=("课程代码",),
    statement=("课程代码开头的 0 不能丢失。", "Leading zeros of a course code are kept."),
    message=("课程代码 {value} 不在培养方案中，方案中有 {candidate}", "{value} is not in the plan, but {candidate} is"),
    hint=("开头的 0 可能因单元格为数字格式而丢失；请把课程代码列设为文本格式，填写 {candidate}。",
          "The leading zero was probably lost in a numeric cell; format the column as text and enter {candidate}."),
)

NOT_IN_YEAR = Rule(
    code="SXPT-E-PLAN-NOT-IN-YEAR",
    severity=Severity.ERROR,
    layer=Layer.PLAN,
    fields=("课程代码", "学年"),
    statement=(
        "实习课程须在该学年的培养方案中。",
        "The course is in the plan of the internship's academic year.",
    ),
    message=("课程 {value} 不在 {year} 学年的培养方案中（方案中的学年：{years}）",
             "Course {value} is not in the plan of {year} (plan years: {years})"),
    hint=("请核对学年和实习日期，或先补充该学年的实习培养方案。",
          "Check the academic year and the dates, or add the course to that year's plan."),
    source=SOURCE,
)

YEAR_DIFFERS = Rule(
    code="SXPT-W-PLAN-YEAR",
    severity=Severity.WARNING,
    layer=Layer.PLAN,
    fields=("学年",),
    statement=(
        "学年以培养方案中该课程所在学年为准。",
        "The academic year is the one in which the plan has the course.",
    ),
    message=("学年 {value} 与培养方案不符，方案中该课程在 {plan_year} 学年",
             "Academic year {value} does not match the plan, which has the course in {plan_year}"),
    hint=("请把学年改为 {plan_year}。", "Change the academic year to {plan_year}."),
)

CREDITS_DIFFER = Rule(
    code="SXPT-E-PLAN-CREDITS",
    severity=Severity.ERROR,
    layer=Layer.PLAN,
    fields=("学分",),
    statement=(
        "学分须与培养方案中该课程的学分一致；同一课程分多条填报时每条都填课程的全部学分。",
        "Credits equal the plan's; when a course is split into several records, each has the full credits.",
    ),
    message=("学分 {value} 与培养方案中的 {plan} 不一致", "Credits {value} differ from {plan} in the plan"),
    hint=("请填写 {plan}。", "Enter {plan}."),
    source=SOURCE,
)

TYPE_DIFFERS = Rule(
    code="SXPT-E-PLAN-TYPE",
    severity=Severity.ERROR,
    layer=Layer.PLAN,
    fields=("实习类型",),
    statement=("实习类型须与培养方案一致。", "The internship type equals the plan's."),
    message=("实习类型“{value}”与培养方案中的“{plan}”不一致", "Type {value} differs from {plan} in the plan"),
    hint=("请填写“{plan}”。", "Enter {plan}."),
)

FORM_DIFFERS = Rule(
    code="SXPT-W-PLAN-FORM",
    severity=Severity.WARNING,
    layer=Layer.PLAN,
    fields=("实习组织形式",),
    statement=("实习组织形式一般与培养方案一致。", "The organisation form usually equals the plan's."),
    message=("实习组织形式“{value}”与培养方案中的“{plan}”不同", "Form {value} differs from {plan} in the plan"),
    hint=("若经学校批准可保留，否则请改为“{plan}”。", "Keep it if the school approved it; otherwise enter {plan}."),
)

MODE_DIFFERS = Rule(
    code="SXPT-W-PLAN-MODE",
    severity=Severity.WARNING,
    layer=Layer.PLAN,
    fields=("实习方式",),
    statement=("实习方式一般与培养方案一致。", "The mode usually equals the plan's."),
    message=("实习方式“{value}”与培养方案中的“{plan}”不同", "Mode {value} differs from {plan} in the plan"),
    hint=("若经学校批准可保留，否则请改为“{plan}”。", "Keep it if the school approved it; otherwise enter {plan}."),
)

NAME_DIFFERS = Rule(
    code="SXPT-W-PLAN-COURSE-NAME",
    severity=Severity.WARNING,
    layer=Layer.PLAN,
    fields=("课程名称",),
    statement=("课程名称应与培养方案一致。", "The course name equals the plan's."),
    message=("课程名称“{value}”与培养方案中的“{plan}”不同", "Course name {value} differs from {plan} in the plan"),
    hint=("请填写“{plan}”。", "Enter {plan}."),
)

MAJOR_DIFFERS = Rule(
    code="SXPT-W-PLAN-MAJOR",
    severity=Severity.WARNING,
    layer=Layer.PLAN,
    fields=("专业", "课程代码"),
    statement=("实习课程应在学生所在专业的培养方案中。", "The course is in the plan of the student's major."),
    message=("培养方案中课程 {course} 不属于专业“{value}”（方案中的专业：{majors}）",
             "The plan has course {course} for {majors}, not for {value}"),
    hint=("请核对专业名称或课程代码。", "Check the major or the course code."),
)


def _leading_zero_candidate(code: str, plan: PlanIndex) -> str | None:
    if not code.isdigit():
        return None
    for length in sorted(plan.code_lengths):
        if length > len(code) and plan.by_code(code.zfill(length)):
            return code.zfill(length)
    return None


def _not_found(code: str, values: RowValues, plan: PlanIndex) -> Placed:
    candidate = _leading_zero_candidate(code, plan)
    if candidate is not None:
        return ("course_code", LEADING_ZERO(value=code, candidate=candidate))
    name = values.get("course_name")
    same_name = {course.course_code for course in plan.by_name(name)} if name else set()
    if same_name:
        codes = "、".join(sorted(same_name))
        hint = f"培养方案中“{name}”的课程代码是 {codes}，请核对。"
        hint_en = f"The plan has {name} as {codes}; check the code."
    else:
        hint = "只有纳入人才培养方案、有课程名称和学分的实习需要报送；请核对课程代码，或先上传培养方案。"
        hint_en = "Only courses of the training plan are reported; check the code or upload the plan first."
    return ("course_code", NOT_IN_PLAN(value=code, hint=hint, hint_en=hint_en))


def _entry_for_year(
    entries: Sequence[PlanCourse], values: RowValues, context: Context
) -> tuple[PlanCourse | None, list[Placed]]:
    """Pick the plan entry of the record's year; flag or reject a year that disagrees."""
    year = values.get("academic_year")
    matching = [entry for entry in entries if entry.academic_year == year]
    if matching:
        return matching[0], []

    # A summer internship may start in one academic year and end in the next, so the
    # year of the start date is tried first, then that of the end date.
    for attr in ("start_date", "end_date"):
        day = values.get(attr)
        if day is None:
            continue
        dated_year = context.school.academic_year_of(day)
        dated = [entry for entry in entries if entry.academic_year == dated_year]
        if dated:
            found: list[Placed] = []
            if year is not None:
                found.append(("academic_year", YEAR_DIFFERS(value=year, plan_year=dated_year)))
            return dated[0], found

    if year is None:
        return None, []
    years = "、".join(sorted({entry.academic_year for entry in entries}))
    code = values.get("course_code")
    return None, [("course_code", NOT_IN_YEAR(value=code, year=year, years=years))]


def _compare(entry: PlanCourse, values: RowValues) -> list[Placed]:
    found: list[Placed] = []
    credits = values.get("credits")
    if credits is not None and credits != entry.credits:
        found.append(("credits", CREDITS_DIFFER(value=credits, plan=entry.credits)))
    comparisons = (
        ("internship_type", TYPE_DIFFERS, entry.internship_type),
        ("organisation_form", FORM_DIFFERS, entry.organisation_form),
        ("mode", MODE_DIFFERS, entry.mode),
        ("course_name", NAME_DIFFERS, entry.course_name),
    )
    for attr, rule, planned in comparisons:
        value = values.get(attr)
        if value is not None and value != planned:
            found.append((attr, rule(value=value, plan=planned)))
    return found


def check_plan(values: RowValues, context: Context) -> list[Placed]:
    """Check the record's course, year, credits, type, form and mode against the plan.

    >>> import datetime
    >>> from decimal import Decimal
    >>> from sxpt_core.context import PlanIndex, SchoolSettings
    >>> course = PlanCourse("2024-2025", "第二学期", "机械工程学院", "080202", "机械设计制造及其自动化",
    ...                     2022, "JX3101", "生产实习", Decimal("4"), "生产实习", "集中实习", "现场实习")
    >>> context = Context(datetime.date(2025, 9, 10), None, plan=PlanIndex([course]))
    >>> record = {"course_code": "JX3101", "course_name": "生产实习", "academic_year": "2024-2025",
    ...           "credits": Decimal("4"), "internship_type": "生产实习", "organisation_form": "集中实习",
    ...           "mode": "现场实习", "end_date": datetime.date(2025, 8, 1)}
    >>> check_plan(record, context)
    []
    >>> [f.code for _, f in check_plan({**record, "credits": Decimal("2")}, context)]
    ['SXPT-E-PLAN-CREDITS']
    >>> [f.code for _, f in check_plan({**record, "course_code": "JX9999"}, context)]
    ['SXPT-E-PLAN-NOT-FOUND']
    """
    plan = context.plan
    code = values.get("course_code")
    if plan is None or code is None:
        return []
    entries = plan.by_code(code)
    if not entries:
        return [_not_found(code, values, plan)]

    found: list[Placed] = []
    major = values.get("major")
    if major:
        for_major = [entry for entry in entries if entry.major == major]
        if for_major:
            entries = for_major
        else:
            majors = "、".join(sorted({entry.major for entry in entries}))
            found.append(("major", MAJOR_DIFFERS(value=major, course=code, majors=majors)))

    entry, year_findings = _entry_for_year(entries, values, context)
    found += year_findings
    if entry is not None:
        found += _compare(entry, values)
    return found
