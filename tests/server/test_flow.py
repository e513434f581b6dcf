"""The whole account story through the real app: bootstrap, organisations, accounts, activation, login."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from tests.server.support import (
    CITY,
    DEPARTMENTS,
    PASSWORD,
    PROVINCE,
    SCHOOL,
    SCHOOL_NAME,
    SCHOOL_USCC,
    Clock,
    World,
    activate,
    bootstrap_ministry,
    create_account,
    last_sms,
    login,
    new_phone,
    outbox,
)


def test_story_from_cli_to_departments(app: Flask, clock: Clock, runner: FlaskCliRunner) -> None:
    """A ministry account made by the CLI sets up a province, a school and two departments with their accounts."""
    ministry_name = bootstrap_ministry(app, runner)
    assert ministry_name.startswith("sxpt")
    assert activate(app, ministry_name).status_code == 200
    ministry = login(app, clock, ministry_name)

    province_response = ministry.post("/api/v1/provinces", json={"code": PROVINCE})
    assert province_response.status_code == 201
    assert province_response.get_json()["name"] == "浙江省"
    province_account = create_account(ministry, level="province", province=PROVINCE)
    assert province_account["name"] == "sxpt330000001"
    assert province_account["activation"]["sent"] is True
    assert activate(app, province_account["name"]).status_code == 200
    province = login(app, clock, province_account["name"])

    school_response = province.post("/api/v1/schools", json={
        "code": SCHOOL, "name": "东海理工大学", "uscc": SCHOOL_USCC, "city": CITY})
    assert school_response.status_code == 201
    school_account = create_account(province, level="school", school=SCHOOL)
    assert school_account["name"] == f"sxpt{SCHOOL}001"
    assert activate(app, school_account["name"]).status_code == 200
    school = login(app, clock, school_account["name"])

    department_names = []
    for department in DEPARTMENTS:
        created = school.post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": department})
        assert created.status_code == 201
        account = create_account(school, level="department", department=department)
        department_names.append(account["name"])
        assert account["unit"]["department"] == department
        assert activate(app, account["name"]).status_code == 200
    assert department_names == [f"sxpt{SCHOOL}002", f"sxpt{SCHOOL}003"]

    me = login(app, clock, department_names[1]).get("/api/v1/me").get_json()
    assert me["account"]["name"] == department_names[1]
    assert me["unit"]["name"] == "浙江省 / 东海理工大学 / 外国语学院"
    assert me["allowed_actions"] == ["records:read", "records:upload", "audit:read"]


def test_activation_sms_has_name_and_code(world: World) -> None:
    """The activation SMS names the account and carries a 6-digit code but never a password."""
    sms = last_sms(world.app, account=world.names["dept0"], purpose="activation")
    assert world.names["dept0"] in sms["text"]
    assert sms["code"].isdigit()
    assert len(sms["code"]) == 6
    assert sms["code"] in sms["text"]
    assert PASSWORD not in sms["text"]


def test_no_sms_contains_password(world: World) -> None:
    """No SMS of the whole story contains the password."""
    texts = [sms["text"] for sms in outbox(world.app)]
    assert texts
    assert not [text for text in texts if PASSWORD in text]


def test_me_of_each_level(world: World) -> None:
    """/me names the unit and lists what each level may do."""
    expected = {
        "ministry": ["records:read", "accounts:manage:province", "audit:read"],
        "province": ["records:read", "accounts:manage:school", "audit:read"],
        "school": ["records:read", "records:upload", "records:review", "accounts:manage:school",
                   "accounts:manage:department", "keys:manage", "audit:read"],
    }
    for who, actions in expected.items():
        me = world.client(who).get("/api/v1/me").get_json()
        assert me["kind"] == "account", who
        assert me["unit"]["level"] == who, who
        assert me["allowed_actions"] == actions, who


def test_several_accounts_per_unit(world: World) -> None:
    """A second account of the same department has the same unit and rights as the first."""
    school = world.client("school")
    second = create_account(school, level="department", department=DEPARTMENTS[0])
    assert activate(world.app, second["name"]).status_code == 200
    first_me = world.client("dept0").get("/api/v1/me").get_json()
    second_me = login(world.app, world.clock, second["name"]).get("/api/v1/me").get_json()
    assert second_me["unit"] == first_me["unit"]
    assert second_me["allowed_actions"] == first_me["allowed_actions"]


def test_school_creates_school_account(world: World) -> None:
    """A school user may create a further account of its own school."""
    account = create_account(world.client("school"), level="school")
    assert account["unit"]["school"] == SCHOOL


def test_account_names_never_reused(world: World) -> None:
    """A deleted account's name is not given to the next account of the unit."""
    school = world.client("school")
    deleted = world.names["dept1"]
    assert school.delete(f"/api/v1/accounts/{deleted}").status_code == 204
    again = create_account(school, level="department", department=DEPARTMENTS[1])
    assert again["name"] != deleted


def test_delete_and_recreate(world: World) -> None:
    """The FAQ's path for a lost SMS: the superior deletes the account and creates it again."""
    school = world.client("school")
    pending = create_account(school, level="department", department=DEPARTMENTS[0])
    assert school.delete(f"/api/v1/accounts/{pending['name']}").status_code == 204
    assert school.get(f"/api/v1/accounts/{pending['name']}").status_code == 404

    recreated = create_account(school, level="department", department=DEPARTMENTS[0])
    assert recreated["activation"]["sent"] is True
    assert activate(world.app, recreated["name"]).status_code == 200


