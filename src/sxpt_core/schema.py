"""A template as a Frictionless Table Schema or as a JSON Schema: ``sxpt schema``.

Both describe one row of a template with the Chinese headers as field names, the code
lists as enums, and patterns for the coded values. They let other tools check the
shape of the data. They do not replace ``sxpt validate``: check characters, the
division table, the roster, the plan and the rules across fields and rows are sxpt's.

The Table Schema describes the table as people fill it (a workbook or CSV file): 学分
is a number, 是/否 a boolean with ``trueValues`` 是 and ``falseValues`` 否, dates are
ISO dates and a blank cell is missing (``missingValues: [""]``).

The JSON Schema (draft 2020-12) describes one row as a JSON object, the form that
:data:`sxpt_core.models.converter` writes and that :func:`sxpt_core.validate.validate_rows`
reads. Credits and amounts are decimal strings (``"2.5"``) or JSON numbers, years,
days and counts integers or digit strings, dates ``YYYY-MM-DD`` strings, and yes/no
columns 是/否 or the booleans the converter writes. An optional column may be absent,
null or empty.

Regular expressions use plain groups and character classes only, so that they mean the
same in Python, in ECMA-262 (JSON Schema) and in XML Schema (Table Schema). Table
Schema anchors its patterns itself; JSON Schema patterns carry ``^…$``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sxpt_core.codes.uscc import ALPHABET, FIRST_CHARACTERS
from sxpt_core.normalise.dates import _FIRST_YEAR, _LAST_YEAR
from sxpt_core.templates import Column, Template

__all__ = [
    "FORMATS",
    "JSON_SCHEMA_DIALECT",
    "KIND_PATTERNS",
    "NATURAL_KEYS",
    "dumps",
    "json_schema",
    "schema_for",
    "table_schema",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

FORMATS = ("table-schema", "json-schema")


def character_class(characters: Iterable[str]) -> str:
    """Return a regex character class of ``characters``, with runs written as ranges.

    >>> character_class("0123456789ABCDEFGHJKLMNPQRTUWXY")
    '[0-9A-HJ-NP-RTUW-Y]'
    >>> character_class("ANY123456789")
    '[1-9ANY]'
    """
    ordered = sorted(set(characters))
    parts: list[str] = []
    start = 0
    for index in range(1, len(ordered) + 1):
        if index < len(ordered) and ord(ordered[index]) == ord(ordered[index - 1]) + 1:
            continue
        first, last = ordered[start], ordered[index - 1]
        if ord(last) - ord(first) >= 2:
            parts.append(f"{first}-{last}")
        else:
            parts.append("".join(ordered[start:index]))
        start = index
    return "[" + "".join(parts) + "]"


# CJK ideographs (extension A and the basic block), written as literal characters
# because XML Schema regexes have no \u escape.
_HAN = f"[{chr(0x3400)}-{chr(0x9FFF)}]"

# 18 characters of the GB 32100-2015 alphabet, the first one a registration authority
# code (1-9, A, N, Y), or 无 for units abroad and in Hong Kong, Macao and Taiwan. The
# check character is not expressible as a pattern.
USCC_PATTERN = f"({character_class(FIRST_CHARACTERS)}{character_class(ALPHABET)}{{17}}|无)"

# A six-digit GB/T 2260 code, or the code after a place name: 杭州市-330100 or
# 浙江省杭州市(330100). Whether the code exists is checked against sxpt's division table.
CITY_PATTERN = f"([0-9]{{6}}|{_HAN}{{2,30}}(-[0-9]{{6}}|[(（][0-9]{{6}}[)）]))"

DATE_PATTERN = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"

# The years 2000 to 2100, the range sxpt's normalisers accept.
YEAR_PATTERN = "(20[0-9]{2}|2100)"

# Two years in that range; that the second is the first plus one is checked by sxpt.
ACADEMIC_YEAR_PATTERN = f"20[0-9]{{2}}-{YEAR_PATTERN}"

# Greater than 0 with at most one decimal place: 4, 2.5, 0.5.
CREDITS_PATTERN = "([1-9][0-9]*(\\.[0-9])?|0\\.[1-9])"

# Not negative, at most two decimal places.
MONEY_PATTERN = "(0|[1-9][0-9]*)(\\.[0-9]{1,2})?"

# A mobile number, or a landline with its area code (three digits for 010 and 02x,
# four otherwise) and an optional extension, as sxpt writes them.
PHONE_PATTERN = "(1[3-9][0-9]{9}|0(10|2[0-9]|[3-9][0-9]{2})-?[0-9]{7,8}(-[0-9]{1,6})?)"

MAJOR_CODE_PATTERN = "[0-9]{6}(TK|T|K)?"
SCHOOL_CODE_PATTERN = "[0-9]{10}"
WHOLE_PATTERN = "[1-9][0-9]*"

KIND_PATTERNS: Mapping[str, str] = {
    "uscc": USCC_PATTERN,
    "city": CITY_PATTERN,
    "date": DATE_PATTERN,
    "academic_year": ACADEMIC_YEAR_PATTERN,
    "phone": PHONE_PATTERN,
    "major_code": MAJOR_CODE_PATTERN,
    "school_code": SCHOOL_CODE_PATTERN,
}

# Fields that identify a row, by template kind. A record's natural key ends with the
# unit: its credit code, or its name where the code is 无. Table Schema cannot switch
# fields by value, so the key contains the code. Two rows that differ only in the
# names of two units written as 无 therefore violate it, although sxpt accepts them.
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = {
    "records": ("学号", "课程代码", "实习开始时间", "实习结束时间", "实习单位统一社会信用代码"),
    "plan": ("学年", "学期", "专业代码", "年级", "课程代码"),
    "roster": ("学号",),
}

TEXT: Mapping[str, tuple[str, str]] = {
    "json_description": (
        "{name} 模板的一行，键为模板的中文表头。值为 sxpt 的 JSON 形式：日期写作 YYYY-MM-DD，"
        "学分和金额为十进制字符串或数字，是/否列也可为 true/false；选填列可省略、为 null 或空字符串。"
        "统一社会信用代码的校验位、城市代码是否存在以及跨字段、跨行的规则由 sxpt validate 检查。",
        "One row of the {name} template, keyed by the template's Chinese headers, in sxpt's JSON "
        "form: dates as YYYY-MM-DD, credits and amounts as decimal strings or numbers, yes/no "
        "columns as 是/否 or true/false; optional columns may be absent, null or empty. The "
        "check character of credit codes, the existence of city codes and the rules across "
        "fields and rows are checked by sxpt validate.",
    ),
}


def _description(column: Column, lang: str) -> str:
    return column.description[1 if lang == "en" else 0]


def _natural_key(template: Template) -> list[str] | None:
    key = NATURAL_KEYS.get(template.kind)
    headers = {column.header for column in template}
    if key is None or not set(key) <= headers:
        return None
    return list(key)


# --- Table Schema -------------------------------------------------------------------


def _table_field(column: Column, lang: str) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.header}
    description = _description(column, lang)
    if description:
        field["description"] = description
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True

    kind = column.kind
    if kind == "yesno":
        field["type"] = "boolean"
        field["trueValues"] = [column.choices[0]]
        field["falseValues"] = [column.choices[1]]
    elif column.choices:
        field["type"] = "string"
        constraints["enum"] = list(column.choices)
    elif kind == "year":
        field["type"] = "integer"
        constraints.update(minimum=_FIRST_YEAR, maximum=_LAST_YEAR)
    elif kind in ("days", "count"):
        field["type"] = "integer"
        constraints["minimum"] = 1
    elif kind == "credits":
        # Greater than 0 with at most one decimal place means at least 0.1; Table Schema
        # v1 has no exclusiveMinimum.
        field["type"] = "number"
        constraints["minimum"] = 0.1
    elif kind == "money":
        field["type"] = "number"
        constraints["minimum"] = 0
    elif kind == "date":
        field["type"] = "date"
    else:
        field["type"] = "string"
        if kind in KIND_PATTERNS:
            constraints["pattern"] = KIND_PATTERNS[kind]
        if column.max_length is not None:
            constraints["maxLength"] = column.max_length

    if constraints:
        field["constraints"] = constraints
    return field


def table_schema(template: Template, *, lang: str = "zh") -> dict[str, Any]:
    """Return ``template`` as a Frictionless Table Schema: one field per column, in order.

    >>> from sxpt_core.templates import get_template
    >>> schema = table_schema(get_template("roster"))
    >>> [field["name"] for field in schema["fields"]][:3], schema["primaryKey"]
    (['学校名称', '学号', '姓名'], ['学号'])
    """
    schema: dict[str, Any] = {
        "fields": [_table_field(column, lang) for column in template],
        "missingValues": [""],
    }
    key = _natural_key(template)
    if key is not None:
        schema["primaryKey"] = key
    return schema


# --- JSON Schema --------------------------------------------------------------------


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


def _json_value(column: Column) -> dict[str, Any]:
    """Return the schema of a present, non-blank value of ``column`` in sxpt's JSON form."""
    kind = column.kind
    if kind == "yesno":
        return {"enum": [*column.choices, True, False]}
    if column.choices:
        return {"type": "string", "enum": list(column.choices)}
    if kind == "year":
        return {"type": ["integer", "string"], "minimum": _FIRST_YEAR, "maximum": _LAST_YEAR,
                "pattern": _anchored(YEAR_PATTERN)}
    if kind in ("days", "count"):
        return {"type": ["integer", "string"], "minimum": 1, "pattern": _anchored(WHOLE_PATTERN)}
    if kind == "credits":
        return {"type": ["string", "number"], "exclusiveMinimum": 0, "pattern": _anchored(CREDITS_PATTERN)}
    if kind == "money":
        return {"type": ["string", "number"], "minimum": 0, "pattern": _anchored(MONEY_PATTERN)}

    value: dict[str, Any] = {"type": "string"}
    if kind == "date":
        value["format"] = "date"
    if kind in KIND_PATTERNS:
        value["pattern"] = _anchored(KIND_PATTERNS[kind])
    else:
        # A value of only whitespace is blank to sxpt.
        value["minLength"] = 1
        value["pattern"] = "\\S"
    if column.max_length is not None:
        value["maxLength"] = column.max_length
    return value


