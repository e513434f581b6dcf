"""API routes: statistics of the records an account may read.

The filters of a request (province, school, department, a range of reporting months)
name a scope, which must lie within the caller's unit. A filter outside it is rejected
with 403. Whether the scope's unapproved versions are readable is decided by
``sxpt_core.access.can_see_records``: the province and the ministry count approved
versions only, and a school or a department counts the current versions in every state.

``read_scope`` is shared with the export route.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import attrs
from flask import Blueprint, Response, g, jsonify, request

from sxpt_core import access
from sxpt_core.models import PlanCourse, RosterEntry, converter
from sxpt_core.review import RecordState
from sxpt_core.stats import CourseCoverage, course_coverage
from sxpt_core.templates import get_template
from sxpt_server.api import spec
from sxpt_server.api.common import iso, unit_json
from sxpt_server.organisations import field_error, invalid, unit_label
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import Store, get_store
from sxpt_server.store.stats import FailedUnit, StatsFilter

__all__ = ["PATHS", "SCOPE_PARAMETERS", "Scope", "bp", "read_scope", "scope_parameters"]

bp = Blueprint("statistics", __name__)

MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")
SCHOOL_CODE = re.compile(r"[0-9]{10}")
DEPARTMENT_MAX_LENGTH = 100

# Query parameters that every statistics and export request accepts.
SCOPE_PARAMETERS = ("from", "to", "province", "school", "department", "versions")
VERSIONS = ("approved", "current")

# The code list of 实习类型. by_type lists each of them, with 0 where no record has it.
INTERNSHIP_TYPES = get_template("records").column("实习类型").choices

DEFAULT_MISSING_LIMIT = 50
MAX_MISSING_LIMIT = 1000
# The max number of failed unit checks listed by name. The totals count all of them.
FAILED_UNITS_LISTED = 100

# Titles of the sections of the statistics document, for pages and charts.
TITLES: dict[str, tuple[str, str]] = {
    "total": ("记录总数", "Records"),
    "by_month": ("按报送月份", "By reporting month"),
    "by_type": ("按实习类型", "By internship type"),
    "by_department": ("按院系", "By department"),
    "by_school": ("按学校", "By school"),
    "by_state": ("按审核状态", "By review state"),
    "late": ("补报（首次上传晚于报送月份）", "Late reports (first uploaded after the reporting month)"),
    "failed_units": ("实习单位校验不通过", "Failed unit checks"),
    "coverage": ("培养方案课程的实习报送比例（漏报排查）",
                 "Share of each plan course's students with a record (missed reports)"),
}


@attrs.frozen
class Scope:
    """The records that a request reads: a unit within the caller's, and the filter of store queries."""

    unit: access.Unit
    query: StatsFilter

    @property
    def versions(self) -> str:
        """``approved`` or ``current``: which version of each record the request reads."""
        return "approved" if self.query.approved_only else "current"


def _forbidden_scope(store: Store, unit: access.Unit) -> Problem:
    name = unit_label(store, unit)
    return Problem(
        "SXPT-FORBIDDEN",
        f"您无权查看 {name} 的实习数据：只能查询本单位及下级单位的数据。请修改筛选条件。",
        f"You may not read the records of {name}: only your own unit and the units below it. Change the filters.",
    )


def _month_argument(name: str) -> str | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not MONTH.fullmatch(text):
        raise invalid([field_error(
            name, f"参数 {name} 须为报送月份，写作 YYYY-MM，如 2025-10，而不是 {text!r}。",
            f"{name} must be a reporting month written YYYY-MM, such as 2025-10, not {text!r}.")])
    return text


def _text_argument(name: str) -> str | None:
    text = unicodedata.normalize("NFKC", request.args.get(name, "")).strip()
    return text or None


