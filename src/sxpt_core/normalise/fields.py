"""Normalisers of the generic cell kinds, and the text helpers every normaliser shares.

Kinds handled here: choice, term and yesno (code lists), credits (also used for
计划实习周数), days, count, money and text.

Conventions of every normaliser in this package:

- A blank cell (None, empty, or only whitespace and zero-width characters) gives
  :data:`~sxpt_core.normalise.BLANK`, and a formula error gives
  :data:`~sxpt_core.normalise.UNREADABLE`. ``normalise_cell`` turns a blank cell of a
  required column into ``SXPT-E-FIELD-REQUIRED``.
- A rejected cell has the value None and its errors in ``findings``. It reports no
  normalisation, even when parts of it were tidied.
- A cell rewritten in several ways reports one change: the kind's own format rule wins
  over ``SXPT-W-FIELD-SPACE``. The report's normalisation entry shows the whole rewrite
  from the original to the new text, so a second warning for the same cell adds nothing.
- The messages of change rules take the parameters ``value`` (the cell as written) and
  ``text`` (the new text).
- A float cell is read with the 15 significant digits that Excel shows, so a
  formula result stored as 0.30000000000000004 is read as 0.3.
- Message parameters show at most :data:`SHOWN_LENGTH` characters of a cell.

Decisions where the workbook rules leave a gap:

- Credits and planned weeks share one kind, and the keyword ``unit`` selects which one
  a column holds. 学分 (or 分) is accepted after credits and 周 (or 星期) after weeks.
  The other unit, or 学时, 课时, 天 or 小时, is ``SXPT-E-CREDITS-UNIT``. Numbers in
  words (两学分) are ``SXPT-E-CREDITS-INVALID``.
- Pay written as 无, 没有 or 无报酬 is read as 0 with a warning, because the template asks
  for 0 when there is no pay.
- Credits, amounts, days and counts of 10^15 or more are rejected as invalid: Excel
  cannot keep such numbers exactly, and no real cell comes near them.
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.templates import Column
from sxpt_core.templates.v2024 import TERM_ALIASES, TERMS, YES_NO, YES_NO_ALIASES

__all__ = [
    "FULL_WIDTH_TABLE",
    "NUMBER_LIMIT",
    "SHORT_TEXT_LIMIT",
    "SHOWN_LENGTH",
    "TRIM_CHARS",
    "WHITESPACE",
    "ZERO_WIDTH",
    "credit_unit",
    "fold_width",
    "is_blank",
    "is_finite_number",
    "join_lines",
    "normalise_choice",
    "normalise_count",
    "normalise_credits",
    "normalise_days",
    "normalise_money",
    "normalise_text",
    "normalise_yes_no",
    "number_text",
    "reject",
    "shown",
    "trim",
    "unless_trimmed",
    "whole_number_text",
]

# ---------------------------------------------------------------------------
# Shared text helpers
# ---------------------------------------------------------------------------

# Every character for which str.isspace() is true (Python 3.11, Unicode 14), including
# U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# Invisible characters that copy and paste brings along: zero-width space, non-joiner,
# joiner, word joiner, byte order mark, and the Mongolian vowel separator (whitespace
# before Unicode 6.3).
ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"
TRIM_CHARS = WHITESPACE + ZERO_WIDTH

_DROP_ZERO_WIDTH = str.maketrans("", "", ZERO_WIDTH)

# Full-width ASCII (U+FF01–U+FF5E) to ASCII, and U+3000 to a space: what NFKC does to
# these characters, without touching CJK compatibility ideographs.
FULL_WIDTH_TABLE = {0xFF01 + offset: 0x21 + offset for offset in range(94)} | {0x3000: 0x20}

SHOWN_LENGTH = 60
_SHOWN_INT_LIMIT = 10**SHOWN_LENGTH

# Dates, numbers, phones and codes longer than this, after trimming, are rejected
# before any pattern is tried: no valid value comes near it, and some patterns would
# take time quadratic in the length of a long run of spaces.
SHORT_TEXT_LIMIT = 64


def is_blank(value: object) -> bool:
    """Return True for None and for text of only whitespace and zero-width characters.

    >>> is_blank("\\u3000\\u200b")
    True
    >>> is_blank("0")
    False
    """
    if value is None:
        return True
    return isinstance(value, str) and not value.strip(TRIM_CHARS).translate(_DROP_ZERO_WIDTH)


def trim(text: str) -> str:
    """Strip whitespace of every kind from both ends and drop zero-width characters anywhere.

    >>> trim("\\u3000张三\\u200b ")
    '张三'
    """
    return text.strip(TRIM_CHARS).translate(_DROP_ZERO_WIDTH)


def fold_width(text: str) -> str:
    """Replace full-width ASCII characters and U+3000 by their ASCII forms.

    >>> fold_width("２０２４－０９")
    '2024-09'
    """
    return text.translate(FULL_WIDTH_TABLE)


def number_text(number: float) -> str:
    """Write ``number`` as Excel shows it in a General cell: 15 significant digits.

    >>> number_text(21050101.0)
    '21050101'
    >>> number_text(0.1 + 0.2)
    '0.3'
    """
    return format(number, ".15g")


def whole_number_text(number: object) -> str | None:
    """Return the digits of a whole number from a number cell, or None.

    The result is None for fractions, NaN, infinities, TRUE/FALSE, non-numbers and
    numbers of 10^15 or more, whose digits Excel no longer keeps exactly.

    >>> whole_number_text(21050101.0)
    '21050101'
    >>> whole_number_text(1.5) is None
    True
    """
    if isinstance(number, bool) or not isinstance(number, (int, float, Decimal)):
        return None
    if not is_finite_number(number) or not -NUMBER_LIMIT < number < NUMBER_LIMIT:
        return None
    if number != int(number):
        return None
    return str(int(number))


def shown(value: object) -> str:
    """Return ``value`` as the user sees it in the cell, cut to SHOWN_LENGTH characters.

    >>> shown(True)
    'TRUE'
    >>> shown(2.0)
    '2'
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        text = number_text(value)
    elif isinstance(value, datetime.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, int) and abs(value) >= _SHOWN_INT_LIMIT:
        # str() of an int over 4300 digits raises ValueError (Python 3.11 and later).
        text = format(Decimal(value), ".15g")
    else:
        text = str(value)
    if len(text) > SHOWN_LENGTH:
        return text[:SHOWN_LENGTH] + "…"
    return text


