"""Unit tests of the client SDK and its CLI commands over httpx.MockTransport (no server)."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from sxpt_core.cli import main
from sxpt_core.client import AsyncClient, Client, RetryPolicy, errors
from sxpt_core.client import _http as client_http
from sxpt_core.client.environment import api_key_from_environment, read_api_key_file
from sxpt_core.client.models import IssuedApiKey, StoredRecord, Unit, structure
from sxpt_core.codes.uscc import calc_check_character
from sxpt_core.commands import upload as upload_command
from sxpt_core.errors import ConfigError, OutputError, SxptError
from sxpt_core.models import Record
from sxpt_core.models import converter as record_converter
from tests.workbooks import RECORD_HEADERS, sample_record, write_csv

BASE = "http://sxpt.test"
API_KEY = "sxpt_k3y9prefix_S3CRETpart0123456789abcdef"
COOKIE = "c00kie-VALUE-9f8e7d6c5b4a"
PASSWORD = "Sxpt-2025-秋季"
SMS_CODE = "482915"
PHONE = "13912345678"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeServer:
    """A MockTransport handler that returns responses from a queue per (method, path) and records the requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Handler | httpx.Response | Exception]] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, *answers: Handler | httpx.Response | Exception) -> None:
        self.routes.setdefault((method, path), []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        assert queue, f"unexpected request {request.method} {request.url}"
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.method == method and request.url.path == path]


def problem(code: str, status: int, detail: str = "出错了。", **extra: Any) -> httpx.Response:
    """Return a problem document response as the server sends it."""
    headers = {"X-Request-ID": "req0123456789", **extra.pop("headers", {})}
    document = {"type": f"/api/v1/problems/{code}", "title": "标题", "status": status, "detail": detail,
                "detail_en": "Something failed.", "code": code, "request_id": "req0123456789", **extra}
    return httpx.Response(status, headers={"Content-Type": "application/problem+json", **headers},
                          content=json.dumps(document).encode())


BATCH = {
    "id": 7, "kind": "records", "status": "stored", "school": "4133010001", "department": "机械工程学院",
    "actor": "key:ab12cd34", "filename": "实习数据.xlsx", "created_at": "2025-10-15T01:00:00+00:00", "rows": 3,
    "valid_rows": 2, "counts": {"error": 1, "warning": 2}, "created": 2, "updated": 0, "unchanged": 0, "not_stored": 1,
    "links": {"report": "/api/v1/batches/7/report", "annotated": "/api/v1/batches/7/annotated.xlsx",
              "errors_only": "/api/v1/batches/7/errors.xlsx"},
}


def uploaded(status: int = 201, **batch: Any) -> httpx.Response:
    return httpx.Response(status, json={"unchanged": False, "replayed": False, "batch": {**BATCH, **batch}})


def stored(record_id: int, *, state: str = "待校验", updated_at: str = "2025-10-15T01:00:00+00:00",
           issues: list[dict[str, Any]] | None = None, cells: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": record_id, "school": "4133010001", "province": "330000", "department": "机械工程学院",
            "state": state, "version": 1, "cells": cells or {"学号": f"2105{record_id:04d}"},
            "updated_at": updated_at, "issues": issues or []}


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits between attempts instead of sleeping."""
    waited: list[float] = []

    async def async_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(client_http, "_sleep", waited.append)
    monkeypatch.setattr(client_http, "_async_sleep", async_sleep)
    return waited


def make_client(server: FakeServer, **options: Any) -> Client:
    options.setdefault("api_key", API_KEY)
    return Client(BASE, transport=httpx.MockTransport(server), **options)


# --- retries ---


def test_get_retried_after_5xx(server: FakeServer, sleeps: list[float]) -> None:
    """A GET that gets 503 and then 500 is sent again with growing, jittered waits, and then succeeds."""
    server.add("GET", "/api/v1/health", httpx.Response(503), problem("SXPT-INTERNAL", 500),
               httpx.Response(200, json={"status": "ok"}))
    policy = RetryPolicy(attempts=4, backoff=0.5, max_delay=30.0)
    with make_client(server, retry=policy) as client:
        assert client.health() is True
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_retry_after_honoured_on_429(server: FakeServer, sleeps: list[float]) -> None:
    """A 429 with Retry-After: 7 waits exactly 7 seconds before the next attempt."""
    server.add("GET", "/api/v1/me", problem("SXPT-RATE-LIMITED", 429, headers={"Retry-After": "7"}),
               httpx.Response(200, json={"kind": "api_key", "unit": {"level": "school", "school": "4133010001"}}))
    with make_client(server) as client:
        identity = client.me()
    assert identity.kind == "api_key"
    assert sleeps == [7.0]


def test_long_retry_after_raises_at_once(server: FakeServer, sleeps: list[float]) -> None:
    """A Retry-After longer than the policy's limit is not waited for: the 429 is raised with retry_after."""
    server.add("GET", "/api/v1/me", problem("SXPT-RATE-LIMITED", 429, headers={"Retry-After": "3600"}))
    with make_client(server, retry=RetryPolicy(max_retry_after=60)) as client, \
            pytest.raises(errors.RateLimitedError) as raised:
        client.me()
    assert sleeps == []
    assert raised.value.retry_after == 3600.0
    assert len(server.requests) == 1


