"""Statistics with charts and export links, and the audit log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request
from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_server.api import PREFIX
from sxpt_server.api.statistics import SCOPE_PARAMETERS
from sxpt_server.organisations import unit_label
from sxpt_server.problems import Problem
from sxpt_server.store import get_store
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.charts import BarChart, bar_chart
from sxpt_server.web.home_views import statistics_document
from sxpt_server.web.pages import (
    current_user,
    page_login_required,
    problem_status,
    redirect_without_blank_arguments,
    render,
)

__all__: list[str] = []

AUDIT_PER_PAGE = 50


def _counts_chart(items: list[dict[str, Any]], key: str, label_of: Any = None) -> BarChart:
    rows = []
    for item in items:
        value = item.get(key)
        if label_of is not None:
            label = label_of(item)
        elif value:
            label = str(value)
        else:
            label = i18n.translate("stats.blank")
        rows.append((label, float(item["count"]), str(item["count"])))
    return bar_chart(rows)


def _coverage_chart(courses: list[dict[str, Any]]) -> BarChart:
    rows = []
    for course in courses:
        label = f"{course['course_code']} {course['course_name']}"
        share = course["share"]
        text = f"{course['reported']}/{course['students']}"
        if share is not None:
            text += f" ({share * 100:.0f}%)"
        rows.append((label, float(share or 0.0), text))
    return bar_chart(rows, maximum=1.0)


def _charts(document: dict[str, Any]) -> dict[str, BarChart]:
    charts = {
        "by_month": _counts_chart(document["by_month"], "month"),
        "by_type": _counts_chart(document["by_type"], "type"),
        "by_department": _counts_chart(document["by_department"], "department"),
        "by_school": _counts_chart(document["by_school"], "school",
                                   lambda item: item.get("name") or item.get("school") or ""),
        "late": _counts_chart(document["late"]["by_month"], "month"),
    }
    if document.get("by_state") is not None:
        charts["by_state"] = _counts_chart(document["by_state"], "state",
                                           lambda item: i18n.state_label(item.get("state")))
    coverage = document.get("coverage")
    if coverage is not None and coverage.get("courses"):
        charts["coverage"] = _coverage_chart(coverage["courses"])
    return charts


def _export_links(versions: list[str]) -> list[dict[str, str]]:
    """Return the links of ``GET /api/v1/export`` for the page's scope, per format and version."""
    scope = [(name, value) for name, value in request.args.items() if name in SCOPE_PARAMETERS and name != "versions"]
    links = []
    for version in versions:
        for extension in ("xlsx", "csv"):
            query = urlencode([("format", extension), *scope, ("versions", version)])
            links.append({"format": extension, "versions": version, "href": f"{PREFIX}/export?{query}"})
    return links


@bp.get("/statistics")
@page_login_required
def statistics() -> ResponseReturnValue:
    """Show the statistics of the user's scope as charts, with filters and export links."""
    cleaned = redirect_without_blank_arguments()
    if cleaned is not None:
        return cleaned
    identity = current_user()
    unit = identity.unit
    store = get_store()
    current = unit.level in (access.Level.SCHOOL, access.Level.DEPARTMENT)
    options: dict[str, Any] = {
        "departments": [department.name for department in store.list_departments(unit.school)]
        if unit.level is access.Level.SCHOOL and unit.school else [],
        "schools": store.list_schools(province=unit.province) if not current else [],
        "reads_current": current,
        "exports": _export_links(["approved", "current"] if current else ["approved"]),
    }
    try:
        document = statistics_document()
    except Problem as problem:
        return render("statistics.html", problem_status(problem), error=i18n.problem_detail(problem), document=None,
                      charts={}, **options)
    return render("statistics.html", document=document, charts=_charts(document), **options)


@bp.get("/audit")
@page_login_required
def audit_log() -> ResponseReturnValue:
    """List the audit entries about the user's unit and the units below, newest first."""
    identity = current_user()
    unit = identity.unit
    if unit.level is access.Level.DEPARTMENT or "audit:read" not in identity.allowed_actions():
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "audit.forbidden")
    store = get_store()
    before = request.args.get("before", type=int)
    if before is not None and before < 1:
        before = None

    entries = []
    for entry in store.iter_audit(before_id=before):
        # Entries without a unit are about the whole system, so only the ministry reads them.
        if access.can_view_audit(unit, entry.unit or access.Unit.ministry()):
            entries.append(entry)
            if len(entries) == AUDIT_PER_PAGE:
                break
    rows = [{"entry": entry, "unit": unit_label(store, entry.unit) if entry.unit else "",
             "detail": "; ".join(f"{key}={value}" for key, value in sorted(entry.detail.items()))}
            for entry in entries]
    next_before = entries[-1].id if len(entries) == AUDIT_PER_PAGE else None
    return render("audit.html", rows=rows, next_before=next_before)
