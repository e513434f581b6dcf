"""Statements of the unit-verification queue.

``UnitsMixin`` is part of ``SQLStore``. Times are stored as ISO 8601 text in UTC, which sorts in time order,
so the queue compares them as text.
"""

from __future__ import annotations

import datetime
from typing import Any

from sxpt_core.review import UnitCheckState
from sxpt_server.store.records import UnitCheck
from sxpt_server.store.sql_records import _time, _unit_check_from
from sxpt_server.store.sqlbase import SQLBase
from sxpt_server.store.units import UnitCheckUse

__all__ = ["UnitsMixin"]

_UNCHECKED = UnitCheckState.UNCHECKED.value
_FAILED = UnitCheckState.FAILED.value


class UnitsMixin(SQLBase):
    """The unit-queue statements of ``SQLStore``."""

    def claim_unit_checks(
        self, *, now: datetime.datetime, claimed_until: datetime.datetime, limit: int
    ) -> list[UnitCheck]:
        moment = _time(now)
        # SQLite's transaction takes the write lock before the SELECT, so a second worker's
        # claim waits for this one to commit and then no longer finds these rows due.
        # PostgreSQL locks the rows it selects and a second worker skips them.
        with self._row_lock_transaction():
            rows = self._execute(
                "SELECT id FROM unit_checks WHERE state = ? AND next_attempt_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT ?"
                + self._skip_locked,
                (_UNCHECKED, moment, moment, limit),
            ).fetchall()
            ids = [row["id"] for row in rows]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            self._execute(
                f"UPDATE unit_checks SET claimed_until = ? WHERE id IN ({marks})", (_time(claimed_until), *ids)
            )
            claimed = self._execute(
                f"SELECT * FROM unit_checks WHERE id IN ({marks}) ORDER BY next_attempt_at, id", ids
            ).fetchall()
        return [_unit_check_from(row) for row in claimed]

    def finish_unit_check(
        self,
        check_id: int,
        *,
        claimed_until: datetime.datetime,
        state: str,
        reason: str | None,
        verifier: str,
        now: datetime.datetime,
        reason_en: str | None = None,
    ) -> bool:
        cursor = self._execute(
            "UPDATE unit_checks SET state = ?, reason = ?, reason_en = ?, verifier = ?, checked_at = ?, "
            "claimed_until = NULL, last_error = NULL WHERE id = ? AND state = ? AND claimed_until = ?",
            (state, reason, reason_en, verifier, _time(now), check_id, _UNCHECKED, _time(claimed_until)),
        )
        return int(cursor.rowcount) == 1

    def postpone_unit_check(
        self,
        check_id: int,
        *,
        claimed_until: datetime.datetime,
        error: str,
        next_attempt_at: datetime.datetime,
    ) -> bool:
        cursor = self._execute(
            "UPDATE unit_checks SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
            "claimed_until = NULL WHERE id = ? AND state = ? AND claimed_until = ?",
            (error, _time(next_attempt_at), check_id, _UNCHECKED, _time(claimed_until)),
        )
        return int(cursor.rowcount) == 1

    def release_unit_check(self, check_id: int, *, claimed_until: datetime.datetime) -> bool:
        cursor = self._execute(
            "UPDATE unit_checks SET claimed_until = NULL WHERE id = ? AND claimed_until = ?",
            (check_id, _time(claimed_until)),
        )
        return int(cursor.rowcount) == 1

    def get_unit_check(self, check_id: int) -> UnitCheck | None:
        row = self._execute("SELECT * FROM unit_checks WHERE id = ?", (check_id,)).fetchone()
        return _unit_check_from(row) if row else None

    def list_unit_checks(
        self, *, state: str | None = None, unit_code: str | None = None, after_id: int | None = None,
        limit: int = 100,
    ) -> list[UnitCheck]:
        clauses: list[str] = []
        parameters: list[Any] = []
        if state is not None:
            clauses.append("state = ?")
            parameters.append(state)
        if unit_code is not None:
            clauses.append("unit_code = ?")
            parameters.append(unit_code)
        if after_id is not None:
            clauses.append("id > ?")
            parameters.append(after_id)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        rows = self._execute(
            f"SELECT * FROM unit_checks {where}ORDER BY id LIMIT ?", (*parameters, limit)
        )
        return [_unit_check_from(row) for row in rows]

    def list_school_unit_checks(
        self,
        school: str,
        *,
        department: str | None = None,
        state: str | None = None,
        unit_code: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[UnitCheckUse]:
        clauses = ["r.school = ?", "r.deleted_at IS NULL"]
        parameters: list[Any] = [school]
        if department is not None:
            clauses.append("r.department = ?")
            parameters.append(department)
        if state is not None:
            clauses.append("u.state = ?")
            parameters.append(state)
        if unit_code is not None:
            clauses.append("u.unit_code = ?")
            parameters.append(unit_code)
        if after_id is not None:
            clauses.append("u.id > ?")
            parameters.append(after_id)
        rows = self._execute(
            "SELECT u.*, COUNT(r.id) AS record_count FROM unit_checks u "
            "JOIN records r ON r.unit_code = u.unit_code AND r.unit_name = u.unit_name "
            f"WHERE {' AND '.join(clauses)} GROUP BY u.id ORDER BY u.id LIMIT ?",
            (*parameters, limit),
        )
        return [UnitCheckUse(check=_unit_check_from(row), records=row["record_count"]) for row in rows]

    def unit_check_used_by(self, check_id: int, *, school: str, department: str | None = None) -> bool:
        department_clause = " AND r.department = ?" if department is not None else ""
        parameters: tuple[Any, ...] = (check_id, school) + ((department,) if department is not None else ())
        row = self._execute(
            "SELECT 1 FROM unit_checks u JOIN records r ON r.unit_code = u.unit_code AND r.unit_name = u.unit_name "
            f"WHERE u.id = ? AND r.school = ? AND r.deleted_at IS NULL{department_clause} LIMIT 1",
            parameters,
        ).fetchone()
        return row is not None

    def reset_unit_check(self, check_id: int, *, now: datetime.datetime) -> bool:
        cursor = self._execute(
            "UPDATE unit_checks SET state = ?, reason = NULL, reason_en = NULL, verifier = NULL, attempts = 0, last_error = NULL, "
            "next_attempt_at = ?, claimed_until = NULL, checked_at = NULL WHERE id = ? AND state = ?",
            (_UNCHECKED, _time(now), check_id, _FAILED),
        )
        return int(cursor.rowcount) == 1

    def count_unit_checks(self) -> dict[str, int]:
        counts = {state.value: 0 for state in UnitCheckState}
        for row in self._execute("SELECT state, COUNT(*) AS n FROM unit_checks GROUP BY state"):
            counts[row["state"]] = int(row["n"])
        return counts
