"""Statements for uploads, records, rosters, plans and the unit-check rows they share.

``RecordsMixin`` is part of ``SQLStore``. An upload's records are written with
multi-row INSERTs and ``executemany``, a few statements per 500 rows instead of a few
per row, which matters most where each statement is a round trip to a PostgreSQL server.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sxpt_server.store.records import (
    Batch,
    NewBatch,
    RecordFilter,
    RecordWrite,
    ReferenceList,
    StoredRecord,
    UnitCheck,
    Version,
)
from sxpt_server.store.sqlbase import Row, SQLBase

__all__ = ["RecordsMixin"]

# SQLite allows 32,766 host parameters per statement and PostgreSQL 65,535; IN lists and
# multi-row INSERTs of CHUNK rows stay well below both.
CHUNK = 500

# The columns of record_versions that write_records fills, in the order of its rows.
VERSION_COLUMNS = ("record_id", "version", "department", "reporting_month", "student_id", "course_code", "unit_code",
                   "cells", "issues", "digest", "batch_id", "created_at", "created_by")

_BATCH_COLUMNS = (
    "id, kind, province, school, department, actor, filename, media_type, digest, idempotency_key, status, "
    "created_at, rows, valid_rows, errors, warnings, created, updated, unchanged, not_stored"
)

_RECORD_SELECT = """
    SELECT r.*, c.cells AS cells, c.issues AS issues, c.digest AS digest,
           a.cells AS approved_cells, a.department AS approved_department, a.reporting_month AS approved_month
    FROM records r
    JOIN record_versions c ON c.record_id = r.id AND c.version = r.current_version
    LEFT JOIN record_versions a ON a.record_id = r.id AND a.version = r.approved_version
