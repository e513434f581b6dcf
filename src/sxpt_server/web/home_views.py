"""The home page: what is due this month and what waits for the user, per level."""

from __future__ import annotations

import datetime
from typing import Any

from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_core.calendar import reporting_month
from sxpt_core.review import RecordState
from sxpt_server.api import statistics as statistics_api
from sxpt_server.checks import today_in_china
from sxpt_server.clock import now
from sxpt_server.records import visible_filter
from sxpt_server.store import Store, get_store
from sxpt_server.store.records import RecordFilter
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import current_user, page_login_required, render

__all__ = ["due_month", "statistics_document"]

# Failed unit checks listed by name on the home page; the statistics page lists more.
FAILED_UNITS_SHOWN = 5
RECENT_BATCHES_SHOWN = 5


def statistics_document() -> dict[str, Any]:
    """Return the document of ``GET /api/v1/statistics`` for the request's query arguments.

    NOTE: the statistics are assembled inside the API view, so the page calls that view
    (same scope rules, same counts) and reads its JSON; a service function would be cleaner.
    """
    response = statistics_api.statistics()
    document: dict[str, Any] = response.get_json()
    return document


def due_month(today: datetime.date) -> tuple[str, str]:
    """Return the reporting month due on ``today`` and the month whose internships it reports.

    Internships that ended last month are reported this month (ended in September,
    reported in October), as ``sxpt_core.calendar.reporting_month`` decides.
    """
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    year, month = reporting_month(last_month_end)
    return f"{year}-{month:02d}", f"{last_month_end:%Y-%m}"


def _count(store: Store, unit: access.Unit, **filters: Any) -> int:
    return store.count_records(visible_filter(unit, RecordFilter(**filters)))


@bp.get("/")
@page_login_required
def home() -> ResponseReturnValue:
    """Show the user's tasks: records due this month, late reports, reviews, returned records, failed unit checks."""
    identity = current_user()
    unit = identity.unit
    store = get_store()
    month, ended = due_month(today_in_china(now()))
    statistics = statistics_document()

    due_total = next((item["count"] for item in statistics["by_month"] if item["month"] == month), 0)
    late_this_month = next((item["count"] for item in statistics["late"]["by_month"] if item["month"] == month), 0)
    context: dict[str, Any] = {
        "month": month, "ended": ended, "due_total": due_total, "late_total": statistics["late"]["total"],
        "late_this_month": late_this_month, "failed_units": statistics["failed_units"],
        "failed_units_shown": statistics["failed_units"]["items"][:FAILED_UNITS_SHOWN],
        "reads_current": statistics["versions"] == "current", "total": statistics["total"],
    }

    if unit.level in (access.Level.SCHOOL, access.Level.DEPARTMENT):
        states = [state.value for state in RecordState]
        context["due_by_state"] = [(state, _count(store, unit, reporting_month=month, states=(state,)))
                                   for state in states]
        context["returned"] = _count(store, unit, states=(RecordState.RETURNED.value,))
        context["check_failed"] = _count(store, unit, states=(RecordState.CHECK_FAILED.value,))
        context["recent_batches"] = store.list_batches(school=unit.school or "", department=unit.department,
                                                       limit=RECENT_BATCHES_SHOWN)
    if access.can_review(unit, school=unit.school or ""):
        context["awaiting_review"] = _count(store, unit, states=(RecordState.AWAITING_REVIEW.value,))
        context["delete_requests"] = _count(store, unit, delete_requested=True)
        context["roster"] = store.current_reference_list("roster", unit.school or "")
        context["plan"] = store.current_reference_list("plan", unit.school or "")
    return render("home.html", **context)
