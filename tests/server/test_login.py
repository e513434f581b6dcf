"""Login with password and SMS code: wrong, expired, locked, replayed and missing codes, and send limits."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from sxpt_server.store import get_store
from tests.server.support import PASSWORD, World, last_sms, request_login_code


def audit_events(app: Flask, target: str) -> list[tuple[str, dict[str, Any]]]:
    """Return the audit events about ``target``, oldest first, with their details."""
    with app.app_context():
        entries = [entry for entry in get_store().iter_audit() if entry.target == target]
    return [(entry.event, entry.detail) for entry in reversed(entries)]


def send_and_read_code(world: World, name: str) -> tuple[Any, str]:
    """Request a login code for ``name`` on a fresh client and return the client and the code."""
    client = world.app.test_client()
    assert request_login_code(world.app, world.clock, client, name).status_code == 200
    return client, last_sms(world.app, account=name, purpose="login")["code"]


def wrong(code: str) -> str:
    """Return a 6-digit code that differs from ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def post_login(client: Any, name: str, code: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"account": name, "password": password, "code": code})


def test_login_sets_session_cookie(world: World) -> None:
    """A login with password and code sets an HttpOnly, SameSite=Lax session cookie."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    response = post_login(client, name, code)
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 200
    assert cookie.startswith("sxpt_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_login_recorded_in_audit(world: World) -> None:
    """A login and its code send are in the audit log without the code."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    post_login(client, name, code)
    events = audit_events(world.app, name)
    assert ("code_sent", {"phone": events[-2][1]["phone"], "purpose": "login"}) == events[-2]
    assert events[-1][0] == "login"
    assert code not in repr(events)


def test_wrong_password_refused(world: World) -> None:
    """A wrong password is refused before any SMS is sent, and the failure is audited."""
    name = world.names["dept0"]
    response = world.app.test_client().post("/api/v1/auth/code", json={"account": name, "password": "Wrong-pass-99"})
    assert response.status_code == 401
    assert response.get_json()["detail"].startswith("账号或密码错误")
    assert audit_events(world.app, name)[-1] == ("login_failed", {"reason": "password"})


