"""Uploading records, the roster and the plan, the list of uploads, and the report of each.

The form posts the file in one request, like ``POST /api/v1/batches``. A small script
shows the upload's progress, and without JavaScript the form posts as it is.
The report page shows every problem of the batch as a table, with links to the
annotated workbook, the errors-only workbook and the JSON report of the API.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_server import uploads
from sxpt_server.api import batches as batches_api
from sxpt_server.api.batches import identity_school, upload_limits
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity
from sxpt_server.store import get_store
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import current_user, form_text, page_login_required, problem_status, render

__all__ = ["upload_kinds"]

KINDS = ("records", "roster", "plan")
IDEMPOTENCY_KEY_BYTES = 16
BATCHES_PER_PAGE = 50
# Rows of the issue table shown on the page; the workbooks and the JSON report have all.
ISSUES_SHOWN = 1000


def upload_kinds(identity: Identity) -> list[str]:
    """List what ``identity`` may upload: records, and for school users the roster and the plan."""
    unit = identity.unit
    kinds = []
    if "records:upload" in identity.allowed_actions():
        kinds.append("records")
    if unit.school and access.can_upload_reference_lists(unit, school=unit.school):
        kinds.extend(["roster", "plan"])
    return kinds


def _upload_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    kinds = upload_kinds(identity)
    if not kinds:
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "upload.forbidden")
    kind = context.pop("kind", None) or request.args.get("kind")
    return render("upload.html", status, kinds=kinds, kind=kind if kind in kinds else kinds[0],
                  idempotency_key=secrets.token_urlsafe(IDEMPOTENCY_KEY_BYTES),
                  max_megabytes=int(request.max_content_length or 0) // (1024 * 1024),
                  max_rows=int(upload_limits().max_rows or 0), **context)


@bp.get("/upload")
@page_login_required
def upload() -> ResponseReturnValue:
    """Show the upload form."""
    return _upload_page()


@bp.post("/upload")
@page_login_required
def upload_submit() -> ResponseReturnValue:
    """Check and store the uploaded file with the services of the API, then show the batch's report."""
    identity = current_user()
    store = get_store()
    kind = form_text("kind")
    if kind not in upload_kinds(identity):
        return _upload_page(400, error=i18n.translate("upload.kind_invalid"))
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_page(400, kind=kind, error=i18n.translate("upload.file_missing"))
    upload_request = uploads.Upload(content=file.read(), filename=uploads.safe_filename(file.filename),
                                    idempotency_key=form_text("idempotency_key") or None)

    try:
        school = identity_school(store, identity)
        if kind == "records":
            result = uploads.upload_records(store, actor=identity.unit, actor_name=identity.actor, school=school,
                                            upload=upload_request, now=now(), limits=upload_limits())
        else:
            if not access.can_upload_reference_lists(identity.unit, school=school.code):
                raise i18n.catalogue_problem("SXPT-FORBIDDEN", "upload.reference_forbidden")
            result = uploads.upload_reference_list(store, kind=kind, actor=identity.unit, actor_name=identity.actor,
                                                   school=school, upload=upload_request, now=now(),
                                                   limits=upload_limits())
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _upload_page(problem_status(problem), kind=kind, error=i18n.problem_detail(problem))

    assert result.batch is not None
    arguments: dict[str, Any] = {"batch_id": result.batch.id}
    if result.unchanged:
        arguments["unchanged"] = 1
    elif result.replayed:
        arguments["replayed"] = 1
    return redirect(url_for("web.batch", **arguments), code=303)


@bp.get("/batches")
@page_login_required
def batches() -> ResponseReturnValue:
    """List the uploads of the user's school or department, newest first."""
    identity = current_user()
    store = get_store()
    school = identity_school(store, identity)
    kind = request.args.get("kind")
    before = request.args.get("before", type=int)
    found = store.list_batches(school=school.code, kind=kind if kind in KINDS else None,
                               department=identity.unit.department, before_id=before, limit=BATCHES_PER_PAGE)
    next_before = found[-1].id if len(found) == BATCHES_PER_PAGE else None
    return render("batches.html", batches=found, kind=kind if kind in KINDS else "", next_before=next_before,
                  can_upload=bool(upload_kinds(identity)))


@bp.get("/batches/<int:batch_id>")
@page_login_required
def batch(batch_id: int) -> ResponseReturnValue:
    """Show an upload's outcome and the table of its problems."""
    store = get_store()
    # The API's view decides whether the user may read the batch (404 otherwise) and
    # returns its description with the links to its files.
    described: dict[str, Any] = batches_api.get_batch(batch_id).get_json()
    stored = store.get_batch(batch_id)
    assert stored is not None
    language = i18n.current_language()
    report = uploads.report_document(store.batch_report(batch_id), language)

    severity = request.args.get("severity")
    issues = report["issues"]
    if severity in ("error", "warning"):
        issues = [issue for issue in issues if issue["severity"] == severity]
    issues = sorted(issues, key=lambda issue: (issue["row"] is None, issue["row"] or 0, issue["column"] or ""))
    links = {name: f"{link}?lang={language}" for name, link in described["links"].items()}
    return render("batch.html", batch=stored, described=described, report=report, issues=issues[:ISSUES_SHOWN],
                  issues_total=len(issues), issues_shown=ISSUES_SHOWN, severity=severity or "", links=links,
                  unchanged=request.args.get("unchanged") == "1", replayed=request.args.get("replayed") == "1")
