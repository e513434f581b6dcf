"""Accounts: superiors create, edit and delete the accounts one level below them.

Every action on another account is allowed by ``sxpt_core.access.can_manage_account``:
the ministry manages province accounts, a province the accounts of its schools, a school
the accounts of its departments and further accounts of its own school. Creating an
account sends the activation SMS; a superior can resend it, or delete the account and
create it again as the national system makes users do.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, url_for

from sxpt_core import access
from sxpt_server import audit
from sxpt_server.accounts import (
    change_phone,
    check_contact_name,
    check_phone,
    create_account,
    delete_account,
    send_activation,
)
from sxpt_server.api import spec
from sxpt_server.api.common import account_json, read_json, text_field
from sxpt_server.organisations import check_department_name, make_unit
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import Account, get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("accounts", __name__)


def _may_manage(identity: Identity, account: Account) -> bool:
    return access.can_manage_account(identity.unit, account.unit)


def _managed_account(name: str, *, read: bool = False) -> Account:
    """Return the named account if the caller may manage it; raise 404 or 403 otherwise.

    ``read`` words the 403 for a request that only reads the account.
    """
    account = get_store().get_account_by_name(name)
    if account is None:
        raise Problem("SXPT-NOT-FOUND", f"账号 {name} 不存在。", f"Account {name} does not exist.")
    if _may_manage(g.identity, account):
        return account
    if read:
        raise Problem(
            "SXPT-FORBIDDEN", f"无权查看账号 {name}：只能查看本单位和下一级单位的账号。",
            f"You may not view account {name}: only accounts of your unit and one level below.")
    raise Problem(
        "SXPT-FORBIDDEN", f"无权管理账号 {name}：只能管理下一级单位的账号（校级用户还可管理本校账号）。",
        f"You may not manage account {name}: only accounts one level below yours (and, for school users, "
        "other accounts of the same school).")


def _is_self(account: Account) -> bool:
    """Return True when the request comes from ``account`` itself, which alone sees its full phone number."""
    own = g.identity.account
    return own is not None and own.id == account.id


def _create_forbidden() -> Problem:
    return Problem(
        "SXPT-FORBIDDEN", "无权为该单位创建账号：只能为下一级单位创建账号（校级用户还可创建本校账号）。",
        "You may not create accounts for this unit: only for units one level below yours (and, for school "
        "users, for your own school).")


def _unit_from_request(data: dict[str, Any], identity: Identity) -> access.Unit:
    """Build the new account's unit; codes that the request leaves out come from the caller's unit."""
    level = text_field(data, "level", label="级别") or ""
    if level not in {member.value for member in access.Level}:
        return make_unit(level, None, None, None)  # raises the 422 that lists the valid levels
    if not access.can_manage_level(identity.unit, level):
        raise _create_forbidden()
    province = text_field(data, "province", label="省份代码", required=False) or identity.unit.province
    school = text_field(data, "school", label="学校代码", required=False) or identity.unit.school

    if level == "ministry":
        return make_unit(level, None, None, None)
    if level == "province":
        return make_unit(level, province, None, None)
    if level == "school":
        return make_unit(level, province, school, None)
    if level == "department":
        return make_unit(level, province, school, check_department_name(data.get("department")))
    return make_unit(level, province, school, None)


@bp.get("/accounts")
@login_required()
def list_accounts() -> Response:
    """List the caller's own unit's accounts and the accounts it manages."""
    store = get_store()
    identity: Identity = g.identity

    accounts = [
        account for account in store.list_accounts()
        if account.unit == identity.unit or _may_manage(identity, account)
    ]
    return jsonify({"accounts": [account_json(store, account) for account in accounts]})


@bp.post("/accounts")
@login_required()
def create() -> tuple[Response, int, dict[str, str]]:
    """Create an account one level below the caller and send its activation SMS."""
    data = read_json({"level", "province", "school", "department", "phone", "contact_name"})
    store = get_store()
    identity: Identity = g.identity

    unit = _unit_from_request(data, identity)
    if not access.can_manage_account(identity.unit, unit):
        raise _create_forbidden()
    phone = check_phone(data.get("phone"))
    contact_name = check_contact_name(data.get("contact_name"))

    account = create_account(store, unit, phone=phone, contact_name=contact_name, created_by=identity.actor)
    activation = send_activation(store, account)

    document = {**account_json(store, account), "activation": activation}
    return jsonify(document), 201, {"Location": url_for("accounts.get", name=account.name)}


@bp.get("/accounts/<name>")
@login_required()
def get(name: str) -> Response:
    """Describe an account; the phone number is masked as in the lists, unless the account is the caller's own."""
    store = get_store()
    identity: Identity = g.identity

    account = store.get_account_by_name(name)
    if account is not None and account.unit == identity.unit and not _may_manage(identity, account):
        # A colleague of the same unit: visible, but not managed.
        return jsonify(account_json(store, account, full_phone=_is_self(account)))

    account = _managed_account(name, read=True)
    return jsonify(account_json(store, account, full_phone=_is_self(account)))


@bp.patch("/accounts/<name>")
@login_required()
def edit(name: str) -> Response:
    """Change the fields of an account that the request gives; ``contact_name`` is the only editable one."""
    data = read_json({"contact_name"}, hints={"phone": (
        f"更换手机号请使用 PUT /api/v1/accounts/{name}/phone。",
        f"Change the phone number with PUT /api/v1/accounts/{name}/phone.")})
    store = get_store()

    account = _managed_account(name)
    if "contact_name" in data:
        contact_name = check_contact_name(data["contact_name"])
        store.update_contact_name(account.id, contact_name)
        audit.record(store, "account_updated", target=account.name, unit=account.unit, fields=["contact_name"])

    updated = store.get_account(account.id)
    assert updated is not None
    return jsonify(account_json(store, updated, full_phone=_is_self(updated)))