"""


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).isoformat()


def _parse(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _batch_from(row: Row) -> Batch:
    return Batch(
        id=row["id"], kind=row["kind"], province=row["province"], school=row["school"],
        department=row["department"], actor=row["actor"], filename=row["filename"], media_type=row["media_type"],
        digest=row["digest"], idempotency_key=row["idempotency_key"], status=row["status"],
        created_at=datetime.datetime.fromisoformat(row["created_at"]), rows=row["rows"],
        valid_rows=row["valid_rows"], errors=row["errors"], warnings=row["warnings"], created=row["created"],
        updated=row["updated"], unchanged=row["unchanged"], not_stored=row["not_stored"],
    )


def _record_from(row: Row) -> StoredRecord:
    return StoredRecord(
        id=row["id"], province=row["province"], school=row["school"], department=row["department"],
        natural_key=row["natural_key"], state=row["state"], delete_requested=bool(row["delete_requested"]),
        current_version=row["current_version"], approved_version=row["approved_version"],
        review_reason=row["review_reason"], unit_code=row["unit_code"], unit_name=row["unit_name"],
        reporting_month=row["reporting_month"], cells=json.loads(row["cells"]), issues=json.loads(row["issues"]),
        digest=row["digest"],
        approved_cells=json.loads(row["approved_cells"]) if row["approved_cells"] is not None else None,
        approved_department=row["approved_department"], approved_month=row["approved_month"],
        created_at=datetime.datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.datetime.fromisoformat(row["updated_at"]),
    )


def _unit_check_from(row: Row) -> UnitCheck:
    next_attempt = _parse(row["next_attempt_at"])
    assert next_attempt is not None
    created = _parse(row["created_at"])
    assert created is not None
    return UnitCheck(
        id=row["id"], unit_code=row["unit_code"], unit_name=row["unit_name"], state=row["state"],
        reason=row["reason"], reason_en=row["reason_en"], verifier=row["verifier"], attempts=row["attempts"], last_error=row["last_error"],
        next_attempt_at=next_attempt, created_at=created, checked_at=_parse(row["checked_at"]),
    )


def _where(query: RecordFilter) -> tuple[str, list[Any]]:
    """Return the WHERE clause and parameters of a record filter."""
    clauses = ["r.deleted_at IS NULL"]
    parameters: list[Any] = []

    def add(clause: str, value: Any) -> None:
        clauses.append(clause)
        parameters.append(value)

    if query.province is not None:
        add("r.province = ?", query.province)
    if query.school is not None:
        add("r.school = ?", query.school)
    # Provinces and the ministry filter the fields of the approved version ("a"), never
    # those of a pending edit. The school and its departments filter the current one.
    version = "r"
    if query.approved_only:
        clauses.append("r.approved_version IS NOT NULL")
        version = "a"
    # The record row carries copies of the approved version's department and month.
    if query.department is not None:
        add("r.approved_department = ?" if query.approved_only else "r.department = ?", query.department)
    if query.reporting_month is not None:
        add("r.approved_month = ?" if query.approved_only else "r.reporting_month = ?", query.reporting_month)
    if query.student_id is not None:
        add(f"{version}.student_id = ?", query.student_id)
    if query.course_code is not None:
        add(f"{version}.course_code = ?", query.course_code)
    if query.unit_code is not None:
        add(f"{version}.unit_code = ?", query.unit_code)
    if query.states:
        clauses.append(f"r.state IN ({', '.join('?' * len(query.states))})")
        parameters.extend(query.states)
    if query.delete_requested is not None:
        add("r.delete_requested = ?", int(query.delete_requested))
    if query.after_id is not None:
        add("r.id > ?", query.after_id)
    return " AND ".join(clauses), parameters


class RecordsMixin(SQLBase):
    """The record statements of ``SQLStore``."""

    # --- batches ---

    def add_batch(self, batch: NewBatch) -> int:
        # Only the idempotency key is unique: a ConflictError means that a concurrent
        # request with the same key won.
        return self._insert(
            "INSERT INTO batches (kind, province, school, department, actor, filename, media_type, digest, "
            "idempotency_key, status, created_at, rows, valid_rows, errors, warnings, created, updated, unchanged, "
            "not_stored, report, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch.kind, batch.province, batch.school, batch.department, batch.actor, batch.filename,
             batch.media_type, batch.digest, batch.idempotency_key, batch.status, _time(batch.created_at),
             batch.rows, batch.valid_rows, batch.errors, batch.warnings, batch.created, batch.updated,
             batch.unchanged, batch.not_stored, _dump(batch.report), batch.source),
        )

    def get_batch(self, batch_id: int) -> Batch | None:
        row = self._execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return _batch_from(row) if row else None

    def list_batches(
        self, *, school: str, kind: str | None = None, department: str | None = None,
        before_id: int | None = None, limit: int = 50,
    ) -> list[Batch]:
        clauses = ["school = ?"]
        parameters: list[Any] = [school]
        if kind is not None:
            clauses.append("kind = ?")
            parameters.append(kind)
        if department is not None:
            clauses.append("department = ?")
            parameters.append(department)
        if before_id is not None:
            clauses.append("id < ?")
            parameters.append(before_id)
        rows = self._execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
            (*parameters, limit),
        )
        return [_batch_from(row) for row in rows]

    def find_batch(self, *, school: str, kind: str, department: str, digest: str) -> Batch | None:
        row = self._execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE school = ? AND kind = ? AND digest = ? AND department = ? "
            "AND status = 'stored' ORDER BY id DESC LIMIT 1",
            (school, kind, digest, department),
        ).fetchone()
        return _batch_from(row) if row else None

    def find_batch_by_idempotency_key(self, school: str, key: str) -> Batch | None:
        row = self._execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE school = ? AND idempotency_key = ?", (school, key)
        ).fetchone()
        return _batch_from(row) if row else None

    def batch_report(self, batch_id: int) -> dict[str, Any]:
        row = self._execute("SELECT report FROM batches WHERE id = ?", (batch_id,)).fetchone()
        report: dict[str, Any] = json.loads(row["report"]) if row else {}
        return report

    def batch_source(self, batch_id: int) -> bytes | None:
        row = self._execute("SELECT source FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return bytes(row["source"]) if row and row["source"] is not None else None

    # --- records ---

    def records_by_key(self, school: str, keys: Iterable[str]) -> dict[str, StoredRecord]:
        found: dict[str, StoredRecord] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            condition, values = self._in("r.natural_key", chunk)
            rows = self._execute(
                f"{_RECORD_SELECT} WHERE r.school = ? AND r.deleted_at IS NULL AND {condition}", (school, *values)
            )
            for row in rows:
                record = _record_from(row)
                found[record.natural_key] = record
        return found

    def write_records(
        self, writes: Sequence[RecordWrite], *, batch_id: int | None, actor: str, now: datetime.datetime
    ) -> list[int]:
        moment = _time(now)
        with self.transaction():
            new_ids = self._insert_new_records([write for write in writes if write.record_id is None], moment)
            versions = self._next_versions([write.record_id for write in writes if write.record_id is not None])
            updates: list[tuple[Any, ...]] = []
            version_rows: list[tuple[Any, ...]] = []
            ids: list[int] = []
            for write in writes:
                if write.record_id is None:
                    record_id, version = new_ids[(write.school, write.natural_key)], 1
                else:
                    record_id = write.record_id
                    version = versions[record_id]
                    versions[record_id] += 1
                    updates.append((write.department, write.natural_key, write.state, version, write.student_id,
                                    write.course_code, write.unit_code, write.unit_name, write.reporting_month,
                                    moment, record_id))
                version_rows.append((record_id, version, write.department, write.reporting_month, write.student_id,
                                     write.course_code, write.unit_code, _dump(dict(write.cells)),
                                     _dump([dict(issue) for issue in write.issues]), write.digest, batch_id, moment,
                                     actor))
                ids.append(record_id)
            if updates:
                self._executemany(
                    "UPDATE records SET department = ?, natural_key = ?, state = ?, current_version = ?, "
                    "review_reason = NULL, student_id = ?, course_code = ?, unit_code = ?, unit_name = ?, "
                    "reporting_month = ?, updated_at = ? WHERE id = ?",
                    updates,
                )
            self._insert_versions(version_rows)
        return ids

    def _insert_versions(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert record versions, each a row of ``VERSION_COLUMNS``; PostgreSQL uses COPY instead."""
        for chunk in _chunks(rows):
            self._execute(
                f"INSERT INTO record_versions ({', '.join(VERSION_COLUMNS)}) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
                [value for row in chunk for value in row],
            )

    def _insert_new_records(self, writes: Sequence[RecordWrite], moment: str) -> dict[tuple[str, str], int]:
        """Insert the records of ``writes`` and return their ids by school and natural key.

        A multi-row INSERT returns its rows in no promised order, so each id is matched
        to its record by the key, which is unique among a school's live records.
        """
        ids: dict[tuple[str, str], int] = {}
        for chunk in _chunks(writes):
            rows = self._execute(
                "INSERT INTO records (province, school, department, natural_key, state, current_version, "
                "student_id, course_code, unit_code, unit_name, reporting_month, created_at, updated_at) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                + " RETURNING id, school, natural_key",
                [value for write in chunk for value in (
                    write.province, write.school, write.department, write.natural_key, write.state,
                    write.student_id, write.course_code, write.unit_code, write.unit_name, write.reporting_month,
                    moment, moment)],
            ).fetchall()
            ids.update(((row["school"], row["natural_key"]), row["id"]) for row in rows)
        return ids

    def _next_versions(self, record_ids: Sequence[int]) -> dict[int, int]:
        """Return the number of the next version of each record in ``record_ids``."""
        versions: dict[int, int] = {}
        for chunk in _chunks(list(dict.fromkeys(record_ids))):
            condition, values = self._in("id", chunk)
            rows = self._execute(f"SELECT id, current_version FROM records WHERE {condition}", values)
            versions.update((row["id"], row["current_version"] + 1) for row in rows)
        return versions

    def get_record(self, record_id: int) -> StoredRecord | None:
        row = self._execute(
            f"{_RECORD_SELECT} WHERE r.id = ? AND r.deleted_at IS NULL", (record_id,)
        ).fetchone()
        return _record_from(row) if row else None

    def list_records(self, query: RecordFilter) -> list[StoredRecord]:
        where, parameters = _where(query)
        rows = self._execute(
            f"{_RECORD_SELECT} WHERE {where} ORDER BY r.id LIMIT ?", (*parameters, query.limit)
        )
        return [_record_from(row) for row in rows]

    def count_records(self, query: RecordFilter) -> int:
        where, parameters = _where(query)
        join = ("LEFT JOIN record_versions a ON a.record_id = r.id AND a.version = r.approved_version"
                if query.approved_only else "")
        row = self._execute(f"SELECT COUNT(*) FROM records r {join} WHERE {where}", parameters).fetchone()
        return int(row[0])

    def records_with_units(self, units: Iterable[tuple[str, str]], *, states: Sequence[str]) -> list[StoredRecord]:
        found: list[StoredRecord] = []
        marks = ", ".join("?" * len(states))
        for chunk in _chunks(list(dict.fromkeys(units))):
            condition = " OR ".join("(r.unit_code = ? AND r.unit_name = ?)" for _ in chunk)
            rows = self._execute(
                f"{_RECORD_SELECT} WHERE r.deleted_at IS NULL AND r.state IN ({marks}) AND ({condition}) ORDER BY r.id",
                (*states, *(part for pair in chunk for part in pair)),
            )
            found.extend(_record_from(row) for row in rows)
        return found

    def record_versions(self, record_id: int) -> list[Version]:
        rows = self._execute(
            "SELECT * FROM record_versions WHERE record_id = ? ORDER BY version", (record_id,)
        )
        return [
            Version(
                record_id=row["record_id"], version=row["version"], department=row["department"],
                reporting_month=row["reporting_month"], cells=json.loads(row["cells"]),
                issues=json.loads(row["issues"]), digest=row["digest"], batch_id=row["batch_id"],
                created_at=datetime.datetime.fromisoformat(row["created_at"]), created_by=row["created_by"],
            )
            for row in rows
        ]

    def set_record_status(
        self,
        record_id: int,
        *,
        state: str,
        delete_requested: bool,
        approve_current: bool,
        review_reason: str | None,
        now: datetime.datetime,
    ) -> None:
        approved = (", approved_version = current_version, approved_month = reporting_month, "
                    "approved_department = department") if approve_current else ""
        self._execute(
            f"UPDATE records SET state = ?, delete_requested = ?, review_reason = ?, updated_at = ?{approved} "
            "WHERE id = ?",
            (state, int(delete_requested), review_reason, _time(now), record_id),
        )

    def set_record_checks(self, record_id: int, *, state: str, issues: Sequence[Mapping[str, Any]],
                          now: datetime.datetime) -> None:
        with self.transaction():
            self._execute(
                "UPDATE record_versions SET issues = ? WHERE record_id = ? AND version = "
                "(SELECT current_version FROM records WHERE id = ?)",
                (_dump([dict(issue) for issue in issues]), record_id, record_id),
            )
            self._execute(
                "UPDATE records SET state = ?, updated_at = ? WHERE id = ?", (state, _time(now), record_id)
            )

    def delete_record(self, record_id: int, *, now: datetime.datetime) -> None:
        self._execute(
            "UPDATE records SET deleted_at = ?, delete_requested = 0, updated_at = ? WHERE id = ?",
            (_time(now), _time(now), record_id),
        )

    def add_exception(self, record_id: int, code: str, *, reason: str, actor: str, now: datetime.datetime) -> None:
        self._execute(
            "INSERT INTO record_exceptions (record_id, code, reason, actor, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (record_id, code) DO UPDATE SET reason = excluded.reason, actor = excluded.actor, "
            "created_at = excluded.created_at",
            (record_id, code, reason, actor, _time(now)),
        )

    def exceptions_of(self, record_id: int) -> dict[str, str]:
        rows = self._execute(
            "SELECT code, reason FROM record_exceptions WHERE record_id = ? ORDER BY code", (record_id,)
        )
        return {row["code"]: row["reason"] for row in rows}

    def exceptions_for(self, record_ids: Iterable[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for chunk in _chunks(list(record_ids)):
            condition, values = self._in("record_id", chunk)
            rows = self._execute(f"SELECT record_id, code FROM record_exceptions WHERE {condition}", values)
            for row in rows:
                found.setdefault(row["record_id"], set()).add(row["code"])
        return found

    # --- rosters and plans ---

    def add_reference_list(
        self, kind: str, school: str, *, batch_id: int, data: Sequence[Mapping[str, Any]], now: datetime.datetime
    ) -> int:
        return self._insert(
            "INSERT INTO reference_lists (kind, school, batch_id, entries, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, school, batch_id, len(data), _dump([dict(entry) for entry in data]), _time(now)),
        )

    def current_reference_list(self, kind: str, school: str) -> ReferenceList | None:
        row = self._execute(
            "SELECT * FROM reference_lists WHERE school = ? AND kind = ? ORDER BY id DESC LIMIT 1", (school, kind)
        ).fetchone()
        if row is None:
            return None
        return ReferenceList(
            id=row["id"], kind=row["kind"], school=row["school"], batch_id=row["batch_id"], entries=row["entries"],
            data=json.loads(row["data"]), created_at=datetime.datetime.fromisoformat(row["created_at"]),
        )

    # --- unit checks ---

    def ensure_unit_checks(self, units: Iterable[tuple[str, str]], *, now: datetime.datetime) -> None:
        moment = _time(now)
        self._executemany(
            "INSERT INTO unit_checks (unit_code, unit_name, state, next_attempt_at, created_at) "
            "VALUES (?, ?, '未校验', ?, ?) ON CONFLICT (unit_code, unit_name) DO NOTHING",
            [(code, name, moment, moment) for code, name in dict.fromkeys(units)],
        )

    def unit_checks_for(self, units: Iterable[tuple[str, str]]) -> dict[tuple[str, str], UnitCheck]:
        found: dict[tuple[str, str], UnitCheck] = {}
        wanted = list(dict.fromkeys(units))
        for chunk in _chunks(wanted):
            condition = " OR ".join("(unit_code = ? AND unit_name = ?)" for _ in chunk)
            rows = self._execute(
                f"SELECT * FROM unit_checks WHERE {condition}", [part for pair in chunk for part in pair]
            )
            for row in rows:
                check = _unit_check_from(row)
                found[(check.unit_code, check.unit_name)] = check
        return found
