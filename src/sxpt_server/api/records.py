"""Stored records: list with filters, read, edit, delete, versions and reviewer exceptions.

Departments and schools read their records in every state, with the current version;
provinces and the ministry read approved versions only (``sxpt_core.access``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sxpt_core import access
from sxpt_core import records as core_records
from sxpt_core.io.table import column_letter
from sxpt_core.models import Issue
from sxpt_core.review import UNIT_VERIFY_FAILED, RecordState, UnitCheckState
from sxpt_core.templates import get_template
from sxpt_server import records as service
from sxpt_server.api import spec
from sxpt_server.api.batches import identity_school, request_lang
from sxpt_server.api.common import iso, read_json, text_field
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import Store, get_store
from sxpt_server.store.records import RecordFilter, StoredRecord, UnitCheck

__all__ = ["PATHS", "bp", "record_filter", "record_json"]

bp = Blueprint("records", __name__)

MAX_LIMIT = 500
UNIT_CODE_HEADER = "实习单位统一社会信用代码"
# The column of the unit code in the template layout, where a failed unit check is shown.
UNIT_CODE_COLUMN = column_letter([column.header for column in get_template("records")].index(UNIT_CODE_HEADER))
STATES = [state.value for state in RecordState]


def _reads_approved(unit: access.Unit) -> bool:
    return unit.level in (access.Level.MINISTRY, access.Level.PROVINCE)


def unit_checks_of(store: Store, records: list[StoredRecord]) -> dict[tuple[str, str], UnitCheck]:
    """Return the unit checks of a page of records, in one query."""
    return store.unit_checks_for((record.unit_code, record.unit_name) for record in records)


def _unit_issue(check: UnitCheck | None, lang: str) -> list[dict[str, Any]]:
    """Show a failed unit verification as an issue of the record, at the unit code's column."""
    if check is None or check.state != UnitCheckState.FAILED.value:
        return []
    reason = (check.reason_en or check.reason) if lang == "en" else check.reason
    issue = Issue.from_finding(UNIT_VERIFY_FAILED(reason=reason or ""), sheet=None, row=None, column=UNIT_CODE_COLUMN,
                               field=UNIT_CODE_HEADER, value=check.unit_code)
    return [{key: value for key, value in issue.to_dict(lang).items() if key not in ("sheet", "row")}]


def record_json(store: Store, record: StoredRecord, unit: access.Unit, lang: str = "zh", *,
                detail: bool = False, checks: dict[tuple[str, str], UnitCheck] | None = None) -> dict[str, Any]:
    """Describe a record as ``unit`` may see it: the approved version above school level."""
    if _reads_approved(unit):
        document: dict[str, Any] = {
            "id": record.id, "school": record.school, "province": record.province,
            "department": record.approved_department, "version": record.approved_version,
            "reporting_month": record.approved_month, "cells": record.approved_cells,
        }
        return document
    issues = [core_records.issue_from_stored(item) for item in record.issues]
    pair = (record.unit_code, record.unit_name)
    if checks is None:
        checks = store.unit_checks_for([pair])
    check = checks.get(pair)
    document = {
        "id": record.id, "school": record.school, "province": record.province, "department": record.department,
        "state": record.state, "delete_requested": record.delete_requested, "version": record.current_version,
        "approved_version": record.approved_version, "review_reason": record.review_reason,
        "reporting_month": record.reporting_month, "unit": {"code": record.unit_code, "name": record.unit_name},
        "cells": record.cells, "updated_at": iso(record.updated_at), "created_at": iso(record.created_at),
        "issues": [{key: value for key, value in issue.to_dict(lang).items() if key not in ("sheet", "row")}
                   for issue in issues] + _unit_issue(check, lang),
        "unit_check": None if check is None else {
            "state": check.state, "reason": check.reason, "checked_at": iso(check.checked_at)},
    }
    if detail:
        document["exceptions"] = store.exceptions_of(record.id)
        if record.approved_version is not None and record.approved_version != record.current_version:
            document["approved_cells"] = record.approved_cells
    return document


