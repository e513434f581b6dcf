"""The school's student roster (学籍名单) and training plan (实习培养方案), versioned.

School-level users upload them as xlsx or CSV. A file without errors becomes the
current version and the school's waiting records are checked again with it; a file with
errors is kept as a rejected batch with its report, and the current version stays.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify

from sxpt_core import access
from sxpt_server import uploads
from sxpt_server.api import spec
from sxpt_server.api.batches import (
    UPLOAD_RESPONSE,
    identity_school,
    read_upload,
    result_response,
    upload_limits,
)
from sxpt_server.api.common import iso
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("reference", __name__)

KINDS = {"roster": ("学籍名单", "roster"), "plan": ("实习培养方案", "training plan")}


def _school_for_upload() -> Any:
    store = get_store()
    identity: Identity = g.identity
    school = identity_school(store, identity)
    if not access.can_upload_reference_lists(identity.unit, school=school.code):
        raise Problem("SXPT-FORBIDDEN", "学籍名单和实习培养方案由校级用户上传。",
                      "The roster and the training plan are uploaded by school-level users.")
    return school


def _upload(kind: str) -> tuple[Response, int]:
    store = get_store()
    identity: Identity = g.identity
    school = _school_for_upload()
    upload = read_upload()
    if upload.rows is not None:
        raise Problem("SXPT-UNSUPPORTED-MEDIA-TYPE", f"{KINDS[kind][0]}请以 xlsx 或 CSV 文件上传（表单字段 file）。",
                      f"Upload the {KINDS[kind][1]} as an xlsx or CSV file (form field 'file').")
    result = uploads.upload_reference_list(store, kind=kind, actor=identity.unit, actor_name=identity.actor,
                                           school=school, upload=upload, now=now(), limits=upload_limits())
    return result_response(result)


def _current(kind: str) -> Response:
    store = get_store()
    identity: Identity = g.identity
    school = identity_school(store, identity)
    current = store.current_reference_list(kind, school.code)
    if current is None:
        return jsonify({"kind": kind, "current": None})
    return jsonify({"kind": kind, "current": {
        "version": current.id, "entries": current.entries, "batch": current.batch_id,
        "created_at": iso(current.created_at)}})


@bp.post("/roster")
@login_required()
def upload_roster() -> tuple[Response, int]:
    """Upload the school's student roster."""
    return _upload("roster")


@bp.get("/roster")
@login_required(api_key=True)
def current_roster() -> Response:
    """Describe the school's current roster: version, number of students, upload."""
    return _current("roster")


@bp.post("/plan")
@login_required()
def upload_plan() -> tuple[Response, int]:
    """Upload the school's training plan."""
    return _upload("plan")


@bp.get("/plan")
@login_required(api_key=True)
def current_plan() -> Response:
    """Describe the school's current training plan."""
    return _current("plan")


_CURRENT = {"type": "object", "properties": {
    "kind": {"enum": ["roster", "plan"]},
    "current": {"type": ["object", "null"], "properties": {
        "version": {"type": "integer"}, "entries": {"type": "integer"}, "batch": {"type": "integer"},
        "created_at": {"type": "string"}}},
}}
_FILE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "xlsx 或 CSV 文件"}}}}}}


def _paths(kind: str) -> dict[str, Any]:
    title = KINDS[kind][0]
    return {
        "get": spec.operation(f"本校当前的{title}", tag="reference", auth="key",
                              responses={"200": spec.json_response("当前版本", _CURRENT)}, problems=("403",)),
        "post": spec.operation(
            f"上传{title}（校级用户）；无错误时成为当前版本，并重新校验待处理的记录", tag="reference",
            auth="session", request_body=_FILE_BODY,
            responses={"201": spec.json_response("批次；status 为 rejected 时未启用", UPLOAD_RESPONSE),
                       "200": spec.json_response("与当前版本相同，未作更改", UPLOAD_RESPONSE)},
            problems=("403", "413"),
        ),
    }


PATHS: dict[str, Any] = {"/api/v1/roster": _paths("roster"), "/api/v1/plan": _paths("plan")}