def test_unknown_account_refused(world: World) -> None:
    """An unknown account gets the same response as a wrong password."""
    response = world.app.test_client().post(
        "/api/v1/auth/code", json={"account": "sxpt9999999999001", "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["code"] == "SXPT-AUTH-CREDENTIALS"


def test_wrong_code_refused(world: World) -> None:
    """A wrong code is refused in Chinese with the tries left, and audited."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    response = post_login(client, name, wrong(code))
    problem = response.get_json()
    assert response.status_code == 400
    assert problem["code"] == "SXPT-AUTH-CODE-WRONG"
    assert problem["detail"] == "验证码错误，还可以再试 4 次。"
    assert problem["tries_left"] == 4
    assert audit_events(world.app, name)[-1] == ("login_failed", {"reason": "code_wrong"})


def test_code_locked_after_five_tries(world: World) -> None:
    """After five wrong codes even the right code is refused."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    for _ in range(5):
        assert post_login(client, name, wrong(code)).status_code == 400
    response = post_login(client, name, code)
    assert response.status_code == 400
    assert response.get_json()["code"] == "SXPT-AUTH-CODE-LOCKED"
    assert "已失效" in response.get_json()["detail"]
    assert audit_events(world.app, name)[-1] == ("login_failed", {"reason": "code_locked"})


def test_expired_code_refused(world: World) -> None:
    """A code entered after five minutes is refused as expired."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    world.clock.advance(minutes=5)
    response = post_login(client, name, code)
    assert response.status_code == 400
    assert response.get_json()["detail"] == "验证码已过期，请重新获取。"
    assert audit_events(world.app, name)[-1] == ("login_failed", {"reason": "code_expired"})


def test_code_valid_within_five_minutes(world: World) -> None:
    """A code entered just before five minutes is accepted."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    world.clock.advance(minutes=4, seconds=59)
    assert post_login(client, name, code).status_code == 200


def test_replayed_code_refused(world: World) -> None:
    """A code that logged in once is refused the second time."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    assert post_login(client, name, code).status_code == 200
    replay = post_login(world.app.test_client(), name, code)
    assert replay.status_code == 400
    assert replay.get_json()["detail"] == "验证码已使用过，请重新获取。"
    assert audit_events(world.app, name)[-1] == ("login_failed", {"reason": "code_used"})


def test_login_without_code_sent(world: World) -> None:
    """A login without a pending code is rejected with a request to get a code first."""
    name = world.names["dept0"]
    world.clock.advance(minutes=6)
    client, code = send_and_read_code(world, name)
    assert post_login(client, name, code).status_code == 200
    with world.app.app_context():
        account = get_store().get_account_by_name(name)
        assert account is not None
        get_store().delete_codes(account.id)
    response = post_login(client, name, code)
    assert response.status_code == 400
    assert response.get_json()["detail"] == "请先获取短信验证码。"


def test_code_for_other_purpose_refused(world: World) -> None:
    """An activation code does not log in."""
    name = world.names["dept0"]
    activation_code = last_sms(world.app, account=name, purpose="activation")["code"]
    client, code = send_and_read_code(world, name)
    if activation_code != code:
        assert post_login(client, name, activation_code).status_code == 400


def test_send_interval(world: World) -> None:
    """A second code within a minute is refused with Retry-After, and audited."""
    name = world.names["dept0"]
    client, _code = send_and_read_code(world, name)
    world.clock.advance(seconds=30)
    response = client.post("/api/v1/auth/code", json={"account": name, "password": PASSWORD})
    problem = response.get_json()
    assert response.status_code == 429
    assert problem["code"] == "SXPT-SMS-TOO-SOON"
    assert problem["detail"] == "发送过于频繁，请 30 秒后再试。"
    assert response.headers["Retry-After"] == "30"
    assert audit_events(world.app, name)[-1][0] == "code_send_rejected"
    assert audit_events(world.app, name)[-1][1]["reason"] == "interval"


def test_daily_send_limit(world: World) -> None:
    """The eleventh code to one phone within 24 hours is refused."""
    name = world.names["dept0"]
    client = world.app.test_client()
    world.clock.advance(hours=24)  # past the sends of building the world
    statuses = [request_login_code(world.app, world.clock, client, name).status_code for _ in range(10)]
    problem = request_login_code(world.app, world.clock, client, name).get_json()
    assert statuses == [200] * 10
    assert problem["code"] == "SXPT-SMS-DAILY-LIMIT"
    assert "24 小时内已收到 10 条验证码" in problem["detail"]
    assert audit_events(world.app, name)[-1][1]["reason"] == "daily"


def test_daily_limit_clears_after_a_day(world: World) -> None:
    """Sends are allowed again once the earlier ones are 24 hours old."""
    name = world.names["dept0"]
    client = world.app.test_client()
    for _ in range(11):
        request_login_code(world.app, world.clock, client, name)
    world.clock.advance(hours=24)
    assert request_login_code(world.app, world.clock, client, name).status_code == 200


def test_logs_hold_no_codes(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Apart from the development gateway's own line, no log record contains a code or a full phone."""
    name = world.names["dept0"]
    caplog.set_level(logging.DEBUG)
    client, code = send_and_read_code(world, name)
    post_login(client, name, wrong(code))
    post_login(client, name, code)
    phone = last_sms(world.app, account=name, purpose="login")["phone"]
    other = [record.getMessage() for record in caplog.records if record.name != "sxpt_server.sms"]
    assert other
    assert not [message for message in other if code in message or phone in message or PASSWORD in message]


def test_audit_holds_no_secrets(world: World) -> None:
    """No audit entry contains a code, a password or a full phone number."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    post_login(client, name, code)
    phone = last_sms(world.app, account=name, purpose="login")["phone"]
    with world.app.app_context():
        text = repr(list(get_store().iter_audit()))
    assert code not in text
    assert phone not in text
    assert PASSWORD not in text


def test_entered_code_with_full_width_digits(world: World) -> None:
    """A code typed with full-width digits is accepted."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in code)
    assert post_login(client, name, full_width).status_code == 200


def test_non_digit_code_costs_no_try(world: World) -> None:
    """A code with letters is a 422 that leaves all tries for the real code."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    malformed = post_login(client, name, "12ab56")
    assert malformed.status_code == 422
    assert malformed.get_json()["errors"][0]["field"] == "code"
    second = post_login(client, name, wrong(code))
    assert second.get_json()["tries_left"] == 4


def test_last_try_english_singular(world: World) -> None:
    """With one try left the English detail reads "1 more try"."""
    name = world.names["dept0"]
    client, code = send_and_read_code(world, name)
    for _ in range(4):
        response = post_login(client, name, wrong(code))
    assert response.get_json()["tries_left"] == 1
    assert "1 more try allowed" in response.get_json()["detail_en"]


def test_activation_non_digit_code_costs_no_try(world: World) -> None:
    """An activation code with letters is a 422 and the real code still activates."""
    school = world.client("school")
    created = school.post("/api/v1/accounts", json={"level": "department", "department": "外国语学院",
                                                    "phone": "13912345678"})
    assert created.status_code == 201, created.get_json()
    name = created.get_json()["name"]
    client = world.app.test_client()
    malformed = client.post("/api/v1/auth/activate", json={"account": name, "code": "12ab56", "password": PASSWORD})
    assert malformed.status_code == 422
    code = last_sms(world.app, account=name, purpose="activation")["code"]
    right = client.post("/api/v1/auth/activate", json={"account": name, "code": code, "password": PASSWORD})
    assert right.status_code == 200
