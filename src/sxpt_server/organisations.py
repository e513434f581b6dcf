"""Registering organisations: provinces, schools and departments, with their checks.

The API and the ``create-account`` command both register organisations here. Callers
check permissions first; these functions check the values against the code tables of
``sxpt_core`` and raise ``Problem`` with every invalid field at once.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sxpt_core import access
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.normalise.city import normalise_city
from sxpt_core.rules.unit import normalise_unit_code
from sxpt_server import audit
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.store import ConflictError, Department, Province, School, Store

__all__ = [
    "FieldError",
    "check_department_name",
    "field_error",
    "invalid",
    "make_unit",
    "register_department",
    "register_province",
    "register_school",
    "unit_exists",
    "unit_label",
]

SCHOOL_CODE = re.compile(r"[0-9]{10}")
NAME_MAX_LENGTH = 100

FieldError = dict[str, str]


def field_error(field: str, detail: str, detail_en: str) -> FieldError:
    """Describe one invalid field of a request, for the ``errors`` member of a problem."""
    return {"field": field, "detail": detail, "detail_en": detail_en}


def invalid(errors: list[FieldError]) -> Problem:
    """Return the 422 problem for a request with invalid fields."""
    first = errors[0]
    if len(errors) == 1:
        return Problem("SXPT-VALIDATION", first["detail"], first["detail_en"], extra={"errors": errors})
    return Problem(
        "SXPT-VALIDATION",
        f"有 {len(errors)} 处填写有误，第一处：{first['detail']}",
        f"{len(errors)} fields are invalid; the first: {first['detail_en']}",
        extra={"errors": errors},
    )


def make_unit(level: str, province: str | None, school: str | None, department: str | None) -> access.Unit:
    """Build a ``Unit``, turning its validation error into a 422 problem."""
    try:
        return access.Unit(level, province, school, department)
    except ValueError as error:
        if isinstance(error, access.InvalidUnitError):
            raise invalid([field_error("unit", error.message, error.message_en)]) from None
        raise invalid([field_error(
            "level",
            f"级别 {level!r} 无效：应为 ministry、province、school 或 department。",
            f"Invalid level {level!r}: expected ministry, province, school or department.",
        )]) from None


def unit_exists(store: Store, unit: access.Unit) -> bool:
    """Return True when the unit's organisation is registered (the ministry always is)."""
    if unit.level is access.Level.MINISTRY:
        return True
    if unit.level is access.Level.PROVINCE:
        return store.get_province(unit.province or "") is not None
    school = store.get_school(unit.school or "")
    if school is None or school.province != unit.province:
        return False
    if unit.level is access.Level.SCHOOL:
        return True
    return store.get_department(school.code, unit.department or "") is not None


def unit_label(store: Store, unit: access.Unit) -> str:
    """Return the unit's name as people read it, such as ``浙江省 / 示例大学 / 机械工程学院``."""
    if unit.level is access.Level.MINISTRY:
        return "教育部"
    parts = []
    province = store.get_province(unit.province or "")
    parts.append(province.name if province else unit.province or "")
    if unit.school:
        school = store.get_school(unit.school)
        parts.append(school.name if school else unit.school)
    if unit.department:
        parts.append(unit.department)
    return " / ".join(parts)


def _province_name(code: str) -> str:
    division = load_divisions().get(code)
    if division is None or division.level != "province" or division.abolished:
        raise invalid([field_error(
            "code",
            f"省份代码 {code} 不是现行的省级行政区划代码（GB/T 2260），如 330000 浙江省。",
            f"{code} is not a current province-level GB/T 2260 code, such as 330000 for Zhejiang.",
        )])
    return division.name


def register_province(store: Store, code: str) -> Province:
    """Register a province by its GB/T 2260 code; the name comes from the division table."""
    unit = make_unit("province", code, None, None)
    name = _province_name(code)
    try:
        province = store.add_province(code, name, now=now())
    except ConflictError:
        raise Problem("SXPT-CONFLICT", f"省份 {code} {name} 已存在。", f"Province {code} already exists.") from None
    audit.record(store, "province_created", target=code, unit=unit, name=name)
    return province


