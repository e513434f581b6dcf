"""Request bodies: unknown members, partial updates, field types and level checks."""

from __future__ import annotations

from flask.testing import FlaskCliRunner

from tests.server.support import PASSWORD, SCHOOL, World, new_phone


def test_patch_keeps_contact_name(world: World) -> None:
    """A PATCH without contact_name leaves it unchanged."""
    client = world.client("school")
    url = f"/api/v1/accounts/{world.names['dept0']}"
    assert client.patch(url, json={"contact_name": "周明远"}).status_code == 200
    response = client.patch(url, json={})
    assert response.status_code == 200
    assert response.get_json()["contact_name"] == "周明远"


def test_patch_phone_points_to_phone_route(world: World) -> None:
    """A PATCH with phone is a 422 naming the field and the route that changes it."""
    client = world.client("school")
    url = f"/api/v1/accounts/{world.names['dept0']}"
    assert client.patch(url, json={"contact_name": "周明远"}).status_code == 200
    response = client.patch(url, json={"phone": new_phone()})
    document = response.get_json()
    assert response.status_code == 422
    assert document["errors"][0]["field"] == "phone"
    assert f"PUT /api/v1/accounts/{world.names['dept0']}/phone" in document["detail"]
    assert client.get(url).get_json()["contact_name"] == "周明远"


def test_issue_key_rejects_unknown_member(world: World) -> None:
    """POST /keys with a school member is rejected instead of issuing a key for the caller's school."""
    client = world.client("school")
    response = client.post("/api/v1/keys", json={"label": "夜间上传", "school": "4133010002"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "school"
    assert "school" in response.get_json()["detail"]
    assert client.get("/api/v1/keys").get_json()["keys"] == []


def test_login_rejects_unknown_member(world: World) -> None:
    """Unknown members are rejected on routes without a session too."""
    response = world.app.test_client().post(
        "/api/v1/auth/code", json={"account": world.names["dept0"], "password": "x", "remember": True})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "remember"


def test_number_for_text_is_wrong_type(world: World) -> None:
    """A JSON number where text is expected says the type is wrong, not that it is missing."""
    response = world.client("school").post(
        "/api/v1/accounts", json={"level": "department", "department": "机械工程学院", "phone": 13800138000})
    assert response.status_code == 422
    assert "须为字符串" in response.get_json()["detail"]
    assert "请填写" not in response.get_json()["detail"]


def test_ministry_school_account_forbidden(world: World) -> None:
    """The ministry creating a school account gets the same 403 as a province creating a department account."""
    from_ministry = world.client("ministry").post(
        "/api/v1/accounts", json={"level": "school", "school": SCHOOL, "phone": new_phone()})
    from_province = world.client("province").post(
        "/api/v1/accounts", json={"level": "department", "school": SCHOOL, "department": "机械工程学院",
                                  "phone": new_phone()})
    assert from_ministry.status_code == 403
    assert from_province.status_code == 403
    assert from_ministry.get_json()["detail"] == from_province.get_json()["detail"]
    assert "只能为下一级单位创建账号" in from_ministry.get_json()["detail"]


def test_cli_province_without_code(runner: FlaskCliRunner) -> None:
    """create-account --level province without --province names the missing option."""
    result = runner.invoke(args=["create-account", "--level", "province", "--phone", new_phone()])
    assert result.exit_code != 0
    assert "--province" in result.output
    assert "None" not in result.output


def test_new_password_same_as_current(world: World) -> None:
    """POST /me/password with the current password as the new one is a 422."""
    response = world.client("dept0").post(
        "/api/v1/me/password", json={"password": PASSWORD, "new_password": PASSWORD})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "new_password"


def test_account_phone_masked_for_superior(world: World) -> None:
    """GET /accounts/{name} and the create response mask the phone, except for the account itself."""
    school = world.client("school")
    phone = new_phone()
    created = school.post("/api/v1/accounts", json={"level": "department", "department": "外国语学院",
                                                    "phone": phone})
    masked = phone[:3] + "****" + phone[7:]
    assert created.get_json()["phone"] == masked
    assert school.get(f"/api/v1/accounts/{created.get_json()['name']}").get_json()["phone"] == masked
    own = world.client("dept0").get(f"/api/v1/accounts/{world.names['dept0']}").get_json()
    assert "****" not in own["phone"]


def test_read_refused_says_view(world: World) -> None:
    """A refused read gives 无权查看, not 无权管理."""
    response = world.client("school").get(f"/api/v1/accounts/{world.names['other_school']}")
    assert response.status_code == 403
    assert response.get_json()["detail"].startswith("无权查看")


def test_resend_too_soon_has_retry_after(world: World) -> None:
    """A resend within a minute of the activation SMS gives retry_after in the body."""
    school = world.client("school")
    created = school.post("/api/v1/accounts", json={"level": "department", "department": "外国语学院",
                                                    "phone": new_phone()})
    name = created.get_json()["name"]
    response = school.post(f"/api/v1/accounts/{name}/activation")
    assert response.status_code == 429
    assert 1 <= response.get_json()["retry_after"] <= 60