def _json_property(column: Column, lang: str) -> dict[str, Any]:
    value = _json_value(column)
    if column.required:
        schema = value
    else:
        schema = {"anyOf": [value, {"type": "null"}, {"const": ""}]}
    description = _description(column, lang)
    if description:
        schema = {"description": description, **schema}
    return schema


def json_schema(template: Template, *, lang: str = "zh") -> dict[str, Any]:
    """Return a JSON Schema (draft 2020-12) of one row of ``template`` as a JSON object.

    >>> from sxpt_core.templates import get_template
    >>> schema = json_schema(get_template("roster"))
    >>> schema["required"], schema["properties"]["层次"]["anyOf"][0]["enum"]
    (['学号', '姓名'], ['本科', '专科', '专升本'])
    """
    zh, en = TEXT["json_description"]
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": template.name,
        "description": (en if lang == "en" else zh).format(name=template.name),
        "type": "object",
        "properties": {column.header: _json_property(column, lang) for column in template},
        "required": [column.header for column in template if column.required],
        "additionalProperties": False,
    }


def schema_for(template: Template, schema_format: str, *, lang: str = "zh") -> dict[str, Any]:
    """Return ``template`` as ``table-schema`` or ``json-schema``; raise ValueError otherwise."""
    if schema_format == "table-schema":
        return table_schema(template, lang=lang)
    if schema_format == "json-schema":
        return json_schema(template, lang=lang)
    raise ValueError(f"unknown schema format {schema_format!r}; expected one of {', '.join(FORMATS)}")


def dumps(schema: Mapping[str, Any]) -> str:
    """Return ``schema`` as indented JSON with Chinese unescaped, ending in a newline."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
