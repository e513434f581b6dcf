"""SMS gateways: the development outbox, and the HTTP gateway against a small server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from sxpt_server import create_app
from sxpt_server.sms import DevelopmentGateway, HttpGateway, SmsError, SmsMessage, mask_phone, read_outbox
from sxpt_server.store import get_store
from tests.server.support import PASSWORD, Clock, activate, new_phone

MESSAGE = SmsMessage(phone="13800138000", purpose="login", text="登录验证码 123456，5 分钟内有效。", code="123456",
                     account="sxpt000000001")


class Provider:
    """A stand-in SMS provider on 127.0.0.1 that records request bodies and responds with ``status``."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                provider.bodies.append(self.rfile.read(length))
                provider.headers.append(dict(self.headers))
                self.send_response(provider.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Provider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as running:
        yield running


def test_mask_phone() -> None:
    """A phone number is masked in its middle four digits."""
    assert mask_phone("13800138000") == "138****8000"


def test_development_outbox(tmp_path: Path) -> None:
    """The development gateway appends each message to the outbox as one JSON line."""
    gateway = DevelopmentGateway(tmp_path / "outbox.jsonl")
    gateway.send(MESSAGE)
    gateway.send(MESSAGE)
    messages = read_outbox(tmp_path / "outbox.jsonl")
    assert len(messages) == 2
    assert messages[0]["code"] == "123456"


def test_development_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The development gateway logs one line with the masked phone."""
    caplog.set_level(logging.INFO, logger="sxpt_server.sms")
    DevelopmentGateway(tmp_path / "outbox.jsonl").send(MESSAGE)
    assert len(caplog.records) == 1
    assert "138****8000" in caplog.records[0].getMessage()
    assert "13800138000" not in caplog.records[0].getMessage()


def test_http_gateway_body(provider: Provider) -> None:
    """The HTTP gateway posts the template filled with JSON-escaped values."""
    template = '{"mobile": "$phone", "params": {"code": "$code"}, "content": "$text"}'
    HttpGateway(provider.url, template, headers={"X-Api-Token": "t"}).send(MESSAGE)
    body = json.loads(provider.bodies[0])
    assert body == {"mobile": "13800138000", "params": {"code": "123456"}, "content": MESSAGE.text}
    assert provider.headers[0]["X-Api-Token"] == "t"


def test_http_gateway_escapes_quotes(provider: Provider) -> None:
    """Quotes in the text cannot break the JSON body."""
    tricky = SmsMessage(phone="13800138000", purpose="login", text='他说"你好"\\', code="1", account="a")
    HttpGateway(provider.url, '{"text": "$text"}').send(tricky)
    assert json.loads(provider.bodies[0])["text"] == '他说"你好"\\'


def test_http_gateway_error_status(provider: Provider) -> None:
    """A provider's error status raises SmsError without the code in its message."""
    provider.status = 500
    with pytest.raises(SmsError) as raised:
        HttpGateway(provider.url, '{"text": "$text"}').send(MESSAGE)
    assert "500" in str(raised.value)
    assert "123456" not in str(raised.value)


def test_http_gateway_unreachable() -> None:
    """An unreachable provider raises SmsError."""
    gateway = HttpGateway("http://127.0.0.1:9/send", '{"text": "$text"}', timeout=2)
    with pytest.raises(SmsError):
        gateway.send(MESSAGE)


def test_http_gateway_needs_http_url() -> None:
    """A URL that is not http or https is rejected when the gateway is built."""
    with pytest.raises(ValueError, match="SMS_HTTP_URL"):
        HttpGateway("file:///etc/passwd", "$text")


def make_http_app(tmp_path: Path, provider: Provider, clock: Clock) -> Flask:
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": clock, "RATELIMIT_ENABLED": False,
        "SMS_GATEWAY": "http", "SMS_HTTP_URL": provider.url,
        "SMS_HTTP_TEMPLATE": '{"phone": "$phone", "text": "$text", "code": "$code", "account": "$account"}',
    })
    app.test_cli_runner().invoke(args=["init-db"])
    return app


def test_app_sends_through_http(tmp_path: Path, provider: Provider) -> None:
    """With SMS_GATEWAY=http the activation and login codes reach the provider and no outbox is written."""
    clock = Clock()
    app = make_http_app(tmp_path, provider, clock)
    phone = new_phone()
    result = app.test_cli_runner().invoke(args=["create-account", "--level", "ministry", "--phone", phone])
    activation = json.loads(provider.bodies[-1])
    client = app.test_client()
    activated = client.post("/api/v1/auth/activate",
                            json={"account": activation["account"], "code": activation["code"], "password": PASSWORD})
    clock.advance(minutes=1)
    sent = client.post("/api/v1/auth/code", json={"account": activation["account"], "password": PASSWORD})
    login_code = json.loads(provider.bodies[-1])["code"]
    logged_in = client.post("/api/v1/auth/login",
                            json={"account": activation["account"], "password": PASSWORD, "code": login_code})
    assert result.exit_code == 0, result.output
    assert activation["phone"] == phone
    assert activated.status_code == 200
    assert sent.status_code == 200
    assert logged_in.status_code == 200
    assert not (tmp_path / "outbox.jsonl").exists()


def test_gateway_failure(tmp_path: Path, provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    """A failing provider gives 502 in Chinese, is logged without the phone, and does not use up the send limit."""
    clock = Clock()
    app = make_http_app(tmp_path, provider, clock)
    app.test_cli_runner().invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()])
    activation = json.loads(provider.bodies[-1])
    client = app.test_client()
    client.post("/api/v1/auth/activate",
                json={"account": activation["account"], "code": activation["code"], "password": PASSWORD})
    clock.advance(minutes=1)

    provider.status = 503
    caplog.set_level(logging.WARNING, logger="sxpt_server")
    failed = client.post("/api/v1/auth/code", json={"account": activation["account"], "password": PASSWORD})
    provider.status = 200
    retried = client.post("/api/v1/auth/code", json={"account": activation["account"], "password": PASSWORD})
    assert failed.status_code == 502
    assert failed.get_json()["detail"].startswith("短信发送失败")
    assert any("SMS gateway failed" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if activation["phone"] in record.getMessage()]
    assert retried.status_code == 200


def test_cli_removes_account_when_sms_fails(tmp_path: Path, provider: Provider) -> None:
    """create-account fails with one sentence and leaves no account when the activation SMS cannot be sent."""
    app = make_http_app(tmp_path, provider, Clock())
    provider.status = 500
    result = app.test_cli_runner().invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()])
    with app.app_context():
        accounts = get_store().list_accounts()
    assert result.exit_code == 1
    assert "激活短信未发出" in result.output
    assert "Traceback" not in result.output
    assert accounts == []


def test_unknown_gateway_setting(tmp_path: Path) -> None:
    """An unknown SMS_GATEWAY value stops the app at start-up."""
    with pytest.raises(ValueError, match="SMS_GATEWAY"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "SMS_GATEWAY": "pigeon"})


def test_activation_by_outbox(app: Flask, runner: FlaskCliRunner) -> None:
    """The development gateway's outbox contains an activation code that works."""
    runner.invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()])
    name = read_outbox(Path(app.instance_path) / "outbox.jsonl")[-1]["account"]
    assert activate(app, name).status_code == 200
