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
    assert limited.get_json()["detail"].startswith("请求过于频繁，请 ")
    assert "Retry-After" in limited.headers


def test_rate_limited_response_says_wait(tmp_path: Path) -> None:
    """The 429 document gives retry_after and the wait in Chinese, and the refusal is audited."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": Clock(),
                      "RATELIMIT_LOGIN": "1 per minute"})
    app.test_cli_runner().invoke(args=["init-db"])
    client = app.test_client()
    body = {"account": "sxpt000000001", "password": "Wrong-pass-99", "code": "123456"}
    first = client.post("/api/v1/auth/login", json=body)
    limited = client.post("/api/v1/auth/login", json=body)
    document = limited.get_json()
    assert limited.status_code == 429
    assert 1 <= document["retry_after"] <= 60
    assert document["detail"] in (f"请求过于频繁，请 {document['retry_after']} 秒后再试。", "请求过于频繁，请 1 分钟后再试。")
    assert limited.headers["Retry-After"] == str(document["retry_after"])
    assert limited.headers["X-RateLimit-Limit"] == "1"
    assert "Retry-After" not in first.headers
    assert "X-RateLimit-Limit" not in first.headers
    with app.app_context():
        from sxpt_server.store import get_store
        entries = [entry for entry in get_store().iter_audit() if entry.event == "rate_limited"]
    assert len(entries) == 1
    assert "123456" not in repr(entries[0])


def test_malformed_requests_not_counted_per_address(tmp_path: Path) -> None:
    """Requests rejected for their form (415, 422) do not use up the per-address limit."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": Clock(),
                      "RATELIMIT_LOGIN": "2 per minute"})
    app.test_cli_runner().invoke(args=["init-db"])
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/login", json={"password": "x"}).status_code for _ in range(3)]
    statuses += [client.post("/api/v1/auth/login", data="x", content_type="text/plain").status_code for _ in range(3)]
    assert statuses == [422, 422, 422, 415, 415, 415]


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
