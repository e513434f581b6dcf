"""Security guards of the reference server, tested as a user who checks them.

Login guessing and SMS flooding, session fixation and session ends, CSRF on every page
form, formula injection in exports, upload file names and limits, and personal data or
secrets in log records.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import urllib.parse
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sxpt_core.io.export import FORMULA_TRIGGERS, QUOTE
from sxpt_server import create_app, units
from sxpt_server.sessions import session_digest
from sxpt_server.store import get_store
from tests.server.records_support import DEPARTMENT_0, record, upload_file, upload_json, xlsx_of
from tests.server.support import (
    PASSWORD,
    Clock,
    World,
    activate,
    build_world,
    create_account,
    last_sms,
    login,
    new_phone,
    outbox,
    request_login_code,
)
from tests.workbooks import RECORD_HEADERS, csv_bytes, write_xlsx

WRONG_PASSWORD = "Cuowu-mima-4417"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
# The sentence of the page that rejects a form without a valid CSRF token.
CSRF_REJECTED = "表单已失效"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers -----------------------------------------------------------------------------------


def text_of(response: TestResponse) -> str:
    return str(response.get_data(as_text=True))


def page_token(client: FlaskClient, path: str) -> str:
    """Open ``path`` and return the CSRF token of its forms."""
    response = client.get(path)
    assert response.status_code == 200, text_of(response)[:300]
    found = CSRF_FIELD.search(text_of(response))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def page_login(world: World, name: str, client: FlaskClient | None = None) -> FlaskClient:
    """Log in through the pages (password, then the SMS code) and return the client."""
    client = client or world.app.test_client()
    world.clock.advance(seconds=61)
    sent = client.post("/login", data={"csrf_token": page_token(client, "/login"), "account": name,
                                       "password": PASSWORD})
    assert sent.status_code == 302, text_of(sent)[:300]
    code_page = urllib.parse.urlsplit(sent.headers["Location"])
    token = page_token(client, code_page.path + "?" + code_page.query)
    code = last_sms(world.app, account=name, purpose="login")["code"]
    done = client.post("/login/code", data={"csrf_token": token, "code": code})
    assert done.status_code == 302, text_of(done)[:300]
    return client


def api_login(world: World, client: FlaskClient, name: str) -> TestResponse:
    """Log ``client`` in through the API with password and a fresh SMS code, and return the login response."""
    assert request_login_code(world.app, world.clock, client, name).status_code == 200
    code = last_sms(world.app, account=name, purpose="login")["code"]
    return client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})


def session_id_of(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("sxpt_session")
    return cookie.value if cookie is not None else None


def stored_session(app: Flask, session_id: str) -> Any:
    with app.app_context():
        return get_store().get_session(session_digest(session_id))


def audit_count(app: Flask) -> int:
    with app.app_context():
        return len(list(get_store().iter_audit()))


def sms_to(app: Flask, phone: str) -> list[dict[str, str]]:
    return [message for message in outbox(app) if message["phone"] == phone]


def phone_of(app: Flask, name: str) -> str:
    with app.app_context():
        account = get_store().get_account_by_name(name)
    assert account is not None
    return account.phone


def run_unit_checks(world: World) -> None:
    """Verify the waiting host organisations now, as the unit worker would."""
    units.run_once(world.app, units.verifier_for(world.app), world.clock.now)


def batch_names(client: FlaskClient) -> list[str]:
    response = client.get("/api/v1/batches")
    assert response.status_code == 200, response.get_json()
    return [batch["filename"] for batch in response.get_json()["batches"]]


def upload_page(client: FlaskClient, content: bytes, filename: str, kind: str = "records") -> TestResponse:
    """Upload a file through the upload page."""
    data = {"csrf_token": page_token(client, "/upload"), "kind": kind, "file": (io.BytesIO(content), filename)}
    return client.post("/upload", data=data, content_type="multipart/form-data")


@pytest.fixture
def limited_world(tmp_path: Path) -> World:
    """A world whose app applies the rate limits, which the conftest app turns off."""
    clock = Clock()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "limited"), "NOW": clock,
                      "RATELIMIT_ENABLED": True})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    return build_world(app, clock, runner)


@pytest.fixture
def limited_app(tmp_path: Path) -> Flask:
    """An app with rate limits and no accounts, for limits that count requests per client address."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "bare"), "NOW": Clock(),
                      "RATELIMIT_ENABLED": True})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    return app


# --- password guessing -------------------------------------------------------------------------


def from_address(index: int) -> dict[str, str]:
    return {"REMOTE_ADDR": f"198.51.100.{index}"}


