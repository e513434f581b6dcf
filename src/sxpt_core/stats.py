"""Statistics of internship records that are more than counts: plan coverage and late reports.

Coverage lists, for each internship course of the training plan, the students of the
roster who should have taken it and those of them without a record of its course code.
Those students are candidates for a missed report (漏报), to be checked by a person:
a student may have been exempted, or may take the course in a later term.

A late report (补报) is a record first uploaded after its reporting month, which is the
month after the month in which the internship ended. Upload times are compared in China
time (UTC+8), because the reporting month is a month of the Chinese calendar.

Every function is pure: the caller passes the plan, the roster, the reported courses
and the upload times.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

import attrs

from sxpt_core.calendar import reporting_month
from sxpt_core.models import PlanCourse, RosterEntry
from sxpt_core.rules.identity import REPORTED_STATUSES

__all__ = [
    "CHINA_TIME",
    "CourseCoverage",
    "china_date",
    "course_coverage",
    "is_late",
    "is_late_month",
    "months_late",
    "should_take",
]

# China has one time zone, UTC+8, and no daylight saving time.
CHINA_TIME = datetime.timezone(datetime.timedelta(hours=8), "UTC+08:00")

# The roster level whose internships are not reported.
UNREPORTED_LEVEL = "专科"


# --- late reports -------------------------------------------------------------------


def china_date(moment: datetime.datetime) -> datetime.date:
    """Return the date in China at the aware time ``moment``.

    >>> china_date(datetime.datetime(2025, 10, 31, 16, 30, tzinfo=datetime.timezone.utc))
    datetime.date(2025, 11, 1)
    """
    if moment.tzinfo is None:
        raise ValueError("china_date needs a timezone-aware datetime")
    return moment.astimezone(CHINA_TIME).date()


def months_late(end: datetime.date, uploaded: datetime.date) -> int:
    """Return how many months after its reporting month an internship ending on ``end`` was uploaded.

    ``uploaded`` is the date in China of the record's first upload. The result is 0 for
    an upload in or before the reporting month.

    >>> months_late(datetime.date(2025, 9, 30), datetime.date(2025, 10, 31))
    0
    >>> months_late(datetime.date(2025, 9, 30), datetime.date(2025, 11, 1))
    1
    >>> months_late(datetime.date(2024, 12, 20), datetime.date(2025, 3, 5))
    2
    """
    year, month = reporting_month(end)
    return max(0, (uploaded.year - year) * 12 + (uploaded.month - month))


def is_late(end: datetime.date, uploaded: datetime.date) -> bool:
    """Decide whether a record of an internship ending on ``end``, first uploaded on ``uploaded``, is late (补报).

    >>> is_late(datetime.date(2025, 9, 30), datetime.date(2025, 10, 31))
    False
    >>> is_late(datetime.date(2025, 9, 30), datetime.date(2025, 11, 1))
    True
    """
    return months_late(end, uploaded) > 0


def is_late_month(month: str, uploaded: datetime.date) -> bool:
    """Decide lateness from a stored reporting month such as ``2025-10``.

    A record without a valid end date has the month "" and is never late, because it
    has no reporting month.

    >>> is_late_month("2025-10", datetime.date(2025, 11, 1))
    True
    >>> is_late_month("2025-10", datetime.date(2025, 10, 1))
    False
    >>> is_late_month("", datetime.date(2025, 11, 1))
    False
    """
    if not month:
        return False
    year, number = (int(part) for part in month.split("-"))
    return (uploaded.year, uploaded.month) > (year, number)


# --- coverage of the training plan ---------------------------------------------------


@attrs.frozen
class CourseCoverage:
    """The share of a plan course's students who have a record with its course code.

    ``major`` and ``grade`` are None where the plan leaves them blank. ``missing`` lists
    the student numbers without a record, sorted, and at most as many as the caller's
    limit; ``missing_count`` counts all of them.
    """

    course_code: str
    course_name: str
    department: str
    major: str | None
    grade: int | None
    students: int
    reported: int
    missing: tuple[str, ...]

    @property
    def missing_count(self) -> int:
        """The number of students without a record of the course."""
        return self.students - self.reported

    @property
    def share(self) -> float | None:
        """The reported share from 0 to 1, or None for a course without students in the roster."""
        return self.reported / self.students if self.students else None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _in_scope(student: RosterEntry) -> bool:
    """Return True for a student whose internships are reported: not 专科, and still or formerly enrolled."""
    return student.level != UNREPORTED_LEVEL and student.status in REPORTED_STATUSES


def should_take(course: PlanCourse, student: RosterEntry) -> bool:
    """Decide whether the plan expects ``student`` to take ``course``.

    The student's major must equal the course's, and the year of the enrolment date
    must equal the course's grade (年级). Where the course or the student lacks a major,
    their departments are compared instead. A value that either side lacks does not
    narrow the match. Students of 专科 level, and those who left or are suspended, are
    never expected.

    >>> course = PlanCourse("2024-2025", "第二学期", "机械工程学院", "080202", "机械设计制造及其自动化",
    ...                     2021, "JX4001", "生产实习", 4, "生产实习", "集中实习", "现场实习")
    >>> should_take(course, RosterEntry("2101", "林晓雨", major="机械设计制造及其自动化",
    ...                                 enrolment_date=datetime.date(2021, 9, 1)))
    True
    >>> should_take(course, RosterEntry("2201", "周明远", major="机械设计制造及其自动化",
    ...                                 enrolment_date=datetime.date(2022, 9, 1)))
    False
    >>> should_take(course, RosterEntry("2102", "陈可欣", department="机械工程学院"))
    True
    >>> should_take(course, RosterEntry("2103", "吴天宇", department="外国语学院"))
    False
    """
    if not _in_scope(student):
        return False
    course_major, student_major = _text(course.major), _text(student.major)
    if course_major and student_major:
        if course_major != student_major:
            return False
    else:
        course_department, student_department = _text(course.department), _text(student.department)
        if course_department and student_department and course_department != student_department:
            return False
    enrolment = student.enrolment_date
    return not (course.grade and enrolment is not None and enrolment.year != course.grade)


def _course_key(course: PlanCourse) -> tuple[str, str, str, int]:
    return (course.course_code, _text(course.department), _text(course.major), course.grade or 0)


def _students_by_major(roster: Iterable[RosterEntry], department: str | None) -> dict[str, list[RosterEntry]]:
    """Group the reported students by major ("" for no major), one entry per student number."""
    seen: set[str] = set()
    groups: dict[str, list[RosterEntry]] = defaultdict(list)
    for student in roster:
        if student.student_id in seen or not _in_scope(student):
            continue
        if department is not None and _text(student.department) not in ("", department):
            continue
        seen.add(student.student_id)
        groups[_text(student.major)].append(student)
    return groups


def _candidates(course: PlanCourse, groups: dict[str, list[RosterEntry]]) -> Iterable[RosterEntry]:
    """Return the students that may match ``course``: its major's and those without a major."""
    major = _text(course.major)
    if not major:
        return (student for students in groups.values() for student in students)
    return (*groups.get(major, ()), *groups.get("", ()))