def test_retries_stop_after_attempts(server: FakeServer, sleeps: list[float]) -> None:
    """After the last attempt the error of the last response is raised."""
    server.add("GET", "/api/v1/me", problem("SXPT-INTERNAL", 500))
    with make_client(server, retry=RetryPolicy(attempts=3)) as client, pytest.raises(errors.InternalServerError):
        client.me()
    assert len(server.requests) == 3
    assert len(sleeps) == 2


def test_upload_without_key_not_retried(server: FakeServer, sleeps: list[float]) -> None:
    """An upload sent without an idempotency key is never sent twice, whatever the status."""
    server.add("POST", "/api/v1/batches", problem("SXPT-INTERNAL", 500), uploaded())
    with make_client(server) as client, pytest.raises(errors.InternalServerError):
        client.upload_records([{"学号": "21050101"}], idempotency_key=False)
    assert len(server.requests) == 1
    assert "Idempotency-Key" not in server.requests[0].headers
    assert sleeps == []


def test_upload_sends_new_key_and_retries(server: FakeServer, sleeps: list[float]) -> None:
    """By default an upload carries a new uuid4 key, the same on every attempt, and is retried after a 502."""
    server.add("POST", "/api/v1/batches", httpx.Response(502), uploaded())
    with make_client(server) as client:
        result = client.upload_records(b"PK\x03\x04 not really a workbook")
        second = client.upload_records(b"a,b\n1,2\n")
    keys = [request.headers["Idempotency-Key"] for request in server.requests]
    assert result.batch.id == 7
    assert second.batch.id == 7
    assert len(keys) == 3
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]
    assert len(keys[0]) == 32
    assert int(keys[0], 16) >= 0
    assert len(sleeps) == 1


def test_upload_explicit_key_and_file(server: FakeServer, sleeps: list[float], tmp_path: Path) -> None:
    """A given key is sent as it is; a file path is sent as multipart field 'file' with its name."""
    path = tmp_path / "实习数据.csv"
    path.write_text("学号\n21050101\n", encoding="utf-8")
    server.add("POST", "/api/v1/batches", uploaded())
    with make_client(server) as client:
        client.upload_records(path, idempotency_key="nightly-20251015")
    request = server.requests[0]
    body = request.read()
    assert request.headers["Idempotency-Key"] == "nightly-20251015"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"' in body
    assert "实习数据.csv".encode() in body
    assert b"21050101" in body


def test_roster_upload_has_no_default_key(server: FakeServer, sleeps: list[float]) -> None:
    """A roster upload sends no idempotency key unless given, so a 503 is not retried."""
    server.add("POST", "/api/v1/roster", httpx.Response(503))
    with make_client(server) as client, pytest.raises(errors.ApiError):
        client.upload_roster(b"a,b\n")
    assert len(server.requests) == 1
    assert "Idempotency-Key" not in server.requests[0].headers


def test_review_not_retried_after_transport_error(server: FakeServer, sleeps: list[float]) -> None:
    """A POST review action that met a connection error is not sent again; TransportError is raised."""
    request_error = httpx.ConnectError("connection reset")
    server.add("POST", "/api/v1/review", request_error)
    with make_client(server) as client, pytest.raises(errors.TransportError) as raised:
        client.approve([1, 2])
    assert len(server.requests) == 1
    assert isinstance(raised.value, SxptError)
    assert "sxpt.test" in raised.value.text("zh")
    assert raised.value.request is not None


