"""The application factory, settings, problem details and the OpenAPI document."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sxpt_server import create_app
from sxpt_server.problems import PROBLEM_TYPES


def test_secret_key_generated(tmp_path: Path) -> None:
    """The first start writes a private secret key to the instance folder, and later starts reuse it."""
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert len(first.config["SECRET_KEY"]) == 64
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_instance_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SXPT_INSTANCE_PATH chooses the instance folder."""
    monkeypatch.setenv("SXPT_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app()
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "secret_key").exists()


def test_settings_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SXPT_* variables override the defaults, parsed as JSON where they can be."""
    monkeypatch.setenv("SXPT_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("SXPT_RATELIMIT_LOGIN", "3 per minute")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["RATELIMIT_LOGIN"] == "3 per minute"


def test_settings_from_instance_file(tmp_path: Path) -> None:
    """config.py in the instance folder sets values."""
    (tmp_path / "config.py").write_text('API_KEY_MAX_DAYS = 90\n', encoding="utf-8")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["API_KEY_MAX_DAYS"] == 90


def test_database_in_wal_mode(app: Flask) -> None:
    """The database file runs in WAL mode."""
    connection = sqlite3.connect(Path(app.instance_path) / "sxpt.sqlite3")
    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    connection.close()
    assert mode == "wal"


def test_anonymous_me(client: FlaskClient) -> None:
    """An anonymous /api/v1/me gets a 401 problem document in Chinese."""
    response = client.get("/api/v1/me")
    problem = response.get_json()
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert problem["type"] == "/api/v1/problems/SXPT-AUTH-REQUIRED"
    assert problem["title"] == "需要登录"
    assert problem["status"] == 401
    assert problem["detail"] == "请先登录。"
    assert problem["code"] == "SXPT-AUTH-REQUIRED"
    assert problem["request_id"] == response.headers["X-Request-ID"]


def test_chinese_unescaped(client: FlaskClient) -> None:
    """Chinese text is sent as UTF-8, not as \\u escapes."""
    body = client.get("/api/v1/me").get_data()
    assert "请先登录".encode() in body
    assert b"\\u" not in body


def test_not_found_problem(client: FlaskClient) -> None:
    """An unknown URL gets a 404 problem document."""
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["code"] == "SXPT-NOT-FOUND"


def test_method_not_allowed_problem(client: FlaskClient) -> None:
    """A wrong method gets a 405 problem document with an Allow header."""
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    assert response.get_json()["code"] == "SXPT-METHOD-NOT-ALLOWED"
    assert "GET" in response.headers["Allow"]


def test_form_body_rejected(client: FlaskClient) -> None:
    """A form-encoded body is rejected, which also keeps cross-site forms out."""
    response = client.post("/api/v1/auth/code", data={"account": "x", "password": "y"})
    assert response.status_code == 415
    assert response.get_json()["code"] == "SXPT-UNSUPPORTED-MEDIA-TYPE"


def test_malformed_json(client: FlaskClient) -> None:
    """A body that is not JSON gets a 400 problem document."""
    response = client.post("/api/v1/auth/code", data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "SXPT-BAD-REQUEST"


def test_missing_member(client: FlaskClient) -> None:
    """A missing member gets a 422 with the field named."""
    response = client.post("/api/v1/auth/activate", json={"code": "123456"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "account"


def test_unexpected_error_problem(app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    """An unexpected exception gives a 500 problem and is logged with the request id."""

    def broken() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/api/v1/broken", view_func=broken)
    response = client.get("/api/v1/broken")
    request_id = response.get_json()["request_id"]
    assert response.status_code == 500
    assert response.get_json()["code"] == "SXPT-INTERNAL"
    assert any(request_id in record.getMessage() for record in caplog.records)


def test_request_id_passed_through(client: FlaskClient) -> None:
    """A well-formed X-Request-ID from a proxy is kept."""
    response = client.get("/api/v1/health", headers={"X-Request-ID": "proxy-1234abcd"})
    assert response.headers["X-Request-ID"] == "proxy-1234abcd"


def test_no_store_header(client: FlaskClient) -> None:
    """API responses forbid caching."""
    assert client.get("/api/v1/health").headers["Cache-Control"] == "no-store"


def test_problem_type_described(client: FlaskClient) -> None:
    """A problem's type URI resolves to its description."""
    description = client.get("/api/v1/problems/SXPT-AUTH-CODE-WRONG").get_json()
    assert description["status"] == 400
    assert description["title"] == "验证码错误"


def test_every_problem_code_shaped() -> None:
    """Every problem code is an SXPT- code with a Chinese title."""
    for code, problem_type in PROBLEM_TYPES.items():
        assert re.fullmatch(r"SXPT(-[A-Z]+)+", code), code
        assert re.search(r"[\u4e00-\u9fff]", problem_type.title), code


def test_openapi_document(client: FlaskClient) -> None:
    """The OpenAPI document is version 3.1 and describes problem details."""
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert "Problem" in document["components"]["schemas"]


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_covers_every_route(app: Flask, client: FlaskClient) -> None:
    """Every registered /api/v1 route and method appears in the OpenAPI document."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = _openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_openapi_has_no_extra_paths(app: Flask, client: FlaskClient) -> None:
    """The OpenAPI document describes no route that does not exist."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    routes = {_openapi_path(rule.rule) for rule in app.url_map.iter_rules()}
    assert sorted(set(paths) - routes) == []


def test_openapi_is_valid(client: FlaskClient) -> None:
    """The document validates against the OpenAPI 3.1 schema, when the validator is installed."""
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/api/v1/openapi.json").get_json())