def test_login_failures_limited_per_account(limited_world: World) -> None:
    """Failed logins of one account from many addresses hit the per-account limit, and then even the right code waits."""
    app = limited_world.app
    app.config["RATELIMIT_PER_ACCOUNT"] = "3 per hour"
    name = limited_world.names["dept0"]
    client = app.test_client()
    assert request_login_code(app, limited_world.clock, client, name).status_code == 200
    code = last_sms(app, account=name, purpose="login")["code"]

    wrong = {"account": name, "password": WRONG_PASSWORD, "code": code}
    statuses = [app.test_client().post("/api/v1/auth/login", json=wrong, environ_base=from_address(index)).status_code
                for index in range(4)]
    right = client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})

    assert statuses == [401, 401, 401, 429]
    assert right.status_code == 429
    assert right.get_json()["code"] == "SXPT-RATE-LIMITED"
    assert int(right.headers["Retry-After"]) > 0
    other = limited_world.names["dept1"]
    assert login(app, limited_world.clock, other).get("/api/v1/me").status_code == 200


def test_account_limit_covers_every_login_route(limited_world: World) -> None:
    """Once an account reached its limit of failed logins, the other routes that check its password reject it too."""
    app = limited_world.app
    app.config["RATELIMIT_PER_ACCOUNT"] = "3 per hour"
    name = limited_world.names["dept0"]
    wrong = {"account": name, "password": WRONG_PASSWORD}
    for index in range(4):
        app.test_client().post("/api/v1/auth/login", json={**wrong, "code": "000000"},
                               environ_base=from_address(index))

    code_route = app.test_client().post("/api/v1/auth/code", json=wrong, environ_base=from_address(10))
    page = app.test_client()
    login_page = page.post("/login", data={"csrf_token": page_token(page, "/login"), **wrong},
                           environ_base=from_address(11))

    assert code_route.status_code == 429
    assert login_page.status_code == 429


@pytest.mark.parametrize("padded", [" {name}", "{name} ", "\t{name}\t"])
def test_account_limit_ignores_name_padding(limited_world: World, padded: str) -> None:
    """The server trims the account name, so a name with blanks around it counts against the same account."""
    app = limited_world.app
    app.config["RATELIMIT_PER_ACCOUNT"] = "3 per hour"
    name = limited_world.names["dept0"]
    for index in range(4):
        app.test_client().post("/api/v1/auth/login",
                               json={"account": name, "password": WRONG_PASSWORD, "code": "000000"},
                               environ_base=from_address(index))

    response = app.test_client().post(
        "/api/v1/auth/login", json={"account": padded.format(name=name), "password": WRONG_PASSWORD, "code": "000000"},
        environ_base=from_address(20))

    assert response.status_code == 429


@pytest.mark.parametrize(("path", "setting", "body"), [
    ("/api/v1/auth/login", "RATELIMIT_LOGIN", {"password": WRONG_PASSWORD, "code": "000000"}),
    ("/api/v1/auth/code", "RATELIMIT_SEND", {"password": WRONG_PASSWORD}),
    ("/api/v1/auth/activate", "RATELIMIT_LOGIN", {"password": "Xin-mima-2025", "code": "000000"}),
])
def test_login_routes_limited_per_address(limited_app: Flask, path: str, setting: str, body: dict[str, str]) -> None:
    """One address that tries many account names is limited, but another address is not."""
    limited_app.config[setting] = "5 per minute"
    client = limited_app.test_client()
    statuses = [client.post(path, json={"account": f"sxpt41330100019{index:02d}", **body},
                            environ_base=from_address(1)).status_code
                for index in range(6)]
    rejected = client.post(path, json={"account": "sxpt4133010001950", **body}, environ_base=from_address(1))
    elsewhere = client.post(path, json={"account": "sxpt4133010001951", **body}, environ_base=from_address(2))

    assert 429 not in statuses[:5], statuses
    assert statuses[5] == 429
    assert rejected.status_code == 429
    assert rejected.get_json()["code"] == "SXPT-RATE-LIMITED"
    assert elsewhere.status_code != 429


def test_login_page_limited_per_address(limited_app: Flask) -> None:
    """The login page counts per client address like the API, so it is no way around the API's limit."""
    limited_app.config["RATELIMIT_SEND"] = "5 per minute"
    client = limited_app.test_client()
    token = page_token(client, "/login")
    statuses = [client.post("/login", data={"csrf_token": token, "account": f"sxpt41330100019{index:02d}",
                                            "password": WRONG_PASSWORD}, environ_base=from_address(1)).status_code
                for index in range(6)]

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


# --- SMS flooding and code guessing ------------------------------------------------------------


def test_login_sms_limited_per_phone(world: World) -> None:
    """A phone gets at most one SMS a minute and ten a day, however often the login code is requested."""
    name = world.names["dept0"]
    phone = phone_of(world.app, name)
    client = world.app.test_client()
    first = request_login_code(world.app, world.clock, client, name)
    too_soon = client.post("/api/v1/auth/code", json={"account": name, "password": PASSWORD})
    assert first.status_code == 200
    assert too_soon.status_code == 429
    assert too_soon.get_json()["code"] == "SXPT-SMS-TOO-SOON"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60

    rejected = None
    for _attempt in range(12):
        response = request_login_code(world.app, world.clock, client, name)
        if response.status_code != 200:
            rejected = response
            break
    assert rejected is not None
    assert rejected.status_code == 429
    assert rejected.get_json()["code"] == "SXPT-SMS-DAILY-LIMIT"
    # build_world sent the activation and a login code to this phone on the same day.
    assert len(sms_to(world.app, phone)) == 10


