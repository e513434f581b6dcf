"""Identity check against the student roster (学籍名单).

The national system matches 院校名称 + 学号 + 姓名 against the registry: number and name
must both agree. sxpt distinguishes a number that is not found, a number whose name
differs, a name and a number that belong to two different students (often two swapped
rows), and a student outside the scope of reporting: 专科 students need not be
reported, a 专升本 student's internships before the undergraduate enrolment are not
reported, and a student who dropped out has no registry entry to report against.
"""

from __future__ import annotations

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.context import Roster
from sxpt_core.models import RosterEntry
from sxpt_core.rules import Placed, RowValues

__all__ = ["check_identity"]

SOURCE = "全国大学生实习公共服务系统常见问题"

NOT_FOUND = Rule(
    code="SXPT-E-ROSTER-NOT-FOUND",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=("学号须在学籍名单中。", "The student number is in the roster."),
    message=("学号 {value} 不在学籍名单中", "Student number {value} is not in the roster"),
    hint=("{hint}", "{hint_en}"),
    source=SOURCE,
)

LEADING_ZERO = Rule(
    code="SXPT-E-ROSTER-LEADING-ZERO",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=(
        "学号开头的 0 不能丢失。",
        "Leading zeros of a student number are kept.",
    ),
    message=("学号 {value} 不在学籍名单中，名单中有 {candidate}", "{value} is not in the roster, but {candidate} is"),
    hint=(
        "学号开头的 0 可能因单元格为数字格式而丢失；请把学号列设为文本格式，填写 {candidate}。",
        "The leading zero was probably lost in a numeric cell; format the column as text and enter {candidate}.",
    ),
    source=SOURCE,
)

NAME_MISMATCH = Rule(
    code="SXPT-E-ROSTER-NAME-MISMATCH",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号", "学生姓名"),
    statement=("学号和姓名须与学籍信息一致。", "Number and name agree with the registry."),
    message=("学号 {student_id} 在学籍名单中的姓名是 {roster_name}，不是 {value}",
             "Student {student_id} is called {roster_name} in the roster, not {value}"),
    hint=("请核对姓名中的同音字、形近字和少数民族姓名的分隔符。",
          "Check for homophones, similar characters and the separator in minority names."),
    source=SOURCE,
)

SWAPPED = Rule(
    code="SXPT-E-ROSTER-SWAPPED",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号", "学生姓名"),
    statement=(
        "学号和姓名须属于同一名学生。",
        "Number and name belong to the same student.",
    ),
    message=("学号 {student_id} 属于 {roster_name}，而姓名 {value} 在名单中的学号是 {other_id}",
             "Number {student_id} belongs to {roster_name}, and {value} has the number {other_id}"),
    hint=("可能两行数据错位或学号填串，请核对这两名学生的记录。",
          "Two rows are probably mixed up; check both students' records."),
    source=SOURCE,
)

LEVEL_ZHUANKE = Rule(
    code="SXPT-E-ROSTER-ZHUANKE",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=("专科生的实习不需要报送。", "Internships of 专科 students are not reported."),
    message=("{value} 是专科生，不需要报送实习数据", "{value} is a 专科 student and is not reported"),
    hint=("请删除这一行。", "Delete this row."),
    source=SOURCE,
)

BEFORE_UPGRADE = Rule(
    code="SXPT-E-ROSTER-BEFORE-UPGRADE",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号", "实习开始时间"),
    statement=(
        "专升本学生只报送本科阶段的实习。",
        "For a 专升本 student only internships of the undergraduate phase are reported.",
    ),
    message=("专升本学生的实习开始于 {start}，早于本科入学日期 {enrolment}",
             "The internship started on {start}, before the undergraduate enrolment on {enrolment}"),
    hint=("专科阶段的实习不需要报送，请删除这一行或核对开始时间。",
          "Internships of the 专科 phase are not reported; delete the row or check the date."),
    source=SOURCE,
)

STATUS_DROPPED = Rule(
    code="SXPT-E-ROSTER-STATUS",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=(
        "没有在校学籍的学生（如已退学）不报送实习数据。",
        "Students without a current registry entry, such as those who left, are not reported.",
    ),
    message=("{value} 的学籍状态是“{status}”，不需要报送", "{value} has the status {status} and is not reported"),
    hint=("请删除这一行；若学籍状态有误，请先更新学籍名单。", "Delete the row, or update the roster first."),
    source=SOURCE,
)

STATUS_SUSPENDED = Rule(
    code="SXPT-W-ROSTER-SUSPENDED",
    severity=Severity.WARNING,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=("休学学生的实习记录需要核实。", "Records of suspended students are checked."),
    message=("{value} 的学籍状态是“休学”", "{value} is suspended (休学)"),
    hint=("请确认实习发生在休学之前或复学之后。", "Check that the internship took place outside the suspension."),
)