def record_filter(defaults: dict[str, Any] | None = None) -> RecordFilter:
    """Read the record filters of the query string, narrowed to what the caller may read."""
    args = request.args
    states = tuple(args.getlist("state"))
    bad = [state for state in states if state not in STATES]
    if bad:
        raise Problem("SXPT-VALIDATION", f"状态 {bad[0]} 无效，可选：{'、'.join(STATES)}。",
                      f"Invalid state {bad[0]!r}; use one of {', '.join(STATES)}.")
    month = args.get("month")
    if month is not None and not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise Problem("SXPT-VALIDATION", f"报送月份 {month} 无效，应写作 2025-10。",
                      f"Invalid reporting month {month!r}; write it as 2025-10.")
    limit = args.get("limit", 100, type=int)
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem("SXPT-VALIDATION", f"limit 须在 1 至 {MAX_LIMIT} 之间。", f"limit must be 1 to {MAX_LIMIT}.")
    delete_requested = args.get("delete_requested")
    base = RecordFilter(
        province=args.get("province"), school=args.get("school"), department=args.get("department"),
        states=states, reporting_month=month, student_id=args.get("student_id"),
        course_code=args.get("course_code"), unit_code=args.get("unit_code"),
        delete_requested=None if delete_requested is None else delete_requested in ("1", "true"),
        after_id=args.get("after", type=int), limit=limit, **(defaults or {}),
    )
    return service.visible_filter(g.identity.unit, base)


@bp.get("/records")
@login_required(api_key=True)
def list_records() -> Response:
    """List records page by page in id order; ``after`` is the last id of the previous page."""
    store = get_store()
    identity: Identity = g.identity
    query = record_filter()
    records = store.list_records(query)
    lang = request_lang()
    next_after = records[-1].id if len(records) == query.limit else None
    checks = unit_checks_of(store, records)
    return jsonify({"records": [record_json(store, record, identity.unit, lang, checks=checks)
                                for record in records],
                    "next_after": next_after})


@bp.get("/records/count")
@login_required(api_key=True)
def count_records() -> Response:
    """Count the records that a list with the same filters would return, all pages together."""
    store = get_store()
    return jsonify({"count": store.count_records(record_filter())})


@bp.get("/records/<int:record_id>")
@login_required(api_key=True)
def get_record(record_id: int) -> Response:
    """Read one record with its issues, exceptions and unit check."""
    store = get_store()
    identity: Identity = g.identity
    record = service.visible_record(store, identity.unit, record_id)
    return jsonify(record_json(store, record, identity.unit, request_lang(), detail=True))


@bp.get("/records/<int:record_id>/versions")
@login_required(api_key=True)
def versions(record_id: int) -> Response:
    """List every version of a record (school and department users)."""
    store = get_store()
    identity: Identity = g.identity
    record = service.visible_record(store, identity.unit, record_id)
    if _reads_approved(identity.unit):
        raise Problem("SXPT-FORBIDDEN", "版本历史只对本校和本院系用户开放。",
                      "The version history is open to the school and its departments only.")
    return jsonify({"versions": [
        {"version": version.version, "department": version.department, "cells": version.cells,
         "created_at": iso(version.created_at), "created_by": version.created_by, "batch": version.batch_id,
         "approved": version.version == record.approved_version}
        for version in store.record_versions(record.id)]})


@bp.patch("/records/<int:record_id>")
@login_required(api_key=True)
def edit(record_id: int) -> Response:
    """Change cells of a record; the new version is checked again and waits for review."""
    data = read_json({"cells"})
    store = get_store()
    identity: Identity = g.identity
    record = service.visible_record(store, identity.unit, record_id)
    changes = data.get("cells")
    if not isinstance(changes, dict) or not changes:
        raise Problem("SXPT-VALIDATION", "请在 cells 中给出要修改的字段，以模板表头为键。",
                      "Give the fields to change in 'cells', keyed by template header.")
    school = identity_school(store, identity)
    updated = service.edit_record(store, actor=identity.unit, actor_name=identity.actor, school=school,
                                  record=record, changes=changes, now=now())
    return jsonify(record_json(store, updated, identity.unit, request_lang(), detail=True))


@bp.delete("/records/<int:record_id>")
@login_required(api_key=True)
def delete(record_id: int) -> tuple[Response, int] | Response:
    """Delete a record; one with an approved version gets a deletion request for the school instead."""
    store = get_store()
    identity: Identity = g.identity
    record = service.visible_record(store, identity.unit, record_id)
    if service.delete_record(store, actor=identity.unit, record=record, now=now()):
        return Response(status=204)
    return jsonify({"id": record.id, "delete_requested": True,
                    "message": "这条记录已审核通过，删除申请已提交，等待校级用户审核。",
                    "message_en": "The record was approved, so a deletion request now waits for the school's review."}), 202


