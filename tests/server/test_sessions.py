"""Sessions: idle timeout, several devices, logout, fixation, and the end of sessions on phone or password change."""

from __future__ import annotations

from pathlib import Path

from sxpt_server import create_app
from sxpt_server.store import get_store
from tests.server.support import PASSWORD, Clock, World, last_sms, login, new_phone, request_login_code


def test_idle_timeout_ends_session(world: World) -> None:
    """A session idle for more than 30 minutes is ended with a Chinese message."""
    client = world.client("dept0")
    world.clock.advance(minutes=30, seconds=1)
    response = client.get("/api/v1/me")
    problem = response.get_json()
    assert response.status_code == 401
    assert problem["code"] == "SXPT-AUTH-SESSION-EXPIRED"
    assert problem["detail"] == "超过 30 分钟未操作，已自动退出，请重新登录。"


def test_activity_keeps_session(world: World) -> None:
    """A request every 29 minutes keeps a session alive for hours."""
    client = world.client("dept0")
    statuses = []
    for _ in range(6):
        world.clock.advance(minutes=29)
        statuses.append(client.get("/api/v1/me").status_code)
    assert statuses == [200] * 6


def test_expired_session_stays_ended(world: World) -> None:
    """After the idle timeout the old session does not come back."""
    client = world.client("dept0")
    world.clock.advance(minutes=31)
    client.get("/api/v1/me")
    assert client.get("/api/v1/me").status_code == 401


def test_expired_session_clears_cookie(world: World) -> None:
    """The response that reports an ended session clears the cookie in the browser."""
    client = world.client("dept0")
    world.clock.advance(minutes=31)
    response = client.get("/api/v1/me")
    assert "sxpt_session=;" in response.headers["Set-Cookie"]


def test_several_devices(world: World) -> None:
    """One account is logged in on two devices at once."""
    laptop = world.client("dept0")
    phone = login(world.app, world.clock, world.names["dept0"])
    assert laptop.get("/api/v1/me").status_code == 200
    assert phone.get("/api/v1/me").status_code == 200


def test_superior_phone_change_ends_sessions(world: World) -> None:
    """A superior's change of an account's phone ends every session of that account."""
    name = world.names["dept0"]
    laptop = world.client("dept0")
    phone = login(world.app, world.clock, name)
    new = new_phone()
    response = world.client("school").put(f"/api/v1/accounts/{name}/phone", json={"phone": new})
    assert response.status_code == 200
    assert response.get_json()["sessions_ended"] == 2
    assert laptop.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 401


def test_login_after_phone_change_uses_new_phone(world: World) -> None:
    """After a phone change the login code goes to the new phone."""
    name = world.names["dept0"]
    new = new_phone()
    world.client("school").put(f"/api/v1/accounts/{name}/phone", json={"phone": new})
    login(world.app, world.clock, name)
    assert last_sms(world.app, account=name, purpose="login")["phone"] == new


def test_phone_change_leaves_other_accounts(world: World) -> None:
    """A phone change ends the sessions of that account only."""
    world.client("school").put(f"/api/v1/accounts/{world.names['dept0']}/phone", json={"phone": new_phone()})
    assert world.client("dept1").get("/api/v1/me").status_code == 200


def test_own_phone_change(world: World) -> None:
    """A user changes their own phone after a code to the new number, and every session ends."""
    name = world.names["dept0"]
    client = world.client("dept0")
    other_device = login(world.app, world.clock, name)
    new = new_phone()
    world.clock.advance(seconds=61)
    assert client.post("/api/v1/me/phone/code", json={"phone": new}).status_code == 200
    code = last_sms(world.app, account=name, purpose="phone_change")
    response = client.post("/api/v1/me/phone", json={"phone": new, "code": code["code"], "password": PASSWORD})
    assert code["phone"] == new
    assert response.status_code == 200
    assert response.get_json()["sessions_ended"] == 2
    assert client.get("/api/v1/me").status_code == 401
    assert other_device.get("/api/v1/me").status_code == 401


def test_own_phone_change_needs_password(world: World) -> None:
    """An own phone change with a wrong password is refused and the phone stays."""
    name = world.names["dept0"]
    client = world.client("dept0")
    new = new_phone()
    world.clock.advance(seconds=61)
    client.post("/api/v1/me/phone/code", json={"phone": new})
    code = last_sms(world.app, account=name, purpose="phone_change")["code"]
    response = client.post("/api/v1/me/phone", json={"phone": new, "code": code, "password": "Wrong-pass-99"})
    assert response.status_code == 403
    assert response.get_json()["detail"] == "当前密码错误。"
    assert client.get("/api/v1/me").get_json()["account"]["phone"] != new[:3] + "****" + new[7:]