@bp.delete("/accounts/<name>")
@login_required()
def delete(name: str) -> Response:
    """Delete an account with its sessions."""
    store = get_store()

    account = _managed_account(name)
    if g.identity.account is not None and g.identity.account.id == account.id:
        raise Problem("SXPT-FORBIDDEN", "不能删除自己的账号。", "You cannot delete your own account.")
    delete_account(store, account)

    return Response(status=204)


@bp.put("/accounts/<name>/phone")
@login_required()
def set_phone(name: str) -> Response:
    """Bind an account to another phone; its sessions end, and a pending account gets a new activation SMS."""
    data = read_json({"phone"})
    store = get_store()

    account = _managed_account(name)
    if g.identity.account is not None and g.identity.account.id == account.id:
        raise Problem(
            "SXPT-FORBIDDEN", "更换自己的手机号请使用 /api/v1/me/phone，并验证新号码。",
            "Change your own number with /api/v1/me/phone, which verifies the new number.")
    phone = check_phone(data.get("phone"))
    ended = change_phone(store, account, phone, by_superior=True)

    updated = store.get_account(account.id)
    assert updated is not None
    document: dict[str, Any] = {**account_json(store, updated), "sessions_ended": ended}
    if not updated.active:
        document["activation"] = send_activation(store, updated)
    return jsonify(document)


@bp.post("/accounts/<name>/activation")
@login_required()
def resend_activation(name: str) -> Response:
    """Send a new activation code; the old one stops working.

    For an active account the new code lets the user set a new password; the current
    password works until then.
    """
    store = get_store()

    account = _managed_account(name)
    activation = send_activation(store, account)
    if not activation["sent"]:
        extra = {"retry_after": activation["retry_after"]} if "retry_after" in activation else None
        headers = {"Retry-After": str(activation["retry_after"])} if "retry_after" in activation else None
        raise Problem(activation["code"], activation["detail"], activation["detail_en"], extra=extra, headers=headers)

    return jsonify({"account": account.name, "activation": activation})


_NAME = spec.path_parameter("name", "账号名，如 sxpt4133010001001")
_ACCOUNT_WITH_ACTIVATION = {
    "allOf": [spec.ref("Account"), {"type": "object", "properties": {"activation": spec.ref("Activation")}}],
}

PATHS: dict[str, Any] = {
    "/api/v1/accounts": {
        "get": spec.operation(
            "本单位及可管理的账号", tag="accounts", auth="session",
            responses={"200": spec.json_response("账号列表（手机号打码）", {
                "type": "object", "properties": {"accounts": {"type": "array", "items": spec.ref("Account")}},
            })},
        ),
        "post": spec.operation(
            "为下一级单位创建账号并发送激活短信", tag="accounts", auth="session",
            request_body=spec.body({
                "type": "object",
                "required": ["level", "phone"],
                "properties": {
                    "level": {"enum": ["province", "school", "department"]},
                    "province": {"type": "string"},
                    "school": {"type": "string"},
                    "department": {"type": "string"},
                    "phone": {"type": "string"},
                    "contact_name": {"type": "string"},
                },
            }),
            responses={"201": spec.json_response("已创建", _ACCOUNT_WITH_ACTIVATION)},
            problems=("403", "404", "409"),
        ),
    },
    "/api/v1/accounts/{name}": {
        "get": spec.operation(
            "账号详情", tag="accounts", auth="session", parameters=[_NAME],
            responses={"200": spec.json_response("账号", spec.ref("Account"))},
            problems=("403", "404"),
        ),
        "patch": spec.operation(
            "修改账号联系人", tag="accounts", auth="session", parameters=[_NAME],
            request_body=spec.body({"type": "object", "properties": {"contact_name": {"type": ["string", "null"]}}}),
            responses={"200": spec.json_response("已修改", spec.ref("Account"))},
            problems=("403", "404"),
        ),
        "delete": spec.operation(
            "删除账号", tag="accounts", auth="session", parameters=[_NAME],
            responses={"204": spec.no_content("已删除")},
            problems=("403", "404"),
        ),
    },
    "/api/v1/accounts/{name}/phone": {
        "put": spec.operation(
            "更换下级账号的手机号（其会话随之结束）", tag="accounts", auth="session", parameters=[_NAME],
            request_body=spec.body({"type": "object", "required": ["phone"], "properties": {"phone": {"type": "string"}}}),
            responses={"200": spec.json_response("已更换", {
                "allOf": [spec.ref("Account"), {"type": "object", "properties": {
                    "sessions_ended": {"type": "integer"}, "activation": spec.ref("Activation"),
                }}],
            })},
            problems=("403", "404"),
        ),
    },
    "/api/v1/accounts/{name}/activation": {
        "post": spec.operation(
            "重新发送激活短信", tag="accounts", auth="session", parameters=[_NAME],
            responses={"200": spec.json_response("已发送", {
                "type": "object", "properties": {"account": {"type": "string"}, "activation": spec.ref("Activation")},
            })},
            problems=("403", "404", "429", "502"),
        ),
    },
}
