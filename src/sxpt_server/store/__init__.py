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
from urllib.parse import urlsplit

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
    "check_database",
    "close_pool",
    "close_store",
    "database_kind",
    "get_store",
    "init_app",
    "open_store",
    "safe_url",
    "school_scope",
    "sqlite_path",
    "url_problem",
]


POSTGRESQL_SCHEMES = ("postgresql://", "postgres://")
# Seconds to wait for the first PostgreSQL connection of a process before giving up.
CONNECT_TIMEOUT = 10.0


class DatabaseUnavailable(SxptError):
    """The database named by ``DATABASE`` cannot be reached or refuses the connection."""

    code = "SXPT-DATABASE-UNAVAILABLE"


def safe_url(url: str) -> str:
    """Return ``url`` with its password replaced by ***, for messages and logs.

    Everything between the user name and the last "@" counts as the password, so that a
    password with an unencoded "@", "/" or "#" is hidden too.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    userinfo, host = rest.rsplit("@", 1)
    if ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def url_problem(url: str) -> tuple[str, str] | None:
    """Return (Chinese, English) text on why a PostgreSQL URL cannot be read as meant, or None.

    A password with "@", "/", "#" or "?" must be percent-encoded, or the driver takes part
    of it for the host (and looks that host up).
    """
    rest = url.partition("://")[2]
    authority = rest.split("/", 1)[0]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks that the port is a number
    except ValueError:
        parts = None
    if authority.count("@") > 1 or "#" in url or parts is None or not parts.hostname:
        return (f"DATABASE 地址 {safe_url(url)} 无法解析：密码中的 @ / # ? 等字符须写成 %40 %2F %23 %3F。",
                f"The DATABASE URL {safe_url(url)} cannot be parsed: write @ / # ? in the password as %40 %2F "
                "%23 %3F.")
    return None
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


def check_database(app: Flask) -> None:
    """Raise ``DatabaseUnavailable`` at start-up when a PostgreSQL ``DATABASE`` is malformed or unreachable.

    One connection is tried and closed; the pool itself opens later, in the process that
    serves requests.
    """
    url = str(app.config["DATABASE"])
    if database_kind(url) != "postgresql":
        return
    problem = url_problem(url)
    if problem is not None:
        raise DatabaseUnavailable(problem[0], message_en=problem[1])
    from sxpt_server.store.postgresql import connection_error

    if connection_error(url, timeout=CONNECT_TIMEOUT) is not None:
        raise _unavailable(url)


def _unavailable(url: str) -> DatabaseUnavailable:
    """Return the error for a database that the pool could not reach, with the driver's reason."""
    from sxpt_server.store.postgresql import connection_error

    reason = connection_error(url, timeout=CONNECT_TIMEOUT) or "timed out"
    return DatabaseUnavailable(
        f"无法连接数据库 {safe_url(url)}（{reason}）。请检查 DATABASE 设置、数据库服务器是否在运行、数据库是否已建立"
        f"（createdb）、用户名和密码。",
        message_en=f"Cannot connect to the database {safe_url(url)} ({reason}). Check the DATABASE setting, that the "
                   "database server is running, that the database exists (createdb), and the user name and "
                   "password.")


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
    """Check a PostgreSQL database at start-up, and close the store at the end of every request and CLI command."""
    check_database(app)
    app.teardown_appcontext(close_store)
