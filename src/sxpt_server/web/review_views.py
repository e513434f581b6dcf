"""The school's review queue: filter, tick many records, approve or return them, decide deletion requests."""

from __future__ import annotations

from typing import Any

import attrs
from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_core.review import RecordState
from sxpt_server import records as service
from sxpt_server.api import records as records_api
from sxpt_server.api.review import REVIEW_ACTIONS
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity
from sxpt_server.store import get_store
from sxpt_server.store.records import RecordFilter
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import (
    current_user,
    form_text,
    page_login_required,
    problem_status,
    redirect_without_blank_arguments,
    render,
)

__all__: list[str] = []

# Columns of the queue, by template header.
QUEUE_COLUMNS = ("学号", "学生姓名", "课程名称", "实习单位名称", "实习开始时间", "实习结束时间")


def _require_reviewer(identity: Identity) -> None:
    if not access.can_review(identity.unit, school=identity.unit.school or ""):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "review.forbidden")


def _queue_filter() -> RecordFilter:
    """Read the filters as ``GET /api/v1/review`` does: records waiting for review unless asked otherwise."""
    query = records_api.record_filter()
    if not query.states and query.delete_requested is None:
        query = attrs.evolve(query, states=(RecordState.AWAITING_REVIEW.value,))
    return query


def _queue_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    store = get_store()
    unit = identity.unit
    departments = [department.name for department in store.list_departments(unit.school or "")]
    try:
        query = _queue_filter()
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return render("review.html", problem_status(problem), error=i18n.problem_detail(problem), rows=[], total=0,
                      next_after=None, departments=departments, deletion=False, columns=QUEUE_COLUMNS,
                      selected=set())
    found = store.list_records(query)
    checks = records_api.unit_checks_of(store, found)
    rows = [records_api.record_json(store, record, unit, i18n.current_language(), checks=checks) for record in found]
    context.setdefault("selected", set())
    return render("review.html", status, rows=rows, total=store.count_records(attrs.evolve(query, after_id=None)),
                  next_after=found[-1].id if len(found) == query.limit else None, departments=departments,
                  deletion=query.delete_requested is True, columns=QUEUE_COLUMNS, **context)


@bp.get("/review")
@page_login_required
def review() -> ResponseReturnValue:
    """Show the records waiting for review, or the deletion requests, with filters."""
    _require_reviewer(current_user())
    cleaned = redirect_without_blank_arguments()
    if cleaned is not None:
        return cleaned
    done = request.args.get("done")
    return _queue_page(done=done if done in REVIEW_ACTIONS else None, count=request.args.get("count", type=int))


@bp.post("/review")
@page_login_required
def review_submit() -> ResponseReturnValue:
    """Apply one review action to every ticked record, or to none when one of them refuses it."""
    identity = current_user()
    _require_reviewer(identity)
    name = form_text("action")
    action = REVIEW_ACTIONS.get(name)
    texts = request.form.getlist("records")
    ids = [int(text) for text in texts if text.isdigit()]
    selected = set(ids)
    if action is None:
        return _queue_page(400, error=i18n.translate("review.action_invalid"), selected=selected)
    if not ids or len(ids) != len(texts):
        return _queue_page(400, error=i18n.translate("review.none_selected"), selected=selected)
    if len(ids) > service.MAX_REVIEW_RECORDS:
        return _queue_page(400, error=i18n.translate("review.too_many", maximum=service.MAX_REVIEW_RECORDS),
                           selected=selected)

    try:
        reviewed = service.apply_review(get_store(), actor=identity.unit, action=action, record_ids=ids,
                                        reason=form_text("reason") or None, now=now())
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _queue_page(problem_status(problem), error=i18n.problem_detail(problem), selected=selected,
                           reason=form_text("reason"))
    # Back to the same view of the queue (the filters are kept in the form's action URL).
    arguments: dict[str, Any] = {key: value for key, value in request.args.items()
                                 if key not in ("done", "count", "after")}
    return redirect(url_for("web.review", done=name, count=len(reviewed), **arguments), code=303)
