"""Login, logout and activation.

Logging in takes two requests, and both need the password: ``POST /auth/code`` checks
it and sends an SMS code to the account's phone, and ``POST /auth/login`` checks the
password and the code and starts a session. The SMS code cannot be switched off.
A new account sets its password with ``POST /auth/activate`` and the activation code
from its SMS, then logs in like everyone else.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Blueprint, Response, g, jsonify

from sxpt_core import auth
from sxpt_server import audit
from sxpt_server.accounts import check_credentials, check_password, set_password
from sxpt_server.api import spec
from sxpt_server.api.common import account_json, read_json, text_field
from sxpt_server.clock import now
from sxpt_server.organisations import field_error, invalid
from sxpt_server.problems import Problem
from sxpt_server.sessions import (
    clear_session_cookie,
    end_request_session,
    login_required,
    set_session_cookie,
    start_session,
)
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, Store, get_store
from sxpt_server.verification import send_code, verify_code

__all__ = ["PATHS", "bp"]

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)


def _check_credentials(store: Store, data: dict[str, Any]) -> Account:
    """Return the account whose name and password the request gives, or raise 401."""
    name = text_field(data, "account", label="账号")
    password = data.get("password")
    if password is not None and not isinstance(password, str):
        raise invalid([field_error("password", "密码（password）须为字符串。", "The member 'password' must be a string.")])
    if not password:
        raise Problem("SXPT-AUTH-CREDENTIALS", "请填写密码。", "The password is missing.")

    assert name is not None
    return check_credentials(store, name, password)


@bp.post("/auth/code")
def send_login_code() -> Response:
    """Check the password and send a login code by SMS."""
    data = read_json({"account", "password"})
    store = get_store()

    account = _check_credentials(store, data)
    send_code(store, account, "login")

    return jsonify({
        "sent": True,
        "phone": mask_phone(account.phone),
        "expires_in": int(auth.CODE_LIFETIME.total_seconds()),
        "resend_after": int(auth.SEND_INTERVAL.total_seconds()),
    })


@bp.post("/auth/login")
def login() -> Response:
    """Check password and SMS code and start a session."""
    data = read_json({"account", "password", "code"})
    store = get_store()

    account = _check_credentials(store, data)
    code = text_field(data, "code", label="短信验证码")
    assert code is not None
    verify_code(store, account, "login", code, failure_event="login_failed")

    if account.password_hash and auth.needs_rehash(account.password_hash):
        password_hash = auth.hash_password(data["password"], salt=secrets.token_bytes(auth.SALT_BYTES))
        store.set_password(account.id, password_hash, now=now())
    session_id = start_session(store, account)
    audit.record(store, "login", actor=account.name, target=account.name, unit=account.unit)

    response = jsonify({
        "account": account_json(store, account),
        "idle_timeout": int(auth.IDLE_TIMEOUT.total_seconds()),
    })
    set_session_cookie(response, session_id)
    return response


@bp.post("/auth/logout")
@login_required()
def logout() -> Response:
    """End the current session."""
    store = get_store()
    account: Account = g.identity.account

    end_request_session(store)
    audit.record(store, "logout", target=account.name, unit=account.unit)

    response = Response(status=204)
    clear_session_cookie(response)
    return response


@bp.post("/auth/activate")
def activate() -> Response:
    """Set the password of an account with the activation code from its SMS."""
    data = read_json({"account", "code", "password"})
    store = get_store()

    name = text_field(data, "account", label="账号")
    code = text_field(data, "code", label="激活码")
    assert name is not None and code is not None
    account = store.get_account_by_name(name)
    if account is None:
        audit.record(store, "activation_failed", reason="unknown_account", account=name[:64])
        raise Problem(
            "SXPT-AUTH-CODE-MISSING", "该账号没有待使用的激活码，请核对账号，或联系上级用户重新发送激活短信。",
            "This account has no pending activation code; check the account name or ask your superior to resend it.")
    password = check_password(data.get("password"), account)

    verify_code(store, account, "activation", code, failure_event="activation_failed")
    set_password(store, account, password, event="account_activated" if not account.active else "password_reset")

    return jsonify({"account": name, "status": "active"})


_CREDENTIALS: dict[str, Any] = {
    "type": "object",
    "required": ["account", "password"],
    "properties": {"account": {"type": "string"}, "password": {"type": "string"}},
}

PATHS: dict[str, Any] = {
    "/api/v1/auth/code": {
        "post": spec.operation(
            "校验密码并发送登录短信验证码", tag="auth", auth=None,
            request_body=spec.body(_CREDENTIALS),
            responses={"200": spec.json_response("已发送", {
                "type": "object",
                "properties": {
                    "sent": {"type": "boolean"}, "phone": {"type": "string"},
                    "expires_in": {"type": "integer"}, "resend_after": {"type": "integer"},
                },
            })},
            problems=("401", "429", "502"),
        ),
    },
    "/api/v1/auth/login": {
        "post": spec.operation(
            "用密码和短信验证码登录", tag="auth", auth=None,
            request_body=spec.body({
                **_CREDENTIALS,
                "required": ["account", "password", "code"],
                "properties": {**_CREDENTIALS["properties"], "code": {"type": "string", "pattern": "^[0-9]{6}$"}},
            }),
            responses={"200": spec.json_response("已登录；会话编号在 Cookie sxpt_session 中", {
                "type": "object",
                "properties": {"account": spec.ref("Account"), "idle_timeout": {"type": "integer"}},
            })},
            problems=("400", "401", "429"),
        ),
    },
    "/api/v1/auth/logout": {
        "post": spec.operation(
            "退出登录", tag="auth", auth="session", responses={"204": spec.no_content("已退出")},
        ),
    },
    "/api/v1/auth/activate": {
        "post": spec.operation(
            "用激活码设置密码", tag="auth", auth=None,
            request_body=spec.body({
                "type": "object",
                "required": ["account", "code", "password"],
                "properties": {"account": {"type": "string"}, "code": {"type": "string"}, "password": {"type": "string"}},
            }),
            responses={"200": spec.json_response("已激活", {
                "type": "object", "properties": {"account": {"type": "string"}, "status": {"type": "string"}},
            })},
            problems=("400", "429"),
        ),
    },
}
