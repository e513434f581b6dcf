"""Records as a server stores them: cells by header, the natural key, the unit to verify.

A stored record keeps the row as the upload gave it after normalisation, keyed by the
template's Chinese headers, so that it can be shown, edited, exported and checked again
with :func:`sxpt_core.validate.validate_rows`. A cell that the normalisers rejected
keeps the user's value, so checking it again reports the same problem.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sxpt_core.calendar import reporting_month
from sxpt_core.catalogue import Layer, Severity
from sxpt_core.models import Issue
from sxpt_core.templates import Template
from sxpt_core.validate import display_value

__all__ = [
    "cells_of",
    "content_digest",
    "issue_from_stored",
    "month_of",
    "natural_key",
    "stored_issue",
    "unit_to_verify",
]

FOREIGN_UNIT_CODE = "无"


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (datetime.date, Decimal)):
        return display_value(value)
    return value


def cells_of(template: Template, values: Mapping[str, Any], raws: Mapping[str, Any]) -> dict[str, Any]:
    """Return a row keyed by header: the normalised value where there is one, else the user's value.

    ``values`` are the normalised values by attribute (``Validation.rows``), ``raws``
    the values as read, by attribute. Blank cells are left out.

    >>> from sxpt_core.templates import get_template
    >>> template = get_template("records")
    >>> cells_of(template, {"student_id": "21050101", "start_date": None},
    ...          {"student_id": 21050101.0, "start_date": "2024-13-01"})
    {'学号': '21050101', '实习开始时间': '2024-13-01'}
    """
    cells: dict[str, Any] = {}
    for column in template:
        value = values.get(column.attr)
        if value is None:
            raw = raws.get(column.attr)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            value = display_value(raw)
        cells[column.header] = _cell(value)
    return cells


def natural_key(values: Mapping[str, Any], cells: Mapping[str, Any] | None = None) -> str | None:
    """Return a record's key within its school, or None when a part of it is missing or invalid.

    The key is 学号 + 课程代码 + 实习开始时间 + 实习结束时间 + the unit's credit code, or
    its name where the code is 无 (SPEC §6). A credit code that failed its checks is
    taken from ``cells`` (:func:`cells_of`) as the user wrote it, so that a record whose
    only fault is the code is still stored, fixed later or accepted by a reviewer.

    >>> natural_key({"student_id": "21050101", "course_code": "SX101", "start_date": datetime.date(2024, 7, 1),
    ...              "end_date": datetime.date(2024, 8, 30), "unit_code": "无", "unit_name": "Acme GmbH"})
    '["21050101","SX101","2024-07-01","2024-08-30","Acme GmbH"]'
    """
    unit_code = values.get("unit_code")
    if unit_code is None and cells is not None:
        unit_code = cells.get("实习单位统一社会信用代码")
    unit = values.get("unit_name") if unit_code == FOREIGN_UNIT_CODE else unit_code
    parts = (values.get("student_id"), values.get("course_code"), values.get("start_date"),
             values.get("end_date"), unit)
    if any(part is None for part in parts):
        return None
    return json.dumps([display_value(part) for part in parts], ensure_ascii=False, separators=(",", ":"))


def unit_to_verify(values: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return the (credit code, name) whose verification the record waits for.

    None for a foreign unit (code 无), which the national system does not verify, and
    for a row without a valid code or a name, whose errors already fail it.

    >>> unit_to_verify({"unit_code": "91330100MA27XK1234", "unit_name": "杭州示例科技有限公司"})
    ('91330100MA27XK1234', '杭州示例科技有限公司')
    >>> unit_to_verify({"unit_code": "无", "unit_name": "Acme GmbH"}) is None
    True
    """
    code, name = values.get("unit_code"), values.get("unit_name")
    if code is None or name is None or code == FOREIGN_UNIT_CODE:
        return None
    return (str(code), str(name))


def month_of(values: Mapping[str, Any]) -> str:
    """Return the reporting month (``2024-10``) of a row, or "" without a valid end date.

    >>> month_of({"end_date": datetime.date(2024, 9, 30)})
    '2024-10'
    """
    end = values.get("end_date")
    if not isinstance(end, datetime.date):
        return ""
    year, month = reporting_month(end)
    return f"{year}-{month:02d}"


def content_digest(cells: Mapping[str, Any]) -> str:
    """Return a digest of a row's cells that ignores key order.

    >>> content_digest({"学号": "1", "姓名": "林"}) == content_digest({"姓名": "林", "学号": "1"})
    True
    """
    text = json.dumps(cells, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stored_issue(issue: Issue) -> dict[str, Any]:
    """Return an issue as a stored record keeps it: everything except the upload's sheet and row."""
    return {
        "code": issue.code,
        "severity": issue.severity.value,
        "layer": issue.layer.value,
        "column": issue.column,
        "field": issue.field,
        "value": issue.value,
        "params": dict(issue.params),
    }


def issue_from_stored(data: Mapping[str, Any], *, row: int | None = None, sheet: str | None = None) -> Issue:
    """Rebuild an :class:`Issue` from :func:`stored_issue`'s dict, placed at ``row``.

    >>> from sxpt_core.rules.unit import USCC_CHECKSUM
    >>> issue = Issue.from_finding(USCC_CHECKSUM(expected="X"), sheet="Sheet1", row=3, column="O",
    ...                            field="实习单位统一社会信用代码", value="91330100MA27XK1230")
    >>> issue_from_stored(stored_issue(issue), row=3, sheet="Sheet1") == issue
    True
    """
    return Issue(
        code=data["code"], severity=Severity(data["severity"]), layer=Layer(data["layer"]), sheet=sheet, row=row,
        column=data.get("column"), field=data.get("field"), value=data.get("value"),
        params=dict(data.get("params") or {}),
    )
