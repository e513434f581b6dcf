"""The school's review queue, and review actions on one record or many at once."""

from __future__ import annotations

from typing import Any

import attrs
from flask import Blueprint, Response, g, jsonify

from sxpt_core import access
from sxpt_core.review import Action, RecordState
from sxpt_server import records as service
from sxpt_server.api import spec
from sxpt_server.api.batches import request_lang
from sxpt_server.api.common import read_json
from sxpt_server.api.records import FILTERS, PAGING, RECORD_SCHEMA, record_filter, record_json, unit_checks_of
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("review", __name__)

REVIEW_ACTIONS = {
    "approve": Action.APPROVE,
    "return": Action.RETURN,
    "approve_delete": Action.APPROVE_DELETE,
    "reject_delete": Action.REJECT_DELETE,
}


def _require_reviewer(identity: Identity) -> None:
    if not access.can_review(identity.unit, school=identity.unit.school or ""):
        raise Problem("SXPT-FORBIDDEN", "只有校级用户可以审核记录。", "Only school-level users review records.")


@bp.get("/review")
@login_required()
def queue() -> Response:
    """List the records waiting for the school's review; ``delete_requested=true`` lists deletion requests."""
    store = get_store()
    identity: Identity = g.identity
    _require_reviewer(identity)
    query = record_filter()
    if not query.states and query.delete_requested is None:
        query = attrs.evolve(query, states=(RecordState.AWAITING_REVIEW.value,))
    records = store.list_records(query)
    lang = request_lang()
    checks = unit_checks_of(store, records)
    return jsonify({
        "records": [record_json(store, record, identity.unit, lang, checks=checks) for record in records],
        "next_after": records[-1].id if len(records) == query.limit else None,
        "total": store.count_records(query),
    })


@bp.post("/review")
@login_required()
def review() -> Response:
    """Approve or return records, or decide deletion requests; every record or none is changed."""
    data = read_json({"action", "records", "reason"})
    store = get_store()
    identity: Identity = g.identity
    _require_reviewer(identity)
    requested = data.get("action")
    action = REVIEW_ACTIONS.get(requested) if isinstance(requested, str) else None
    if action is None:
        raise Problem("SXPT-VALIDATION", f"action 须为 {'、'.join(REVIEW_ACTIONS)} 之一。",
                      f"action must be one of {', '.join(REVIEW_ACTIONS)}.")
    ids = data.get("records")
    if (not isinstance(ids, list) or not ids or len(ids) > service.MAX_REVIEW_RECORDS
            or not all(isinstance(item, int) and not isinstance(item, bool) for item in ids)):
        raise Problem("SXPT-VALIDATION", f"records 须为 1 至 {service.MAX_REVIEW_RECORDS} 个记录编号的数组。",
                      f"records must be an array of 1 to {service.MAX_REVIEW_RECORDS} record ids.")
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise Problem("SXPT-VALIDATION", "reason 须为字符串。", "reason must be a string.")
    reviewed = service.apply_review(store, actor=identity.unit, action=action, record_ids=ids,
                                    reason=reason.strip() if reason else None, now=now())
    return jsonify({"action": data["action"], "records": [record.id for record in reviewed]})


PATHS: dict[str, Any] = {
    "/api/v1/review": {
        "get": spec.operation(
            "审核队列（校级用户）：默认列出待审核的记录", tag="review", auth="session",
            parameters=[*FILTERS, *PAGING],
            responses={"200": spec.json_response("待审核记录", {"type": "object", "properties": {
                "records": {"type": "array", "items": RECORD_SCHEMA}, "total": {"type": "integer"},
                "next_after": {"type": ["integer", "null"]}}})},
            problems=("403", "422"),
        ),
        "post": spec.operation(
            "审核通过、退回（须写理由），或审核删除申请；一次最多 1000 条，全部成功或全部不变", tag="review",
            auth="session",
            request_body=spec.body({"type": "object", "required": ["action", "records"], "properties": {
                "action": {"enum": list(REVIEW_ACTIONS)},
                "records": {"type": "array", "items": {"type": "integer"}, "maxItems": service.MAX_REVIEW_RECORDS},
                "reason": {"type": "string", "maxLength": 500}}}),
            responses={"200": spec.json_response("已处理的记录编号", {"type": "object"})},
            problems=("403", "404", "409"),
        ),
    },
}
