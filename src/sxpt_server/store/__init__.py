"""The store: the server's database behind a small interface.

``get_store()`` returns the store of the current application context, opened on first
use and closed when the context ends, as ``get_db`` does in Flask's tutorial.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g

from sxpt_server.store.base import (
    Account,
    ApiKey,
    AuditEntry,
    CodeRow,
    ConflictError,
    Department,
    Province,
    School,
    SessionRow,
    Store,
)
from sxpt_server.store.sqlite import SQLiteStore

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "CodeRow",
    "ConflictError",
    "Department",
    "Province",
    "SQLiteStore",
    "School",
    "SessionRow",
    "Store",
    "close_store",
    "get_store",
    "init_app",
    "open_store",
]


def open_store(app: Flask) -> Store:
    """Open a new store on the application's database."""
    path = Path(app.config["DATABASE"])
    if not path.is_absolute():
        path = Path(app.instance_path) / path
    return SQLiteStore(path)


def get_store() -> Store:
    """Return the store of the current application context, opening it on first use."""
    if "store" not in g:
        g.store = open_store(current_app)
    store: Store = g.store
    return store


def close_store(_error: BaseException | None = None) -> None:
    """Close the store of the current application context, if one was opened."""
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app: Flask) -> None:
    """Close the store at the end of every request and CLI command."""
    app.teardown_appcontext(close_store)
