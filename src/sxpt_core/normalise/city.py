"""实习地区及代码: the six-digit GB/T 2260 city code of the internship.

Accepted: a prefecture-level code (``xxyy00``); the four municipalities as 110000,
120000, 310000, 500000 (their ``xx0100`` and ``xx0200`` codes normalise to them); a
province-administered county-level city (``xx90yy``); 810000, 820000, 710000 for Hong
Kong, Macao and Taiwan; 990000 for abroad. A county code normalises to its prefecture.
A province code, a ``xxyy01`` 市辖区 aggregate, an abolished or an unknown code is an
error. The cell may also carry the name, as in ``杭州市-330100`` or
``浙江省杭州市(330100)``; the code is taken from it with a warning.
"""

from __future__ import annotations

import re
import unicodedata

from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.codes.divisions import DivisionTable, check_city_code, load_divisions
from sxpt_core.normalise import Outcome

__all__ = ["normalise_city"]

FIELD = "实习地区及代码"
_SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
# A code written by a script as a float, such as 510100.0.
_FLOAT_CODE = re.compile(r"(\d{6})\.0+")
_PLAIN_CODE = re.compile(r"\d{6}")
_NAME_NOISE = str.maketrans("", "", " -_()（）[]【】:：/\\,，\t")

CITY_FORMAT = Rule(
    code="SXPT-W-CITY-FORMAT",
    severity=Severity.WARNING,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "城市代码可以写成“杭州市-330100”等形式，按其中的六位代码读取。",
        "A city written with its name, like 杭州市-330100, is read as its six-digit code.",
    ),
    message=("“{value}”已读取为城市代码 {text}", "{value} was read as the city code {text}"),
    hint=("", ""),
)

CITY_NAME_MISMATCH = Rule(
    code="SXPT-W-CITY-NAME-MISMATCH",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=("城市名称应与城市代码一致。", "The city name agrees with the city code."),
    message=("城市代码 {code} 是{name}，与“{value}”中的名称不一致",
             "City code {code} is {name}, which differs from the name in {value}"),
    hint=("请核对城市名称和代码。", "Check the city name and the code."),
)

CITY_MALFORMED = Rule(
    code="SXPT-E-CITY-FORMAT",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=("城市代码是六位数字。", "A city code has six digits."),
    message=("“{value}”不是六位城市代码", "{value} is not a six-digit city code"),
    hint=("请填写实习所在城市的六位代码，例如 330100 或 杭州市-330100；国外填 990000。",
          "Enter the six-digit code of the city, e.g. 330100 or 杭州市-330100; 990000 abroad."),
)

CITY_COUNTY = Rule(
    code="SXPT-W-CITY-COUNTY",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=(
        "县级代码按其所属的地级城市代码读取。",
        "A county-level code is read as the code of its prefecture-level city.",
    ),
    message=("{value}（{name}）是县级代码，已按所属城市 {text} 读取",
             "{value} ({name}) is a county; read as its city {text}"),
    hint=("请填写地级城市代码 {text}。", "Enter the city code {text}."),
    source="GB/T 2260",
)

CITY_MUNICIPALITY = Rule(
    code="SXPT-W-CITY-MUNICIPALITY",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=(
        "直辖市的城市代码为 110000、120000、310000、500000。",
        "The municipalities' city codes are 110000, 120000, 310000 and 500000.",
    ),
    message=("{value} 已按直辖市代码 {text} 读取", "{value} was read as the municipality code {text}"),
    hint=("请填写 {text}。", "Enter {text}."),
    source="GB/T 2260",
)

CITY_PROVINCE = Rule(
    code="SXPT-E-CITY-PROVINCE",
    severity=Severity.ERROR,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=(
        "城市代码不能是省级代码（直辖市除外）。",
        "A city code is not a province code, except for the four municipalities.",
    ),
    message=("{value} 是{name}的省级代码，不是城市代码", "{value} is the province code of {name}, not a city"),
    hint=("请填写实习所在地级城市的代码。", "Enter the code of the prefecture-level city."),
    source="GB/T 2260",
)

CITY_DISTRICT_AGGREGATE = Rule(
    code="SXPT-E-CITY-DISTRICT-AGGREGATE",
    severity=Severity.ERROR,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=("“市辖区”汇总代码不能作为城市代码。", "A 市辖区 aggregate code is not a city code."),
    message=("{value} 是“市辖区”汇总代码", "{value} is a 市辖区 aggregate code"),
    hint=("请填写 {parent}。", "Enter {parent}."),
    source="GB/T 2260",
)