def test_get_retried_after_transport_error(server: FakeServer, sleeps: list[float]) -> None:
    """A GET that met a connection error is sent again."""
    server.add("GET", "/api/v1/health", httpx.ConnectError("refused"), httpx.Response(200, json={"status": "ok"}))
    with make_client(server) as client:
        assert client.health()
    assert len(server.requests) == 2
    assert len(sleeps) == 1


def test_timeout_raises_timeout_error(server: FakeServer, sleeps: list[float]) -> None:
    """A read timeout on every attempt ends in RequestTimeoutError, a TransportError."""
    server.add("GET", "/api/v1/me", httpx.ReadTimeout("slow"))
    with make_client(server, retry=RetryPolicy(attempts=2), timeout=0.5) as client, \
            pytest.raises(errors.RequestTimeoutError) as raised:
        client.me()
    assert isinstance(raised.value, errors.TransportError)
    assert "没有在限定时间内响应" in raised.value.text("zh")
    assert len(server.requests) == 2


def test_retry_policy_delays() -> None:
    """Waits double up to max_delay with jitter in their upper half, and stop at the last attempt."""
    policy = RetryPolicy(attempts=6, backoff=1.0, max_delay=4.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0)):
        delay = policy.delay(attempt)
        assert delay is not None
        assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(6) is None
    assert policy.delay(1, retry_after=3.0) == 3.0
    assert policy.delay(1, retry_after=1000.0) is None


# --- errors ---


@pytest.mark.parametrize(("code", "status", "cls", "group"), [
    ("SXPT-AUTH-REQUIRED", 401, errors.AuthRequiredError, errors.AuthenticationError),
    ("SXPT-API-KEY-REVOKED", 401, errors.ApiKeyRevokedError, errors.AuthenticationError),
    ("SXPT-AUTH-CODE-WRONG", 400, errors.CodeWrongError, errors.SmsCodeError),
    ("SXPT-FORBIDDEN", 403, errors.ForbiddenError, errors.PermissionDeniedError),
    ("SXPT-SMS-TOO-SOON", 429, errors.SmsTooSoonError, errors.TooManyRequestsError),
    ("SXPT-VALIDATION", 422, errors.RequestValidationError, errors.InvalidRequestError),
    ("SXPT-INPUT-FORMAT", 422, errors.UnsupportedFileFormatError, errors.FileRejectedError),
    ("SXPT-NOT-FOUND", 404, errors.NotFoundError, errors.ApiError),
    ("SXPT-REVIEW-STATE", 409, errors.ReviewStateError, errors.ConflictError),
    ("SXPT-SMS-FAILED", 502, errors.SmsFailedError, errors.ServerError),
    ("SXPT-BUSY", 503, errors.ServerBusyError, errors.ServerError),
])
def test_problem_code_mapped_to_class(server: FakeServer, sleeps: list[float], code: str, status: int,
                                      cls: type[errors.ApiError], group: type[errors.ApiError]) -> None:
    """Each problem code raises its class, inside its group, with the response's facts."""
    server.add("POST", "/api/v1/review", problem(code, status, detail="中文说明。", errors=[{"field": "records"}]))
    with make_client(server) as client, pytest.raises(cls) as raised:
        client.approve([1])
    error = raised.value
    assert isinstance(error, group)
    assert isinstance(error, SxptError)
    assert error.code == code
    assert error.status == status
    assert error.detail == "中文说明。"
    assert error.detail_en == "Something failed."
    assert error.text("en") == "Something failed."
    assert error.request_id == "req0123456789"
    assert error.request is not None
    assert error.request.url.path == "/api/v1/review"
    assert error.response is not None
    assert error.response.status_code == status
    assert error.problem["errors"] == [{"field": "records"}]


def test_unknown_code_falls_back_to_base(server: FakeServer) -> None:
    """A code the SDK does not know raises ApiError itself, keeping the code."""
    server.add("POST", "/api/v1/review", problem("SXPT-SOMETHING-NEW", 418))
    with make_client(server) as client, pytest.raises(errors.ApiError) as raised:
        client.approve([1])
    assert type(raised.value) is errors.ApiError
    assert raised.value.code == "SXPT-SOMETHING-NEW"


def test_non_problem_error_response(server: FakeServer) -> None:
    """An HTML error page of a proxy is an ApiError with a Chinese sentence naming the status."""
    server.add("POST", "/api/v1/review", httpx.Response(413, html="<h1>Request Entity Too Large</h1>"))
    with make_client(server) as client, pytest.raises(errors.ApiError) as raised:
        client.approve([1])
    assert type(raised.value) is errors.ApiError
    assert raised.value.status == 413
    assert "HTTP 413" in raised.value.text("zh")


