"""Move a school's SQLite database into an empty PostgreSQL database, audit log included.

Every table is copied in the order of its foreign keys, with its ids, in one PostgreSQL
transaction: a failure leaves the target empty. The identity sequences then continue
after the largest copied id, and each table's row count and largest id are compared on
both sides before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sxpt_server.store.postgresql import PostgreSQLStore
from sxpt_server.store.sqlite import SQLiteStore

__all__ = ["TABLES", "TableCount", "TransferError", "copy_to_postgresql"]

# Parents before children, so that every foreign key finds its row.
TABLES = (
    "provinces", "schools", "departments", "account_sequences", "accounts", "codes", "sms_sends", "sessions",
    "api_keys", "audit_log", "batches", "records", "record_versions", "record_exceptions", "reference_lists",
    "unit_checks", "rate_limits",
)
# Tables whose ids the database numbers; their sequences must continue after the copy.
_NUMBERED = ("departments", "accounts", "codes", "sms_sends", "api_keys", "audit_log", "batches", "records",
             "record_versions", "reference_lists", "unit_checks")


class TransferError(Exception):
    """An error of a copy that cannot start or did not match, explained in ``message`` and ``message_en``."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


@dataclass(frozen=True)
class TableCount:
    """The rows of one table in the source and in the target after the copy."""

    table: str
    source: int
    target: int


def copy_to_postgresql(sqlite_file: Path, url: str, *,
                       progress: Callable[[str, int], None] | None = None) -> list[TableCount]:
    """Copy every row of ``sqlite_file`` into the PostgreSQL database at ``url`` and return the counts.

    The SQLite database must be migrated to the latest schema; the PostgreSQL database
    is migrated here and must hold no rows yet. ``progress`` is called with each table
    and its row count before the table is copied.
    """
    if not sqlite_file.is_file():
        raise TransferError(f"找不到 SQLite 数据库文件 {sqlite_file}。", f"The SQLite file {sqlite_file} does not exist.")
    source = SQLiteStore(sqlite_file)
    target = PostgreSQLStore.connect(url)
    try:
        if source.pending_migrations():
            raise TransferError(
                "SQLite 数据库不是最新版本：请先用这个文件运行 sxpt-server init-db，再迁移。",
                "The SQLite database is not up to date: run sxpt-server init-db on it first, then move it.")
        target.migrate()
        filled = [table for table in TABLES if target._execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()]
        if filled:
            raise TransferError(
                f"目标 PostgreSQL 数据库已有数据（表 {', '.join(filled)}），为避免覆盖，请换一个空数据库。",
                f"The PostgreSQL database already holds data (tables {', '.join(filled)}); use an empty one, "
                "so that nothing is overwritten.")
        counts: list[TableCount] = []
        connection = target._connection
        with connection.transaction():
            for table in TABLES:
                columns = [row["name"] for row in source._execute(f"PRAGMA table_info({table})")]
                count = int(source._execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                if progress is not None:
                    progress(table, count)
                names = ", ".join(columns)
                with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in source._execute(f"SELECT {names} FROM {table} ORDER BY rowid"):
                        copy.write_row(tuple(row))
                copied = _single(target, f"SELECT COUNT(*) FROM {table}")
                counts.append(TableCount(table, count, copied))
            for table in _NUMBERED:
                target._execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {table}")
            _compare_largest_ids(source, target)
            wrong = [count for count in counts if count.source != count.target]
            if wrong:
                raise TransferError(
                    "复制后行数不一致，已撤销：" + "；".join(f"{c.table} {c.source}→{c.target}" for c in wrong),
                    "The row counts differ after the copy, which was undone: "
                    + "; ".join(f"{c.table} {c.source}->{c.target}" for c in wrong))
        return counts
    finally:
        source.close()
        target.close()


def _single(store: PostgreSQLStore, sql: str) -> Any:
    """Return the one value of a one-row, one-column query."""
    row = store._execute(sql).fetchone()
    assert row is not None
    return row[0]


def _compare_largest_ids(source: SQLiteStore, target: PostgreSQLStore) -> None:
    for table in _NUMBERED:
        expected = source._execute(f"SELECT MAX(id) FROM {table}").fetchone()[0]
        found = _single(target, f"SELECT MAX(id) FROM {table}")
        if expected != found:
            raise TransferError(f"表 {table} 的最大编号不一致（{expected}→{found}），已撤销。",
                                f"The largest id of {table} differs ({expected}->{found}); the copy was undone.")