@bp.post("/records/<int:record_id>/exceptions")
@login_required()
def add_exception(record_id: int) -> tuple[Response, int]:
    """Accept a warning or a unit check failure of a record as an exception, with a reason (school users)."""
    data = read_json({"code", "reason"})
    store = get_store()
    identity: Identity = g.identity
    record = service.visible_record(store, identity.unit, record_id)
    code = text_field(data, "code", label="问题代码")
    assert code is not None
    updated = service.accept_exception(store, actor=identity.unit, actor_name=identity.actor, record=record,
                                       code=code, reason=text_field(data, "reason", label="理由"), now=now())
    return jsonify(record_json(store, updated, identity.unit, request_lang(), detail=True)), 201


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


FILTERS = [
    _query("state", "记录状态，可重复", {"enum": STATES}),
    _query("department", "院系名称"),
    _query("school", "学校标识码"),
    _query("province", "省份代码"),
    _query("month", "报送月份，如 2025-10"),
    _query("student_id", "学号"),
    _query("course_code", "课程代码"),
    _query("unit_code", "实习单位统一社会信用代码"),
    _query("delete_requested", "只看已申请删除的记录", {"type": "boolean"}),
]
PAGING = [_query("after", "上一页最后一条记录的编号", {"type": "integer"}),
          _query("limit", "每页条数，最多 500", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})]
_RECORD_ID = spec.path_parameter("record_id", "记录编号")
_RECORD_ID["schema"] = {"type": "integer"}
RECORD_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "state": {"enum": STATES}, "version": {"type": ["integer", "null"]},
    "cells": {"type": ["object", "null"], "description": "以模板表头为键的记录内容"},
    "issues": {"type": "array", "items": {"type": "object"}}}}

PATHS: dict[str, Any] = {
    "/api/v1/records": {
        "get": spec.operation(
            "实习记录（分页）：院系和学校看全部状态，省级和部级只看审核通过的版本", tag="records", auth="key",
            parameters=[*FILTERS, *PAGING, _query("lang", "消息语言", {"enum": ["zh", "en"]})],
            responses={"200": spec.json_response("一页记录", {"type": "object", "properties": {
                "records": {"type": "array", "items": RECORD_SCHEMA},
                "next_after": {"type": ["integer", "null"]}}})},
            problems=("403", "422"),
        ),
    },
    "/api/v1/records/count": {
        "get": spec.operation("按同样的筛选条件统计记录条数", tag="records", auth="key", parameters=FILTERS,
                              responses={"200": spec.json_response("条数", {
                                  "type": "object", "properties": {"count": {"type": "integer"}}})},
                              problems=("403", "422")),
    },
    "/api/v1/records/{record_id}": {
        "get": spec.operation("一条记录，含问题、例外和单位校验结果", tag="records", auth="key",
                              parameters=[_RECORD_ID], responses={"200": spec.json_response("记录", RECORD_SCHEMA)},
                              problems=("404",)),
        "patch": spec.operation(
            "修改记录的字段；新版本重新校验并等待审核，已审核通过的旧版本对省级仍可见", tag="records", auth="key",
            parameters=[_RECORD_ID],
            request_body=spec.body({"type": "object", "required": ["cells"], "properties": {
                "cells": {"type": "object", "description": "要修改的字段，以模板表头为键；null 表示清空"}}}),
            responses={"200": spec.json_response("修改后的记录", RECORD_SCHEMA)},
            problems=("403", "404", "409"),
        ),
        "delete": spec.operation(
            "删除记录；已审核通过的记录改为提交删除申请，由学校审核", tag="records", auth="key",
            parameters=[_RECORD_ID],
            responses={"204": spec.no_content("已删除"),
                       "202": spec.json_response("已提交删除申请", {"type": "object"})},
            problems=("403", "404", "409"),
        ),
    },
    "/api/v1/records/{record_id}/versions": {
        "get": spec.operation("记录的全部版本（本校和本院系用户）", tag="records", auth="key",
                              parameters=[_RECORD_ID],
                              responses={"200": spec.json_response("版本列表", {"type": "object"})},
                              problems=("403", "404")),
    },
    "/api/v1/records/{record_id}/exceptions": {
        "post": spec.operation(
            "校级用户把提醒或单位校验问题登记为例外（须写理由）", tag="review", auth="session",
            parameters=[_RECORD_ID],
            request_body=spec.body({"type": "object", "required": ["code", "reason"], "properties": {
                "code": {"type": "string"}, "reason": {"type": "string"}}}),
            responses={"201": spec.json_response("登记后的记录", RECORD_SCHEMA)},
            problems=("403", "404"),
        ),
    },
}
