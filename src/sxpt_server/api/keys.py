"""API keys for a school's own systems, issued by school-level users.

A key is scoped to the school or to one of its departments, is shown once when it is
issued, and is stored only as a digest. It expires after the number of days chosen at
issue (``API_KEY_DEFAULT_DAYS``, at most ``API_KEY_MAX_DAYS``) and can be revoked at
any time. A program sends it as ``Authorization: Bearer sxpt_…``.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify

from sxpt_core import access
from sxpt_server import audit
from sxpt_server.api import spec
from sxpt_server.api.common import api_key_json, iso, read_json, text_field
from sxpt_server.clock import now
from sxpt_server.keys import issue_api_key
from sxpt_server.organisations import check_department_name, field_error, invalid, unit_exists
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import ApiKey, get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("keys", __name__)

LABEL_MAX_LENGTH = 100


def _forbidden() -> Problem:
    return Problem(
        "SXPT-FORBIDDEN", "只有校级用户可以管理 API 密钥，且范围限于本校或本校的一个院系。",
        "Only school-level users manage API keys, scoped to their school or one of its departments.")


def _lifetime_days(data: dict[str, Any]) -> int:
    maximum = int(current_app.config["API_KEY_MAX_DAYS"])
    # A school that lowers the maximum need not lower the default as well.
    days = data.get("expires_in_days", min(int(current_app.config["API_KEY_DEFAULT_DAYS"]), maximum))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= maximum:
        raise invalid([field_error(
            "expires_in_days", f"有效天数须为 1 至 {maximum} 之间的整数。",
            f"expires_in_days must be a whole number from 1 to {maximum}.")])
    return days


@bp.get("/keys")
@login_required()
def list_keys() -> Response:
    """List the API keys of the caller's school (school users)."""
    store = get_store()
    identity: Identity = g.identity

    if not access.can_manage_api_keys(identity.unit, identity.unit):
        raise _forbidden()
    keys = [key for key in store.list_api_keys(identity.unit.school or "")
            if access.can_manage_api_keys(identity.unit, key.unit)]

    return jsonify({"keys": [api_key_json(store, key) for key in keys]})


@bp.post("/keys")
@login_required()
def issue() -> tuple[Response, int]:
    """Issue a key for the caller's school or one of its departments; the key is in this response only."""
    data = read_json({"label", "department", "expires_in_days"})
    store = get_store()
    identity: Identity = g.identity

    # A school-scoped key is the widest that a unit may issue, so this check decides
    # whether the caller may issue keys at all.
    if not access.can_manage_api_keys(identity.unit, identity.unit):
        raise _forbidden()
    scope = identity.unit
    if data.get("department") is not None:
        department = check_department_name(data.get("department"))
        scope = access.Unit.for_department(identity.unit.province or "", identity.unit.school or "", department)
    if not access.can_manage_api_keys(identity.unit, scope):
        raise _forbidden()
    if not unit_exists(store, scope):
        raise Problem("SXPT-NOT-FOUND", f"院系“{scope.department}”不存在。", f"Department {scope.department!r} does not exist.")

    label = text_field(data, "label", label="用途说明")
    assert label is not None
    if len(label) > LABEL_MAX_LENGTH:
        raise invalid([field_error(
            "label", f"用途说明不能超过 {LABEL_MAX_LENGTH} 个字符。",
            f"The label must not be longer than {LABEL_MAX_LENGTH} characters.")])
    days = _lifetime_days(data)

    moment = now()
    key, stored = issue_api_key(store, label, scope, identity.actor, moment,
                                moment + datetime.timedelta(days=days))
    audit.record(store, "key_created", target=stored.prefix, unit=scope, label=label, expires_at=iso(stored.expires_at))

    return jsonify({**api_key_json(store, stored), "key": key}), 201


def _managed_key(prefix: str) -> ApiKey:
    key = get_store().get_api_key(prefix)
    if key is None:
        raise Problem("SXPT-NOT-FOUND", f"API 密钥 {prefix} 不存在。", f"API key {prefix} does not exist.")
    if not access.can_manage_api_keys(g.identity.unit, key.unit):
        raise _forbidden()
    return key


@bp.delete("/keys/<prefix>")
@login_required()
def revoke(prefix: str) -> Response:
    """Revoke a key; requests with it are rejected from now on."""
    store = get_store()

    key = _managed_key(prefix)
    if key.revoked_at is None:
        store.revoke_api_key(prefix, now=now())
        audit.record(store, "key_revoked", target=prefix, unit=key.unit)

    return Response(status=204)


PATHS: dict[str, Any] = {
    "/api/v1/keys": {
        "get": spec.operation(
            "本校的 API 密钥（校级用户）", tag="keys", auth="session",
            responses={"200": spec.json_response("密钥列表，不含密钥本身", {
                "type": "object", "properties": {"keys": {"type": "array", "items": spec.ref("ApiKey")}},
            })},
            problems=("403",),
        ),
        "post": spec.operation(
            "签发 API 密钥（密钥只在此响应中出现一次）", tag="keys", auth="session",
            request_body=spec.body({
                "type": "object",
                "required": ["label"],
                "properties": {
                    "label": {"type": "string"},
                    "department": {"type": "string", "description": "省略时范围为全校"},
                    "expires_in_days": {"type": "integer", "minimum": 1},
                },
            }),
            responses={"201": spec.json_response("已签发", {
                "allOf": [spec.ref("ApiKey"), {"type": "object", "properties": {"key": {"type": "string"}}}],
            })},
            problems=("403", "404"),
        ),
    },
    "/api/v1/keys/{prefix}": {
        "delete": spec.operation(
            "吊销 API 密钥", tag="keys", auth="session",
            parameters=[spec.path_parameter("prefix", "密钥前缀")],
            responses={"204": spec.no_content("已吊销")},
            problems=("403", "404"),
        ),
    },
}
