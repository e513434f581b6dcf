"""SQLite statements of the unit-verification queue."""

from __future__ import annotations

import sqlite3

__all__ = ["UnitsMixin"]


class UnitsMixin:
    """The unit-queue statements of ``SQLiteStore``."""

    _connection: sqlite3.Connection