def test_sms_limited_per_target_phone(world: World) -> None:
    """Several accounts cannot flood one stranger's phone with phone-change codes: the limits count per phone."""
    target = new_phone()
    clients = [world.client("dept0"), world.client("dept1"), world.client("school")]
    world.clock.advance(seconds=61)
    first = clients[0].post("/api/v1/me/phone/code", json={"phone": target})
    second = clients[1].post("/api/v1/me/phone/code", json={"phone": target})
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.get_json()["code"] == "SXPT-SMS-TOO-SOON"

    statuses = []
    for attempt in range(12):
        world.clock.advance(seconds=61)
        statuses.append(clients[attempt % 3].post("/api/v1/me/phone/code", json={"phone": target}).status_code)
    assert statuses.count(200) == 9
    assert len(sms_to(world.app, target)) == 10
    assert statuses[-1] == 429


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_login_code_locked_after_five_tries(world: World) -> None:
    """Five wrong codes lock the login code, so the right one is rejected afterwards, on the API and on the page."""
    name = world.names["dept0"]
    client = world.app.test_client()
    assert request_login_code(world.app, world.clock, client, name).status_code == 200
    code = last_sms(world.app, account=name, purpose="login")["code"]
    body = {"account": name, "password": PASSWORD}
    tries = [client.post("/api/v1/auth/login", json={**body, "code": wrong_code(code)}) for _attempt in range(5)]
    right = client.post("/api/v1/auth/login", json={**body, "code": code})

    assert [response.get_json()["code"] for response in tries] == ["SXPT-AUTH-CODE-WRONG"] * 5
    assert [response.get_json()["tries_left"] for response in tries] == [4, 3, 2, 1, 0]
    assert right.status_code == 400
    assert right.get_json()["code"] == "SXPT-AUTH-CODE-LOCKED"
    assert session_id_of(client) is None

    # The page's first step keeps the code sent a moment ago, which is the locked one.
    page = world.app.test_client()
    sent = page.post("/login", data={"csrf_token": page_token(page, "/login"), **body})
    assert sent.status_code == 302
    code_path = urllib.parse.urlsplit(sent.headers["Location"])
    token = page_token(page, code_path.path + "?" + code_path.query)
    on_page = page.post("/login/code", data={"csrf_token": token, "code": code})
    assert on_page.status_code == 400
    assert session_id_of(page) is None


def test_phone_change_code_locked_after_five_tries(world: World) -> None:
    """Five wrong phone-change codes lock the code, and the phone stays."""
    name = world.names["dept0"]
    client = world.client("dept0")
    old_phone = phone_of(world.app, name)
    target = new_phone()
    world.clock.advance(seconds=61)
    assert client.post("/api/v1/me/phone/code", json={"phone": target}).status_code == 200
    code = last_sms(world.app, account=name, purpose="phone_change")["code"]
    body = {"phone": target, "password": PASSWORD}
    tries = [client.post("/api/v1/me/phone", json={**body, "code": wrong_code(code)}) for _attempt in range(5)]
    right = client.post("/api/v1/me/phone", json={**body, "code": code})

    assert [response.get_json()["code"] for response in tries] == ["SXPT-AUTH-CODE-WRONG"] * 5
    assert right.get_json()["code"] == "SXPT-AUTH-CODE-LOCKED"
    assert phone_of(world.app, name) == old_phone


def test_activation_code_locked_after_five_tries(world: World) -> None:
    """Five wrong activation codes lock the code, and the account stays without a password."""
    created = create_account(world.client("school"), level="department", department=DEPARTMENT_0)
    name = created["name"]
    code = last_sms(world.app, account=name, purpose="activation")["code"]
    anonymous = world.app.test_client()
    body = {"account": name, "password": "Xin-mima-2025"}
    tries = [anonymous.post("/api/v1/auth/activate", json={**body, "code": wrong_code(code)}) for _attempt in range(5)]
    right = anonymous.post("/api/v1/auth/activate", json={**body, "code": code})

    assert [response.get_json()["code"] for response in tries] == ["SXPT-AUTH-CODE-WRONG"] * 5
    assert right.get_json()["code"] == "SXPT-AUTH-CODE-LOCKED"
    with world.app.app_context():
        account = get_store().get_account_by_name(name)
    assert account is not None
    assert not account.active


# --- sessions ----------------------------------------------------------------------------------

PLANTED_SESSION_ID = "planted-by-another-site-0000000000000000000"