# Whole floats below 10^15 have at most 15 digits, so Excel shows them exactly.
_EXACT_FLOAT_LIMIT = 1e15
# Credits, amounts, days and counts must be below this. Excel cannot keep larger
# numbers exactly, and no real cell comes near it.
NUMBER_LIMIT = Decimal(10**15)


def _float_decimal(number: float) -> Decimal | None:
    """Return a finite float as a Decimal of 15 significant digits, or None."""
    if not math.isfinite(number):
        return None
    return Decimal(number_text(number))


def is_finite_number(number: float | Decimal) -> bool:
    """Return False for NaN and infinities of float and Decimal, True for other numbers.

    >>> is_finite_number(Decimal("NaN"))
    False
    """
    if isinstance(number, float):
        return math.isfinite(number)
    if isinstance(number, Decimal):
        return number.is_finite()
    return True


def _plain_decimal(number: Decimal) -> str:
    """Write ``number`` without exponent and without trailing zeros after the point."""
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def _decimal_places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def unless_trimmed(value: object, text: str, trimmed: str) -> Outcome:
    """Return ``value`` taken as written, or with SXPT-W-FIELD-SPACE when ``text`` was padded."""
    if trimmed == text:
        return Outcome(value)
    return Outcome(value, change=FIELD_SPACE, text=trimmed)


def reject(rule: Rule, **params: object) -> Outcome:
    """Return the outcome of a rejected cell with one finding of ``rule``."""
    return Outcome(None, (rule(**params),))


def _is_date_or_time(value: object) -> bool:
    return isinstance(value, (datetime.date, datetime.time, datetime.timedelta))


# ---------------------------------------------------------------------------
# Rules shared by all kinds
# ---------------------------------------------------------------------------

FIELD_REQUIRED = Rule(
    code="SXPT-E-FIELD-REQUIRED", severity=Severity.ERROR, layer=Layer.FORMAT, fields=(),
    statement=("必填列的单元格不能为空。", "Cells of a required column must not be blank."),
    message=("{field} 是必填项，但单元格为空", "{field} is required, but the cell is blank"),
    hint=("补填{field}。", "Enter a value for {field}."),
)

FIELD_SPACE = Rule(
    code="SXPT-W-FIELD-SPACE", severity=Severity.WARNING, layer=Layer.FORMAT, fields=(),
    statement=(
        "单元格首尾的空白（含全角空格、不换行空格）和零宽字符会被去掉。",
        "Whitespace around a value (including full-width and no-break spaces) and zero-width "
        "characters are removed.",
    ),
    message=("“{value}” 含有多余的空白或不可见字符，已读作 “{text}”",
             "'{value}' contains extra whitespace or invisible characters; read as '{text}'"),
    hint=("删除单元格首尾的空格和不可见字符。",
          "Delete the spaces and invisible characters around the value."),
)

