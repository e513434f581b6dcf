"""Every action outside an account's level is refused, checked by hand and over random account trees."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sxpt_core.access import Unit
from sxpt_server import create_app
from sxpt_server.sessions import session_digest
from sxpt_server.store import get_store
from tests.server.support import (
    CITY,
    DEPARTMENTS,
    OTHER_SCHOOL,
    PROVINCE,
    SCHOOL,
    SCHOOL_USCC,
    Clock,
    World,
    build_world,
    new_phone,
)

# (who acts, method, path, JSON body or None); every request here must be refused with 403.
REFUSED = [
    ("dept0", "POST", "/api/v1/provinces", {"code": "110000"}),
    ("dept0", "POST", "/api/v1/schools", {"code": "4133010009", "name": "某学院", "uscc": SCHOOL_USCC, "city": CITY}),
    ("dept0", "POST", f"/api/v1/schools/{SCHOOL}/departments", {"name": "新学院"}),
    ("dept0", "POST", "/api/v1/accounts", {"level": "department", "department": DEPARTMENTS[0]}),
    ("dept0", "POST", "/api/v1/accounts", {"level": "school"}),
    ("dept0", "PATCH", "/api/v1/accounts/{dept1}", {"contact_name": "某人"}),
    ("dept0", "PATCH", "/api/v1/accounts/{school}", {"contact_name": "某人"}),
    ("dept0", "DELETE", "/api/v1/accounts/{dept1}", None),
    ("dept0", "PUT", "/api/v1/accounts/{school}/phone", {"phone": "13912345678"}),
    ("dept0", "POST", "/api/v1/accounts/{dept1}/activation", None),
    ("dept0", "GET", "/api/v1/keys", None),
    ("dept0", "POST", "/api/v1/keys", {"label": "教务系统"}),
    ("school", "POST", "/api/v1/provinces", {"code": "110000"}),
    ("school", "POST", "/api/v1/schools", {"code": "4133010009", "name": "某学院", "uscc": SCHOOL_USCC, "city": CITY}),
    ("school", "POST", "/api/v1/accounts", {"level": "province", "province": PROVINCE}),
    ("school", "POST", "/api/v1/accounts", {"level": "school", "school": OTHER_SCHOOL}),
    ("school", "PATCH", "/api/v1/accounts/{province}", {"contact_name": "某人"}),
    ("school", "PATCH", "/api/v1/accounts/{other_school}", {"contact_name": "某人"}),
    ("school", "DELETE", "/api/v1/accounts/{other_school}", None),
    ("school", "DELETE", "/api/v1/accounts/{school}", None),
    ("other_school", "PATCH", "/api/v1/accounts/{dept0}", {"contact_name": "某人"}),
    ("province", "POST", "/api/v1/provinces", {"code": "110000"}),
    ("province", "POST", "/api/v1/accounts", {"level": "department", "school": SCHOOL, "department": DEPARTMENTS[0]}),
    ("province", "POST", "/api/v1/accounts", {"level": "province", "province": PROVINCE}),
    ("province", "PATCH", "/api/v1/accounts/{dept0}", {"contact_name": "某人"}),
    ("province", "PATCH", "/api/v1/accounts/{ministry}", {"contact_name": "某人"}),
    ("province", "POST", f"/api/v1/schools/{SCHOOL}/departments", {"name": "新学院"}),
    ("province", "POST", "/api/v1/keys", {"label": "教务系统"}),
    ("ministry", "POST", "/api/v1/schools",
     {"code": "4133010009", "province": PROVINCE, "name": "某学院", "uscc": SCHOOL_USCC, "city": CITY}),
    ("ministry", "POST", "/api/v1/accounts", {"level": "school", "province": PROVINCE, "school": SCHOOL}),
    ("ministry", "POST", "/api/v1/accounts", {"level": "ministry"}),
    ("ministry", "PATCH", "/api/v1/accounts/{school}", {"contact_name": "某人"}),
    ("ministry", "PUT", "/api/v1/accounts/{school}/phone", {"phone": "13912345678"}),
    ("ministry", "GET", "/api/v1/keys", None),
]


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One world for the refusal table: refused requests change nothing, so the cases can share it."""
    clock = Clock()
    folder = tmp_path_factory.mktemp("refusals")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "NOW": clock, "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    return build_world(app, clock, runner)


def _with_phone(body: dict[str, Any] | None) -> dict[str, Any] | None:
    if body is not None and body.get("level") and "phone" not in body:
        return {**body, "phone": new_phone()}
    return body


