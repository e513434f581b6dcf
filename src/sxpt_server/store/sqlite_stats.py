"""SQLite statements of statistics and exports."""

from __future__ import annotations

import sqlite3

__all__ = ["StatsMixin"]


class StatsMixin:
    """The statistics statements of ``SQLiteStore``."""

    _connection: sqlite3.Connection
