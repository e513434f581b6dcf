"""Audit log entries for logout, refused changes and failed logins."""

from __future__ import annotations

from typing import Any

from flask import Flask

from sxpt_server.store import AuditEntry, get_store
from tests.server.support import World, new_phone


def audit_entries(app: Flask, event: str) -> list[AuditEntry]:
    """Return the audit entries of ``event``, oldest first."""
    with app.app_context():
        entries: list[Any] = [entry for entry in get_store().iter_audit() if entry.event == event]
    return sorted(entries, key=lambda entry: entry.id)


def test_logout_visible_to_superior(world: World) -> None:
    """A logout entry names the account and its unit, so the superior's audit list shows it."""
    name = world.names["dept0"]
    assert world.client("dept0").post("/api/v1/auth/logout").status_code == 204
    entry = audit_entries(world.app, "logout")[-1]
    assert entry.target == name
    assert entry.unit is not None
    assert entry.unit.department is not None
    listed = world.client("school").get("/api/v1/audit").get_json()
    assert any(item["event"] == "logout" and item.get("target") == name for item in listed["entries"])


def test_refused_change_audited(world: World) -> None:
    """A 403 on a change is recorded with the caller and the account it tried to change."""
    other = world.names["other_school"]
    response = world.client("school").delete(f"/api/v1/accounts/{other}")
    assert response.status_code == 403
    entry = audit_entries(world.app, "action_refused")[-1]
    assert entry.actor == world.names["school"]
    assert entry.target == other


def test_refused_create_audited(world: World) -> None:
    """A refused account creation is audited too."""
    response = world.client("ministry").post(
        "/api/v1/accounts", json={"level": "school", "school": "4133010001", "phone": new_phone()})
    assert response.status_code == 403
    assert audit_entries(world.app, "action_refused")[-1].actor == world.names["ministry"]


def test_unknown_account_name_recorded(world: World) -> None:
    """A failed login with an unknown account name records the name tried."""
    response = world.app.test_client().post(
        "/api/v1/auth/code", json={"account": "sxpt999999001", "password": "Wrong-pass-99"})
    assert response.status_code == 401
    entry = audit_entries(world.app, "login_failed")[-1]
    assert entry.detail["reason"] == "unknown_account"
    assert entry.detail["account"] == "sxpt999999001"
