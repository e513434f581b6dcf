"""Records: the filtered list, one record with its issues and versions, edit, delete and exceptions.

Filters use the query arguments of ``GET /api/v1/records`` and go through the same
``record_filter``, so a page never shows a record that the API would not. Provinces and
the ministry read approved versions only.
"""

from __future__ import annotations

from typing import Any

import attrs
from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_core.review import Action, ReviewError, can_accept, transition
from sxpt_core.templates import get_template
from sxpt_server import records as service
from sxpt_server.api import records as records_api
from sxpt_server.api.batches import identity_school
from sxpt_server.api.review import REVIEW_ACTIONS
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.records import problem_from_review_error, status_of
from sxpt_server.store import get_store
from sxpt_server.store.records import StoredRecord
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import (
    current_user,
    form_text,
    page_login_required,
    problem_status,
    record_allows,
    redirect_without_blank_arguments,
    render,
)

__all__ = ["CELL_PREFIX", "RECORD_NOTICES", "reads_current"]

CELL_PREFIX = "cell:"
RECORD_NOTICES = frozenset({"saved", "unchanged", "delete_requested", "exception", *REVIEW_ACTIONS})
# Columns of the list, by template header; the detail page shows every column.
LIST_COLUMNS = ("学号", "学生姓名", "课程代码", "课程名称", "实习单位名称", "实习结束时间")


def reads_current(unit: access.Unit) -> bool:
    """Return True for units that read current versions in every state (schools and departments)."""
    return unit.level in (access.Level.SCHOOL, access.Level.DEPARTMENT)


def _filter_options(unit: access.Unit) -> dict[str, Any]:
    """Return the choices of the department and school filters that the unit may use."""
    store = get_store()
    options: dict[str, Any] = {"departments": [], "schools": []}
    if unit.level is access.Level.SCHOOL and unit.school:
        options["departments"] = [department.name for department in store.list_departments(unit.school)]
    if unit.level in (access.Level.PROVINCE, access.Level.MINISTRY):
        options["schools"] = store.list_schools(province=unit.province)
    return options


@bp.get("/records")
@page_login_required
def records() -> ResponseReturnValue:
    """List records with filters (state, department, reporting month, student number, course code), a page at a time."""
    cleaned = redirect_without_blank_arguments()
    if cleaned is not None:
        return cleaned
    identity = current_user()
    unit = identity.unit
    store = get_store()
    error = None
    try:
        query = records_api.record_filter()
        if query.approved_only and query.states:
            raise i18n.catalogue_problem("SXPT-VALIDATION", "records.state_filter_approved")
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return render("records.html", problem_status(problem), error=i18n.problem_detail(problem), rows=[],
                      total=0, next_after=None, reads_current=reads_current(unit), columns=LIST_COLUMNS,
                      states=records_api.STATES, **_filter_options(unit))

    found = store.list_records(query)
    total = store.count_records(attrs.evolve(query, after_id=None))
    checks = records_api.unit_checks_of(store, found)
    language = i18n.current_language()
    rows = [records_api.record_json(store, record, unit, language, checks=checks) for record in found]
    next_after = found[-1].id if len(found) == query.limit else None
    notice = request.args.get("deleted", type=int)
    return render("records.html", error=error, rows=rows, total=total, next_after=next_after,
                  reads_current=reads_current(unit), columns=LIST_COLUMNS, states=records_api.STATES,
                  deleted=notice, **_filter_options(unit))


