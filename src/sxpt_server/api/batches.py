"""Uploads of records (batches) and their kept reports.

``POST /batches`` takes an xlsx or CSV file as ``multipart/form-data`` (field ``file``)
or JSON ``{"records": [{"学号": …}, …]}``. The response is the batch: how many rows were
created, updated, left unchanged or not stored, with links to the report as JSON, the
annotated workbook and the errors-only workbook. An ``Idempotency-Key`` header makes a
retried request return the batch of the first one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, jsonify, request

from sxpt_core import access
from sxpt_core.catalogue import Severity
from sxpt_core.io import ReadLimits
from sxpt_core.io.annotate import write_annotated, write_errors_only
from sxpt_core.validate import Validation
from sxpt_server import uploads
from sxpt_server.api import spec
from sxpt_server.api.common import iso
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import School, Store, get_store
from sxpt_server.store.records import Batch

__all__ = ["PATHS", "batch_json", "bp", "identity_school", "read_upload", "request_lang", "upload_limits"]

bp = Blueprint("batches", __name__)

IDEMPOTENCY_KEY_MAX_LENGTH = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def request_lang() -> str:
    """Return the language of messages: ``?lang=en`` or ``zh``, else the server's ``LANGUAGE``."""
    wanted = request.args.get("lang")
    if wanted in ("zh", "en"):
        return wanted
    return "en" if current_app.config.get("LANGUAGE") == "en" else "zh"


def upload_limits() -> ReadLimits:
    """Return the file limits of uploads from the settings."""
    return ReadLimits(max_rows=int(current_app.config["UPLOAD_MAX_ROWS"]))


def identity_school(store: Store, identity: Identity) -> School:
    """Return the school of a school or department identity; others may not upload."""
    school = store.get_school(identity.unit.school or "") if identity.unit.school else None
    if school is None:
        raise Problem("SXPT-FORBIDDEN", "只有校级和院系级用户可以上传数据。",
                      "Only school-level and department-level users upload data.")
    return school


def read_upload() -> uploads.Upload:
    """Read the uploaded file or JSON rows of the request."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH:
        raise Problem("SXPT-VALIDATION", f"Idempotency-Key 须为 1 至 {IDEMPOTENCY_KEY_MAX_LENGTH} 个字符。",
                      f"Idempotency-Key must have 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} characters.")
    if request.mimetype == "multipart/form-data":
        file = request.files.get("file")
        if file is None or not file.filename:
            raise Problem("SXPT-VALIDATION", "请在表单字段 file 中选择要上传的 xlsx 或 CSV 文件。",
                          "Choose the xlsx or CSV file to upload in the form field 'file'.")
        return uploads.Upload(content=file.read(), filename=uploads.safe_filename(file.filename),
                              idempotency_key=key)
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or set(data) != {"records"}:
            raise Problem("SXPT-VALIDATION", "JSON 请求体须为 {\"records\": [...]}，每条记录以模板表头为键。",
                          "The JSON body must be {\"records\": [...]}, each record keyed by template header.")
        return uploads.Upload(rows=data["records"], idempotency_key=key)
    raise Problem("SXPT-UNSUPPORTED-MEDIA-TYPE",
                  "请以 multipart/form-data（字段 file）上传 xlsx 或 CSV 文件，或以 JSON 提交 records。",
                  "Upload an xlsx or CSV file as multipart/form-data (field 'file'), or send records as JSON.")


def batch_json(batch: Batch) -> dict[str, Any]:
    """Describe a batch, with links to its report and workbooks."""
    base = f"/api/v1/batches/{batch.id}"
    return {
        "id": batch.id,
        "kind": batch.kind,
        "status": batch.status,
        "school": batch.school,
        "department": batch.department or None,
        "actor": batch.actor,
        "filename": batch.filename,
        "created_at": iso(batch.created_at),
        "rows": batch.rows,
        "valid_rows": batch.valid_rows,
        "counts": {"error": batch.errors, "warning": batch.warnings},
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "not_stored": batch.not_stored,
        "links": {"report": f"{base}/report", "annotated": f"{base}/annotated.xlsx",
                  "errors_only": f"{base}/errors.xlsx"},
    }


def result_response(result: uploads.UploadResult) -> tuple[Response, int]:
    """Return the response to an upload: 201 with a new batch, 200 for a replay or an upload that changed nothing."""
    if result.unchanged:
        assert result.batch is not None
        return jsonify({
            "unchanged": True,
            "message": f"内容与第 {result.batch.id} 批已保存的数据相同，未作任何更改。",
            "message_en": f"The content equals what batch {result.batch.id} stored; nothing was changed.",
            "batch": batch_json(result.batch),
        }), 200
    assert result.batch is not None
    return jsonify({"unchanged": False, "replayed": result.replayed, "batch": batch_json(result.batch)}), \
        200 if result.replayed else 201


@bp.post("/batches")
@login_required(api_key=True)
def upload() -> tuple[Response, int]:
    """Upload records: check them with the core rules and store them in one transaction."""
    store = get_store()
    identity: Identity = g.identity
    school = identity_school(store, identity)
    result = uploads.upload_records(store, actor=identity.unit, actor_name=identity.actor, school=school,
                                    upload=read_upload(), now=now(), limits=upload_limits())
    return result_response(result)


def _visible_batch(batch_id: int) -> Batch:
    """Return a batch that the caller's unit uploaded or that lies within it."""
    store = get_store()
    identity: Identity = g.identity
    batch = store.get_batch(batch_id)
    if batch is None or not _may_read(identity.unit, batch):
        raise Problem("SXPT-NOT-FOUND", f"第 {batch_id} 批上传不存在，或不在您的范围内。",
                      f"Batch {batch_id} does not exist or is outside your unit.")
    return batch