def test_password_change_ends_sessions(world: World) -> None:
    """Changing one's password ends every session, and the new password logs in."""
    name = world.names["dept0"]
    client = world.client("dept0")
    other_device = login(world.app, world.clock, name)
    new_password = "Qiuji-2026-实习"
    response = client.post("/api/v1/me/password", json={"password": PASSWORD, "new_password": new_password})
    assert response.status_code == 200
    assert other_device.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    assert login(world.app, world.clock, name, password=new_password).get("/api/v1/me").status_code == 200


def test_logout(world: World) -> None:
    """Logout ends this session only."""
    laptop = world.client("dept0")
    phone = login(world.app, world.clock, world.names["dept0"])
    assert laptop.post("/api/v1/auth/logout").status_code == 204
    assert laptop.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 200


def test_new_session_id_at_login(world: World) -> None:
    """A session id planted before login is not the one the login sets, and it is ended."""
    name = world.names["dept0"]
    client = world.client("dept0")
    planted = client.get_cookie("sxpt_session")
    assert planted is not None
    assert request_login_code(world.app, world.clock, client, name).status_code == 200
    code = last_sms(world.app, account=name, purpose="login")["code"]
    client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})
    fresh = client.get_cookie("sxpt_session")
    assert fresh is not None
    assert fresh.value != planted.value

    stale = world.app.test_client()
    stale.set_cookie("sxpt_session", planted.value)
    assert stale.get("/api/v1/me").status_code == 401


def test_session_id_not_stored(world: World) -> None:
    """The database stores a digest of the session id, not the id from the cookie."""
    cookie = world.client("dept0").get_cookie("sxpt_session")
    assert cookie is not None
    with world.app.app_context():
        store = get_store()
        from sxpt_server.sessions import session_digest

        assert store.get_session(cookie.value) is None
        assert store.get_session(session_digest(cookie.value)) is not None


def test_secure_cookie_setting(tmp_path: Path) -> None:
    """SESSION_COOKIE_SECURE adds the Secure flag to the session cookie."""
    clock = Clock()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "NOW": clock, "RATELIMIT_ENABLED": False,
                      "SESSION_COOKIE_SECURE": True})
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    phone = new_phone()
    runner.invoke(args=["create-account", "--level", "ministry", "--phone", phone])
    from tests.server.support import activate, outbox

    name = outbox(app)[-1]["account"]
    activate(app, name)
    client = app.test_client()
    request_login_code(app, clock, client, name)
    code = last_sms(app, account=name, purpose="login")["code"]
    response = client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})
    assert "Secure" in response.headers["Set-Cookie"]


def test_phone_mismatch_keeps_code(world: World) -> None:
    """A confirm with another number than the verified one is refused, audited, and the code still works."""
    name = world.names["dept0"]
    client = world.client("dept0")
    new = new_phone()
    world.clock.advance(seconds=61)
    assert client.post("/api/v1/me/phone/code", json={"phone": new}).status_code == 200
    code = last_sms(world.app, account=name, purpose="phone_change")["code"]
    wrong = client.post("/api/v1/me/phone", json={"phone": new_phone(), "code": code, "password": PASSWORD})
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "phone"
    with world.app.app_context():
        reasons = [entry.detail.get("reason") for entry in get_store().iter_audit()
                   if entry.event == "phone_change_failed" and entry.target == name]
    assert "phone_mismatch" in reasons
    right = client.post("/api/v1/me/phone", json={"phone": new, "code": code, "password": PASSWORD})
    assert right.status_code == 200, right.get_json()


def test_phone_bound_once(world: World) -> None:
    """A phone bound to one account cannot be bound to another, in any written form."""
    with world.app.app_context():
        taken = get_store().get_account_by_name(world.names["dept1"]).phone
    school = world.client("school")
    for form in (taken, f"+86 {taken[:3]} {taken[3:7]} {taken[7:]}",
                 "".join(chr(ord(char) + 0xFEE0) for char in taken)):
        created = school.post("/api/v1/accounts", json={"level": "department", "department": "机械工程学院",
                                                         "phone": form})
        assert created.status_code == 409, form
        assert "已绑定其他账号" in created.get_json()["detail"]
    moved = school.put(f"/api/v1/accounts/{world.names['dept0']}/phone", json={"phone": taken})
    assert moved.status_code == 409
    world.clock.advance(seconds=61)
    own = world.client("dept0").post("/api/v1/me/phone/code", json={"phone": taken})
    assert own.status_code == 409