def _check_school(code: str, province: str, name: str, uscc_value: str, city_value: str) -> tuple[str, str]:
    """Check the school's fields and return the normalised USCC and city code."""
    errors: list[FieldError] = []
    if not SCHOOL_CODE.fullmatch(code):
        errors.append(field_error(
            "code", f"学校代码 {code!r} 无效：应为 10 位数字的学校标识码。",
            f"Invalid school code {code!r}: expected the 10-digit school code."))
    if not name or len(name) > NAME_MAX_LENGTH:
        errors.append(field_error(
            "name", f"学校名称不能为空，且不超过 {NAME_MAX_LENGTH} 个字符。",
            f"The school name must not be empty or longer than {NAME_MAX_LENGTH} characters."))

    unit_code = normalise_unit_code(uscc_value)
    uscc = unit_code.value
    if uscc is None or uscc == "无":
        finding = unit_code.findings[0] if unit_code.findings else None
        detail = finding.rule.render_message(finding.params) if finding else "缺少统一社会信用代码"
        detail_en = finding.rule.render_message(finding.params, "en") if finding else "The USCC is missing"
        errors.append(field_error("uscc", f"学校的统一社会信用代码无效：{detail}。", f"Invalid school USCC: {detail_en}."))

    city_outcome = normalise_city(city_value)
    city = city_outcome.value
    if city is None or not city.startswith(province[:2]):
        errors.append(field_error(
            "city", f"城市代码 {city_value!r} 无效：应为学校所在省份（{province}）内的地级城市代码，如 330100。",
            f"Invalid city code {city_value!r}: expected a prefecture-level code in province {province}, such as 330100."))

    if errors:
        raise invalid(errors)
    return uscc, city


def _check_school_unique(store: Store, code: str, name: str, uscc: str) -> None:
    """Raise 409 when another school has the same name or USCC: units of one name are one unit.

    NOTE: two concurrent registrations can both pass this check, because the database
    enforces uniqueness of the school code only.
    """
    for other in store.list_schools():
        if other.code == code:
            continue
        if other.name == name:
            raise Problem(
                "SXPT-CONFLICT", f"名称为“{name}”的学校已存在（学校代码 {other.code}），同名单位视为同一单位。",
                f"A school named {name!r} already exists (school code {other.code}); units of one name are one unit.")
        if other.uscc == uscc:
            raise Problem(
                "SXPT-CONFLICT", f"统一社会信用代码 {uscc} 已属于学校“{other.name}”（学校代码 {other.code}）。",
                f"The USCC {uscc} already belongs to school {other.name!r} (school code {other.code}).")


def register_school(store: Store, *, code: str, province: str, name: str, uscc: str, city: str) -> School:
    """Register a school of a registered province."""
    unit = make_unit("school", province, code, None)
    if store.get_province(province) is None:
        raise Problem("SXPT-NOT-FOUND", f"省份 {province} 尚未创建。", f"Province {province} is not registered.")
    name = unicodedata.normalize("NFKC", name).strip()
    uscc_code, city_code = _check_school(code, province, name, uscc, city)
    _check_school_unique(store, code, name, uscc_code)

    school = School(code=code, province=province, name=name, uscc=uscc_code, city=city_code, created_at=now())
    try:
        store.add_school(school)
    except ConflictError:
        raise Problem("SXPT-CONFLICT", f"学校代码 {code} 已存在。", f"School code {code} already exists.") from None
    audit.record(store, "school_created", target=code, unit=unit, name=name)
    return school


def check_department_name(value: Any) -> str:
    """Return the trimmed department name, or raise a 422 problem."""
    name = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    if not name or len(name) > NAME_MAX_LENGTH:
        raise invalid([field_error(
            "name", f"院系名称不能为空，且不超过 {NAME_MAX_LENGTH} 个字符。",
            f"The department name must not be empty or longer than {NAME_MAX_LENGTH} characters.")])
    return name


def register_department(store: Store, school: School, name: str) -> Department:
    """Register a department of ``school`` by its name."""
    unit = make_unit("department", school.province, school.code, name)
    try:
        department = store.add_department(school.code, name, now=now())
    except ConflictError:
        raise Problem("SXPT-CONFLICT", f"院系“{name}”已存在。", f"Department {name!r} already exists.") from None
    audit.record(store, "department_created", target=name, unit=unit)
    return department
