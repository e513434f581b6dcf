"""Flask-Limiter on the login and SMS routes."""

from __future__ import annotations

from pathlib import Path

from sxpt_server import create_app
from tests.server.support import Clock


def test_login_route_rate_limited(tmp_path: Path) -> None:
    """Past the configured limit the login route returns 429 with a problem document."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": Clock(),
                      "RATELIMIT_LOGIN": "3 per minute"})
    app.test_cli_runner().invoke(args=["init-db"])
    client = app.test_client()
    body = {"account": "sxpt000000001", "password": "Wrong-pass-99", "code": "123456"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(4)]
    limited = client.post("/api/v1/auth/login", json=body)
    assert statuses == [401, 401, 401, 429]
    assert limited.get_json()["code"] == "SXPT-RATE-LIMITED"
    assert limited.get_json()["detail"] == "请求过于频繁，请稍后再试。"
    assert "Retry-After" in limited.headers


def test_per_account_limit(tmp_path: Path) -> None:
    """The per-account limit applies even when requests come from several addresses."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": Clock(),
                      "RATELIMIT_SEND": "100 per minute", "RATELIMIT_PER_ACCOUNT": "2 per hour"})
    app.test_cli_runner().invoke(args=["init-db"])
    body = {"account": "sxpt000000001", "password": "Wrong-pass-99"}
    statuses = [
        app.test_client().post("/api/v1/auth/code", json=body, environ_base={"REMOTE_ADDR": f"10.0.0.{index}"})
        .status_code
        for index in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_limiter_can_be_disabled(tmp_path: Path) -> None:
    """RATELIMIT_ENABLED = False turns the limits off."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": Clock(),
                      "RATELIMIT_ENABLED": False, "RATELIMIT_LOGIN": "1 per minute"})
    app.test_cli_runner().invoke(args=["init-db"])
    client = app.test_client()
    body = {"account": "sxpt000000001", "password": "Wrong-pass-99", "code": "123456"}
    statuses = [client.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
