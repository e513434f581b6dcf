"""Helpers for the server tests: a movable clock, the SMS outbox, and a tree of logged-in accounts."""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path
from typing import Any

import attrs
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from sxpt_server.sms import read_outbox

PASSWORD = "Sxpt-2025-秋季"
PROVINCE = "330000"
SCHOOL = "4133010001"
SCHOOL_NAME = "东海理工大学"
SCHOOL_USCC = "91350100M000100Y43"
OTHER_SCHOOL_USCC = "91350100M000200Y4T"
CITY = "330100"
OTHER_SCHOOL = "4133010002"
DEPARTMENTS = ("机械工程学院", "外国语学院")

_phones = itertools.count(13800000001)


def new_phone() -> str:
    """Return a mobile number that no other account in the test session has."""
    return str(next(_phones))


class Clock:
    """A clock that tests move forward by hand; the app reads it through the NOW setting."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2025, 10, 15, 1, 0, tzinfo=datetime.timezone.utc)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


def outbox(app: Flask) -> list[dict[str, str]]:
    """Return every SMS that the development gateway wrote."""
    return read_outbox(Path(app.instance_path) / "outbox.jsonl")


def last_sms(app: Flask, *, account: str, purpose: str) -> dict[str, str]:
    """Return the newest SMS for ``account`` with ``purpose``."""
    messages = [sms for sms in outbox(app) if sms["account"] == account and sms["purpose"] == purpose]
    assert messages, f"no {purpose} SMS for {account}"
    return messages[-1]


def activate(app: Flask, name: str, *, password: str = PASSWORD) -> Any:
    """Set the password of ``name`` with the code from its activation SMS; return the response."""
    code = last_sms(app, account=name, purpose="activation")["code"]
    return app.test_client().post("/api/v1/auth/activate", json={"account": name, "code": code, "password": password})


def request_login_code(app: Flask, clock: Clock, client: FlaskClient, name: str, *, password: str = PASSWORD) -> Any:
    """Ask for a login code, a minute after the previous SMS so that the send interval allows it."""
    clock.advance(seconds=61)
    return client.post("/api/v1/auth/code", json={"account": name, "password": password})


def login(app: Flask, clock: Clock, name: str, *, password: str = PASSWORD) -> FlaskClient:
    """Log in as ``name`` with password and SMS code and return the logged-in client."""
    client = app.test_client()
    sent = request_login_code(app, clock, client, name, password=password)
    assert sent.status_code == 200, sent.get_json()
    code = last_sms(app, account=name, purpose="login")["code"]
    response = client.post("/api/v1/auth/login", json={"account": name, "password": password, "code": code})
    assert response.status_code == 200, response.get_json()
    return client


def bootstrap_ministry(app: Flask, runner: FlaskCliRunner) -> str:
    """Create the ministry account with the CLI and return its name."""
    result = runner.invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()])
    assert result.exit_code == 0, result.output
    return outbox(app)[-1]["account"]


def create_account(client: FlaskClient, **fields: str) -> dict[str, Any]:
    """Create an account through the API and return its JSON."""
    response = client.post("/api/v1/accounts", json={"phone": new_phone(), **fields})
    assert response.status_code == 201, response.get_json()
    document: dict[str, Any] = response.get_json()
    return document


@attrs.define
class World:
    """A ministry, a province, two schools, two departments, an account for each, all logged in."""

    app: Flask
    clock: Clock
    names: dict[str, str]
    clients: dict[str, FlaskClient]

    def client(self, who: str) -> FlaskClient:
        """Return the logged-in client of ``who`` (ministry, province, school, other_school, dept0, dept1)."""
        return self.clients[who]


def build_world(app: Flask, clock: Clock, runner: FlaskCliRunner) -> World:
    """Build the account tree through the CLI and the API, activating and logging in every account."""
    names = {"ministry": bootstrap_ministry(app, runner)}
    assert activate(app, names["ministry"]).status_code == 200
    ministry = login(app, clock, names["ministry"])

    assert ministry.post("/api/v1/provinces", json={"code": PROVINCE}).status_code == 201
    names["province"] = create_account(ministry, level="province", province=PROVINCE)["name"]
    assert activate(app, names["province"]).status_code == 200
    province = login(app, clock, names["province"])

    for code, uscc in ((SCHOOL, SCHOOL_USCC), (OTHER_SCHOOL, OTHER_SCHOOL_USCC)):
        response = province.post("/api/v1/schools", json={
            "code": code, "name": f"{SCHOOL_NAME}{code[-1]}", "uscc": uscc, "city": CITY})
        assert response.status_code == 201, response.get_json()
    names["school"] = create_account(province, level="school", school=SCHOOL)["name"]
    names["other_school"] = create_account(province, level="school", school=OTHER_SCHOOL)["name"]
    for key in ("school", "other_school"):
        assert activate(app, names[key]).status_code == 200
    school = login(app, clock, names["school"])

    for index, department in enumerate(DEPARTMENTS):
        response = school.post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": department})
        assert response.status_code == 201, response.get_json()
        names[f"dept{index}"] = create_account(school, level="department", department=department)["name"]
        assert activate(app, names[f"dept{index}"]).status_code == 200

    clients = {"ministry": ministry, "province": province, "school": school}
    for key in ("other_school", "dept0", "dept1"):
        clients[key] = login(app, clock, names[key])

    # Every session was last used now, so tests can count idle time from here.
    for client in clients.values():
        assert client.get("/api/v1/me").status_code == 200
    return World(app=app, clock=clock, names=names, clients=clients)
