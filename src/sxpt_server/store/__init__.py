"""The store: the server's database behind a small interface.

``get_store()`` returns the store of the current application context, opened on first
use and closed when the context ends, as ``get_db`` does in Flask's tutorial. The
``DATABASE`` setting chooses the database: a SQLite file, or a PostgreSQL URL, whose
connections come from one pool per server process.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app, g

from sxpt_core.errors import SxptError
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
    "POSTGRESQL_SCHEMES",
    "Account",
    "ApiKey",
    "AuditEntry",
    "CodeRow",
    "ConflictError",
    "DatabaseUnavailable",
    "Department",
    "Province",
    "SQLiteStore",
    "School",
    "SessionRow",
    "Store",
    "close_pool",
    "close_store",
    "database_kind",
    "get_store",
    "init_app",
    "open_store",
    "safe_url",
    "school_scope",
    "sqlite_path",
]


POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
# Seconds to wait for the first PostgreSQL connection of a process before giving up.
CONNECT_TIMEOUT = 10.0


class DatabaseUnavailable(SxptError):
    """The database named by ``DATABASE`` cannot be reached or refuses the connection."""

    code = "SXPT-DATABASE-UNAVAILABLE"


def safe_url(url: str) -> str:
    """Return ``url`` with its password replaced by ***, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
_POOL_KEY = "sxpt_postgresql_pool"
_pool_lock = threading.Lock()


def database_kind(setting: object) -> str:
    """Return "postgresql" or "sqlite" for a ``DATABASE`` setting."""
    return "postgresql" if str(setting).startswith(POSTGRESQL_SCHEMES) else "sqlite"


def sqlite_path(setting: object, instance_path: str | Path) -> Path:
    """Return the file of a SQLite ``DATABASE`` setting: a path or a ``sqlite:///`` URL.

    As in SQLAlchemy's URLs, ``sqlite:///name`` is relative (to the instance folder here)
    and ``sqlite:////folder/name`` absolute.
    """
    text = str(setting)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    path = Path(text)
    return path if path.is_absolute() else Path(instance_path) / path


def _pool(app: Flask) -> Any:
    """Return the application's pool of PostgreSQL connections, opening it on first use.

    The pool is opened lazily, in the process that uses it, so that server processes
    forked after the application was created do not share connections.
    """
    pool = app.extensions.get(_POOL_KEY)
    if pool is None:
        from sxpt_server.store.postgresql import connect_pool

        with _pool_lock:
            pool = app.extensions.get(_POOL_KEY)
            if pool is None:
                url = str(app.config["DATABASE"])
                pool = connect_pool(url, max_size=int(app.config["DATABASE_POOL_SIZE"]))
                try:
                    pool.wait(timeout=CONNECT_TIMEOUT)
                except Exception as error:
                    pool.close()
                    raise _unavailable(url) from error
                app.extensions[_POOL_KEY] = pool
    return pool


def _unavailable(url: str) -> DatabaseUnavailable:
    """Return the error for a database that the pool could not reach, with the driver's reason."""
    from sxpt_server.store.postgresql import connection_error

    reason = connection_error(url, timeout=CONNECT_TIMEOUT) or "timed out"
    return DatabaseUnavailable(
        f"无法连接数据库 {safe_url(url)}：{reason}。请检查 DATABASE 设置、数据库服务器是否在运行、用户名和密码。",
        message_en=f"Cannot connect to the database {safe_url(url)}: {reason}. Check the DATABASE setting, that the "
                   "database server is running, and the user name and password.")


def open_store(app: Flask) -> Store:
    """Open a new store on the application's database."""
    setting = app.config["DATABASE"]
    if database_kind(setting) == "postgresql":
        from sxpt_server.store.postgresql import PostgreSQLStore

        pool = _pool(app)
        return PostgreSQLStore(pool.getconn(), pool=pool)
    return SQLiteStore(sqlite_path(setting, app.instance_path))


def close_pool(app: Flask) -> None:
    """Close the application's PostgreSQL connections, if a pool was opened."""
    pool = app.extensions.pop(_POOL_KEY, None)
    if pool is not None:
        pool.close()


def school_scope(code: str) -> str:
    """Return the transaction scope of the writes to one school's records, batches and lists."""
    return f"school:{code}"


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