def _may_read(unit: access.Unit, batch: Batch) -> bool:
    """Decide whether ``unit`` may read ``batch``: a school its own uploads, a department its department's."""
    if unit.level is access.Level.SCHOOL:
        return unit.school == batch.school
    if unit.level is access.Level.DEPARTMENT:
        return unit.school == batch.school and batch.department == unit.department
    return False


@bp.get("/batches")
@login_required(api_key=True)
def list_batches() -> Response:
    """List the uploads of the caller's school or department, newest first."""
    store = get_store()
    identity: Identity = g.identity
    school = identity_school(store, identity)
    before = request.args.get("before", type=int)
    limit = min(max(request.args.get("limit", 50, type=int), 1), 500)
    kind = request.args.get("kind")
    batches = store.list_batches(school=school.code, kind=kind, department=identity.unit.department,
                                 before_id=before, limit=limit)
    return jsonify({"batches": [batch_json(batch) for batch in batches]})


@bp.get("/batches/<int:batch_id>")
@login_required(api_key=True)
def get_batch(batch_id: int) -> Response:
    """Describe one upload."""
    return jsonify(batch_json(_visible_batch(batch_id)))


@bp.get("/batches/<int:batch_id>/report")
@login_required(api_key=True)
def report(batch_id: int) -> Response:
    """Return the upload's report in the shape of ``sxpt validate --format json``."""
    batch = _visible_batch(batch_id)
    document = uploads.report_document(get_store().batch_report(batch.id), request_lang())
    return jsonify({"batch": batch.id, **document})


def _download_name(batch: Batch, suffix: str) -> str:
    stem = Path(batch.filename or f"batch-{batch.id}").stem
    return f"{stem}-{suffix}.xlsx"


def attachment(content: bytes, name: str, media_type: str) -> Response:
    """Return ``content`` as a download named ``name`` (RFC 6266 with a UTF-8 name)."""
    response = Response(content, mimetype=media_type)
    name = uploads.safe_filename(name) or "sxpt.xlsx"
    fallback = "".join(character if character.isascii() and character.isprintable() and character not in '"\\'
                       else "_" for character in name)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
    return response


def _workbook(batch_id: int, errors_only: bool) -> Response:
    store = get_store()
    batch = _visible_batch(batch_id)
    source = store.batch_source(batch.id)
    if source is None:
        raise Problem("SXPT-NOT-FOUND", "这批上传没有保存原文件。", "This upload kept no source file.")
    kept = uploads.report_of(store.batch_report(batch.id))
    lang = request_lang()
    filename = batch.filename if batch.media_type != uploads.JSON_MEDIA_TYPE else f"batch-{batch.id}.csv"
    descriptor, path = tempfile.mkstemp(suffix=".xlsx", dir=current_app.instance_path)
    os.close(descriptor)
    try:
        if errors_only:
            error_rows = frozenset(issue.row for issue in kept.issues
                                   if issue.severity is Severity.ERROR and issue.row is not None)
            validation = Validation(kept, batch.kind, (), error_rows)
            write_errors_only(source, validation, path, filename=filename, lang=lang)
        else:
            write_annotated(source, kept, path, filename=filename, lang=lang)
        content = Path(path).read_bytes()
    finally:
        Path(path).unlink(missing_ok=True)
    if errors_only:
        suffix = "errors" if lang == "en" else "待改正"
    else:
        suffix = "annotated" if lang == "en" else "校验结果"
    return attachment(content, _download_name(batch, suffix), XLSX)


