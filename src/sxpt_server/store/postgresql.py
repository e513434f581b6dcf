"""The PostgreSQL store, for a province or a national deployment with several servers.

``PostgreSQLStore`` runs the statements of ``SQLStore`` on one psycopg connection,
taken from a pool and given back by ``close()``. The connection is in autocommit mode.
``transaction()`` opens a transaction and takes advisory locks, which keep the guarantee
of SQLite's one writer at a time per school. Two schools' uploads run at once, while two
writes of one school, or any write without a scope, wait for each other. Unit checks are claimed with ``FOR UPDATE SKIP LOCKED``, so workers on several
machines take different rows.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors
from psycopg_pool import ConnectionPool

from sxpt_server.store.base import ConflictError
from sxpt_server.store.postgresql_schema import MIGRATIONS
from sxpt_server.store.records import RecordWrite
from sxpt_server.store.sql import SQLStore
from sxpt_server.store.sql_records import VERSION_COLUMNS

__all__ = ["PostgreSQLRow", "PostgreSQLStore", "connect_pool", "connection_error"]

# Advisory lock keys: (class, key). Class 1 is the whole store; class 2 one scope,
# keyed by the hash of its name.
_STORE_LOCK = 1
_SCOPE_LOCK = 2


class PostgreSQLRow:
    """A result row read by column name or by position, as ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    index = {column.name: position for position, column in enumerate(cursor.description or ())}
    return functools.partial(_make_row, index=index)


def _make_row(values: Sequence[Any], *, index: dict[str, int]) -> PostgreSQLRow:
    return PostgreSQLRow(values, index)


@functools.lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    """Turn the ``?`` placeholders of a statement into psycopg's ``%s``."""
    return sql.replace("%", "%%").replace("?", "%s")


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.autocommit = True


def connection_error(url: str, *, timeout: float) -> str | None:
    """Try one connection to ``url`` and return the driver's reason when it fails, None when it works."""
    try:
        psycopg.connect(url, connect_timeout=max(1, int(timeout))).close()
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def connect_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> ConnectionPool:
    """Open a pool of connections to the database at ``url``."""
    return ConnectionPool(url, min_size=min_size, max_size=max_size, configure=_configure, open=True,
                          kwargs={"row_factory": _row_factory})


class PostgreSQLStore(SQLStore):
    """The store on one connection to a PostgreSQL database."""

    _skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, connection: psycopg.Connection[Any], *, pool: ConnectionPool | None = None) -> None:
        self._connection = connection
        self._pool = pool
        self._depth = 0

    @classmethod
    def connect(cls, url: str) -> PostgreSQLStore:
        """Open a store on a connection of its own, outside any pool."""
        connection = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
        return cls(connection)

    # --- schema and transactions ---

    def _ensure_migrations_table(self) -> None:
        self._connection.execute(
            'CREATE TABLE IF NOT EXISTS sxpt_migrations (name TEXT COLLATE "C" PRIMARY KEY, applied_at TEXT NOT NULL)'
        )

    def _applied(self) -> set[str]:
        exists = self._connection.execute("SELECT to_regclass('sxpt_migrations') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return set()
        return {row["name"] for row in self._connection.execute("SELECT name FROM sxpt_migrations")}

    def pending_migrations(self) -> list[str]:
        applied = self._applied()
        return [name for name, _statements in MIGRATIONS if name not in applied]

    def migrate(self) -> list[str]:
        self._ensure_migrations_table()
        done: list[str] = []
        for name, statements in MIGRATIONS:
            with self._connection.transaction():
                # Several servers may start at once: one migrates, the others wait and skip.
                self._connection.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_STORE_LOCK,))
                if name in self._applied():
                    continue
                for statement in statements:
                    self._connection.execute(statement)
                self._connection.execute(
                    "INSERT INTO sxpt_migrations (name, applied_at) VALUES (%s, %s)",
                    (name, datetime.datetime.now(datetime.timezone.utc).isoformat()),
                )
            done.append(name)
        return done

    @contextmanager
    def transaction(self, scope: str | None = None) -> Iterator[None]:
        if self._depth:
            # A nested block joins the outer transaction under the outer block's locks.
            # Taking the whole store's lock here, while other transactions hold it shared,
            # would deadlock two such upgrades against each other.
            with self._joined():
                yield
            return

        with self._connection.transaction():
            self._lock(scope)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0

    def _lock(self, scope: str | None) -> None:
        if scope is None:
            self._connection.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_STORE_LOCK,))
        else:
            self._connection.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, 0), pg_advisory_xact_lock(%s, hashtext(%s))",
                (_STORE_LOCK, _SCOPE_LOCK, scope),
            )

    @contextmanager
    def _row_lock_transaction(self) -> Iterator[None]:
        if self._depth:
            with self._joined():
                yield
            return
        with self._connection.transaction():
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.putconn(self._connection)
        else:
            self._connection.close()

    # --- statements ---

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if not parameters:
            return self._connection.execute(sql)
        return self._connection.execute(_placeholders(sql), parameters)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._connection.cursor() as cursor:
                cursor.executemany(_placeholders(sql), rows)

    def _insert(self, sql: str, parameters: Sequence[Any]) -> int:
        try:
            row = self._execute(sql + " RETURNING id", parameters).fetchone()
        except errors.UniqueViolation as error:
            raise ConflictError(str(error)) from error
        assert row is not None
        return int(row["id"])

    def _insert_row(self, sql: str, parameters: Sequence[Any]) -> None:
        try:
            self._execute(sql, parameters)
        except errors.UniqueViolation as error:
            raise ConflictError(str(error)) from error

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def _insert_new_records(self, writes: Sequence[RecordWrite], moment: str) -> dict[tuple[str, str], int]:
        # The ids are drawn from the table's sequence in one query, then the rows go in
        # with one COPY: two round trips for any number of records.
        if not writes:
            return {}
        drawn = self._connection.execute(
            "SELECT nextval(pg_get_serial_sequence('records', 'id')) FROM generate_series(1, %s)", (len(writes),)
        ).fetchall()
        ids = [int(row[0]) for row in drawn]
        with self._connection.cursor() as cursor, cursor.copy(
                "COPY records (id, province, school, department, natural_key, state, current_version, student_id, "
                "course_code, unit_code, unit_name, reporting_month, created_at, updated_at) FROM STDIN") as copy:
            for record_id, write in zip(ids, writes, strict=True):
                copy.write_row((record_id, write.province, write.school, write.department, write.natural_key,
                                write.state, 1, write.student_id, write.course_code, write.unit_code, write.unit_name,
                                write.reporting_month, moment, moment))
        return {(write.school, write.natural_key): record_id for record_id, write in zip(ids, writes, strict=True)}

    def _insert_versions(self, rows: Sequence[Sequence[Any]]) -> None:
        # COPY streams the rows in one statement; an upload's versions carry most of its bytes.
        with self._connection.cursor() as cursor, cursor.copy(
                f"COPY record_versions ({', '.join(VERSION_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _json_text(self, column: str, key: str) -> str:
        return f"(({column})::jsonb ->> '{key}')"

    def _china_month(self, column: str) -> str:
        return f"to_char(({column})::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