def test_planted_session_not_adopted_api(world: World) -> None:
    """A session id that the client chose before login never becomes a logged-in session."""
    name = world.names["dept0"]
    client = world.app.test_client()
    client.set_cookie("sxpt_session", PLANTED_SESSION_ID)
    response = api_login(world, client, name)

    assert response.status_code == 200
    assert session_id_of(client) != PLANTED_SESSION_ID
    assert stored_session(world.app, PLANTED_SESSION_ID) is None
    replay = world.app.test_client()
    replay.set_cookie("sxpt_session", PLANTED_SESSION_ID)
    assert replay.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_planted_session_not_adopted_page(world: World) -> None:
    """The page login also issues a new session id instead of the planted one."""
    client = world.app.test_client()
    client.set_cookie("sxpt_session", PLANTED_SESSION_ID)
    page_login(world, world.names["school"], client)

    assert session_id_of(client) not in (None, PLANTED_SESSION_ID)
    assert stored_session(world.app, PLANTED_SESSION_ID) is None
    replay = world.app.test_client()
    replay.set_cookie("sxpt_session", PLANTED_SESSION_ID)
    assert replay.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_earlier_session_id_replaced_at_login(world: World) -> None:
    """Logging in again on a client that has a valid session ends that session and issues a new id."""
    client = world.client("dept0")
    earlier = session_id_of(client)
    assert earlier is not None
    assert api_login(world, client, world.names["dept0"]).status_code == 200

    assert session_id_of(client) != earlier
    assert stored_session(world.app, earlier) is None


def test_api_logout_ends_session(world: World) -> None:
    """After logout through the API, the old session cookie is rejected."""
    client = world.client("dept0")
    old = session_id_of(client)
    assert old is not None
    assert client.post("/api/v1/auth/logout").status_code == 204

    replay = world.app.test_client()
    replay.set_cookie("sxpt_session", old)
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/records").status_code == 302
    assert stored_session(world.app, old) is None


def test_page_logout_ends_session(world: World) -> None:
    """After logout through the page, the pages and the API reject the old session cookie."""
    client = page_login(world, world.names["school"])
    old = session_id_of(client)
    assert old is not None
    response = client.post("/logout", data={"csrf_token": page_token(client, "/")})
    assert response.status_code == 302

    replay = world.app.test_client()
    replay.set_cookie("sxpt_session", old)
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get("/records").status_code == 302
    assert stored_session(world.app, old) is None


def change_own_password(world: World) -> None:
    response = world.client("dept0").post("/api/v1/me/password",
                                          json={"password": PASSWORD, "new_password": "Xin-mima-2026"})
    assert response.status_code == 200, response.get_json()


def change_own_phone(world: World) -> None:
    client = world.client("dept0")
    target = new_phone()
    world.clock.advance(seconds=61)
    assert client.post("/api/v1/me/phone/code", json={"phone": target}).status_code == 200
    code = last_sms(world.app, account=world.names["dept0"], purpose="phone_change")["code"]
    response = client.post("/api/v1/me/phone", json={"phone": target, "password": PASSWORD, "code": code})
    assert response.status_code == 200, response.get_json()


def superior_changes_phone_by_api(world: World) -> None:
    response = world.client("school").put(f"/api/v1/accounts/{world.names['dept0']}/phone",
                                          json={"phone": new_phone()})
    assert response.status_code == 200, response.get_json()


def superior_changes_phone_by_page(world: World) -> None:
    school = world.client("school")
    path = f"/accounts/{world.names['dept0']}/phone"
    response = school.post(path, data={"csrf_token": page_token(school, path), "phone": new_phone()})
    assert response.status_code == 303, text_of(response)[:300]


def password_reset_by_activation_code(world: World) -> None:
    name = world.names["dept0"]
    world.clock.advance(seconds=61)
    resent = world.client("school").post(f"/api/v1/accounts/{name}/activation")
    assert resent.status_code == 200, resent.get_json()
    assert activate(world.app, name, password="Xin-mima-2026").status_code == 200


@pytest.mark.parametrize("change", [
    change_own_password,
    change_own_phone,
    superior_changes_phone_by_api,
    superior_changes_phone_by_page,
    password_reset_by_activation_code,
], ids=lambda change: change.__name__)
def test_credential_change_ends_every_session(world: World, change: Any) -> None:
    """A password or phone change ends every session of the account on every device, and other accounts keep theirs."""
    name = world.names["dept0"]
    laptop = world.client("dept0")
    phone = login(world.app, world.clock, name)
    browser = page_login(world, name)
    old_ids = [session_id_of(client) for client in (laptop, phone, browser)]

    change(world)

    for client in (laptop, phone, browser):
        assert client.get("/api/v1/me").status_code == 401
    for old in old_ids:
        assert old is not None
        assert stored_session(world.app, old) is None
    assert world.client("dept1").get("/api/v1/me").status_code == 200


# --- CSRF on the pages -------------------------------------------------------------------------


