"""Organisations: provinces, schools and their departments.

The ministry registers provinces, a province its schools and a school its departments
(``sxpt_core.access.can_create_unit``). An account can read the organisations above
and below its own unit, and none beside it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from sxpt_core import access
from sxpt_server.api import spec
from sxpt_server.api.common import department_json, province_json, read_json, school_json, text_field
from sxpt_server.organisations import (
    check_department_name,
    make_unit,
    register_department,
    register_province,
    register_school,
)
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import School, get_store

__all__ = ["PATHS", "bp"]

bp = Blueprint("organisations", __name__)


def _visible(identity: Identity, unit: access.Unit) -> bool:
    """Return True when the unit is the identity's own, above it or below it."""
    return access.is_within(unit, identity.unit) or access.is_within(identity.unit, unit)


def _forbidden(detail: str, detail_en: str) -> Problem:
    return Problem("SXPT-FORBIDDEN", detail, detail_en)


def _school_or_404(code: str) -> School:
    school = get_store().get_school(code)
    if school is None or not _visible(g.identity, access.Unit.for_school(school.province, school.code)):
        raise Problem("SXPT-NOT-FOUND", f"学校 {code} 不存在或无权查看。", f"School {code} does not exist or is not visible.")
    return school


@bp.get("/provinces")
@login_required(api_key=True)
def list_provinces() -> Response:
    """List the provinces visible to the caller."""
    provinces = get_store().list_provinces()
    visible = [province for province in provinces if _visible(g.identity, access.Unit.for_province(province.code))]
    return jsonify({"provinces": [province_json(province) for province in visible]})


@bp.post("/provinces")
@login_required()
def create_province() -> tuple[Response, int]:
    """Register a province by its GB/T 2260 code (ministry users)."""
    data = read_json({"code"})
    store = get_store()

    code = text_field(data, "code", label="省份代码")
    unit = make_unit("province", code, None, None)
    if not access.can_create_unit(g.identity.unit, unit):
        raise _forbidden("只有教育部用户可以创建省份。", "Only ministry users register provinces.")
    province = register_province(store, unit.province or "")

    return jsonify(province_json(province)), 201


@bp.get("/schools")
@login_required(api_key=True)
def list_schools() -> Response:
    """List the schools visible to the caller, optionally of one province."""
    province = request.args.get("province") or None
    schools = get_store().list_schools(province=province)
    visible = [school for school in schools if _visible(g.identity, access.Unit.for_school(school.province, school.code))]
    return jsonify({"schools": [school_json(school) for school in visible]})


@bp.post("/schools")
@login_required()
def create_school() -> tuple[Response, int]:
    """Register a school of the caller's province (province users)."""
    data = read_json({"code", "province", "name", "uscc", "city"})
    store = get_store()

    code = text_field(data, "code", label="学校代码")
    province = text_field(data, "province", label="省份代码", required=False) or g.identity.unit.province
    unit = make_unit("school", province, code, None)
    if not access.can_create_unit(g.identity.unit, unit):
        raise _forbidden("只有本省的省级用户可以创建学校。", "Only users of the school's province register schools.")
    school = register_school(
        store,
        code=unit.school or "",
        province=unit.province or "",
        name=text_field(data, "name", label="学校名称") or "",
        uscc=text_field(data, "uscc", label="统一社会信用代码") or "",
        city=text_field(data, "city", label="城市代码") or "",
    )

    return jsonify(school_json(school)), 201


@bp.get("/schools/<code>")
@login_required(api_key=True)
def get_school(code: str) -> Response:
    """Describe one school."""
    return jsonify(school_json(_school_or_404(code)))


@bp.get("/schools/<code>/departments")
@login_required(api_key=True)
def list_departments(code: str) -> Response:
    """List the departments of a school that the caller may see."""
    school = _school_or_404(code)
    departments = get_store().list_departments(school.code)
    visible = [
        department for department in departments
        if _visible(g.identity, access.Unit.for_department(school.province, school.code, department.name))
    ]
    return jsonify({"departments": [department_json(department) for department in visible]})


@bp.post("/schools/<code>/departments")
@login_required()
def create_department(code: str) -> tuple[Response, int]:
    """Register a department of the caller's school (school users)."""
    data = read_json({"name"})
    store = get_store()

    school = _school_or_404(code)
    name = check_department_name(data.get("name"))
    unit = access.Unit.for_department(school.province, school.code, name)
    if not access.can_create_unit(g.identity.unit, unit):
        raise _forbidden("只有本校的校级用户可以创建院系。", "Only school-level users of the school register departments.")
    department = register_department(store, school, name)

    return jsonify(department_json(department)), 201


_CODE = spec.path_parameter("code", "10 位学校代码")

PATHS: dict[str, Any] = {
    "/api/v1/provinces": {
        "get": spec.operation(
            "可见的省份", tag="organisations", auth="key",
            responses={"200": spec.json_response("省份列表", {
                "type": "object", "properties": {"provinces": {"type": "array", "items": spec.ref("Province")}},
            })},
        ),
        "post": spec.operation(
            "创建省份（教育部用户）", tag="organisations", auth="session",
            request_body=spec.body({
                "type": "object", "required": ["code"],
                "properties": {"code": {"type": "string", "pattern": "^[1-9][0-9]0000$"}},
            }),
            responses={"201": spec.json_response("已创建", spec.ref("Province"))},
            problems=("403", "409"),
        ),
    },
    "/api/v1/schools": {
        "get": spec.operation(
            "可见的学校", tag="organisations", auth="key",
            parameters=[{"name": "province", "in": "query", "required": False, "schema": {"type": "string"}}],
            responses={"200": spec.json_response("学校列表", {
                "type": "object", "properties": {"schools": {"type": "array", "items": spec.ref("School")}},
            })},
        ),
        "post": spec.operation(
            "创建学校（本省省级用户）", tag="organisations", auth="session",
            request_body=spec.body({
                "type": "object",
                "required": ["code", "name", "uscc", "city"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[0-9]{10}$"},
                    "province": {"type": "string"},
                    "name": {"type": "string"},
                    "uscc": {"type": "string"},
                    "city": {"type": "string"},
                },
            }),
            responses={"201": spec.json_response("已创建", spec.ref("School"))},
            problems=("403", "404", "409"),
        ),
    },
    "/api/v1/schools/{code}": {
        "get": spec.operation(
            "学校详情", tag="organisations", auth="key", parameters=[_CODE],
            responses={"200": spec.json_response("学校", spec.ref("School"))},
            problems=("404",),
        ),
    },
    "/api/v1/schools/{code}/departments": {
        "get": spec.operation(
            "学校的院系", tag="organisations", auth="key", parameters=[_CODE],
            responses={"200": spec.json_response("院系列表", {
                "type": "object", "properties": {"departments": {"type": "array", "items": spec.ref("Department")}},
            })},
            problems=("404",),
        ),
        "post": spec.operation(
            "创建院系（本校校级用户）", tag="organisations", auth="session", parameters=[_CODE],
            request_body=spec.body({
                "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}},
            }),
            responses={"201": spec.json_response("已创建", spec.ref("Department"))},
            problems=("403", "404", "409"),
        ),
    },
}
