"""The logged-in account itself: who it is, what it may do, its password and its phone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify

from sxpt_core import auth
from sxpt_server import audit
from sxpt_server.accounts import change_phone, check_password, check_phone, check_phone_free, set_password
from sxpt_server.api import spec
from sxpt_server.api.common import account_json, api_key_json, read_json, unit_json
from sxpt_server.organisations import field_error, invalid
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, clear_session_cookie, login_required
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, Store, get_store
from sxpt_server.verification import send_code, verify_code

__all__ = ["PATHS", "bp"]

bp = Blueprint("me", __name__)


def _require_password(store: Store, account: Account, data: dict[str, Any], event: str) -> None:
    """Raise 403 unless ``data["password"]`` is the account's current password.

    Not 401: the session is still valid, and clients treat 401 as a logout.
    """
    password = data.get("password")
    if isinstance(password, str) and account.password_hash and auth.verify_password(password, account.password_hash):
        return
    audit.record(store, event, target=account.name, unit=account.unit, reason="password")
    raise Problem("SXPT-AUTH-PASSWORD-WRONG", "当前密码错误。", "The current password is wrong.")


@bp.get("/me")
@login_required(api_key=True)
def me() -> Response:
    """Say who makes the request and what its unit may do."""
    store = get_store()
    identity: Identity = g.identity

    document: dict[str, Any] = {
        "kind": "account" if identity.account else "api_key",
        "unit": unit_json(store, identity.unit),
        "allowed_actions": identity.allowed_actions(),
    }
    if identity.account is not None:
        document["account"] = account_json(store, identity.account)
        document["idle_timeout"] = int(auth.IDLE_TIMEOUT.total_seconds())
    if identity.api_key is not None:
        document["api_key"] = api_key_json(store, identity.api_key)
    return jsonify(document)


@bp.post("/me/password")
@login_required()
def change_password() -> Response:
    """Change one's own password; every session of the account ends, this one too."""
    data = read_json({"password", "new_password"})
    store = get_store()
    account: Account = g.identity.account

    _require_password(store, account, data, "password_change_failed")
    new_password = check_password(data.get("new_password"), account, field="new_password")
    if new_password == data.get("password"):
        raise invalid([field_error(
            "new_password", "新密码与当前密码相同，请设定另一个密码。",
            "The new password is the current one; choose another password.")])
    ended = set_password(store, account, new_password, event="password_changed")

    response = jsonify({"sessions_ended": ended})
    clear_session_cookie(response)
    return response


@bp.post("/me/phone/code")
@login_required()
def send_phone_code() -> Response:
    """Send a code to the new phone number, to prove that the user has that phone."""
    data = read_json({"phone"})
    store = get_store()
    account: Account = g.identity.account

    phone = check_phone(data.get("phone"))
    if phone == account.phone:
        raise invalid([field_error("phone", "新手机号与当前绑定的手机号相同。", "The new number is the current one.")])
    check_phone_free(store, phone, account_id=account.id)
    send_code(store, account, "phone_change", phone=phone)

    return jsonify({"sent": True, "phone": mask_phone(phone), "expires_in": int(auth.CODE_LIFETIME.total_seconds())})


@bp.post("/me/phone")
@login_required()
def confirm_phone() -> Response:
    """Bind the account to the new phone; every session of the account ends, this one too."""
    data = read_json({"phone", "password", "code"})
    store = get_store()
    account: Account = g.identity.account

    phone = check_phone(data.get("phone"))
    _require_password(store, account, data, "phone_change_failed")
    code = data.get("code")
    if not isinstance(code, str) or not code.strip():
        raise invalid([field_error("code", "请填写发到新手机号的验证码。", "The code sent to the new number is missing.")])
    verify_code(store, account, "phone_change", code, failure_event="phone_change_failed", phone=phone)
    ended = change_phone(store, account, phone, by_superior=False)

    response = jsonify({"phone": mask_phone(phone), "sessions_ended": ended})
    clear_session_cookie(response)
    return response


PATHS: dict[str, Any] = {
    "/api/v1/me": {
        "get": spec.operation(
            "当前账号或 API 密钥的身份与可执行的操作", tag="me", auth="key",
            responses={"200": spec.json_response("身份", {
                "type": "object",
                "required": ["kind", "unit", "allowed_actions"],
                "properties": {
                    "kind": {"enum": ["account", "api_key"]},
                    "unit": spec.ref("Unit"),
                    "allowed_actions": {"type": "array", "items": {"type": "string"}},
                    "account": spec.ref("Account"),
                    "api_key": spec.ref("ApiKey"),
                    "idle_timeout": {"type": "integer"},
                },
            })},
        ),
    },
    "/api/v1/me/password": {
        "post": spec.operation(
            "修改自己的密码（所有会话随之结束）", tag="me", auth="session",
            request_body=spec.body({
                "type": "object",
                "required": ["password", "new_password"],
                "properties": {"password": {"type": "string"}, "new_password": {"type": "string"}},
            }),
            responses={"200": spec.json_response("已修改", {
                "type": "object", "properties": {"sessions_ended": {"type": "integer"}},
            })},
            problems=("403",),
        ),
    },
    "/api/v1/me/phone/code": {
        "post": spec.operation(
            "向新手机号发送验证码", tag="me", auth="session",
            request_body=spec.body({
                "type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}},
            }),
            responses={"200": spec.json_response("已发送", {"type": "object"})},
            problems=("429", "502"),
        ),
    },
    "/api/v1/me/phone": {
        "post": spec.operation(
            "验证后更换自己的手机号（所有会话随之结束）", tag="me", auth="session",
            request_body=spec.body({
                "type": "object",
                "required": ["phone", "code", "password"],
                "properties": {"phone": {"type": "string"}, "code": {"type": "string"}, "password": {"type": "string"}},
            }),
            responses={"200": spec.json_response("已更换", {
                "type": "object",
                "properties": {"phone": {"type": "string"}, "sessions_ended": {"type": "integer"}},
            })},
            problems=("400", "403"),
        ),
    },
}
