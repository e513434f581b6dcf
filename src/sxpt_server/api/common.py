"""Helpers shared by the API views: reading JSON bodies and writing resources as JSON."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from typing import Any

from flask import request

from sxpt_core import access
from sxpt_server.organisations import field_error, invalid, unit_label
from sxpt_server.problems import Problem
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, ApiKey, Department, Province, School, Store

__all__ = [
    "account_json",
    "api_key_json",
    "department_json",
    "iso",
    "province_json",
    "read_json",
    "school_json",
    "text_field",
    "unit_json",
]


def read_json(
    allowed: Collection[str], *, hints: Mapping[str, tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Return the request's JSON object; an empty body reads as ``{}``.

    A member not in ``allowed`` raises a 422 problem naming it, so that a field the
    route does not use (such as ``school`` on ``POST /keys``) is never ignored silently.
    ``hints`` maps such a member to a (Chinese, English) sentence that names where to send it.

    Requiring ``Content-Type: application/json`` on every body also keeps plain HTML
    forms of other sites from posting to the API with the user's cookie.
    """
    if not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise Problem(
            "SXPT-UNSUPPORTED-MEDIA-TYPE", "请求体须为 JSON，并带有 Content-Type: application/json。",
            "The request body must be JSON sent with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if data is None and request.get_data(cache=True).strip() != b"null":
        raise Problem("SXPT-BAD-REQUEST", "请求体不是有效的 JSON。", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        raise invalid([field_error("", "请求体须为 JSON 对象。", "The request body must be a JSON object.")])

    unknown = sorted(name for name in data if name not in allowed)
    if unknown:
        expected = "、".join(sorted(allowed)) or "（无）"
        expected_en = ", ".join(sorted(allowed)) or "none"
        errors = []
        for name in unknown:
            hint_zh, hint_en = (hints or {}).get(name, ("", ""))
            errors.append(field_error(
                name, f"此接口不接受字段 {name}（可用字段：{expected}）。{hint_zh}",
                f"This route does not accept the member {name!r} (accepted: {expected_en}).{' ' + hint_en if hint_en else ''}"))
        raise invalid(errors)
    return data


def text_field(data: dict[str, Any], name: str, *, label: str, required: bool = True) -> str | None:
    """Return the trimmed string member ``name`` of ``data``; ``label`` names it in Chinese messages."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid([field_error(name, f"{label}（{name}）须为字符串。", f"The member {name!r} must be a string.")])
    if value is None or not value.strip():
        if required:
            raise invalid([field_error(name, f"请填写{label}（{name}）。", f"The member {name!r} is missing.")])
        return None
    return value.strip()


def iso(moment: datetime.datetime | None) -> str | None:
    """Write a time as ISO 8601 in UTC, or None."""
    return moment.isoformat() if moment else None


def unit_json(store: Store, unit: access.Unit) -> dict[str, Any]:
    """Describe a unit: level, codes and the name as people read it."""
    return {
        "level": unit.level.value,
        "province": unit.province,
        "school": unit.school,
        "department": unit.department,
        "name": unit_label(store, unit),
    }


def account_json(store: Store, account: Account, *, full_phone: bool = False) -> dict[str, Any]:
    """Describe an account; the phone is masked unless ``full_phone``."""
    return {
        "name": account.name,
        "unit": unit_json(store, account.unit),
        "phone": account.phone if full_phone else mask_phone(account.phone),
        "contact_name": account.contact_name,
        "status": account.status,
        "created_at": iso(account.created_at),
        "created_by": account.created_by,
        "activated_at": iso(account.activated_at),
    }


def api_key_json(store: Store, key: ApiKey) -> dict[str, Any]:
    """Describe an API key without its secret part."""
    return {
        "prefix": key.prefix,
        "label": key.label,
        "scope": unit_json(store, key.unit),
        "created_by": key.created_by,
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
        "last_used_at": iso(key.last_used_at),
    }


def province_json(province: Province) -> dict[str, Any]:
    """Describe a province."""
    return {"code": province.code, "name": province.name, "created_at": iso(province.created_at)}


def school_json(school: School) -> dict[str, Any]:
    """Describe a school."""
    return {
        "code": school.code,
        "province": school.province,
        "name": school.name,
        "uscc": school.uscc,
        "city": school.city,
        "created_at": iso(school.created_at),
    }


def department_json(department: Department) -> dict[str, Any]:
    """Describe a department."""
    return {"school": department.school, "name": department.name, "created_at": iso(department.created_at)}
