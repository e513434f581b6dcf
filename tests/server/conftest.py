"""Fixtures of the server tests: the app on a temporary instance folder, its client and CLI runner.

The app's database is a SQLite file, or, in modules that set ``BOTH_BACKENDS = True``,
also a PostgreSQL schema (see ``tests/server/backends.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from sxpt_server import create_app
from sxpt_server.store import close_pool
from tests.server.backends import BACKENDS, database_setting
from tests.server.support import Clock, World, build_world


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and getattr(metafunc.module, "BOTH_BACKENDS", False):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database kind of the test: "sqlite", or "postgresql" in modules run on both."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database(backend: str) -> Iterator[str]:
    """The app's DATABASE setting: a file in the instance folder, or a new PostgreSQL schema."""
    with database_setting(backend) as setting:
        yield setting


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance: Path, clock: Clock, database: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "NOW": clock, "RATELIMIT_ENABLED": False,
                      "DATABASE": database})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    yield app
    close_pool(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def world(app: Flask, clock: Clock, runner: FlaskCliRunner) -> World:
    return build_world(app, clock, runner)
