"""Everything a rule may need besides the row itself, passed in as one value.

Rules never read a clock, a file or the network: the caller builds a :class:`Context`
with today's date, the division table, the school's settings and, where available, the
student roster and the training plan.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from sxpt_core.codes.divisions import DivisionTable
from sxpt_core.models import PlanCourse, RosterEntry

__all__ = ["Context", "PlanIndex", "Roster", "RosterIndex", "SchoolSettings"]


@attrs.frozen
class SchoolSettings:
    """Settings of one school, usually read from ``sxpt.toml``.

    ``unit_code`` and ``name`` are the school's own registered name and credit code,
    which on-campus (校内) internships must use as their unit. ``year_start`` is the
    (month, day) on which the school's academic year begins.
    """

    name: str | None = None
    unit_code: str | None = None
    city_code: str | None = None
    year_start: tuple[int, int] = (9, 1)
    template_version: str = "2024"

    def academic_year_of(self, day: datetime.date) -> str:
        """Return the academic year (``2024-2025``) that contains ``day``.

        >>> SchoolSettings().academic_year_of(datetime.date(2025, 3, 1))
        '2024-2025'
        >>> SchoolSettings().academic_year_of(datetime.date(2025, 9, 1))
        '2025-2026'
        """
        month, first_day = self.year_start
        first = day.year if (day.month, day.day) >= (month, first_day) else day.year - 1
        return f"{first}-{first + 1}"


@runtime_checkable
class Roster(Protocol):
    """The student registry as rules read it; an embedding system may pass its own."""

    def get(self, student_id: str) -> RosterEntry | None:
        """Return the student with ``student_id``, or None."""
        ...

    def by_name(self, name: str) -> Sequence[RosterEntry]:
        """Return every student called ``name``."""
        ...


class RosterIndex:
    """A :class:`Roster` over a list of entries, indexed by number and by name.

    >>> roster = RosterIndex([RosterEntry("2105010101", "林晓雨")])
    >>> roster.get("2105010101").student_name
    '林晓雨'
    >>> roster.by_name("林晓雨")[0].student_id
    '2105010101'
    """

    def __init__(self, entries: Iterable[RosterEntry]) -> None:
        self._by_id: dict[str, RosterEntry] = {}
        self._by_name: dict[str, list[RosterEntry]] = defaultdict(list)
        for entry in entries:
            self._by_id[entry.student_id] = entry
            self._by_name[entry.student_name].append(entry)
        self.id_lengths = frozenset(len(student_id) for student_id in self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, student_id: str) -> RosterEntry | None:
        return self._by_id.get(student_id)

    def by_name(self, name: str) -> Sequence[RosterEntry]:
        return self._by_name.get(name, ())


class PlanIndex:
    """The training plan's internship courses, indexed by course code and by name."""

    def __init__(self, courses: Iterable[PlanCourse]) -> None:
        self.courses = tuple(courses)
        self._by_code: dict[str, list[PlanCourse]] = defaultdict(list)
        self._by_name: dict[str, list[PlanCourse]] = defaultdict(list)
        for course in self.courses:
            self._by_code[course.course_code].append(course)
            self._by_name[course.course_name].append(course)
        self.code_lengths = frozenset(len(code) for code in self._by_code)

    def __len__(self) -> int:
        return len(self.courses)

    def by_code(self, course_code: str) -> Sequence[PlanCourse]:
        """Return every plan entry (one per year, term and major) of ``course_code``."""
        return self._by_code.get(course_code, ())

    def by_name(self, course_name: str) -> Sequence[PlanCourse]:
        return self._by_name.get(course_name, ())


@attrs.frozen
class Context:
    """The inputs of the rules apart from the rows: date, code tables, roster, plan."""

    today: datetime.date
    divisions: DivisionTable
    school: SchoolSettings = attrs.field(factory=SchoolSettings)
    roster: Roster | None = None
    plan: PlanIndex | None = None