def page_post_rules(app: Flask) -> list[Any]:
    """Return every rule of the pages' blueprint that accepts POST."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("web.") and "POST" in (rule.methods or ())),
                  key=lambda rule: rule.rule)


def csrf_world(world: World) -> dict[str, Any]:
    """Make a record and an API key, and return the values for the arguments of the page routes."""
    assert upload_json(world.client("dept0"), [record(1)]).status_code == 201
    records = world.client("school").get("/api/v1/records").get_json()["records"]
    issued = world.client("school").post("/api/v1/keys", json={"label": "教务系统"})
    assert issued.status_code == 201
    return {"name": world.names["dept1"], "prefix": issued.get_json()["prefix"], "record_id": records[0]["id"]}


def path_of(app: Flask, rule: Any, values: dict[str, Any]) -> str:
    missing = set(rule.arguments) - set(values)
    assert not missing, f"add a value for {sorted(missing)} of {rule.rule} to csrf_world"
    with app.test_request_context():
        return str(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))


def test_page_post_routes_found(world: World) -> None:
    """The enumeration finds the page forms, so the CSRF tests below cover them."""
    endpoints = {rule.endpoint for rule in page_post_rules(world.app)}
    assert {"web.login_send_code", "web.logout", "web.upload_submit", "web.review_submit",
            "web.account_delete_submit", "web.key_revoke"} <= endpoints
    assert len(endpoints) >= 15


def test_page_posts_need_valid_token(world: World) -> None:
    """Every page POST without a token, with another session's or browser's token, or a forged one, is rejected."""
    values = csrf_world(world)
    school = world.client("school")
    other_session_token = page_token(world.client("dept0"), "/")
    stranger = world.app.test_client()
    stranger_token = page_token(stranger, "/login")
    anonymous = world.app.test_client()
    page_token(anonymous, "/login")
    records_before = world.client("school").get("/api/v1/records").get_json()["records"]
    writes_before = audit_count(world.app)

    attempts: list[tuple[str, FlaskClient, dict[str, str], dict[str, str]]] = [
        ("no token", school, {}, {}),
        ("forged token", school, {"csrf_token": "0" * 64}, {}),
        ("another session's token", school, {"csrf_token": other_session_token}, {}),
        ("another session's token in the header", school, {}, {"X-CSRF-Token": other_session_token}),
        ("another browser's token", school, {"csrf_token": stranger_token}, {}),
        ("another browser's token, anonymous", anonymous, {"csrf_token": stranger_token}, {}),
    ]
    accepted = []
    for rule in page_post_rules(world.app):
        path = path_of(world.app, rule, values)
        for label, client, form, headers in attempts:
            response = client.post(path, data=form, headers=headers)
            if response.status_code != 400 or CSRF_REJECTED not in text_of(response):
                accepted.append(f"POST {path} with {label}: {response.status_code}")

    assert accepted == []
    assert audit_count(world.app) == writes_before
    assert world.client("school").get("/api/v1/records").get_json()["records"] == records_before
    assert school.get("/api/v1/me").status_code == 200
    assert school.get(f"/api/v1/accounts/{values['name']}").status_code == 200
    [key] = school.get("/api/v1/keys").get_json()["keys"]
    assert key["revoked_at"] is None


def test_own_token_passes_csrf_check(world: World) -> None:
    """With the session's own token no page POST is rejected as CSRF, so the test above can fail."""
    values = csrf_world(world)
    rules = sorted(page_post_rules(world.app), key=lambda rule: rule.endpoint == "web.logout")
    school = world.client("school")
    rejected = []
    for rule in rules:
        if school.get("/api/v1/me").status_code != 200:
            school = login(world.app, world.clock, world.names["school"])
        path = path_of(world.app, rule, values)
        token = page_token(school, "/")
        response = school.post(path, data={"csrf_token": token})
        if CSRF_REJECTED in text_of(response):
            rejected.append(path)

    assert rejected == []


# --- formula injection -------------------------------------------------------------------------

# Exported text fields that pass the checks with a leading formula character, and the text stored.
FORMULA_FIELDS = {
    "实习岗位": "=HYPERLINK(\"http://example.invalid/\",\"点此\")",
    "实习详细地址": "+86 杭州市西湖区",
    "校内指导教师": "-李老师",
    "班级": "@SUM(A1:A2)",
    "课程名称": "-2+3",
    "实习单位名称": "=杭州示例科技有限公司",
    "学生姓名": "-张三",
}


def approved_formula_records(world: World) -> int:
    """Upload one record per formula field, approve them all and return how many there are."""
    rows = [record(index, **{header: value}) for index, (header, value) in enumerate(FORMULA_FIELDS.items(), start=1)]
    uploaded = upload_json(world.client("dept0"), rows)
    assert uploaded.status_code == 201, uploaded.get_json()
    run_unit_checks(world)
    records = world.client("school").get("/api/v1/records?limit=100").get_json()["records"]
    assert [item["state"] for item in records] == ["待审核"] * len(rows), [item["issues"] for item in records]
    approved = world.client("school").post("/api/v1/review", json={"action": "approve",
                                                                    "records": [item["id"] for item in records]})
    assert approved.status_code == 200, approved.get_json()
    return len(rows)


