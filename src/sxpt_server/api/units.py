"""Unit checks (实习单位校验): the verification of the host organisations that a school's records name.

School-level and department-level users (and their API keys) list the checks of the
units that their live records name; a department lists only the units of its own
department's records. A school-level user may send a failed check back to the queue,
for example after the unit's registration was corrected. The worker then verifies it
again, and the records that name the unit wait (待校验) until it has. One check serves
every school whose records name the same code and name, so their records wait as well.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sxpt_core import access
from sxpt_core.codes import uscc
from sxpt_core.review import UnitCheckState
from sxpt_server import audit
from sxpt_server.api import spec
from sxpt_server.api.common import iso
from sxpt_server.checks import refresh_unit_states
from sxpt_server.clock import now
from sxpt_server.organisations import field_error, invalid
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import get_store
from sxpt_server.store.records import UnitCheck

__all__ = ["PATHS", "bp"]

bp = Blueprint("units", __name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
STATES = tuple(state.value for state in UnitCheckState)


def _check_json(check: UnitCheck, records: int | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": check.id,
        "unit_code": check.unit_code,
        "unit_name": check.unit_name,
        "state": check.state,
        "reason": check.reason,
        "reason_en": check.reason_en,
        "verifier": check.verifier,
        "attempts": check.attempts,
        "last_error": check.last_error,
        "next_attempt_at": iso(check.next_attempt_at) if check.state == UnitCheckState.UNCHECKED.value else None,
        "created_at": iso(check.created_at),
        "checked_at": iso(check.checked_at),
    }
    if records is not None:
        document["records"] = records
    return document


def _int_argument(name: str, default: int | None, *, minimum: int, maximum: int | None = None) -> int | None:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < minimum or (maximum is not None and int(text) > maximum):
        upper = f"至 {maximum} " if maximum is not None else "或以上"
        upper_en = f" to {maximum}" if maximum is not None else " or more"
        raise invalid([field_error(
            name, f"参数 {name} 须为 {minimum} {upper}的整数。", f"{name} must be a whole number from {minimum}{upper_en}.")])
    return int(text)


def _state_argument() -> str | None:
    state = request.args.get("state")
    if state is None:
        return None
    if state not in STATES:
        raise invalid([field_error(
            "state", f"参数 state 须为 {'、'.join(STATES)} 之一。", f"state must be one of {', '.join(STATES)}.")])
    return state


def _code_argument() -> str | None:
    code = request.args.get("code")
    if code is None or not code.strip():
        return None
    return uscc.compact(code)


@bp.get("/unit-checks")
@login_required(api_key=True)
def list_checks() -> Response:
    """List the checks of the units that the caller's records name, in ascending id order."""
    store = get_store()
    identity: Identity = g.identity
    unit = identity.unit

    if unit.level not in (access.Level.SCHOOL, access.Level.DEPARTMENT) or unit.school is None:
        raise Problem(
            "SXPT-FORBIDDEN", "只有校级和院系级用户可以查看实习单位校验。",
            "Only school-level and department-level users can list unit checks.")
    state = _state_argument()
    code = _code_argument()
    after = _int_argument("after", None, minimum=0)
    limit = _int_argument("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    assert limit is not None

    uses = store.list_school_unit_checks(
        unit.school, department=unit.department, state=state, unit_code=code, after_id=after, limit=limit)

    next_after = uses[-1].check.id if len(uses) == limit else None
    return jsonify({"checks": [_check_json(use.check, use.records) for use in uses], "next_after": next_after})


@bp.post("/unit-checks/<int:check_id>/retry")
@login_required()
def retry(check_id: int) -> Response:
    """Send a failed check back to the queue so that the worker verifies the unit again (school users)."""
    store = get_store()
    identity: Identity = g.identity
    school = identity.unit.school or ""

    if not access.can_review(identity.unit, school=school):
        raise Problem(
            "SXPT-FORBIDDEN", "只有校级用户可以要求重新校验实习单位。",
            "Only school-level users can ask for a unit to be verified again.")
    check = store.get_unit_check(check_id)
    # A check that no record of the school names is reported as missing, so that a
    # school cannot learn which units other schools use.
    if check is None or not store.unit_check_used_by(check_id, school=school):
        raise Problem("SXPT-NOT-FOUND", f"本校记录中没有编号为 {check_id} 的实习单位校验。",
                      f"No record of your school uses unit check {check_id}.")

    if check.state == UnitCheckState.PASSED.value:
        raise Problem("SXPT-STATE-CONFLICT", "该实习单位已校验通过，无需重新校验。",
                      "The unit has passed verification already; there is nothing to retry.")
    if check.state == UnitCheckState.UNCHECKED.value:
        # Already queued: asking again changes nothing.
        return jsonify({**_check_json(check), "requeued": False})

    moment = now()
    with store.transaction():
        store.reset_unit_check(check_id, now=moment)
        refresh_unit_states(store, [(check.unit_code, check.unit_name)], now=moment)
        audit.record(store, "unit_check_retried", target=check.unit_code, unit=identity.unit, check=check_id,
                     code=check.unit_code, previous_state=check.state)
    updated = store.get_unit_check(check_id)
    assert updated is not None
    return jsonify({**_check_json(updated), "requeued": True})


_NULLABLE_STRING = {"type": ["string", "null"]}

_CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "unit_code": {"type": "string", "description": "统一社会信用代码"},
        "unit_name": {"type": "string", "description": "单位名称"},
        "state": {"enum": list(STATES)},
        "reason": {**_NULLABLE_STRING, "description": "校验不通过的原因"},
        "verifier": {**_NULLABLE_STRING, "description": "给出结果的校验方式：code、directory 或 http"},
        "attempts": {"type": "integer", "description": "校验服务暂不可用而失败的次数"},
        "last_error": {**_NULLABLE_STRING, "description": "最近一次失败的原因（英文）"},
        "next_attempt_at": {**_NULLABLE_STRING, "description": "未校验时下次尝试的时间"},
        "created_at": {"type": "string", "format": "date-time"},
        "checked_at": _NULLABLE_STRING,
        "records": {"type": "integer", "description": "本校（院系用户为本院系）使用该单位的记录数"},
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/unit-checks": {
        "get": spec.operation(
            "本校记录所用实习单位的校验（校级、院系级用户），按编号升序", tag="units", auth="key",
            parameters=[
                {"name": "state", "in": "query", "required": False, "schema": {"enum": list(STATES)}},
                {"name": "code", "in": "query", "required": False, "description": "统一社会信用代码",
                 "schema": {"type": "string"}},
                {"name": "after", "in": "query", "required": False, "description": "只返回编号大于此值的校验",
                 "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            ],
            responses={"200": spec.json_response("实习单位校验", {
                "type": "object",
                "properties": {
                    "checks": {"type": "array", "items": _CHECK_SCHEMA},
                    "next_after": {"type": ["integer", "null"]},
                },
            })},
            problems=("403", "422"),
        ),
    },
    "/api/v1/unit-checks/{check_id}/retry": {
        "post": spec.operation(
            "重新校验不通过的实习单位（校级用户）", tag="units", auth="session",
            parameters=[{"name": "check_id", "in": "path", "required": True, "description": "校验编号",
                         "schema": {"type": "integer"}}],
            responses={"200": spec.json_response("已重新排队，或本来就在等待校验（requeued 为 false）", {
                "allOf": [_CHECK_SCHEMA, {"type": "object", "properties": {"requeued": {"type": "boolean"}}}],
            })},
            problems=("403", "404", "409"),
        ),
    },
}