OTHER_SCHOOL = Rule(
    code="SXPT-E-ROSTER-OTHER-SCHOOL",
    severity=Severity.ERROR,
    layer=Layer.ROSTER,
    fields=("学号",),
    statement=(
        "学生须属于本校：系统按院校名称 + 学号 + 姓名核对学籍。",
        "The student belongs to this school: the registry is matched on school, number and name.",
    ),
    message=("学号 {value} 在学籍名单中属于“{roster_school}”，不是本校“{school}”",
             "Student {value} belongs to {roster_school} in the roster, not to {school}"),
    hint=("请核对学号；学籍名单中只应有本校学生。", "Check the number; the roster should list only this school's students."),
    source=SOURCE,
)

DEPARTMENT_DIFFERS = Rule(
    code="SXPT-W-ROSTER-DEPARTMENT",
    severity=Severity.WARNING,
    layer=Layer.ROSTER,
    fields=("院系",),
    statement=("院系应与学籍名单一致。", "The department agrees with the roster."),
    message=("院系“{value}”与学籍名单中的“{roster}”不一致", "Department {value} differs from {roster} in the roster"),
    hint=("跨院系实习由学生所在院系或校级用户上传；请核对院系名称。",
          "Students are reported by their own department or the school; check the name."),
    source=SOURCE,
)

# Statuses whose students are still reported: current, and those who finished.
REPORTED_STATUSES = frozenset({"在籍", "毕业", "结业"})


def _leading_zero_candidate(student_id: str, roster: Roster) -> str | None:
    lengths = getattr(roster, "id_lengths", ())
    if not student_id.isdigit():
        return None
    for length in sorted(lengths):
        if length > len(student_id):
            candidate = student_id.zfill(length)
            if roster.get(candidate) is not None:
                return candidate
    return None


def _not_found(student_id: str, name: str | None, roster: Roster) -> Placed:
    candidate = _leading_zero_candidate(student_id, roster)
    if candidate is not None:
        return ("student_id", LEADING_ZERO(value=student_id, candidate=candidate))
    same_name = list(roster.by_name(name)) if name else []
    if len(same_name) == 1:
        other = same_name[0].student_id
        hint = f"名单中 {name} 的学号是 {other}，请核对是否填错。"
        hint_en = f"The roster has {name} as {other}; check the number."
    else:
        hint = "请核对学号；已退学的学生和没有学籍的外籍学生不需要报送。"
        hint_en = "Check the number; students who left and foreign students without registry are not reported."
    return ("student_id", NOT_FOUND(value=student_id, hint=hint, hint_en=hint_en))


def _scope(entry: RosterEntry, values: RowValues) -> list[Placed]:
    found: list[Placed] = []
    student_id = entry.student_id
    if entry.level == "专科":
        found.append(("student_id", LEVEL_ZHUANKE(value=student_id)))
    start = values.get("start_date")
    if entry.level == "专升本" and entry.enrolment_date is not None and start is not None:
        if start < entry.enrolment_date:
            found.append(("start_date", BEFORE_UPGRADE(start=start.isoformat(),
                                                       enrolment=entry.enrolment_date.isoformat())))
    if entry.status == "休学":
        found.append(("student_id", STATUS_SUSPENDED(value=student_id)))
    elif entry.status not in REPORTED_STATUSES:
        found.append(("student_id", STATUS_DROPPED(value=student_id, status=entry.status)))
    department = values.get("department")
    if department and entry.department and department != entry.department:
        found.append(("department", DEPARTMENT_DIFFERS(value=department, roster=entry.department)))
    return found


def check_identity(values: RowValues, roster: Roster | None, school: str | None = None) -> list[Placed]:
    """Check 学号 and 学生姓名 against ``roster`` and the student's reporting scope.

    ``school`` is the school's registered name; roster entries of another school do not
    confirm a student.

    >>> from sxpt_core.context import RosterIndex
    >>> roster = RosterIndex([RosterEntry("2105010101", "林晓雨"), RosterEntry("2105010102", "周明远")])
    >>> check_identity({"student_id": "2105010101", "student_name": "林晓雨"}, roster)
    []
    >>> [f.code for _, f in check_identity({"student_id": "2105010101", "student_name": "周明远"}, roster)]
    ['SXPT-E-ROSTER-SWAPPED']
    >>> [f.code for _, f in check_identity({"student_id": "2105019999", "student_name": "王芳"}, roster)]
    ['SXPT-E-ROSTER-NOT-FOUND']
    """
    if roster is None:
        return []
    student_id, name = values.get("student_id"), values.get("student_name")
    if student_id is None:
        return []
    entry = roster.get(student_id)
    if entry is None:
        return [_not_found(student_id, name, roster)]

    if school and entry.school and entry.school != school:
        return [("student_id", OTHER_SCHOOL(value=student_id, roster_school=entry.school, school=school))]

    found: list[Placed] = []
    if name is not None and name != entry.student_name:
        others = [other for other in roster.by_name(name) if other.student_id != student_id]
        if len(others) == 1:
            finding = SWAPPED(student_id=student_id, roster_name=entry.student_name, value=name,
                              other_id=others[0].student_id)
        else:
            finding = NAME_MISMATCH(student_id=student_id, roster_name=entry.student_name, value=name)
        found.append(("student_name", finding))
    found += _scope(entry, values)
    return found