CITY_ABOLISHED = Rule(
    code="SXPT-E-CITY-ABOLISHED",
    severity=Severity.ERROR,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=("已撤销的行政区划代码不能使用。", "An abolished division code is not used."),
    message=("{value}（{name}）已撤销", "{value} ({name}) has been abolished"),
    hint=("{hint}", "{hint_en}"),
    source="GB/T 2260",
)

CITY_UNKNOWN = Rule(
    code="SXPT-E-CITY-UNKNOWN",
    severity=Severity.ERROR,
    layer=Layer.CODE_TABLE,
    fields=(FIELD,),
    statement=("城市代码须是 GB/T 2260 中的代码。", "A city code is a GB/T 2260 code."),
    message=("{value} 不是有效的行政区划代码", "{value} is not a GB/T 2260 division code"),
    hint=("请核对城市代码；国外实习填 990000，香港 810000，澳门 820000，台湾 710000。",
          "Check the code; abroad 990000, Hong Kong 810000, Macao 820000, Taiwan 710000."),
    source="GB/T 2260",
)


def _extract_code(value: object) -> tuple[str | None, str]:
    """Return the six digits in ``value`` (None unless exactly one run) and its text."""
    if isinstance(value, bool):
        return None, str(value)
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    if _PLAIN_CODE.fullmatch(text):
        return text, text
    as_float = _FLOAT_CODE.fullmatch(text)
    if as_float:
        return as_float.group(1), text
    runs = _SIX_DIGITS.findall(text)
    return (runs[0] if len(runs) == 1 else None), text


def _name_part(text: str, code: str) -> str:
    return text.replace(code, "").translate(_NAME_NOISE)


def normalise_city(value: object, table: DivisionTable | None = None) -> Outcome:
    """Normalise and check one 实习地区及代码 cell against ``table``.

    ``table`` defaults to the division table shipped with sxpt.

    >>> normalise_city("330100").value
    '330100'
    >>> outcome = normalise_city("杭州市-330100")
    >>> outcome.value, outcome.change.code
    ('330100', 'SXPT-W-CITY-FORMAT')
    >>> [f.code for f in normalise_city("330000").findings]
    ['SXPT-E-CITY-PROVINCE']
    """
    if table is None:
        table = load_divisions()
    code, text = _extract_code(value)
    if code is None:
        return Outcome(None, (CITY_MALFORMED(value=text),))

    check = check_city_code(code, table)
    if not check.ok:
        return Outcome(None, (_rejection(code, check, table),))

    findings: list[Finding] = []
    name = "" if _FLOAT_CODE.fullmatch(text) else _name_part(text, code)
    if name and check.name and not _names_agree(name, code, check.code, table):
        findings.append(CITY_NAME_MISMATCH(code=code, name=check.name, value=text))

    result = check.code
    if check.normalised:
        rule = CITY_MUNICIPALITY if check.kind == "municipality_part" else CITY_COUNTY
        return Outcome(result, tuple(findings), change=rule, text=result)
    if not (isinstance(value, str) and value == code) and not isinstance(value, (int, float)):
        return Outcome(result, tuple(findings), change=CITY_FORMAT, text=result)
    return Outcome(result, tuple(findings))


def _names_agree(name: str, code: str, result: str | None, table: DivisionTable) -> bool:
    """Return True when the name written in the cell belongs to the code or its parents."""
    names: list[str] = []
    for candidate in (code, result):
        division = table.get(candidate) if candidate else None
        while division is not None:
            names.append(division.name)
            division = table.get(division.parent) if division.parent else None
    return any(known in name or name in known for known in names if known)


def _rejection(code: str, check: object, table: DivisionTable) -> Finding:
    kind = getattr(check, "kind", "unknown")
    name = getattr(check, "name", None) or ""
    if kind == "province":
        return CITY_PROVINCE(value=code, name=name)
    if kind == "district_aggregate":
        return CITY_DISTRICT_AGGREGATE(value=code, parent=code[:4] + "00")
    if kind == "abolished":
        successor = getattr(check, "successor", None)
        if successor:
            successor_name = getattr(check, "successor_name", None) or ""
            hint = f"请改用现行代码 {successor}（{successor_name}）。"
            hint_en = f"Use the current code {successor} ({successor_name})."
        else:
            hint = "请填写实习所在城市现行的行政区划代码。"
            hint_en = "Enter the current code of the city."
        return CITY_ABOLISHED(value=code, name=name, hint=hint, hint_en=hint_en)
    if kind == "malformed":
        return CITY_MALFORMED(value=code)
    return CITY_UNKNOWN(value=code)