FIELD_CELL_TYPE = Rule(
    code="SXPT-E-FIELD-CELL-TYPE", severity=Severity.ERROR, layer=Layer.FORMAT, fields=(),
    statement=("文本列不接受日期、时间或逻辑值（TRUE/FALSE）格式的单元格。",
               "Text columns do not take date, time or TRUE/FALSE cells."),
    message=("{value} 是日期、时间或逻辑值格式的单元格，这一列应填写文本",
             "{value} is a date, time or TRUE/FALSE cell; this column takes text"),
    hint=(
        "Excel 可能把输入自动转换了（例如把 3-1 转成 3月1日）：把这一列设为文本格式后重新填写。",
        "Excel may have converted the entry (for example 3-1 into 1 March): format the column as "
        "text and enter the value again.",
    ),
)


def check_cell_type(value: object) -> Finding | None:
    """Return ``SXPT-E-FIELD-CELL-TYPE`` for a date, time or TRUE/FALSE cell, else None.

    >>> check_cell_type("3-1") is None
    True
    >>> check_cell_type(datetime.date(2024, 3, 1)).code
    'SXPT-E-FIELD-CELL-TYPE'
    """
    if isinstance(value, bool) or _is_date_or_time(value):
        return FIELD_CELL_TYPE(value=shown(value))
    return None


# ---------------------------------------------------------------------------
# Code lists: choice, term, yesno
# ---------------------------------------------------------------------------

CHOICE_INVALID = Rule(
    code="SXPT-E-CHOICE-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT, fields=(),
    statement=("代码表列只能填写模板规定的可选值。",
               "A code-list column takes only the values its template lists."),
    message=("“{value}” 不是{field}的可选值", "'{value}' is not a valid value of {field}"),
    hint=("从下列值中选填一个：{allowed}。", "Use one of: {allowed}."),
)

CHOICE_ALIAS = Rule(
    code="SXPT-W-CHOICE-ALIAS", severity=Severity.WARNING, layer=Layer.FORMAT, fields=(),
    statement=(
        "代码表列中的常见简写和别名（如“集中”“Y”）会换成规范值。",
        "Common short forms and aliases in code-list columns (such as 集中 or Y) are replaced by "
        "the standard value.",
    ),
    message=("“{value}” 已读作规范值 “{text}”", "'{value}' read as the standard value '{text}'"),
    hint=("直接填写规范值 “{text}”，可使用模板中的下拉列表。",
          "Enter the standard value '{text}'; the template's drop-down list offers it."),
)

_DEFAULT_CHOICES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "yesno": (YES_NO, YES_NO_ALIASES),
    "term": (TERMS, TERM_ALIASES),
}