def _acceptable_issues(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the record's issues that a reviewer may accept and has not accepted yet."""
    accepted = document.get("exceptions") or {}
    return [issue for issue in document.get("issues", [])
            if can_accept(issue["code"]) and issue["code"] not in accepted]


def _record_page(record: StoredRecord, status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    unit = identity.unit
    store = get_store()
    document = records_api.record_json(store, record, unit, i18n.current_language(), detail=True)
    current = reads_current(unit)
    may_change = current and access.can_upload_records(unit, school=record.school, department=record.department)
    may_review = access.can_review(unit, school=record.school)
    allowed = {
        "edit": may_change and record_allows(record, Action.EDIT, unit),
        "delete": may_change and record_allows(record, Action.DELETE, unit),
        **{name: may_review and record_allows(record, action, unit) for name, action in REVIEW_ACTIONS.items()},
    }
    notice = request.args.get("notice")
    return render(
        "record.html", status, record=record, document=document, reads_current=current,
        headers=[column.header for column in get_template("records")],
        versions=store.record_versions(record.id) if current else [], allowed=allowed,
        acceptable=_acceptable_issues(document) if may_review else [],
        notice=notice if notice in RECORD_NOTICES else None, **context)


@bp.get("/records/<int:record_id>")
@page_login_required
def record(record_id: int) -> ResponseReturnValue:
    """Show one record: its cells, issues, unit check, review reason, exceptions and versions."""
    found = service.visible_record(get_store(), current_user().unit, record_id)
    return _record_page(found)


def _changeable_record(record_id: int, action: Action) -> StoredRecord:
    """Return the record if the user may ``action`` it; raise the 403 or the core's refusal otherwise."""
    unit = current_user().unit
    found = service.visible_record(get_store(), unit, record_id)
    if not reads_current(unit) or not access.can_upload_records(unit, school=found.school,
                                                                department=found.department):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "record.change_forbidden")
    try:
        transition(status_of(found), action, actor=unit, school=found.school, department=found.department)
    except ReviewError as error:
        raise problem_from_review_error(error, found.id) from error
    return found


def _edit_page(record: StoredRecord, status: int = 200, **context: Any) -> ResponseReturnValue:
    template = get_template("records")
    document = records_api.record_json(get_store(), record, current_user().unit, i18n.current_language())
    issues_by_field: dict[str, list[str]] = {}
    for issue in document.get("issues", []):
        issues_by_field.setdefault(issue["field"] or "", []).append(issue["message"])
    values = context.pop("values", None) or {header: "" if value is None else str(value)
                                             for header, value in record.cells.items()}
    return render("record_edit.html", status, record=record, columns=list(template), values=values,
                  issues_by_field=issues_by_field, cell_prefix=CELL_PREFIX, **context)


@bp.get("/records/<int:record_id>/edit")
@page_login_required
def record_edit(record_id: int) -> ResponseReturnValue:
    """Show the edit form with every field of the template."""
    return _edit_page(_changeable_record(record_id, Action.EDIT))


@bp.post("/records/<int:record_id>/edit")
@page_login_required
def record_edit_submit(record_id: int) -> ResponseReturnValue:
    """Store the changed fields as a new version, checked again, as ``PATCH /api/v1/records/<id>`` does."""
    identity = current_user()
    store = get_store()
    found = _changeable_record(record_id, Action.EDIT)
    values: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for column in get_template("records"):
        submitted = request.form.get(CELL_PREFIX + column.header)
        if submitted is None:
            continue
        values[column.header] = submitted.strip()
        old = found.cells.get(column.header)
        if values[column.header] != ("" if old is None else str(old)):
            changes[column.header] = values[column.header] or None
    if not changes:
        return redirect(url_for("web.record", record_id=found.id, notice="unchanged"), code=303)

    try:
        service.edit_record(store, actor=identity.unit, actor_name=identity.actor,
                            school=identity_school(store, identity), record=found, changes=changes, now=now())
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        report = problem.extra.get("report") or []
        return _edit_page(found, problem_status(problem), values=values, error=i18n.problem_detail(problem),
                          report=report)
    return redirect(url_for("web.record", record_id=found.id, notice="saved"), code=303)


@bp.get("/records/<int:record_id>/delete")
@page_login_required
def record_delete(record_id: int) -> ResponseReturnValue:
    """Ask for confirmation; an approved record gets a deletion request for the school instead."""
    found = _changeable_record(record_id, Action.DELETE)
    return render("record_delete.html", record=found, request_only=found.approved_version is not None)


@bp.post("/records/<int:record_id>/delete")
@page_login_required
def record_delete_submit(record_id: int) -> ResponseReturnValue:
    """Delete the record, or file the deletion request when it has an approved version."""
    found = _changeable_record(record_id, Action.DELETE)
    if service.delete_record(get_store(), actor=current_user().unit, record=found, now=now()):
        return redirect(url_for("web.records", deleted=found.id), code=303)
    return redirect(url_for("web.record", record_id=found.id, notice="delete_requested"), code=303)


@bp.post("/records/<int:record_id>/exceptions")
@page_login_required
def record_exception(record_id: int) -> ResponseReturnValue:
    """Accept a warning or a unit check failure of the record as an exception with a reason (school users)."""
    identity = current_user()
    store = get_store()
    found = service.visible_record(store, identity.unit, record_id)
    try:
        service.accept_exception(store, actor=identity.unit, actor_name=identity.actor, record=found,
                                 code=form_text("code"), reason=form_text("reason") or None, now=now())
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _record_page(found, problem_status(problem), error=i18n.problem_detail(problem))
    return redirect(url_for("web.record", record_id=found.id, notice="exception"), code=303)


@bp.post("/records/<int:record_id>/review")
@page_login_required
def record_review(record_id: int) -> ResponseReturnValue:
    """Approve or return this record, or decide its deletion request (school users)."""
    identity = current_user()
    store = get_store()
    found = service.visible_record(store, identity.unit, record_id)
    if not access.can_review(identity.unit, school=found.school):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "review.forbidden")
    name = form_text("action")
    action = REVIEW_ACTIONS.get(name)
    if action is None:
        return _record_page(found, 400, error=i18n.translate("review.action_invalid"))
    try:
        service.apply_review(store, actor=identity.unit, action=action, record_ids=[found.id],
                             reason=form_text("reason") or None, now=now())
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _record_page(found, problem_status(problem), error=i18n.problem_detail(problem))
    if action is Action.APPROVE_DELETE:
        return redirect(url_for("web.records", deleted=found.id), code=303)
    return redirect(url_for("web.record", record_id=found.id, notice=name), code=303)