def _check_arguments(allowed: tuple[str, ...]) -> None:
    """Raise a 422 problem for a query parameter outside ``allowed``, so that a mistyped filter is never ignored."""
    accepted = ", ".join(allowed)
    unknown = sorted(name for name in request.args if name not in allowed)
    if unknown:
        raise invalid([
            field_error(name, f"此接口不接受查询参数 {name}（可用参数：{accepted}）。",
                        f"This route does not accept the query parameter {name!r} (accepted: {accepted}).")
            for name in unknown
        ])


def _requested_unit(store: Store, caller: access.Unit) -> access.Unit:
    """Return the unit that the province, school and department parameters name; the caller's own without them."""
    province = _text_argument("province")
    school = _text_argument("school")
    department = _text_argument("department")
    if department is not None and len(department) > DEPARTMENT_MAX_LENGTH:
        raise invalid([field_error(
            "department", f"院系名称不能超过 {DEPARTMENT_MAX_LENGTH} 个字符。",
            f"The department name must not be longer than {DEPARTMENT_MAX_LENGTH} characters.")])

    if school is not None:
        if not SCHOOL_CODE.fullmatch(school):
            raise invalid([field_error(
                "school", f"学校代码 {school!r} 无效：应为 10 位数字的学校标识码，如 4133010001。",
                f"Invalid school code {school!r}: expected the 10-digit school code, such as 4133010001.")])
        registered = store.get_school(school)
        if registered is None:
            raise Problem("SXPT-NOT-FOUND", f"学校 {school} 不存在。", f"School {school} does not exist.")
        if province is not None and province != registered.province:
            raise invalid([field_error(
                "province", f"学校 {school} 属于省份 {registered.province}，不属于 {province}。",
                f"School {school} belongs to province {registered.province}, not {province}.")])
        province = registered.province
    elif department is not None:
        if caller.school is None:
            raise invalid([field_error(
                "department", "按院系筛选时须同时给出学校代码（school）。",
                "Filtering by department needs the school code (school) as well.")])
        province, school = caller.province, caller.school

    try:
        if department is not None:
            return access.Unit.for_department(province or "", school or "", department)
        if school is not None:
            return access.Unit.for_school(province or "", school)
        if province is not None:
            return access.Unit.for_province(province)
    except access.InvalidUnitError as error:
        field = "department" if department is not None else "province"
        raise invalid([field_error(field, error.message, error.message_en)]) from None
    return caller


def read_scope(*, allowed: tuple[str, ...] = SCOPE_PARAMETERS, default_versions: str | None = None) -> Scope:
    """Read the scope of a statistics or export request from its query parameters.

    A filter wider than the caller's unit (a school user naming its own province) is
    narrowed to the caller's unit. ``versions`` is ``approved`` or ``current``. Without
    it the request reads ``default_versions``, or, when that is None, the current
    versions where the caller may read them. Raises 403 for a scope outside the
    caller's unit or current versions that the caller may not read, 404 for an unknown
    school, and 422 for an invalid parameter.
    """
    _check_arguments(allowed)
    identity: Identity = g.identity
    caller = identity.unit
    store = get_store()

    month_from, month_to = _month_argument("from"), _month_argument("to")
    if month_from is not None and month_to is not None and month_from > month_to:
        raise invalid([field_error(
            "to", f"结束月份 {month_to} 早于开始月份 {month_from}。",
            f"The last month {month_to} is before the first month {month_from}.")])

    unit = _requested_unit(store, caller)
    if access.is_within(caller, unit):
        unit = caller
    elif not access.is_within(unit, caller):
        raise _forbidden_scope(store, unit)

    reads_current = access.can_see_records(
        caller, province=unit.province or "", school=unit.school or "", department=unit.department or "",
        approved=False,
    )
    versions = _text_argument("versions") or default_versions or ("current" if reads_current else "approved")
    if versions not in VERSIONS:
        raise invalid([field_error(
            "versions", f"参数 versions 须为 approved（已审核通过的版本）或 current（当前版本），而不是 {versions!r}。",
            f"versions must be approved or current, not {versions!r}.")])
    if versions == "current" and not reads_current:
        raise Problem(
            "SXPT-FORBIDDEN",
            "省级和教育部用户只能查看学校审核通过的版本，请去掉 versions=current。",
            "Province and ministry users read only the versions a school approved; drop versions=current.",
        )

    query = StatsFilter(
        province=unit.province, school=unit.school, department=unit.department,
        month_from=month_from, month_to=month_to, approved_only=versions == "approved",
    )
    return Scope(unit=unit, query=query)