def exporters(world: World) -> dict[str, tuple[FlaskClient, dict[str, str]]]:
    """Every kind of caller that exports, with the query it sends."""
    issued = world.client("school").post("/api/v1/keys", json={"label": "导出"})
    assert issued.status_code == 201
    key_client = world.app.test_client()
    key_client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + issued.get_json()["key"]
    return {
        "ministry": (world.client("ministry"), {}),
        "province": (world.client("province"), {}),
        "school": (world.client("school"), {}),
        "school, current versions": (world.client("school"), {"versions": "current"}),
        "department": (world.client("dept0"), {}),
        "department, current versions": (world.client("dept0"), {"versions": "current"}),
        "school API key": (key_client, {}),
    }


def test_xlsx_exports_neutralise_formulas(world: World) -> None:
    """Every workbook export writes text that starts with =, +, - or @ behind a quote, and no formula cell."""
    count = approved_formula_records(world)
    for who, (client, query) in exporters(world).items():
        response = client.get("/api/v1/export", query_string={**query, "format": "xlsx"})
        assert response.status_code == 200, who
        assert response.content_type == XLSX, who
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
        header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert len(rows) == count, who
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), who
        texts = [value for row in rows for value in row if isinstance(value, str)]
        assert [text for text in texts if text.lstrip()[:1] in FORMULA_TRIGGERS] == [], who
        cells = [dict(zip(header, row)) for row in rows]
        for name, value in FORMULA_FIELDS.items():
            assert QUOTE + value in [row[name] for row in cells], (who, name)


def test_csv_exports_neutralise_formulas(world: World) -> None:
    """Every CSV export writes text that starts with =, +, - or @ behind a quote."""
    count = approved_formula_records(world)
    for who, (client, query) in exporters(world).items():
        response = client.get("/api/v1/export", query_string={**query, "format": "csv"})
        assert response.status_code == 200, who
        assert response.content_type.startswith("text/csv"), who
        header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
        assert len(rows) == count, who
        fields = [value for row in rows for value in row]
        assert [value for value in fields if value.lstrip()[:1] in FORMULA_TRIGGERS] == [], who
        cells = [dict(zip(header, row)) for row in rows]
        for name, value in FORMULA_FIELDS.items():
            assert QUOTE + value in [row[name] for row in cells], (who, name)


# --- upload names and limits -------------------------------------------------------------------


def files_outside(root: Path, instance: Path) -> set[Path]:
    return {path for path in root.rglob("*") if instance not in path.parents and path != instance}


@pytest.mark.parametrize("filename", [
    "../../x.xlsx",
    "/tmp/../../x.xlsx",
    "..\\..\\x.xlsx",
    "C:\\Users\\教务处\\x.xlsx",
])
def test_upload_stored_under_base_name(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       filename: str) -> None:
    """An upload named with a path, POSIX or Windows style, is stored as its base name and writes no file outside."""
    working = tmp_path / "work" / "a" / "b"
    working.mkdir(parents=True)
    monkeypatch.chdir(working)
    instance = Path(world.app.instance_path)
    content_api = xlsx_of([record(1)], tmp_path / "api.xlsx")
    content_page = xlsx_of([record(2)], tmp_path / "page.xlsx")
    before = files_outside(tmp_path, instance)

    by_api = upload_file(world.client("dept0"), content_api, filename)
    by_page = upload_page(world.client("dept0"), content_page, filename)

    assert by_api.status_code == 201, by_api.get_json()
    assert by_page.status_code == 303, text_of(by_page)[:300]
    # Werkzeug 3.1.9 drops backslashes from multipart names before sxpt reads them, so a
    # Windows path may arrive as "C:Users教务处x.xlsx": folder-free, though not the bare name.
    names = batch_names(world.client("dept0"))
    assert len(names) == 2
    for name in names:
        assert name.endswith("x.xlsx"), name
        assert "/" not in name, name
        assert "\\" not in name, name
        assert not name.startswith("."), name
    assert files_outside(tmp_path, instance) == before
    assert [path for path in tmp_path.rglob("x.xlsx")] == []


@pytest.mark.parametrize("filename", ["实习\x00数据.xlsx", "实习\x1b[2J数据.xlsx", "实习\t数据.xlsx", "实习\x7f数据.xlsx"],
                         ids=["NUL", "ESC", "TAB", "DEL"])
def test_upload_name_loses_control_characters(world: World, filename: str) -> None:
    """Control characters in an upload's name are not stored, so no page, log or download shows them."""
    response = upload_file(world.client("dept0"), xlsx_of([record(1)], Path(world.app.instance_path) / "t.xlsx"),
                           filename)
    assert response.status_code == 201, response.get_json()

    [stored] = batch_names(world.client("dept0"))
    assert [character for character in stored if unicodedata.category(character) == "Cc"] == []


