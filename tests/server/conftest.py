"""Fixtures of the server tests: the app on a temporary instance folder, its client and CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from sxpt_server import create_app
from tests.server.support import Clock, World, build_world


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def app(instance: Path, clock: Clock) -> Flask:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "NOW": clock, "RATELIMIT_ENABLED": False})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def world(app: Flask, clock: Clock, runner: FlaskCliRunner) -> World:
    return build_world(app, clock, runner)