def _missing_limit() -> int:
    text = request.args.get("missing_limit")
    if text is None:
        return DEFAULT_MISSING_LIMIT
    if not text.isdigit() or int(text) > MAX_MISSING_LIMIT:
        raise invalid([field_error(
            "missing_limit", f"参数 missing_limit 须为 0 至 {MAX_MISSING_LIMIT} 之间的整数。",
            f"missing_limit must be a whole number from 0 to {MAX_MISSING_LIMIT}.")])
    return int(text)


def _counts(pairs: Sequence[tuple[str | None, int]], key: str) -> list[dict[str, Any]]:
    return [{key: value, "count": count} for value, count in pairs]


def _with_zeros(pairs: list[tuple[str | None, int]], known: tuple[str, ...]) -> list[tuple[str | None, int]]:
    """Return the counts of every value in ``known``, zero where absent, then the other values found."""
    counts = dict(pairs)
    others = [(value, count) for value, count in pairs if value not in known]
    return [(value, counts.get(value, 0)) for value in known] + others


def _failed_unit_json(unit: FailedUnit) -> dict[str, Any]:
    return {
        "unit_code": unit.unit_code,
        "unit_name": unit.unit_name,
        "reason": unit.reason,
        "checked_at": iso(unit.checked_at),
        "records": unit.records,
    }


def _coverage_json(result: CourseCoverage) -> dict[str, Any]:
    return {
        "course_code": result.course_code,
        "course_name": result.course_name,
        "department": result.department,
        "major": result.major,
        "grade": result.grade,
        "students": result.students,
        "reported": result.reported,
        "share": round(result.share, 4) if result.share is not None else None,
        "missing_count": result.missing_count,
        "missing": list(result.missing),
    }


def _coverage(store: Store, scope: Scope, missing_limit: int) -> dict[str, Any]:
    """Return the coverage section: each plan course of the school's current plan against its current roster.

    The records counted as reported are those of the request's scope and month range.
    """
    school = scope.unit.school
    assert school is not None
    roster = store.current_reference_list("roster", school)
    plan = store.current_reference_list("plan", school)
    document: dict[str, Any] = {"roster": roster is not None, "plan": plan is not None, "courses": []}
    if roster is None or plan is None:
        return document

    results = course_coverage(
        (converter.structure(row, PlanCourse) for row in plan.data),
        (converter.structure(row, RosterEntry) for row in roster.data),
        store.reported_courses(scope.query),
        missing_limit=missing_limit,
        department=scope.unit.department,
    )
    document["courses"] = [_coverage_json(result) for result in results]
    return document