def assert_safe_download(response: TestResponse, label: str) -> None:
    """Check the attachment header: an ASCII fallback and a UTF-8 name, neither with a path or a control character."""
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; "), label
    assert [character for character in header if ord(character) < 0x20 or ord(character) == 0x7F] == [], label
    fallback = re.search(r'filename="([^"]*)"', header)
    assert fallback is not None, label
    assert re.fullmatch(r"[A-Za-z0-9._ ()\[\]-]+", fallback.group(1)), (label, fallback.group(1))
    encoded = header.split("filename*=UTF-8''", 1)[1]
    name = urllib.parse.unquote(encoded)
    assert "/" not in name, (label, name)
    assert "\\" not in name, (label, name)
    assert not name.startswith("."), (label, name)
    assert [character for character in name if unicodedata.category(character) == "Cc"] == [], (label, name)


@pytest.mark.parametrize("filename", ["../../实习数据.xlsx", "..\\实习数据.xlsx", "实习\x00数据.xlsx"],
                         ids=["posix path", "windows path", "NUL"])
def test_download_names_are_safe(world: World, filename: str) -> None:
    """Downloads of an upload's workbooks and of exports carry safe file names, whatever the upload was called."""
    uploaded = upload_file(world.client("dept0"), xlsx_of([record(1, 学号="")], Path(world.app.instance_path) / "t.xlsx"),
                           filename)
    assert uploaded.status_code == 201, uploaded.get_json()
    batch = uploaded.get_json()["batch"]["id"]
    school = world.client("school")
    downloads = {
        "annotated": school.get(f"/api/v1/batches/{batch}/annotated.xlsx"),
        "errors": school.get(f"/api/v1/batches/{batch}/errors.xlsx"),
        "annotated, English": school.get(f"/api/v1/batches/{batch}/annotated.xlsx?lang=en"),
        "export xlsx": school.get("/api/v1/export"),
        "export csv": school.get("/api/v1/export?format=csv"),
    }
    for label, response in downloads.items():
        assert response.status_code == 200, label
        assert_safe_download(response, label)


def test_oversized_uploads_rejected(world: World) -> None:
    """A request body over MAX_CONTENT_LENGTH is rejected with 413 on every upload route, and nothing is stored."""
    world.app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    big = bytes(100 * 1024)
    dept0 = world.client("dept0")
    school = world.client("school")
    responses = {
        "records file": upload_file(dept0, big, "实习数据.xlsx"),
        "records JSON": dept0.post("/api/v1/batches", json={"records": [record(1, 实习岗位="长" * 60_000)]}),
        "roster": upload_file(school, big, "学籍.xlsx", url="/api/v1/roster"),
        "plan": upload_file(school, big, "培养方案.xlsx", url="/api/v1/plan"),
    }
    responses["upload page"] = upload_page(dept0, big, "实习数据.xlsx")

    for label, response in responses.items():
        assert response.status_code == 413, label
    assert responses["records JSON"].get_json()["code"] == "SXPT-TOO-LARGE"
    assert batch_names(school) == []
    assert school.get("/api/v1/roster").get_json()["current"] is None


def test_uploads_over_row_limit_rejected(world: World, tmp_path: Path) -> None:
    """An upload with more data rows than UPLOAD_MAX_ROWS is rejected with 413 in every format, and nothing is stored."""
    world.app.config["UPLOAD_MAX_ROWS"] = 2
    rows = [record(index) for index in range(1, 4)]
    workbook = xlsx_of(rows, tmp_path / "rows.xlsx")
    table = csv_bytes([list(RECORD_HEADERS), *([row[header] for header in RECORD_HEADERS] for row in rows)])
    roster_path = tmp_path / "roster.xlsx"
    write_xlsx(roster_path, [["学号", "姓名", "院系", "层次", "学籍状态"],
                             *([f"210501{index:02d}", "张三", DEPARTMENT_0, "本科", "在籍"] for index in range(1, 4))])
    dept0 = world.client("dept0")
    school = world.client("school")
    responses = {
        "xlsx": upload_file(dept0, workbook, "实习数据.xlsx"),
        "csv": upload_file(dept0, table, "实习数据.csv"),
        "JSON": upload_json(dept0, rows),
        "upload page": upload_page(dept0, workbook, "实习数据.xlsx"),
        "roster": upload_file(school, roster_path.read_bytes(), "学籍.xlsx", url="/api/v1/roster"),
    }

    for label, response in responses.items():
        assert response.status_code == 413, label
    for label in ("xlsx", "csv", "roster"):
        assert responses[label].get_json()["code"] == "SXPT-INPUT-TOO-LARGE", label
    assert batch_names(school) == []


# --- logs --------------------------------------------------------------------------------------

STUDENTS = [
    {"学号": "21059901", "学生姓名": "欧阳明轩", "企业指导人员电话": "13977770001", "企业指导人员姓名": "慕容雪松"},
    {"学号": "21059902", "学生姓名": "司马静怡", "企业指导人员电话": "13977770002", "企业指导人员姓名": "上官云舒"},
    {"学号": "21059903", "学生姓名": "诸葛晨曦", "企业指导人员电话": "13977770003", "企业指导人员姓名": "皇甫青禾"},
]
# Request ids are random hex; they are dropped before matching so a six-digit code cannot match one by chance.
REQUEST_ID = re.compile(r"\b[0-9a-f]{32}\b")


