"""Reading the audit log: an account reads the entries about its own unit and the units below it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sxpt_core import access
from sxpt_server.api import spec
from sxpt_server.api.common import iso, unit_json
from sxpt_server.organisations import field_error, invalid
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import AuditEntry, Store, get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("audit", __name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def _int_argument(name: str, default: int | None, *, minimum: int, maximum: int | None = None) -> int | None:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < minimum or (maximum is not None and int(text) > maximum):
        upper = f"至 {maximum} " if maximum is not None else ""
        upper_en = f" to {maximum}" if maximum is not None else " or more"
        raise invalid([field_error(
            name, f"参数 {name} 须为 {minimum} {upper}之间的整数。", f"{name} must be a whole number from {minimum}{upper_en}.")])
    return int(text)


def _entry_json(store: Store, entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "event": entry.event,
        "actor": entry.actor,
        "ip": entry.ip,
        "request_id": entry.request_id,
        "target": entry.target,
        "unit": unit_json(store, entry.unit) if entry.unit else None,
        "detail": entry.detail,
    }


@bp.get("/audit")
@login_required()
def list_entries() -> Response:
    """List audit entries that the caller may read, newest first, a page at a time."""
    store = get_store()
    identity: Identity = g.identity

    limit = _int_argument("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    before = _int_argument("before", None, minimum=1)
    assert limit is not None

    # Entries without a unit (an unknown account name, an unknown API key) are about
    # the whole system, so only the ministry reads them.
    entries = []
    for entry in store.iter_audit(before_id=before):
        if access.can_view_audit(identity.unit, entry.unit or access.Unit.ministry()):
            entries.append(entry)
            if len(entries) == limit:
                break

    next_before = entries[-1].id if len(entries) == limit else None
    return jsonify({"entries": [_entry_json(store, entry) for entry in entries], "next_before": next_before})


PATHS: dict[str, Any] = {
    "/api/v1/audit": {
        "get": spec.operation(
            "审计日志（本单位及下级单位），按时间倒序", tag="audit", auth="session",
            parameters=[
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
                {"name": "before", "in": "query", "required": False, "description": "只返回编号小于此值的条目",
                 "schema": {"type": "integer", "minimum": 1}},
            ],
            responses={"200": spec.json_response("审计条目", {
                "type": "object",
                "properties": {
                    "entries": {"type": "array", "items": spec.ref("AuditEntry")},
                    "next_before": {"type": ["integer", "null"]},
                },
            })},
            problems=("422",),
        ),
    },
}
