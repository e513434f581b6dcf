"""API keys: issued by school users, scoped, shown once, stored as a digest, expiring and revocable."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from sxpt_core import auth
from sxpt_server.store import get_store
from tests.server.support import DEPARTMENTS, SCHOOL, World


def issue(world: World, **fields: Any) -> dict[str, Any]:
    response = world.client("school").post("/api/v1/keys", json={"label": "教务系统夜间上传", **fields})
    assert response.status_code == 201, response.get_json()
    document: dict[str, Any] = response.get_json()
    return document


def bearer(world: World, key: str) -> FlaskClient:
    """Return a client without cookies that sends ``key`` as a bearer token."""
    client = world.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def test_key_identifies_school(world: World) -> None:
    """A school key used as a bearer token acts for the school with the record actions only."""
    key = issue(world)["key"]
    me = bearer(world, key).get("/api/v1/me").get_json()
    assert me["kind"] == "api_key"
    assert me["unit"]["school"] == SCHOOL
    assert me["allowed_actions"] == ["records:read", "records:upload"]


def test_department_key(world: World) -> None:
    """A key scoped to a department acts for that department."""
    key = issue(world, department=DEPARTMENTS[1])["key"]
    me = bearer(world, key).get("/api/v1/me").get_json()
    assert me["unit"]["level"] == "department"
    assert me["unit"]["department"] == DEPARTMENTS[1]


def test_key_shown_once(world: World) -> None:
    """The list of keys never contains the key itself."""
    issued = issue(world)
    listed = world.client("school").get("/api/v1/keys").get_json()["keys"]
    assert [key["prefix"] for key in listed] == [issued["prefix"]]
    assert "key" not in listed[0]
    assert issued["key"] not in repr(listed)


def test_key_stored_as_digest(world: World) -> None:
    """The database stores the key's digest, not the key."""
    issued = issue(world)
    with world.app.app_context():
        stored = get_store().get_api_key(issued["prefix"])
    assert stored is not None
    assert stored.digest == auth.api_key_digest(issued["key"])
    assert issued["key"] not in repr(stored)


def test_key_cannot_manage(world: World) -> None:
    """A key cannot create accounts or keys, even for its own school."""
    client = bearer(world, issue(world)["key"])
    accounts = client.post("/api/v1/accounts", json={"level": "department", "department": DEPARTMENTS[0],
                                                     "phone": "13912345678"})
    keys = client.post("/api/v1/keys", json={"label": "再签一个"})
    assert accounts.status_code == 403
    assert accounts.get_json()["code"] == "SXPT-API-KEY-NOT-ALLOWED"
    assert keys.status_code == 403


def test_revoked_key_refused(world: World) -> None:
    """A revoked key is refused with a Chinese message, and the revocation is audited."""
    issued = issue(world)
    assert world.client("school").delete(f"/api/v1/keys/{issued['prefix']}").status_code == 204
    response = bearer(world, issued["key"]).get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "SXPT-API-KEY-REVOKED"
    assert "吊销" in response.get_json()["detail"]
    with world.app.app_context():
        events = [entry.event for entry in get_store().iter_audit() if entry.target == issued["prefix"]]
    assert events[:2] == ["api_key_rejected", "key_revoked"]
    assert events[-1] == "key_created"


def test_expired_key_refused(world: World) -> None:
    """A key is refused once its days have passed."""
    issued = issue(world, expires_in_days=30)
    world.clock.advance(days=29)
    assert bearer(world, issued["key"]).get("/api/v1/me").status_code == 200
    world.clock.advance(days=1)
    response = bearer(world, issued["key"]).get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "SXPT-API-KEY-EXPIRED"


def test_unknown_key_refused(world: World) -> None:
    """A made-up key is refused."""
    key, _prefix = auth.new_api_key(bytes(range(32)))
    response = bearer(world, key).get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["code"] == "SXPT-API-KEY-INVALID"


def test_tampered_key_refused(world: World) -> None:
    """A key with a known prefix but another secret is refused."""
    issued = issue(world)
    tampered = issued["key"][:-1] + ("a" if issued["key"][-1] != "a" else "b")
    assert bearer(world, tampered).get("/api/v1/me").status_code == 401


def test_key_lifetime_bounded(world: World) -> None:
    """A lifetime beyond the maximum is rejected."""
    response = world.client("school").post("/api/v1/keys", json={"label": "长期", "expires_in_days": 10_000})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "expires_in_days"


def test_key_for_unknown_department(world: World) -> None:
    """A key for a department that does not exist is rejected."""
    response = world.client("school").post("/api/v1/keys", json={"label": "x", "department": "不存在学院"})
    assert response.status_code == 404


def test_other_school_cannot_revoke(world: World) -> None:
    """Another school's user cannot revoke the key."""
    issued = issue(world)
    response = world.client("other_school").delete(f"/api/v1/keys/{issued['prefix']}")
    assert response.status_code == 403


def test_key_creation_audited(world: World) -> None:
    """Issuing a key is audited with its prefix and never its secret."""
    issued = issue(world)
    with world.app.app_context():
        entries = [entry for entry in get_store().iter_audit() if entry.event == "key_created"]
    assert entries[0].target == issued["prefix"]
    assert entries[0].actor == world.names["school"]
    assert issued["key"] not in repr(entries)
