"""The SQLite store: one database file, the default for a school or a small province.

One ``SQLiteStore`` wraps one connection in autocommit mode. ``transaction()`` opens a
``BEGIN IMMEDIATE`` transaction, so a check and the write that depends on it (the SMS
send limit, an account name sequence) cannot interleave with another request's. The
database runs in WAL mode, so readers do not wait for the writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sxpt_server.store import migrations
from sxpt_server.store.base import ConflictError
from sxpt_server.store.sql import SQLStore

__all__ = ["SQLiteStore"]

# A write waits this long for another write to finish. A 200,000-row upload holds the
# lock for well over 5 s on a 2-core machine; past this wait the request gets SXPT-BUSY.
BUSY_TIMEOUT_MS = 30_000


class SQLiteStore(SQLStore):
    """The store on one SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True)
        # The database contains phone numbers and code digests: readable by the owner only.
        # SQLite gives the -wal and -shm files the mode of the database file. The file is
        # touched only when it does not exist yet, because closing any other descriptor of an
        # open database drops this process's POSIX locks on it. Another process could then
        # check the WAL in and delete it under the connections of this one.
        if not self.path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._depth = 0

    # --- schema and transactions ---

    def pending_migrations(self) -> list[str]:
        return migrations.pending_migrations(self._connection)

    def migrate(self) -> list[str]:
        # sqlite-utils needs Python's default transaction handling, so the migrations
        # get a connection of their own.
        connection = sqlite3.connect(self.path)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return migrations.migrate(connection)
        finally:
            connection.close()

    @contextmanager
    def transaction(self, scope: str | None = None) -> Iterator[None]:
        # SQLite has one writer at a time: every write transaction excludes every other,
        # whatever its scope.
        if self._depth:
            with self._joined():
                yield
            return

        self._connection.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            # After a full disk or an I/O error SQLite may have rolled back by itself, and
            # a second ROLLBACK would then fail and hide the error that caused it.
            if self._connection.in_transaction:
                self._connection.execute("ROLLBACK")
            raise
        else:
            self._connection.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        self._connection.close()

    # --- statements ---

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._connection.execute(sql, parameters)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._connection.executemany(sql, rows)

    def _insert(self, sql: str, parameters: Sequence[Any]) -> int:
        try:
            cursor = self._execute(sql, parameters)
        except sqlite3.IntegrityError as error:
            _raise_conflict(error)
            raise
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _insert_row(self, sql: str, parameters: Sequence[Any]) -> None:
        try:
            self._execute(sql, parameters)
        except sqlite3.IntegrityError as error:
            _raise_conflict(error)
            raise

    def _json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.\"{key}\"')"

    def _china_month(self, column: str) -> str:
        # SQLite reads the stored ISO times with their +00:00 offset; adding eight hours
        # gives the time in China.
        return f"strftime('%Y-%m', {column}, '+8 hours')"


def _raise_conflict(error: sqlite3.IntegrityError) -> None:
    """Raise ``ConflictError`` for a duplicate key; other integrity errors pass through."""
    if "UNIQUE" in str(error) or "PRIMARY KEY" in str(error):
        raise ConflictError(str(error)) from error
