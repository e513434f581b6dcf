"""Rules of the student roster file itself (学籍名单), run by ``sxpt validate --kind roster``.

The identity check looks students up by 学号, so a 学号 that appears twice in the roster
makes the lookup keep only one of the two rows. A repeated 学号 is an error naming the
first row, whether the two rows name the same student or two different ones.
"""

from __future__ import annotations

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.rules import RowValues
from sxpt_core.rules.batch import BatchFinding

__all__ = ["RosterBatchChecker"]

DUPLICATE_ID = Rule(
    code="SXPT-E-ROSTER-DUPLICATE-ID",
    severity=Severity.ERROR,
    layer=Layer.BATCH,
    fields=("学号",),
    statement=("学籍名单中每个学号只能出现一次。", "Each student number appears once in the roster."),
    message=("学号 {value} 与第 {first} 行重复（第 {first} 行的姓名是 {first_name}）",
             "Student number {value} repeats row {first} (named {first_name} there)"),
    hint=("同一学生请只保留一行；若是两名学生，请核对学号。",
          "Keep one row per student; if these are two students, check their numbers."),
)


class RosterBatchChecker:
    """Checker of repeated student numbers across roster rows.

    Rows are added one at a time; :meth:`finish` returns the findings.

    >>> checker = RosterBatchChecker()
    >>> checker.add(2, {"student_id": "2105010101", "student_name": "林晓雨"})
    >>> checker.add(3, {"student_id": "2105010102", "student_name": "周明远"})
    >>> checker.add(4, {"student_id": "2105010101", "student_name": "林晓宇"})
    >>> [(f.row, f.attr, f.finding.code) for f in checker.finish()]
    [(4, 'student_id', 'SXPT-E-ROSTER-DUPLICATE-ID')]
    """

    def __init__(self) -> None:
        self._firsts: dict[str, tuple[int, str | None]] = {}
        self._found: list[BatchFinding] = []

    def add(self, row: int, values: RowValues) -> None:
        """Add one row's normalised values. A row whose 学号 was rejected is skipped."""
        student_id = values.get("student_id")
        if student_id is None:
            return
        first_row, first_name = self._firsts.setdefault(student_id, (row, values.get("student_name")))
        if first_row != row:
            finding = DUPLICATE_ID(value=student_id, first=first_row, first_name=first_name or "—")
            self._found.append(BatchFinding(row, "student_id", finding))

    def finish(self) -> list[BatchFinding]:
        """Return every finding, in row order."""
        return list(self._found)