def _choice_key(text: str) -> str:
    """Return the loose form of a code-list value: NFKC, case-folded, no whitespace."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(folded.split()).translate(_DROP_ZERO_WIDTH)


@attrs.frozen
class _ChoiceTable:
    """The lookups of one code-list column, built once per column."""

    column: Column
    allowed: str
    convert: Callable[[str], Any]
    exact: dict[str, Outcome]
    loose: dict[str, str]
    # Longer texts are rejected without the loose match, so huge cells stay cheap.
    longest: int


# id(column) → table. A table keeps its column alive, so an id is never reused while
# its entry exists.
_CHOICE_TABLES: dict[int, _ChoiceTable] = {}


def _choice_table(column: Column) -> _ChoiceTable:
    table = _CHOICE_TABLES.get(id(column))
    if table is not None and table.column is column:
        return table

    choices, aliases = column.choices, column.choice_aliases
    if not choices and column.kind in _DEFAULT_CHOICES:
        choices, aliases = _DEFAULT_CHOICES[column.kind]
    convert: Callable[[str], Any] = str
    if column.kind == "yesno":
        convert = _is_yes

    loose = {_choice_key(alias): target for alias, target in aliases.items() if target in choices}
    loose.update({_choice_key(choice): choice for choice in choices})
    table = _ChoiceTable(
        column=column,
        allowed="、".join(choices),
        convert=convert,
        exact={choice: Outcome(convert(choice)) for choice in choices},
        loose=loose,
        longest=max(SHORT_TEXT_LIMIT, *(2 * len(key) for key in (*choices, *aliases))),
    )
    _CHOICE_TABLES[id(column)] = table
    return table


def _is_yes(choice: str) -> bool:
    return choice == "是"


def normalise_choice(value: Any, column: Column) -> Outcome:
    """Read one value of the code list of ``column`` (kinds choice, term and yesno).

    A value of the list is taken as written, and a padded one is ``SXPT-W-FIELD-SPACE``.
    An alias of ``column.choice_aliases``, or a value or alias that matches after NFKC,
    case folding and removal of spaces, is ``SXPT-W-CHOICE-ALIAS``. Anything else is
    ``SXPT-E-CHOICE-INVALID``, listing the allowed values. Whole numbers are matched as
    their digits, so a 学期 cell holding the number 1 matches the alias ``1``.

    >>> from sxpt_core.templates import get_template
    >>> column = get_template("records").column("实习组织形式")
    >>> normalise_choice("集中实习", column).value
    '集中实习'
    >>> normalise_choice("集中", column).change.code
    'SXPT-W-CHOICE-ALIAS'
    >>> normalise_choice("混合", column).findings[0].code
    'SXPT-E-CHOICE-INVALID'
    """
    table = _choice_table(column)
    cls = value.__class__
    if cls is str:
        hit = table.exact.get(value)
        if hit is not None:
            return hit
        return _choice_from_text(table, value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if cls is bool and column.kind == "yesno":
        text = "是" if value else "否"
        return Outcome(table.convert(text), change=CHOICE_ALIAS, text=text)
    digits = whole_number_text(value)
    if digits is not None:
        return _choice_from_text(table, digits, shown_as=shown(value))
    return reject(CHOICE_INVALID, value=shown(value), field=column.header, allowed=table.allowed)


def _choice_from_text(table: _ChoiceTable, text: str, shown_as: str | None = None) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK

    hit = table.exact.get(trimmed)
    if hit is not None:
        if trimmed == text:
            return hit
        return Outcome(hit.value, change=FIELD_SPACE, text=trimmed)

    canonical = None
    if len(trimmed) <= table.longest:
        canonical = table.loose.get(_choice_key(trimmed))
    if canonical is not None:
        return Outcome(table.convert(canonical), change=CHOICE_ALIAS, text=canonical)

    return reject(
        CHOICE_INVALID,
        value=shown_as if shown_as is not None else shown(text),
        field=table.column.header,
        allowed=table.allowed,
    )


_YES_NO_COLUMN = Column("是否", "yes_no", "yesno", choices=YES_NO, choice_aliases=YES_NO_ALIASES)


def normalise_yes_no(value: Any, column: Column | None = None) -> Outcome:
    """Read 是 / 否 as True / False, with the aliases of ``column`` (Y, N, 有, 无, √, ×, …).

    A TRUE/FALSE cell is read as 是 / 否 with ``SXPT-W-CHOICE-ALIAS``. Other cells follow
    :func:`normalise_choice`. Without a column the 2024 template's aliases apply.

    >>> normalise_yes_no("是").value
    True
    >>> normalise_yes_no("Y").text
    '是'
    >>> normalise_yes_no("不确定").findings[0].code
    'SXPT-E-CHOICE-INVALID'
    """
    return normalise_choice(value, _YES_NO_COLUMN if column is None else column)


# ---------------------------------------------------------------------------
# Credits and planned weeks
# ---------------------------------------------------------------------------

CREDITS_INVALID = Rule(
    code="SXPT-E-CREDITS-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("学分", "计划实习周数"),
    statement=("学分和计划实习周数用阿拉伯数字填写。",
               "Credits and planned weeks are written in digits."),
    message=("“{value}” 不是有效的数值", "'{value}' is not a valid number"),
    hint=(
        "用阿拉伯数字填写大于 0 的数，最多一位小数，例如 2 或 1.5。",
        "Enter a number greater than 0 in digits, with at most one decimal place, e.g. 2 or 1.5.",
    ),
)

CREDITS_NOT_POSITIVE = Rule(
    code="SXPT-E-CREDITS-NOT-POSITIVE", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("学分", "计划实习周数"),
    statement=("学分和计划实习周数大于 0。", "Credits and planned weeks are greater than 0."),
    message=("{value} 不大于 0", "{value} is not greater than 0"),
    hint=("填写大于 0 的数；没有学分的实践活动不属于报送范围。",
          "Enter a number greater than 0; activities without credits are not reported."),
)

CREDITS_PRECISION = Rule(
    code="SXPT-E-CREDITS-PRECISION", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("学分", "计划实习周数"),
    statement=("学分和计划实习周数最多一位小数。",
               "Credits and planned weeks have at most one decimal place."),
    message=("{value} 的小数超过一位", "{value} has more than one decimal place"),
    hint=(
        "最多保留一位小数，例如 1.5，并按人才培养方案核对。",
        "Use at most one decimal place, e.g. 1.5, and check the value against the training plan.",
    ),
)

CREDITS_UNIT = Rule(
    code="SXPT-E-CREDITS-UNIT", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("学分", "计划实习周数"),
    statement=("学分列只填学分，计划实习周数列只填周数。",
               "The credits column takes credits and the planned-weeks column takes weeks."),
    message=("“{value}” 的单位是“{found}”，这一列应填{expected}",
             "'{value}' is given in {found}, but this column takes {expected}"),
    hint=(
        "只填写{expected}的数值，例如 2；学分和周数分别填在各自的列。",
        "Enter only the number of {expected}, e.g. 2; credits and weeks go in their own columns.",
    ),
)

CREDITS_FORMAT = Rule(
    code="SXPT-W-CREDITS-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("学分", "计划实习周数"),
    statement=(
        "带单位（如 2学分、2周）或用全角数字写的学分和周数读作数字。",
        "Credits and weeks written with a unit (such as 2学分 or 2周) or in full-width digits "
        "are read as the number.",
    ),
    message=("“{value}” 已读作 {text}", "'{value}' read as {text}"),
    hint=("只填写数字，例如 2 或 1.5，不带单位。",
          "Enter only the number, e.g. 2 or 1.5, without a unit."),
)

# Units accepted after a number, by the unit of the column.
_CREDIT_UNITS: dict[str, frozenset[str]] = {
    "学分": frozenset({"学分", "分"}),
    "周": frozenset({"周", "星期", "个星期", "个周"}),
}
# Units that show the number belongs to another column.
_OTHER_UNITS = frozenset(
    {"学分", "周", "星期", "个星期", "学时", "课时", "天", "日", "小时", "h", "H"}
)

_CREDITS_PLAIN = re.compile(r"[0-9]{1,15}(?:\.[0-9])?")
_NUMBER_WITH_UNIT = re.compile(r"([+-]?)\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(.*)", re.DOTALL)


def credit_unit(column: Column) -> str:
    """Return the unit of a column of kind credits: 周 for planned weeks, else 学分.

    >>> from sxpt_core.templates import get_template
    >>> credit_unit(get_template("plan").column("计划实习周数"))
    '周'
    """
    # NOTE: the template has no unit attribute, so the header decides. A column whose
    # header mentions 周 (计划实习周数, 实习周数) counts weeks.
    return "周" if "周" in column.header else "学分"


def normalise_credits(value: Any, *, unit: str = "学分") -> Outcome:
    """Read credits (or, with ``unit="周"``, planned weeks) as a Decimal.

    A number greater than 0 with at most one decimal place is taken as written. ``2学分``
    (``2周`` for weeks), full-width digits and ``1.50`` are ``SXPT-W-CREDITS-FORMAT``.
    Rejected are the other unit (``SXPT-E-CREDITS-UNIT``), 0 and negatives
    (``SXPT-E-CREDITS-NOT-POSITIVE``), ``1.25`` (``SXPT-E-CREDITS-PRECISION``), and words
    and anything else (``SXPT-E-CREDITS-INVALID``).

    >>> normalise_credits(1.5).value
    Decimal('1.5')
    >>> normalise_credits("2学分").change.code
    'SXPT-W-CREDITS-FORMAT'
    >>> normalise_credits("2周").findings[0].code
    'SXPT-E-CREDITS-UNIT'
    >>> normalise_credits("0").findings[0].code
    'SXPT-E-CREDITS-NOT-POSITIVE'
    >>> normalise_credits("1.25").findings[0].code
    'SXPT-E-CREDITS-PRECISION'
    >>> normalise_credits("两学分").findings[0].code
    'SXPT-E-CREDITS-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if _CREDITS_PLAIN.fullmatch(value):
            number = Decimal(value)
            if number > 0:
                return Outcome(number)
        return _credits_from_text(value, unit)
    if cls is float:
        if value.is_integer() and 0 < value < _EXACT_FLOAT_LIMIT:
            return Outcome(Decimal(int(value)))
        text = number_text(value)
        if value > 0 and _CREDITS_PLAIN.fullmatch(text):
            return Outcome(Decimal(text))
        return _check_credits(_float_decimal(value), value)
    if cls is int or cls is Decimal:
        return _check_credits(Decimal(value), value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _check_credits(Decimal(value), value)
    return reject(CREDITS_INVALID, value=shown(value))


def _check_credits(number: Decimal | None, written: object) -> Outcome:
    """Check a number read from a number cell; it is taken as written when valid."""
    if number is None or not number.is_finite() or number >= NUMBER_LIMIT:
        return reject(CREDITS_INVALID, value=shown(written))
    if number <= 0:
        return reject(CREDITS_NOT_POSITIVE, value=shown(written))
    if _decimal_places(number) > 1:
        return reject(CREDITS_PRECISION, value=shown(written))
    return Outcome(Decimal(_plain_decimal(number)))


def _credits_from_text(text: str, unit: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(CREDITS_INVALID, value=shown(text))
    match = _NUMBER_WITH_UNIT.fullmatch(fold_width(trimmed))
    if match is None:
        return reject(CREDITS_INVALID, value=shown(text))

    sign, digits, written_unit = match.groups()
    written_unit = written_unit.strip()
    if written_unit and written_unit not in _CREDIT_UNITS[unit]:
        if written_unit in _OTHER_UNITS:
            return reject(CREDITS_UNIT, value=shown(text), found=written_unit, expected=unit)
        return reject(CREDITS_INVALID, value=shown(text))

    number = Decimal(sign + digits)
    if number >= NUMBER_LIMIT:
        return reject(CREDITS_INVALID, value=shown(text))
    if number <= 0:
        return reject(CREDITS_NOT_POSITIVE, value=shown(text))
    if _decimal_places(number) > 1:
        return reject(CREDITS_PRECISION, value=shown(text))
    canonical = _plain_decimal(number)
    if trimmed == canonical or _CREDITS_PLAIN.fullmatch(trimmed):
        return unless_trimmed(Decimal(trimmed), text, trimmed)
    return Outcome(Decimal(canonical), change=CREDITS_FORMAT, text=canonical)


# ---------------------------------------------------------------------------
# Whole numbers: days, count
# ---------------------------------------------------------------------------

DAYS_INVALID = Rule(
    code="SXPT-E-DAYS-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("实际实习天数",),
    statement=("实际实习天数是不小于 1 的整数。",
               "Days actually worked is a whole number of at least 1."),
    message=("“{value}” 不是有效的天数", "'{value}' is not a valid number of days"),
    hint=("填写不小于 1 的整数，例如 30。", "Enter a whole number of at least 1, e.g. 30."),
)

DAYS_FORMAT = Rule(
    code="SXPT-W-DAYS-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("实际实习天数",),
    statement=("写作 30天 或全角数字的天数读作整数。",
               "Days written as 30天 or in full-width digits are read as the whole number."),
    message=("“{value}” 已读作 {text} 天", "'{value}' read as {text} days"),
    hint=("只填写数字，例如 30，不带“天”。", "Enter only the number, e.g. 30, without 天."),
)

COUNT_INVALID = Rule(
    code="SXPT-E-COUNT-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("计划实习人数",),
    statement=("计划实习人数是不小于 1 的整数。",
               "The planned number of students is a whole number of at least 1."),
    message=("“{value}” 不是有效的人数", "'{value}' is not a valid number of students"),
    hint=("填写不小于 1 的整数，例如 45。", "Enter a whole number of at least 1, e.g. 45."),
)

COUNT_FORMAT = Rule(
    code="SXPT-W-COUNT-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("计划实习人数",),
    statement=("写作 45人 或全角数字的人数读作整数。",
               "Counts written as 45人 or in full-width digits are read as the whole number."),
    message=("“{value}” 已读作 {text} 人", "'{value}' read as {text} students"),
    hint=("只填写数字，例如 45，不带“人”。", "Enter only the number, e.g. 45, without 人."),
)

_WHOLE_PLAIN = re.compile(r"[1-9][0-9]{0,14}")
_WHOLE_WITH_UNIT = re.compile(r"([+-]?)\s*([0-9]+)(?:\.0*)?\s*(.*)", re.DOTALL)


def _normalise_whole(
    value: Any, units: frozenset[str], invalid: Rule, written_with_unit: Rule
) -> Outcome:
    """Read a whole number of at least 1; ``units`` are the words accepted after it."""
    cls = value.__class__
    if cls is str:
        if _WHOLE_PLAIN.fullmatch(value):
            return Outcome(int(value))
        return _whole_from_text(value, units, invalid, written_with_unit)
    if cls is float and value.is_integer() and 1 <= value < _EXACT_FLOAT_LIMIT:
        return Outcome(int(value))
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if not is_finite_number(value) or value != int(value) or not 1 <= value < NUMBER_LIMIT:
            return reject(invalid, value=shown(value))
        return Outcome(int(value))
    return reject(invalid, value=shown(value))


def _whole_from_text(
    text: str, units: frozenset[str], invalid: Rule, written_with_unit: Rule
) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(invalid, value=shown(text))
    match = _WHOLE_WITH_UNIT.fullmatch(fold_width(trimmed))
    if match is None:
        return reject(invalid, value=shown(text))
    sign, digits, unit = match.groups()
    if unit.strip() and unit.strip() not in units:
        return reject(invalid, value=shown(text))
    number = int(sign + digits)
    if not 1 <= number < NUMBER_LIMIT:
        return reject(invalid, value=shown(text))
    canonical = str(number)
    if trimmed == canonical:
        return unless_trimmed(number, text, trimmed)
    return Outcome(number, change=written_with_unit, text=canonical)


_DAY_UNITS = frozenset({"天", "日"})
_COUNT_UNITS = frozenset({"人", "名"})


def normalise_days(value: Any) -> Outcome:
    """Read a whole number of days, at least 1, as an int.

    ``30天`` and full-width digits are ``SXPT-W-DAYS-FORMAT``. Zero, fractions, negatives
    and words are ``SXPT-E-DAYS-INVALID``. The upper bound (the span between the dates) is a
    rule of the record, not of the cell.

    >>> normalise_days(30.0).value
    30
    >>> normalise_days("30天").change.code
    'SXPT-W-DAYS-FORMAT'
    >>> normalise_days("0").findings[0].code
    'SXPT-E-DAYS-INVALID'
    """
    return _normalise_whole(value, _DAY_UNITS, DAYS_INVALID, DAYS_FORMAT)


def normalise_count(value: Any) -> Outcome:
    """Read a whole number of people, at least 1, as an int.

    ``45人`` and full-width digits are ``SXPT-W-COUNT-FORMAT``. Zero, fractions,
    negatives and words are ``SXPT-E-COUNT-INVALID``.

    >>> normalise_count("45").value
    45
    >>> normalise_count("45人").change.code
    'SXPT-W-COUNT-FORMAT'
    >>> normalise_count("四十五").findings[0].code
    'SXPT-E-COUNT-INVALID'
    """
    return _normalise_whole(value, _COUNT_UNITS, COUNT_INVALID, COUNT_FORMAT)


# ---------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------

MONEY_INVALID = Rule(
    code="SXPT-E-MONEY-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("实习报酬（元/月）",),
    statement=("实习报酬是每月的元数：不小于 0，最多两位小数。",
               "Pay is in yuan per month: not negative, with at most two decimal places."),
    message=("“{value}” 不是有效的金额", "'{value}' is not a valid amount"),
    hint=("填写每月报酬的元数，例如 3000；没有报酬填 0；不要填范围或“面议”。",
          "Enter the monthly pay in yuan, e.g. 3000, or 0 when unpaid; no ranges or words."),
)

MONEY_FORMAT = Rule(
    code="SXPT-W-MONEY-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("实习报酬（元/月）",),
    statement=(
        "带“元”“元/月”、货币符号、千位分隔符或全角数字的金额读作数字；“无”读作 0。",
        "Amounts written with 元, 元/月, a currency sign, thousands separators or full-width "
        "digits are read as the number; 无 is read as 0.",
    ),
    message=("“{value}” 已读作 {text} 元", "'{value}' read as {text} yuan"),
    hint=("只填写数字，例如 3000，不带单位和符号。",
          "Enter only the number, e.g. 3000, without unit or sign."),
)

_MONEY_PLAIN = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,2})?")
_MONEY_TEXT = re.compile(
    r"(?:¥|￥|RMB|CNY|人民币)?\s*([+-]?)\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\s*"
    r"(?:元|块)?\s*(?:/\s*月|每月|/每月|每个月)?",
    re.IGNORECASE,
)
_NO_PAY = frozenset({"无", "没有", "无报酬", "无薪"})


