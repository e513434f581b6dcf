"""The two databases the server tests run on: SQLite files and a PostgreSQL server.

A test module that sets ``BOTH_BACKENDS = True`` runs each of its tests that use the
``app`` (or ``database``) fixture twice, once per database. The PostgreSQL server is
named by ``SXPT_TEST_POSTGRESQL``, an administrator's URL such as
``postgresql://postgres@127.0.0.1:54329/postgres`` (``.ci/run`` starts one with
``scripts/postgresql-for-tests.sh``). Each test gets a schema of its own in the
database ``sxpt_tests``, dropped afterwards. Without the variable the PostgreSQL runs
are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

POSTGRESQL_ENV = "SXPT_TEST_POSTGRESQL"
TEST_DATABASE = "sxpt_tests"
BACKENDS = ("sqlite", "postgresql")


def server_url() -> str:
    """Return the administrator's URL of the test PostgreSQL server, or skip (fail under CI) without one."""
    url = os.environ.get(POSTGRESQL_ENV)
    if not url:
        message = f"{POSTGRESQL_ENV} is not set: no PostgreSQL server to test against"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def _database_url(url: str, database: str, options: str | None = None) -> str:
    parts = urlsplit(url)
    query = f"options={quote(options)}" if options else parts.query
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, query, ""))


def _ensure_test_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEST_DATABASE,)).fetchone()
        if found is None:
            try:
                connection.execute(f'CREATE DATABASE {TEST_DATABASE} LOCALE "C" TEMPLATE template0 ENCODING UTF8')
            except psycopg.errors.DuplicateDatabase:
                pass


@contextmanager
def postgresql_database() -> Iterator[str]:
    """Yield the URL of a new, empty schema in the test database; drop it afterwards."""
    import psycopg

    url = server_url()
    _ensure_test_database(url)
    schema = "test_" + secrets.token_hex(6)
    admin = _database_url(url, TEST_DATABASE)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _database_url(url, TEST_DATABASE, f"-c search_path={schema}")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def database_setting(backend: str, sqlite_name: str = "sxpt.sqlite3") -> Iterator[str]:
    """Yield a ``DATABASE`` setting for ``backend``: a SQLite file name, or a fresh PostgreSQL schema's URL."""
    if backend == "sqlite":
        yield sqlite_name
        return
    with postgresql_database() as url:
        yield url


def run_sql(app: Any, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    """Run one statement (``?`` placeholders) on the app's database, outside the app; return its rows.

    Tests use it to look under the API: to count rows, or to set a state the way a
    process other than the server would.
    """
    from sxpt_server.store import open_store

    store = open_store(app)
    try:
        cursor = store._execute(sql, parameters)  # type: ignore[attr-defined]
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        store.close()