def test_success_without_json_is_format_error(server: FakeServer) -> None:
    """A 200 whose body is not the documented JSON raises ResponseFormatError."""
    server.add("GET", "/api/v1/me", httpx.Response(200, text="<html>login portal</html>"))
    with make_client(server) as client, pytest.raises(errors.ResponseFormatError):
        client.me()


# --- logging ---


def test_one_info_line_per_request_without_secrets(server: FakeServer, sleeps: list[float],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Each request logs one INFO line (method, path, status, time, id); no key, cookie, password, code or phone."""
    def login_answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"account": {"name": "sxpt4133010001001", "unit": {"level": "school"}}},
                              headers={"Set-Cookie": f"sxpt_session={COOKIE}; HttpOnly; Path=/",
                                       "X-Request-ID": "req-login-0001"})

    server.add("POST", "/api/v1/auth/code", httpx.Response(200, json={"sent": True, "phone": "139****5678"}))
    server.add("POST", "/api/v1/auth/login", login_answer)
    server.add("GET", "/api/v1/records", httpx.Response(200, json={"records": [], "next_after": None}))
    server.add("POST", "/api/v1/me/phone/code", httpx.Response(200, json={"sent": True}))
    caplog.set_level(logging.DEBUG)

    with Client(BASE, transport=httpx.MockTransport(server)) as client:
        client.login("sxpt4133010001001", PASSWORD, lambda name: SMS_CODE)
        list(client.records(student_id="2105010123", state="已退回"))
        client.send_phone_code(PHONE)
    with make_client(server) as keyed:
        list(keyed.records())

    lines = [record for record in caplog.records if record.name == "sxpt_core.client"]
    assert len(lines) == len(server.requests) == 5
    assert all(record.levelno == logging.INFO for record in lines)
    assert lines[1].getMessage().startswith("POST /api/v1/auth/login 200 ")
    assert lines[1].getMessage().endswith("(request req-login-0001)")
    assert lines[2].getMessage().startswith("GET /api/v1/records 200 ")
    everything = caplog.text + "".join(record.getMessage() for record in caplog.records)
    for secret in (API_KEY, COOKIE, PASSWORD, SMS_CODE, PHONE):
        assert secret not in everything
    # httpx's own INFO line has the whole URL, so the docs tell applications to keep
    # the httpx logger at WARNING; the SDK's lines leave the query string out.
    assert all("2105010123" not in record.getMessage() for record in lines)
    assert server.requests[2].headers["Cookie"] == f"sxpt_session={COOKIE}"


def test_retry_logged_as_warning(server: FakeServer, sleeps: list[float], caplog: pytest.LogCaptureFixture) -> None:
    """A retry adds one WARNING line saying why and when; each attempt has its INFO line."""
    server.add("GET", "/api/v1/health", httpx.Response(503), httpx.Response(200, json={"status": "ok"}))
    caplog.set_level(logging.INFO, logger="sxpt_core.client")
    with make_client(server) as client:
        client.health()
    levels = [record.levelname for record in caplog.records if record.name == "sxpt_core.client"]
    assert levels == ["INFO", "WARNING", "INFO"]
    assert "after HTTP 503" in caplog.records[1].getMessage()


def test_secrets_hidden_in_reprs() -> None:
    """Neither a client nor an issued key shows the key in repr()."""
    key = IssuedApiKey(prefix="ab12cd34", label="教务", scope=Unit(level="school"), key=API_KEY)
    with Client(BASE, api_key=API_KEY, transport=httpx.MockTransport(FakeServer())) as client:
        assert API_KEY not in repr(client)
    assert API_KEY not in repr(key)
    assert key.key == API_KEY


def test_api_key_sent_as_bearer(server: FakeServer) -> None:
    """The API key goes in the Authorization header; a malformed key is rejected without echoing it."""
    server.add("GET", "/api/v1/me", httpx.Response(200, json={"kind": "api_key", "unit": {"level": "school"}}))
    with make_client(server) as client:
        client.me()
    assert server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"
    with pytest.raises(ConfigError) as raised:
        Client(BASE, api_key="sxpt_abc\r\nX-Injected: 1")
    assert "X-Injected" not in raised.value.text("zh")


# --- pagination ---


def test_records_follow_next_after(server: FakeServer) -> None:
    """records() requests the next page with after=next_after until next_after is null."""
    server.add("GET", "/api/v1/records",
               httpx.Response(200, json={"records": [stored(1), stored(2)], "next_after": 2}),
               httpx.Response(200, json={"records": [stored(3)], "next_after": None}))
    with make_client(server) as client:
        ids = [item.id for item in client.records(state=["已退回", "校验不通过"], department="机械工程学院", page_size=2)]
    assert ids == [1, 2, 3]
    first, second = (request.url.params for request in server.requests)
    assert first.get_list("state") == ["已退回", "校验不通过"]
    assert first["department"] == "机械工程学院"
    assert first["limit"] == "2"
    assert "after" not in first
    assert second["after"] == "2"


def test_issues_iterate_over_records(server: FakeServer) -> None:
    """issues() yields (record, issue) pairs across pages, optionally of one severity."""
    error = {"code": "SXPT-E-USCC-CHECKSUM", "severity": "error", "column": "O", "field": "实习单位统一社会信用代码",
             "message": "校验位错误"}
    warning = {"code": "SXPT-W-CAL-LATE", "severity": "warning", "column": "AB", "field": "实习结束时间"}
    server.add("GET", "/api/v1/records",
               httpx.Response(200, json={"records": [stored(1, issues=[error, warning])], "next_after": 1}),
               httpx.Response(200, json={"records": [stored(2, issues=[warning])], "next_after": None}))
    with make_client(server) as client:
        found = [(item.id, issue.code) for item, issue in client.issues(severity="error")]
    assert found == [(1, "SXPT-E-USCC-CHECKSUM")]


def test_audit_and_batches_paging(server: FakeServer) -> None:
    """audit() follows next_before; batches() requests the batches before the last one of a full page."""
    entry = {"id": 9, "at": "2025-10-15T01:00:00+00:00", "event": "login"}
    server.add("GET", "/api/v1/audit",
               httpx.Response(200, json={"entries": [entry], "next_before": 9}),
               httpx.Response(200, json={"entries": [{**entry, "id": 4}], "next_before": None}))
    server.add("GET", "/api/v1/batches",
               httpx.Response(200, json={"batches": [{**BATCH, "id": 8}, {**BATCH, "id": 7}]}),
               httpx.Response(200, json={"batches": [{**BATCH, "id": 3}]}))
    with Client(BASE, transport=httpx.MockTransport(server)) as client:
        assert [item.id for item in client.audit()] == [9, 4]
        assert [item.id for item in client.batches(page_size=2)] == [8, 7, 3]
    assert server.sent("GET", "/api/v1/audit")[1].url.params["before"] == "9"
    assert server.sent("GET", "/api/v1/batches")[1].url.params["before"] == "7"


# --- login ---


def test_login_with_code_callback(server: FakeServer) -> None:
    """login() sends the password, calls the callback with the account name, and keeps the session cookie."""
    asked: list[str] = []

    def answer(name: str) -> str:
        asked.append(name)
        return f" {SMS_CODE} "

    server.add("POST", "/api/v1/auth/code", httpx.Response(200, json={"sent": True, "phone": "139****5678"}))
    server.add("POST", "/api/v1/auth/login", httpx.Response(
        200, json={"account": {"name": "sxpt4133010001001", "unit": {"level": "school", "school": "4133010001"}}},
        headers={"Set-Cookie": f"sxpt_session={COOKIE}; HttpOnly; Path=/"}))
    server.add("GET", "/api/v1/me", httpx.Response(200, json={"kind": "account", "unit": {"level": "school"}}))
    with Client(BASE, transport=httpx.MockTransport(server)) as client:
        account = client.login("sxpt4133010001001", PASSWORD, answer)
        client.me()
    assert asked == ["sxpt4133010001001"]
    assert account.unit.school == "4133010001"
    code_request, login_request, me_request = server.requests
    assert json.loads(code_request.content) == {"account": "sxpt4133010001001", "password": PASSWORD}
    assert json.loads(login_request.content)["code"] == SMS_CODE
    assert me_request.headers["Cookie"] == f"sxpt_session={COOKIE}"
    assert "Authorization" not in me_request.headers


def test_login_wrong_code_raises(server: FakeServer) -> None:
    """A wrong code raises CodeWrongError with the server's sentence."""
    server.add("POST", "/api/v1/auth/code", httpx.Response(200, json={"sent": True}))
    server.add("POST", "/api/v1/auth/login", problem("SXPT-AUTH-CODE-WRONG", 400, detail="验证码错误，还可以再试 4 次。"))
    with Client(BASE, transport=httpx.MockTransport(server)) as client, \
            pytest.raises(errors.CodeWrongError, match="4 次"):
        client.login("sxpt4133010001001", PASSWORD, lambda name: "000000")


def test_login_rejected_with_api_key(server: FakeServer) -> None:
    """A client with an API key does not log in, because the key would win over the session."""
    with make_client(server) as client, pytest.raises(ValueError, match="API key"):
        client.login("sxpt4133010001001", PASSWORD, lambda name: SMS_CODE)
    assert server.requests == []


# --- models, waiting, downloads ---


def test_stored_record_cells_make_record() -> None:
    """A stored record's cells structure into the Record that the core makes, unless they hold an error."""
    cells = dict(zip(RECORD_HEADERS, sample_record(3), strict=True))
    expected = record_converter.structure(cells, Record)
    item = structure(stored(5, cells=cells), StoredRecord)
    failed = structure(stored(6, cells=cells, issues=[{"code": "SXPT-E-X", "severity": "error"}]), StoredRecord)
    broken = structure(stored(7, cells={**cells, "实习开始时间": "2024-13-01"}), StoredRecord)
    assert item.record == expected
    assert failed.record is None
    assert broken.record is None
    assert item.updated_at == datetime.datetime(2025, 10, 15, 1, 0, tzinfo=datetime.timezone.utc)


def test_upload_of_record_objects(server: FakeServer) -> None:
    """Record objects are sent as cells by header, with 是/否 and ISO dates, and without blank optional cells."""
    cells = dict(zip(RECORD_HEADERS, sample_record(4), strict=True))
    record = record_converter.structure({**cells, "实习岗位": None}, Record)
    server.add("POST", "/api/v1/batches", uploaded())
    with make_client(server) as client:
        client.upload_records([record, {"学号": "21050199"}])
    sent = json.loads(server.requests[0].content)["records"]
    assert sent[0]["是否有实习责任险"] == "是"
    assert sent[0]["实习开始时间"] == "2024-07-01"
    assert sent[0]["学分"] == "2"
    assert "实习岗位" not in sent[0]
    assert sent[1] == {"学号": "21050199"}


def test_wait_for_checks_polls_until_done(server: FakeServer, sleeps: list[float]) -> None:
    """wait_for_checks polls the 待校验 records of the batch's department written since the batch, until none."""
    before = stored(1, updated_at="2025-10-14T09:00:00+00:00")
    server.add("GET", "/api/v1/batches/7", httpx.Response(200, json=BATCH))
    server.add("GET", "/api/v1/records",
               httpx.Response(200, json={"records": [before, stored(2)], "next_after": None}),
               httpx.Response(200, json={"records": [before], "next_after": None}))
    with make_client(server) as client:
        client.wait_for_checks(7, timeout=60, poll=0.5)
    polls = server.sent("GET", "/api/v1/records")
    assert len(polls) == 2
    assert polls[0].url.params["state"] == "待校验"
    assert polls[0].url.params["department"] == "机械工程学院"
    assert sleeps == [0.5]


def test_wait_for_checks_times_out(server: FakeServer, sleeps: list[float]) -> None:
    """Records still 待校验 at the deadline raise WaitTimeoutError listing their ids."""
    server.add("GET", "/api/v1/records", httpx.Response(200, json={"records": [stored(4), stored(5)],
                                                                   "next_after": None}))
    with make_client(server) as client, pytest.raises(errors.WaitTimeoutError) as raised:
        client.wait_for_checks([5, 6], timeout=0, poll=1)
    assert raised.value.pending == (5,)
    assert "待校验" in raised.value.text("zh")


def test_download_written_atomically(server: FakeServer, tmp_path: Path) -> None:
    """An export is written to the path with the server's file name reported; a failed one leaves no file."""
    disposition = "attachment; filename=\"records.csv\"; filename*=UTF-8''%E5%AE%9E%E4%B9%A0%E6%95%B0%E6%8D%AE.csv"
    server.add("GET", "/api/v1/export",
               httpx.Response(200, content=b"\xef\xbb\xbf\xe5\xad\xa6\xe5\x8f\xb7\r\n",
                              headers={"Content-Disposition": disposition, "Content-Type": "text/csv"}),
               problem("SXPT-FORBIDDEN", 403))
    target = tmp_path / "out.csv"
    forbidden = tmp_path / "forbidden.csv"
    with make_client(server) as client:
        written = client.export(target, file_format="csv", month_from="2025-09", versions="current")
        with pytest.raises(errors.ForbiddenError):
            client.export(forbidden, file_format="csv")
    assert written.path == target
    assert written.filename == "实习数据.csv"
    assert written.size == target.stat().st_size == 11
    assert server.requests[0].url.params["from"] == "2025-09"
    assert not forbidden.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.csv"]


def test_download_to_missing_folder(server: FakeServer, tmp_path: Path) -> None:
    """A download into a folder that does not exist raises OutputError naming the path."""
    server.add("GET", "/api/v1/export", httpx.Response(200, content=b"x"))
    with make_client(server) as client, pytest.raises(OutputError, match="missing"):
        client.export(tmp_path / "missing" / "out.xlsx")


# --- async client ---


def test_async_client_retries_pages_and_logs_in(server: FakeServer, sleeps: list[float]) -> None:
    """The async client retries, pages, takes an async code callback and raises the same errors."""
    async def code_of(name: str) -> str:
        return SMS_CODE

    server.add("POST", "/api/v1/auth/code", httpx.Response(200, json={"sent": True}))
    server.add("POST", "/api/v1/auth/login", httpx.Response(
        200, json={"account": {"name": "sxpt4133010001001", "unit": {"level": "school"}}},
        headers={"Set-Cookie": f"sxpt_session={COOKIE}; Path=/"}))
    server.add("GET", "/api/v1/records", httpx.Response(503),
               httpx.Response(200, json={"records": [stored(1)], "next_after": 1}),
               httpx.Response(200, json={"records": [stored(2)], "next_after": None}))
    server.add("GET", "/api/v1/records/9", problem("SXPT-NOT-FOUND", 404))

    async def scenario() -> list[int]:
        async with AsyncClient(BASE, transport=httpx.MockTransport(server)) as client:
            await client.login("sxpt4133010001001", PASSWORD, code_of)
            ids = [item.id async for item in client.records()]
            with pytest.raises(errors.NotFoundError):
                await client.record(9)
            return ids

    assert asyncio.run(scenario()) == [1, 2]
    assert len(sleeps) == 1
    assert server.sent("GET", "/api/v1/records")[1].headers["Cookie"] == f"sxpt_session={COOKIE}"


# --- API key from the environment ---


def test_key_file_must_be_private(tmp_path: Path) -> None:
    """A key file readable by others is rejected without showing the key; a 0600 file is read."""
    path = tmp_path / "api-key"
    path.write_text(API_KEY + "\n", encoding="ascii")
    os.chmod(path, 0o644)
    if os.name == "posix":
        with pytest.raises(ConfigError, match="chmod 600") as raised:
            read_api_key_file(path)
        assert API_KEY not in raised.value.text("zh")
    os.chmod(path, 0o600)
    assert read_api_key_file(path) == API_KEY
    assert api_key_from_environment({"SXPT_API_KEY_FILE": str(path)}) == API_KEY
    assert api_key_from_environment({"SXPT_API_KEY": f" {API_KEY} "}) == API_KEY
    assert api_key_from_environment({}) is None


# --- the CLI commands ---


@pytest.fixture
def cli_server(server: FakeServer, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> Iterator[FakeServer]:
    """Point the CLI's clients at the fake server, with an API key in the environment."""
    def client_with_transport(*args: Any, **options: Any) -> Client:
        return Client(*args, transport=httpx.MockTransport(server), **options)

    monkeypatch.setattr(upload_command, "Client", client_with_transport)
    monkeypatch.setenv("SXPT_API_KEY", API_KEY)
    monkeypatch.delenv("SXPT_API_KEY_FILE", raising=False)
    monkeypatch.setenv("SXPT_SERVER_URL", BASE)
    yield server


def clean_csv(tmp_path: Path) -> Path:
    """Write a CSV file whose one row has no errors (a late report is a warning only)."""
    unit_code = "91330100MA2B3C401" + calc_check_character("91330100MA2B3C401")
    rows = [list(RECORD_HEADERS), sample_record(1, **{"实习单位统一社会信用代码": unit_code})]
    return write_csv(tmp_path / "实习数据.csv", rows)


def test_cli_upload_prints_batch(cli_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sxpt upload checks locally, uploads and prints the batch in Chinese with links; errors exit 1."""
    monkeypatch.chdir(tmp_path)
    path = clean_csv(tmp_path)
    cli_server.add("POST", "/api/v1/batches", uploaded())
    result = CliRunner().invoke(main, ["upload", str(path)])
    assert result.exit_code == 1, result.output
    assert "本地校验" in result.stderr
    assert "第 7 批" in result.stdout
    assert "新增 2 条" in result.stdout
    assert f"{BASE}/api/v1/batches/7/annotated.xlsx" in result.stdout
    assert cli_server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_cli_upload_english_clean(cli_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--lang en prints the summary in English; a batch without errors exits 0."""
    monkeypatch.chdir(tmp_path)
    cli_server.add("POST", "/api/v1/batches", uploaded(counts={"error": 0, "warning": 0}, not_stored=0))
    result = CliRunner().invoke(main, ["upload", str(clean_csv(tmp_path)), "--lang", "en", "--no-local-check"])
    assert result.exit_code == 0, result.output
    assert "Uploaded 实习数据.xlsx: batch 7" in result.stdout
    assert "2 created" in result.stdout


def test_cli_upload_local_errors_stop(cli_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with errors stops before any request, with exit code 1."""
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "bad.csv", [list(RECORD_HEADERS), sample_record(1, **{"学分": "两周"})])
    result = CliRunner().invoke(main, ["upload", str(path)])
    assert result.exit_code == 1
    assert "未上传" in result.stderr
    assert cli_server.requests == []


def test_cli_upload_server_error_one_sentence(cli_server: FakeServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected upload prints one Chinese sentence with code and request id, exit 1, no traceback."""
    monkeypatch.chdir(tmp_path)
    cli_server.add("POST", "/api/v1/batches", problem("SXPT-API-KEY-REVOKED", 401, detail="API 密钥已吊销。"))
    result = CliRunner().invoke(main, ["upload", str(clean_csv(tmp_path)), "--no-local-check"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "上传失败：API 密钥已吊销。（SXPT-API-KEY-REVOKED，请求编号 req0123456789）"
    assert "Traceback" not in result.output


def test_cli_upload_settings_errors_exit_two(cli_server: FakeServer, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing server URL, missing credentials or a public key file exit 2 before any request."""
    monkeypatch.chdir(tmp_path)
    path = clean_csv(tmp_path)
    runner = CliRunner()
    monkeypatch.delenv("SXPT_SERVER_URL")
    no_server = runner.invoke(main, ["upload", str(path), "--no-local-check"])
    monkeypatch.setenv("SXPT_SERVER_URL", BASE)
    monkeypatch.delenv("SXPT_API_KEY")
    no_key = runner.invoke(main, ["upload", str(path), "--no-local-check"])
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY, encoding="ascii")
    os.chmod(key_file, 0o644)
    public_key = runner.invoke(main, ["upload", str(path), "--no-local-check", "--api-key-file", str(key_file)])
    assert no_server.exit_code == 2
    assert "SXPT_SERVER_URL" in no_server.stderr
    assert no_key.exit_code == 2
    assert "SXPT_API_KEY" in no_key.stderr
    if os.name == "posix":
        assert public_key.exit_code == 2
        assert "chmod 600" in public_key.stderr
    assert cli_server.requests == []


def test_cli_export_writes_file(cli_server: FakeServer, tmp_path: Path) -> None:
    """sxpt export passes the filters and reports where it wrote the file."""
    cli_server.add("GET", "/api/v1/export", httpx.Response(200, content=b"PK-workbook"))
    target = tmp_path / "导出.xlsx"
    result = CliRunner().invoke(main, ["export", "--format", "xlsx", "-o", str(target), "--from", "2025-10",
                                       "--to", "2025-10", "--versions", "current"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"PK-workbook"
    assert "已导出到" in result.stdout
    params = cli_server.requests[0].url.params
    assert (params["format"], params["from"], params["to"], params["versions"]) == ("xlsx", "2025-10", "2025-10",
                                                                                   "current")


def test_cli_export_forbidden(cli_server: FakeServer, tmp_path: Path) -> None:
    """A forbidden export prints the server's sentence in English with --lang en, exit 1."""
    cli_server.add("GET", "/api/v1/export", problem("SXPT-FORBIDDEN", 403))
    result = CliRunner().invoke(main, ["export", "-o", str(tmp_path / "x.csv"), "--format", "csv", "--lang", "en"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Export failed: Something failed. (SXPT-FORBIDDEN")