@pytest.mark.parametrize(("who", "method", "path", "body"), REFUSED)
def test_refused_outside_level(
    shared_world: World, who: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """An account acting outside its level gets 403 with a Chinese reason."""
    world = shared_world
    world.clock.advance(seconds=1)  # keep every session well inside its idle timeout
    response = world.client(who).open(path.format(**world.names), method=method, json=_with_phone(body))
    problem = response.get_json()
    assert response.status_code == 403, problem
    assert problem["code"] == "SXPT-FORBIDDEN"
    assert problem["detail"]


def test_refusals_leave_accounts_unchanged(world: World) -> None:
    """After all refused requests every account still exists and logs in."""
    for who, method, path, body in REFUSED:
        world.client(who).open(path.format(**world.names), method=method, json=_with_phone(body))
    statuses = {who: client.get("/api/v1/me").status_code for who, client in world.clients.items()}
    assert statuses == {who: 200 for who in world.clients}


def test_other_school_is_hidden(world: World) -> None:
    """A school user can neither read nor add another school's departments."""
    client = world.client("other_school")
    listed = client.get(f"/api/v1/schools/{SCHOOL}/departments")
    created = client.post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": "新学院"})
    assert listed.status_code == 404
    assert created.status_code == 404


# --- Random account trees -----------------------------------------------------------

PROVINCE_CODES = ("110000", "330000", "440000")


@st.composite
def account_trees(draw: st.DrawFn) -> list[Unit]:
    """Draw a tree of units: the ministry, some provinces, schools and departments."""
    units = [Unit.ministry()]
    for province in draw(st.lists(st.sampled_from(PROVINCE_CODES), min_size=1, max_size=2, unique=True)):
        units.append(Unit.for_province(province))
        for school_index in range(draw(st.integers(0, 2))):
            school = f"{province[:2]}00000{school_index:03d}"
            units.append(Unit.for_school(province, school))
            for department_index in range(draw(st.integers(0, 2))):
                units.append(Unit.for_department(province, school, f"学院{department_index}"))
    # A second account of a unit, to check accounts beside each other.
    units.append(draw(st.sampled_from(units)))
    return units


def expected_manage(actor: Unit, target: Unit) -> bool:
    """The rule written out by level: one level down inside the scope, or a school's own accounts."""
    if actor.level.value == "ministry":
        return target.level.value == "province"
    if actor.level.value == "province":
        return target.level.value == "school" and target.province == actor.province
    if actor.level.value == "school":
        return target.school == actor.school and target.level.value in ("school", "department")
    return False


def _populate(app: Flask, units: list[Unit], clock: Clock) -> list[tuple[str, str, Unit]]:
    """Register the units and one account each; return (account name, session id, unit) per account."""
    accounts = []
    with app.app_context():
        store = get_store()
        for unit in units:
            if unit.level.value == "province" and store.get_province(unit.province or "") is None:
                store.add_province(unit.province or "", unit.province or "", now=clock())
            if unit.level.value == "school" and store.get_school(unit.school or "") is None:
                from sxpt_server.store import School

                store.add_school(School(unit.school or "", unit.province or "", "学校", SCHOOL_USCC, CITY, clock()))
            if unit.level.value == "department" and store.get_department(unit.school or "", unit.department or "") is None:
                store.add_department(unit.school or "", unit.department or "", now=clock())
            sequence = len(accounts) + 1
            account = store.add_account(name=f"sxpt{sequence:06d}", unit=unit, phone=new_phone(), contact_name=None,
                                        created_by=None, now=clock())
            session_id = f"session-{sequence}"
            store.add_session(session_digest(session_id), account.id, now=clock(), ip=None, user_agent=None)
            accounts.append((account.name, session_id, unit))
    return accounts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(account_trees())
def test_manage_only_directly_below(units: list[Unit]) -> None:
    """Over random trees, an account edits another account exactly when it is directly below (or a school's own)."""
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "NOW": clock, "RATELIMIT_ENABLED": False})
        app.test_cli_runner().invoke(args=["init-db"])
        accounts = _populate(app, units, clock)

        for actor_name, session_id, actor_unit in accounts:
            client = app.test_client()
            client.set_cookie("sxpt_session", session_id)
            for target_name, _session, target_unit in accounts:
                response = client.patch(f"/api/v1/accounts/{target_name}", json={"contact_name": "某人"})
                expected = 200 if expected_manage(actor_unit, target_unit) else 403
                assert response.status_code == expected, (actor_name, actor_unit, target_name, target_unit)