def course_coverage(
    plan: Iterable[PlanCourse],
    roster: Iterable[RosterEntry],
    reported: Iterable[tuple[str, str]],
    *,
    missing_limit: int,
    department: str | None = None,
) -> list[CourseCoverage]:
    """Return, for each course of ``plan``, how many of its students have a record of it.

    ``reported`` contains a (student number, course code) pair per record. A course that
    the plan lists in several terms or years for the same department, major and grade
    counts once. ``department`` narrows the plan to that department's courses and the
    roster to its students and those without a department. Which students a course
    expects is decided by :func:`should_take`. Results are sorted by department, course
    code, grade and major.

    >>> course = PlanCourse("2024-2025", "第二学期", "机械工程学院", "080202", "机械设计制造及其自动化",
    ...                     2021, "JX4001", "生产实习", 4, "生产实习", "集中实习", "现场实习")
    >>> roster = [RosterEntry(f"21010{n}", f"学生{n}", major="机械设计制造及其自动化",
    ...                       enrolment_date=datetime.date(2021, 9, 1)) for n in range(1, 5)]
    >>> [result] = course_coverage([course], roster, [("210101", "JX4001"), ("210102", "JX4001")], missing_limit=1)
    >>> result.students, result.reported, result.share, result.missing, result.missing_count
    (4, 2, 0.5, ('210103',), 2)
    """
    if missing_limit < 0:
        raise ValueError(f"missing_limit must not be negative, not {missing_limit}")
    courses: dict[tuple[str, str, str, int], PlanCourse] = {}
    for course in plan:
        if department is not None and _text(course.department) != department:
            continue
        courses.setdefault(_course_key(course), course)

    groups = _students_by_major(roster, department)
    students_by_course: dict[str, set[str]] = defaultdict(set)
    for student_id, course_code in reported:
        students_by_course[course_code].add(student_id)

    results = []
    for key in sorted(courses, key=lambda key: (key[1], key[0], key[3], key[2])):
        course = courses[key]
        done = students_by_course.get(course.course_code, set())
        expected = sorted({student.student_id for student in _candidates(course, groups)
                           if should_take(course, student)})
        missing = [student_id for student_id in expected if student_id not in done]
        results.append(CourseCoverage(
            course_code=course.course_code,
            course_name=course.course_name,
            department=_text(course.department),
            major=_text(course.major) or None,
            grade=course.grade or None,
            students=len(expected),
            reported=len(expected) - len(missing),
            missing=tuple(missing[:missing_limit]),
        ))
    return results

