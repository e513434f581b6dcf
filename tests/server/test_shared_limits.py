"""Rate limits and sessions kept in the database hold across server processes, on both databases.

Two applications on one database stand for two server processes (two gunicorn workers,
or two machines in front of one PostgreSQL database). Counters and sessions that one writes, the
other reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sxpt_server import create_app
from sxpt_server.store import close_pool, open_store
from tests.server.support import Clock, World, build_world

BOTH_BACKENDS = True
WRONG_LOGIN = {"account": "sxpt000000001", "password": "Wrong-pass-99", "code": "123456"}


@pytest.fixture
def shared_database(database: str, tmp_path: Path) -> str:
    """The database setting, with a SQLite file given by absolute path so that both apps open the same file."""
    return database if "://" in database else str(tmp_path / "shared.sqlite3")


def make_app(folder: Path, database: str, **settings: object) -> Flask:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "NOW": Clock(), "DATABASE": database,
                      **settings})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def two_apps(shared_database: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two processes with a low login limit."""
    first = make_app(tmp_path / "first", shared_database, RATELIMIT_LOGIN="3 per minute")
    second = make_app(tmp_path / "second", shared_database, RATELIMIT_LOGIN="3 per minute")
    yield first, second
    close_pool(first)
    close_pool(second)


@pytest.fixture
def two_unlimited_apps(shared_database: str, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two processes without rate limits, for tests that log many accounts in."""
    first = make_app(tmp_path / "first", shared_database, RATELIMIT_ENABLED=False)
    second = make_app(tmp_path / "second", shared_database, RATELIMIT_ENABLED=False)
    yield first, second
    close_pool(first)
    close_pool(second)


def test_login_limit_counts_across_processes(two_apps: tuple[Flask, Flask]) -> None:
    """Failed logins sent to two processes count against one limit: the fourth is refused."""
    first, second = (app.test_client() for app in two_apps)
    statuses = [first.post("/api/v1/auth/login", json=WRONG_LOGIN).status_code for _ in range(2)]
    statuses += [second.post("/api/v1/auth/login", json=WRONG_LOGIN).status_code for _ in range(2)]
    assert statuses == [401, 401, 401, 429]
    assert first.post("/api/v1/auth/login", json=WRONG_LOGIN).status_code == 429


def test_session_valid_in_other_process(two_unlimited_apps: tuple[Flask, Flask]) -> None:
    """A session created by one process is accepted by the other, and a logout in one ends it in both."""
    first_app, second_app = two_unlimited_apps
    world: World = build_world(first_app, first_app.config["NOW"], first_app.test_cli_runner())
    client = world.client("school")
    cookie = client.get_cookie(first_app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    other = second_app.test_client()
    other.set_cookie(cookie.key, cookie.value)
    assert other.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert other.get("/api/v1/me").status_code == 401


def test_counters_expire_and_clear(app: Flask) -> None:
    """A counter past its expiry starts again; clearing one key leaves the others."""
    store = open_store(app)
    try:
        counts = [store.hit_rate_limit("a", amount=1, expiry_seconds=60, now=1000.0) for _ in range(3)]
        store.hit_rate_limit("b", amount=2, expiry_seconds=60, now=1000.0)
        expiry = store.rate_limit_expiry("a", now=1001.0)
        after_expiry = store.hit_rate_limit("a", amount=1, expiry_seconds=60, now=1060.0)
        assert counts == [1, 2, 3]
        assert expiry == 1060.0
        assert after_expiry == 1
        assert store.rate_limit_count("a", now=1061.0) == 1
        assert store.rate_limit_count("a", now=1200.0) == 0
        store.clear_rate_limit("a")
        assert store.rate_limit_expiry("a", now=1061.0) is None
        assert store.rate_limit_count("b", now=1001.0) == 2
        assert store.purge_rate_limits(now=2000.0) == 1
        assert store.clear_rate_limits() == 0
    finally:
        store.close()
