"""The base of every SQL mixin of the store: the operations its statements need from a database.

The statements in ``sql*.py`` are written once, with ``?`` placeholders, and run on
SQLite and on PostgreSQL. ``SQLBase`` names what each database supplies: running a
statement, a transaction, and the few SQL expressions that the two spell differently.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

__all__ = ["Row", "SQLBase"]


class Row(Protocol):
    """A result row, such as ``sqlite3.Row``: ``row["name"]`` or ``row[0]``."""

    def __getitem__(self, key: Any, /) -> Any: ...


class SQLBase:
    """The connection-facing part of a SQL store, implemented per database."""

    # How many transaction() blocks are open; the outermost one begins and ends the transaction.
    _depth = 0

    @contextmanager
    def _joined(self) -> Iterator[None]:
        """Run a nested transaction block inside the open transaction, which it neither begins nor ends."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def transaction(self, scope: str | None = None) -> AbstractContextManager[None]:
        """Run the block in one write transaction; nested blocks join the outer one.

        ``scope`` names what the writes touch, such as one school's records. Write
        transactions of the same scope, and every transaction without a scope, run one
        at a time; SQLite runs all write transactions one at a time anyway.
        """
        raise NotImplementedError

    # Appended to a SELECT that claims rows of a queue: empty where the transaction
    # itself keeps other writers out (SQLite).
    _skip_locked = ""

    def _row_lock_transaction(self) -> AbstractContextManager[None]:
        """Return a transaction for statements that lock the rows they claim.

        Where the database locks rows (``_skip_locked``), this transaction takes no
        lock of the store's own, so several workers claim different rows at once.
        """
        return self.transaction()

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """Return the condition that ``column`` is one of ``values``, and its parameters.

        SQLite gets one placeholder per value. PostgreSQL overrides this with one array
        parameter, so that the statement stays short and its parsed form is reused.
        """
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def _execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """Run one statement and return its cursor, whose rows are ``Row``-like."""
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        raise NotImplementedError

    def _insert(self, sql: str, parameters: Sequence[Any]) -> int:
        """Run an INSERT into a table with an ``id`` column and return the new row's id.

        A duplicate of a unique key raises ``ConflictError``.
        """
        raise NotImplementedError

    def _insert_row(self, sql: str, parameters: Sequence[Any]) -> None:
        """Run an INSERT into a table keyed otherwise; a duplicate key raises ``ConflictError``."""
        raise NotImplementedError

    def _json_text(self, column: str, key: str) -> str:
        """Return the SQL expression of the text under ``key`` in the JSON object in ``column``."""
        raise NotImplementedError

    def _china_month(self, column: str) -> str:
        """Return the SQL expression of the month ("YYYY-MM"), in China, of the UTC time in ``column``."""
        raise NotImplementedError