def normalise_money(value: Any) -> Outcome:
    """Read monthly pay in yuan as a Decimal: not negative, at most two decimal places.

    ``3000元``, ``3000元/月``, ``¥3,000``, full-width digits and 无 (read as 0) are
    ``SXPT-W-MONEY-FORMAT``. Negatives, more decimals, ranges and words are
    ``SXPT-E-MONEY-INVALID``.

    >>> normalise_money("3000").value
    Decimal('3000')
    >>> normalise_money("3000元/月").change.code
    'SXPT-W-MONEY-FORMAT'
    >>> normalise_money("3000-4000").findings[0].code
    'SXPT-E-MONEY-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if _MONEY_PLAIN.fullmatch(value):
            return Outcome(Decimal(value))
        return _money_from_text(value)
    if cls is float:
        if value.is_integer() and 0 <= value < _EXACT_FLOAT_LIMIT:
            return Outcome(Decimal(int(value)))
        text = number_text(value)
        if value > 0 and _MONEY_PLAIN.fullmatch(text):
            return Outcome(Decimal(text))
        return _check_money(_float_decimal(value), value)
    if cls is int or cls is Decimal:
        return _check_money(Decimal(value), value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _check_money(Decimal(value), value)
    return reject(MONEY_INVALID, value=shown(value))


def _check_money(number: Decimal | None, written: object) -> Outcome:
    if number is None or not number.is_finite() or not 0 <= number < NUMBER_LIMIT:
        return reject(MONEY_INVALID, value=shown(written))
    if _decimal_places(number) > 2:
        return reject(MONEY_INVALID, value=shown(written))
    return Outcome(Decimal(_plain_decimal(number)))


def _money_from_text(text: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(MONEY_INVALID, value=shown(text))
    if trimmed in _NO_PAY:
        return Outcome(Decimal(0), change=MONEY_FORMAT, text="0")
    match = _MONEY_TEXT.fullmatch(fold_width(trimmed))
    if match is None:
        return reject(MONEY_INVALID, value=shown(text))

    sign, whole, fraction = match.groups()
    try:
        number = Decimal(sign + whole.replace(",", "") + (fraction or ""))
    except InvalidOperation:
        return reject(MONEY_INVALID, value=shown(text))
    if not 0 <= number < NUMBER_LIMIT or _decimal_places(number) > 2:
        return reject(MONEY_INVALID, value=shown(text))
    canonical = _plain_decimal(number)
    if trimmed == canonical or _MONEY_PLAIN.fullmatch(trimmed):
        return unless_trimmed(Decimal(trimmed), text, trimmed)
    return Outcome(Decimal(canonical), change=MONEY_FORMAT, text=canonical)


# ---------------------------------------------------------------------------
# Free text
# ---------------------------------------------------------------------------

TEXT_TOO_LONG = Rule(
    code="SXPT-E-TEXT-TOO-LONG", severity=Severity.ERROR, layer=Layer.FORMAT, fields=(),
    statement=("文本不超过模板为该列规定的最大长度。",
               "Text is at most the maximum length the template sets for its column."),
    message=("内容有 {length} 个字符，超过了上限 {limit}",
             "the text has {length} characters, over the limit of {limit}"),
    hint=("缩短到 {limit} 个字符以内。", "Shorten it to at most {limit} characters."),
)

TEXT_LINE_BREAK = Rule(
    code="SXPT-W-TEXT-LINE-BREAK", severity=Severity.WARNING, layer=Layer.FORMAT, fields=(),
    statement=("单元格内的换行会替换为一个空格。",
               "Line breaks inside a cell are replaced by one space."),
    message=("“{value}” 中的换行已替换为空格",
             "the line breaks in '{value}' were replaced by spaces"),
    hint=("不要在单元格内换行（Alt+Enter）。", "Do not break lines inside the cell (Alt+Enter)."),
)

_LINE_BREAK_CHARS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_TEXT_NEEDS_WORK = re.compile("[" + _LINE_BREAK_CHARS + ZERO_WIDTH + "]")
_LINE_BREAKS = re.compile("[" + _LINE_BREAK_CHARS + "]+")
_SPACES_AT_BREAKS = " \t\xa0\u3000"


def join_lines(text: str) -> str:
    """Replace each line break, with the spaces around it, by one space.

    >>> join_lines("计算机 \\r\\n\\n 学院")
    '计算机 学院'
    """
    if _LINE_BREAKS.search(text) is None:
        return text
    lines = (line.strip(_SPACES_AT_BREAKS) for line in _LINE_BREAKS.split(text))
    return " ".join(line for line in lines if line)


def normalise_text(value: Any, *, max_length: int | None = None) -> Outcome:
    """Read free text: trimmed, on one line, at most ``max_length`` characters.

    Trimming and dropping zero-width characters is ``SXPT-W-FIELD-SPACE``. Each run of
    line breaks inside the cell becomes one space with ``SXPT-W-TEXT-LINE-BREAK``. Text
    over the limit is ``SXPT-E-TEXT-TOO-LONG``. A number cell is read as the digits
    Excel shows, and a date, time or TRUE/FALSE cell is ``SXPT-E-FIELD-CELL-TYPE``.
    Length counts code points, so a character outside the BMP counts once.

    >>> normalise_text("计算机学院").value
    '计算机学院'
    >>> normalise_text("计算机\\n学院").text
    '计算机 学院'
    >>> normalise_text(" 计算机学院").change.code
    'SXPT-W-FIELD-SPACE'
    >>> normalise_text("计算机学院", max_length=3).findings[0].code
    'SXPT-E-TEXT-TOO-LONG'
    """
    if value.__class__ is str:
        if (
            value
            and value[0] not in TRIM_CHARS
            and value[-1] not in TRIM_CHARS
            and (max_length is None or len(value) <= max_length)
            and _TEXT_NEEDS_WORK.search(value) is None
        ):
            return Outcome(value)
        return _text_from_text(value, max_length)
    if value is None:
        return BLANK
    if value.__class__ is CellError:
        return UNREADABLE
    finding = check_cell_type(value)
    if finding is not None:
        return Outcome(None, (finding,))
    if isinstance(value, float):
        if not math.isfinite(value):
            return reject(FIELD_CELL_TYPE, value=shown(value))
        return _text_from_text(number_text(value), max_length)
    return _text_from_text(shown(value) if isinstance(value, int) else str(value), max_length)


def _text_from_text(text: str, max_length: int | None) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    one_line = join_lines(trimmed)

    if max_length is not None and len(one_line) > max_length:
        return reject(TEXT_TOO_LONG, length=len(one_line), limit=max_length)
    if one_line != trimmed:
        return Outcome(one_line, change=TEXT_LINE_BREAK, text=one_line)
    if trimmed != text:
        return Outcome(trimmed, change=FIELD_SPACE, text=trimmed)
    return Outcome(text)