def test_resend_activation(world: World) -> None:
    """A resent activation code works and the earlier one does not."""
    school = world.client("school")
    account = create_account(school, level="department", department=DEPARTMENTS[0])
    first_code = last_sms(world.app, account=account["name"], purpose="activation")["code"]
    world.clock.advance(minutes=2)
    resent = school.post(f"/api/v1/accounts/{account['name']}/activation")
    assert resent.status_code == 200
    second_code = last_sms(world.app, account=account["name"], purpose="activation")["code"]

    client = world.app.test_client()
    if first_code != second_code:
        old = client.post("/api/v1/auth/activate",
                          json={"account": account["name"], "code": first_code, "password": PASSWORD})
        assert old.status_code == 400
    new = client.post("/api/v1/auth/activate",
                      json={"account": account["name"], "code": second_code, "password": PASSWORD})
    assert new.status_code == 200


def test_activation_code_valid_72_hours(world: World) -> None:
    """An activation code works within 72 hours and is rejected after them."""
    school = world.client("school")
    late = create_account(school, level="department", department=DEPARTMENTS[0])
    world.clock.advance(minutes=2)
    early = create_account(school, level="department", department=DEPARTMENTS[1])
    world.clock.advance(hours=71, minutes=59)
    assert activate(world.app, early["name"]).status_code == 200
    expired = activate(world.app, late["name"])
    assert expired.status_code == 400
    assert expired.get_json()["code"] == "SXPT-AUTH-CODE-EXPIRED"


def test_weak_password_rejected(world: World) -> None:
    """Activation with a weak password is rejected in Chinese and leaves the code usable."""
    account = create_account(world.client("school"), level="department", department=DEPARTMENTS[0])
    weak = activate(world.app, account["name"], password="abc")
    assert weak.status_code == 422
    assert weak.get_json()["code"] == "SXPT-PASSWORD-WEAK"
    assert "密码" in weak.get_json()["detail"]
    assert activate(world.app, account["name"]).status_code == 200


def test_edit_contact_name(world: World) -> None:
    """A superior edits the contact name of an account below it."""
    response = world.client("school").patch(
        f"/api/v1/accounts/{world.names['dept0']}", json={"contact_name": "周明远"})
    assert response.status_code == 200
    assert response.get_json()["contact_name"] == "周明远"


def test_account_list_masks_phones(world: World) -> None:
    """The account list shows the accounts below and masks phone numbers."""
    accounts = world.client("school").get("/api/v1/accounts").get_json()["accounts"]
    names = {account["name"] for account in accounts}
    assert {world.names["school"], world.names["dept0"], world.names["dept1"]} <= names
    assert world.names["other_school"] not in names
    assert all("****" in account["phone"] for account in accounts)


def test_create_account_for_unknown_department(world: World) -> None:
    """An account for a department that was never registered is rejected."""
    response = world.client("school").post(
        "/api/v1/accounts", json={"level": "department", "department": "不存在学院", "phone": new_phone()})
    assert response.status_code == 404
    assert response.get_json()["code"] == "SXPT-NOT-FOUND"


def test_invalid_phone_rejected(world: World) -> None:
    """An invalid phone number is rejected with a Chinese message naming it."""
    response = world.client("school").post(
        "/api/v1/accounts", json={"level": "department", "department": DEPARTMENTS[0], "phone": "12345"})
    assert response.status_code == 422
    assert "12345" in response.get_json()["detail"]


def test_invalid_school_fields(world: World) -> None:
    """A school with a bad USCC and a city of another province is rejected with both errors."""
    response = world.client("province").post("/api/v1/schools", json={
        "code": "4133010009", "name": "测试学院", "uscc": "91350100M000100Y44", "city": "110100"})
    errors = response.get_json()["errors"]
    assert response.status_code == 422
    assert [error["field"] for error in errors] == ["uscc", "city"]


def test_unknown_province_code(world: World) -> None:
    """A province code that is not in the division table is rejected."""
    response = world.client("ministry").post("/api/v1/provinces", json={"code": "990000"})
    assert response.status_code == 422


def test_duplicate_department(world: World) -> None:
    """Registering a department twice is a conflict."""
    response = world.client("school").post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": DEPARTMENTS[0]})
    assert response.status_code == 409
    assert response.get_json()["code"] == "SXPT-CONFLICT"


def test_organisations_visible_by_scope(world: World) -> None:
    """A department lists its school and its own department, and no other school."""
    dept = world.client("dept0")
    schools = [school["code"] for school in dept.get("/api/v1/schools").get_json()["schools"]]
    departments = dept.get(f"/api/v1/schools/{SCHOOL}/departments").get_json()["departments"]
    assert schools == [SCHOOL]
    assert [department["name"] for department in departments] == [DEPARTMENTS[0]]


def test_duplicate_school_name(world: World) -> None:
    """A second school with the name of a registered school is a conflict."""
    response = world.client("province").post("/api/v1/schools", json={
        "code": "4133010009", "name": f"{SCHOOL_NAME}1", "uscc": "91350100M000300Y4J", "city": CITY})
    assert response.status_code == 409
    assert response.get_json()["code"] == "SXPT-CONFLICT"
    assert "已存在" in response.get_json()["detail"]


def test_duplicate_school_uscc(world: World) -> None:
    """A second school with the USCC of another school is a conflict naming that school."""
    response = world.client("province").post("/api/v1/schools", json={
        "code": "4133010009", "name": "另一所学院", "uscc": SCHOOL_USCC, "city": CITY})
    assert response.status_code == 409
    assert SCHOOL in response.get_json()["detail"]