@bp.get("/statistics")
@login_required(api_key=True)
def statistics() -> Response:
    """Count the records of the caller's scope by month, type, department, school and state, with coverage."""
    scope = read_scope(allowed=(*SCOPE_PARAMETERS, "missing_limit"))
    missing_limit = _missing_limit()
    store = get_store()
    query = scope.query

    by_month = store.count_records_by("month", query)
    names = {school.code: school.name for school in store.list_schools(province=scope.unit.province)}
    late = store.count_late_records(query)
    failed_units, failed_records = store.count_failed_unit_checks(query)
    document: dict[str, Any] = {
        "scope": unit_json(store, scope.unit),
        "versions": scope.versions,
        "from": query.month_from,
        "to": query.month_to,
        "total": sum(count for _month, count in by_month),
        "by_month": _counts(by_month, "month"),
        "by_type": _counts(_with_zeros(store.count_records_by("type", query), INTERNSHIP_TYPES), "type"),
        "by_department": _counts(store.count_records_by("department", query), "department"),
        "by_school": [{"school": code, "name": names.get(code or ""), "count": count}
                      for code, count in store.count_records_by("school", query)],
        "by_state": None,
        "late": {"total": sum(count for _month, count in late), "by_month": _counts(late, "month")},
        "failed_units": {
            "units": failed_units,
            "records": failed_records,
            "items": [_failed_unit_json(unit) for unit in store.failed_unit_checks(query, limit=FAILED_UNITS_LISTED)],
        },
        "coverage": None,
        "titles": {key: {"zh": zh, "en": en} for key, (zh, en) in TITLES.items()},
    }
    # The review state belongs to the record, not to a version, so it is counted only
    # where the current versions are read.
    if not query.approved_only:
        states = tuple(state.value for state in RecordState)
        document["by_state"] = _counts(_with_zeros(store.count_records_by("state", query), states), "state")
        # Coverage lists student numbers from the roster, so it goes only to the school
        # and its departments, the users who read the current versions.
        if scope.unit.school is not None:
            document["coverage"] = _coverage(store, scope, missing_limit)
    return jsonify(document)


def scope_parameters() -> list[dict[str, Any]]:
    """Describe the query parameters of ``read_scope`` for the OpenAPI document."""
    def parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    month = {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"}
    return [
        parameter("from", "报送月份起（含），如 2025-09", month),
        parameter("to", "报送月份止（含），如 2025-12", month),
        parameter("province", "省份代码，如 330000", {"type": "string"}),
        parameter("school", "10 位学校标识码", {"type": "string", "pattern": "^[0-9]{10}$"}),
        parameter("department", "院系名称；省级和教育部用户须同时给出 school", {"type": "string"}),
        parameter("versions", "approved：审核通过的版本；current：当前版本（仅校级和院系级用户）",
                  {"enum": list(VERSIONS)}),
    ]


_COUNTS = {
    "type": "array",
    "items": {"type": "object", "properties": {"count": {"type": "integer"}}, "additionalProperties": True},
}

PATHS: dict[str, Any] = {
    "/api/v1/statistics": {
        "get": spec.operation(
            "实习数据统计：按月份、实习类型、院系、学校和审核状态计数，补报、单位校验不通过和培养方案课程的报送比例",
            tag="statistics", auth="key",
            parameters=[
                *scope_parameters(),
                {"name": "missing_limit", "in": "query", "required": False,
                 "description": "每门课程最多列出的未报送学号数",
                 "schema": {"type": "integer", "minimum": 0, "maximum": MAX_MISSING_LIMIT}},
            ],
            responses={"200": spec.json_response("统计结果；省级和教育部用户只统计审核通过的版本", {
                "type": "object",
                "properties": {
                    "scope": spec.ref("Unit"),
                    "versions": {"enum": list(VERSIONS)},
                    "from": {"type": ["string", "null"]},
                    "to": {"type": ["string", "null"]},
                    "total": {"type": "integer"},
                    "by_month": _COUNTS,
                    "by_type": _COUNTS,
                    "by_department": _COUNTS,
                    "by_school": _COUNTS,
                    "by_state": {"oneOf": [_COUNTS, {"type": "null"}],
                                 "description": "只在读取当前版本（校级和院系级）时给出"},
                    "late": {"type": "object", "properties": {
                        "total": {"type": "integer"}, "by_month": _COUNTS}},
                    "failed_units": {"type": "object", "properties": {
                        "units": {"type": "integer"}, "records": {"type": "integer"},
                        "items": {"type": "array", "items": {"type": "object"}}}},
                    "coverage": {"type": ["object", "null"],
                                 "description": "只对校级和院系级用户给出：按本校当前的学籍名单和培养方案计算，"
                                                "已报送的记录按同样的筛选条件统计"},
                    "titles": {"type": "object"},
                },
            })},
            problems=("403", "404", "422"),
        ),
    },
}