@bp.get("/batches/<int:batch_id>/annotated.xlsx")
@login_required(api_key=True)
def annotated(batch_id: int) -> Response:
    """Return the uploaded sheet with every faulty cell marked and commented, plus an issues sheet."""
    return _workbook(batch_id, errors_only=False)


@bp.get("/batches/<int:batch_id>/errors.xlsx")
@login_required(api_key=True)
def errors_only(batch_id: int) -> Response:
    """Return only the rows with errors, in the template layout, to fix and upload again."""
    return _workbook(batch_id, errors_only=True)


_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh", "en"]},
         "description": "消息语言，默认中文"}
_BATCH_ID = spec.path_parameter("batch_id", "上传批次编号")
_BATCH_ID["schema"] = {"type": "integer"}
_XLSX_RESPONSE = {"description": "xlsx 工作簿", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}

BATCH_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "integer"}, "kind": {"enum": ["records", "roster", "plan"]},
    "status": {"enum": ["stored", "rejected"]}, "rows": {"type": "integer"}, "valid_rows": {"type": "integer"},
    "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
    "not_stored": {"type": "integer"}, "counts": {"type": "object"}, "links": {"type": "object"},
}}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "xlsx 或 CSV 文件"}}}},
        "application/json": {"schema": {"type": "object", "required": ["records"], "properties": {
            "records": {"type": "array", "items": {"type": "object", "description": "以模板表头为键的一条记录"}}}}},
    },
}
UPLOAD_RESPONSE = {"type": "object", "properties": {
    "unchanged": {"type": "boolean"}, "replayed": {"type": "boolean"}, "message": {"type": "string"},
    "batch": BATCH_SCHEMA}}
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"},
                      "description": "重试同一请求时带上相同的值，返回第一次的结果"}

PATHS: dict[str, Any] = {
    "/api/v1/batches": {
        "get": spec.operation(
            "本校或本院系的上传批次（新的在前）", tag="records", auth="key",
            parameters=[
                {"name": "kind", "in": "query", "required": False, "schema": {"enum": ["records", "roster", "plan"]}},
                {"name": "before", "in": "query", "required": False, "schema": {"type": "integer"}},
                {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "maximum": 500}},
            ],
            responses={"200": spec.json_response("批次列表", {
                "type": "object", "properties": {"batches": {"type": "array", "items": BATCH_SCHEMA}}})},
            problems=("403",),
        ),
        "post": spec.operation(
            "上传实习数据（xlsx、CSV 或 JSON），按核心规则校验并整批保存", tag="records", auth="key",
            parameters=[IDEMPOTENCY_HEADER],
            request_body=UPLOAD_BODY,
            responses={"201": spec.json_response("已保存的批次", UPLOAD_RESPONSE),
                       "200": spec.json_response("内容未变或重放的请求，返回已有批次", UPLOAD_RESPONSE)},
            problems=("403", "413"),
        ),
    },
    "/api/v1/batches/{batch_id}": {
        "get": spec.operation("一个上传批次", tag="records", auth="key", parameters=[_BATCH_ID],
                              responses={"200": spec.json_response("批次", BATCH_SCHEMA)}, problems=("404",)),
    },
    "/api/v1/batches/{batch_id}/report": {
        "get": spec.operation("批次的校验报告（JSON，与 sxpt validate --format json 相同）", tag="records", auth="key",
                              parameters=[_BATCH_ID, _LANG],
                              responses={"200": spec.json_response("校验报告", {"type": "object"})},
                              problems=("404",)),
    },
    "/api/v1/batches/{batch_id}/annotated.xlsx": {
        "get": spec.operation("标注了每个问题单元格的原工作表", tag="records", auth="key",
                              parameters=[_BATCH_ID, _LANG], responses={"200": _XLSX_RESPONSE}, problems=("404",)),
    },
    "/api/v1/batches/{batch_id}/errors.xlsx": {
        "get": spec.operation("只含有错误的行，改正后可重新上传", tag="records", auth="key",
                              parameters=[_BATCH_ID, _LANG], responses={"200": _XLSX_RESPONSE}, problems=("404",)),
    },
}