def test_logs_free_of_personal_data(world: World, caplog: pytest.LogCaptureFixture,
                                                tmp_path: Path) -> None:
    """A whole working session logs no phone, student name or number, password, code, API key or session id.

    The development SMS gateway logs each message text, code included, by design, so
    its lines are checked for everything but the code.
    """
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sxpt_server")
    app = world.app
    rows = [record(index, **student) for index, student in enumerate(STUDENTS, start=1)]

    # Login with a wrong password, a wrong code, then the right ones, through the API and the pages.
    dept0 = app.test_client()
    dept0.post("/api/v1/auth/code", json={"account": world.names["dept0"], "password": WRONG_PASSWORD})
    assert request_login_code(app, world.clock, dept0, world.names["dept0"]).status_code == 200
    code = last_sms(app, account=world.names["dept0"], purpose="login")["code"]
    dept0.post("/api/v1/auth/login", json={"account": world.names["dept0"], "password": PASSWORD,
                                           "code": wrong_code(code)})
    assert dept0.post("/api/v1/auth/login", json={"account": world.names["dept0"], "password": PASSWORD,
                                                  "code": code}).status_code == 200
    school = page_login(world, world.names["school"])

    # Uploads with names and phones, through the API and the upload page, then the unit checks.
    assert upload_json(dept0, rows[:2]).status_code == 201
    assert upload_page(dept0, xlsx_of(rows[2:], tmp_path / "upload.xlsx"), "实习数据.xlsx").status_code == 303
    run_unit_checks(world)

    # Searches by student number, review through the API and the page, exports, and an API key.
    assert school.get("/api/v1/records", query_string={"student_id": STUDENTS[0]["学号"]}).status_code == 200
    assert school.get("/records", query_string={"student_id": STUDENTS[1]["学号"]}).status_code == 200
    records = {item["cells"]["学号"]: item["id"] for item in school.get("/api/v1/records").get_json()["records"]}
    assert school.post("/api/v1/review", json={"action": "approve", "records": [
        records[STUDENTS[0]["学号"]], records[STUDENTS[1]["学号"]]]}).status_code == 200
    returned = school.post("/review", data={"csrf_token": page_token(school, "/review"), "action": "return",
                                            "records": [str(records[STUDENTS[2]["学号"]])],
                                            "reason": f"{STUDENTS[2]['学生姓名']}的实习单位名称有误"})
    assert returned.status_code == 303
    for export_format in ("xlsx", "csv"):
        assert world.client("province").get(f"/api/v1/export?format={export_format}").status_code == 200
    issued = school.post("/api/v1/keys", json={"label": "教务系统"}).get_json()
    key_client = app.test_client()
    key_client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + issued["key"]
    assert key_client.get("/api/v1/export?format=csv").status_code == 200
    forged_key = issued["key"][:-6] + "abcdef"
    assert app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer " + forged_key}).status_code == 401

    # A phone change, a rejected form and logouts.
    new = new_phone()
    world.clock.advance(seconds=61)
    assert dept0.post("/api/v1/me/phone/code", json={"phone": new}).status_code == 200
    assert school.post("/review", data={"action": "approve"}).status_code == 400
    session_ids = [session_id_of(client) for client in (dept0, school, *world.clients.values())]
    assert world.client("dept1").post("/api/v1/auth/logout").status_code == 204
    assert school.post("/logout", data={"csrf_token": page_token(school, "/")}).status_code == 302

    messages = outbox(app)
    sensitive = {
        "password": [PASSWORD, WRONG_PASSWORD],
        "phone": sorted({message["phone"] for message in messages} | {new}
                        | {student["企业指导人员电话"] for student in STUDENTS}),
        "student name": [student["学生姓名"] for student in STUDENTS] + [student["企业指导人员姓名"] for student in STUDENTS],
        "student number": [student["学号"] for student in STUDENTS],
        "API key": [issued["key"], forged_key, issued["key"].split("_")[-1]],
        "session id": [session_id for session_id in session_ids if session_id],
        "secret key": [str(app.config["SECRET_KEY"])],
    }
    codes = sorted({message["code"] for message in messages})

    lines = [(entry, REQUEST_ID.sub("<id>", caplog.handler.format(entry))) for entry in caplog.records]
    assert len(lines) > 25
    leaks = []
    gateway_lines = []
    for entry, line in lines:
        for kind, values in sensitive.items():
            leaks += [f"{kind} {value!r} in {line!r}" for value in values if value in line]
        if entry.name == "sxpt_server.sms" and entry.getMessage().startswith("development SMS"):
            gateway_lines.append(line)
        else:
            leaks += [f"SMS code {code!r} in {line!r}" for code in codes if code in line]
    assert leaks == []
    # The gateway's lines do contain the codes, which shows that the matching finds them.
    assert any(code in line for code in codes for line in gateway_lines)
