"""Statements of statistics and exports.

Each query joins a record to the version it reads: the approved version for a filter
with ``approved_only``, else the current one. Cells are read from the version's JSON
(``_json_text``), so statistics need no columns beyond the schema.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

from sxpt_core.review import UnitCheckState
from sxpt_server.store.sqlbase import SQLBase
from sxpt_server.store.stats import FailedUnit, Group, StatsFilter

__all__ = ["StatsMixin"]


_GROUP_COLUMNS: dict[str, str] = {
    "month": "v.reporting_month",
    "department": "v.department",
    "school": "r.school",
    "state": "r.state",
}
# Groups read from a cell of the version, by template header.
_GROUP_CELLS: dict[str, str] = {"type": "实习类型"}


def _scope(query: StatsFilter, join: str = "") -> tuple[str, list[Any]]:
    """Return the FROM and WHERE part of a statistics query, and its parameters.

    ``join`` is a further JOIN clause, which may use the record ``r`` and its version ``v``.
    """
    version = "r.approved_version" if query.approved_only else "r.current_version"
    clauses = ["r.deleted_at IS NULL"]
    if query.approved_only:
        # Lets the database use the partial index records_approved.
        clauses.append("r.approved_version IS NOT NULL")
    parameters: list[Any] = []
    for clause, value in (
        ("r.province = ?", query.province),
        ("r.school = ?", query.school),
        ("v.department = ?", query.department),
        ("v.reporting_month >= ?", query.month_from),
        ("v.reporting_month <= ?", query.month_to),
    ):
        if value is not None:
            clauses.append(clause)
            parameters.append(value)
    sql = (f"FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = {version} {join} "
           f"WHERE {' AND '.join(clauses)}")
    return sql, parameters


class StatsMixin(SQLBase):
    """The statistics statements of ``SQLStore``."""

    def _cell(self, header: str) -> str:
        """Return the SQL expression of a version's cell ``header``, a template header."""
        return self._json_text("v.cells", header)

    def _unit_columns(self, query: StatsFilter) -> tuple[str, str]:
        """Return the SQL expressions of the unit's code and name in the version read.

        The record row copies the current version's unit, which is indexed; an approved
        version's unit is read from its cells.
        """
        if query.approved_only:
            return self._cell("实习单位统一社会信用代码"), self._cell("实习单位名称")
        return "r.unit_code", "r.unit_name"

    def count_records_by(self, group: Group, query: StatsFilter) -> list[tuple[str | None, int]]:
        expression = _GROUP_COLUMNS[group] if group in _GROUP_COLUMNS else self._cell(_GROUP_CELLS[group])
        scope, parameters = _scope(query)
        rows = self._execute(
            f"SELECT {expression} AS value, COUNT(*) AS records {scope} "
            f"GROUP BY {expression} ORDER BY {expression} IS NULL, {expression}",
            parameters,
        )
        return [(None if row["value"] is None else str(row["value"]), row["records"]) for row in rows]

    def count_late_records(self, query: StatsFilter) -> list[tuple[str, int]]:
        scope, parameters = _scope(query)
        rows = self._execute(
            f"SELECT v.reporting_month AS month, COUNT(*) AS records {scope} "
            f"AND v.reporting_month != '' AND {self._china_month('r.created_at')} > v.reporting_month "
            "GROUP BY month ORDER BY month",
            parameters,
        )
        return [(row["month"], row["records"]) for row in rows]

    def _failed_units_sql(self, query: StatsFilter) -> tuple[str, list[Any]]:
        code, name = self._unit_columns(query)
        sql, parameters = _scope(query, f"JOIN unit_checks u ON u.unit_code = {code} AND u.unit_name = {name}")
        return f"{sql} AND u.state = ?", [*parameters, UnitCheckState.FAILED.value]

    def failed_unit_checks(self, query: StatsFilter, *, limit: int) -> list[FailedUnit]:
        sql, parameters = self._failed_units_sql(query)
        rows = self._execute(
            f"SELECT u.unit_code, u.unit_name, u.reason, u.checked_at, COUNT(*) AS records {sql} "
            "GROUP BY u.id ORDER BY records DESC, u.unit_code, u.unit_name LIMIT ?",
            (*parameters, limit),
        )
        return [
            FailedUnit(
                unit_code=row["unit_code"], unit_name=row["unit_name"], reason=row["reason"],
                checked_at=datetime.datetime.fromisoformat(row["checked_at"]) if row["checked_at"] else None,
                records=row["records"],
            )
            for row in rows
        ]

    def count_failed_unit_checks(self, query: StatsFilter) -> tuple[int, int]:
        sql, parameters = self._failed_units_sql(query)
        row = self._execute(f"SELECT COUNT(DISTINCT u.id), COUNT(*) {sql}", parameters).fetchone()
        return int(row[0]), int(row[1])

    def reported_courses(self, query: StatsFilter) -> set[tuple[str, str]]:
        scope, parameters = _scope(query)
        if query.approved_only:
            student, course = self._cell("学号"), self._cell("课程代码")
        else:
            student, course = "r.student_id", "r.course_code"
        rows = self._execute(f"SELECT DISTINCT {student}, {course} {scope}", parameters)
        return {(str(row[0]), str(row[1])) for row in rows if row[0] is not None and row[1] is not None}

    def iter_record_cells(self, query: StatsFilter, *, page_size: int = 500) -> Iterator[dict[str, Any]]:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        scope, parameters = _scope(query)
        last_id = 0
        while True:
            rows = self._execute(
                f"SELECT r.id, v.cells {scope} AND r.id > ? ORDER BY r.id LIMIT ?",
                (*parameters, last_id, page_size),
            ).fetchall()
            for row in rows:
                cells: dict[str, Any] = json.loads(row["cells"])
                yield cells
            if len(rows) < page_size:
                return
            last_id = rows[-1]["id"]
