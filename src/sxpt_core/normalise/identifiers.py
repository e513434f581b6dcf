"""Normalisers of identifiers: 学号 and 课程代码 (kind id), school and major codes, phones.

Identifiers are text. Text is kept as written apart from whitespace around it and
zero-width characters (``SXPT-W-FIELD-SPACE``) and full-width or other compatibility
forms of letters and digits, which NFKC turns into ASCII (``SXPT-W-ID-FULLWIDTH``).
Spaces inside an identifier are kept, because a course code such as ``GE 101`` may
contain them. The roster and plan checks find an identifier that matches nothing.

Excel keeps numbers to 15 significant digits and drops leading zeros, so:

- a whole number from a number cell is read as its digits with ``SXPT-W-ID-NUMERIC``,
  which asks for a text column (a lost leading zero is found later, against the roster
  or the plan);
- a number of more than 15 digits is ``SXPT-E-ID-PRECISION``, because the digits after
  the fifteenth are already lost in the workbook;
- a number with a fraction, a negative number, NaN or infinity is
  ``SXPT-E-ID-NUMBER-INVALID``;
- a date cell is ``SXPT-E-ID-DATE``, because Excel turned what was typed into a date.

Phone numbers: landline area codes have three digits when they start with 01 or 02
(010, 020–029) and four digits otherwise, so a landline written without a hyphen
splits unambiguously into area code and number.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal
from typing import Any

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.fields import (
    FIELD_CELL_TYPE,
    FIELD_SPACE,
    SHORT_TEXT_LIMIT,
    fold_width,
    is_finite_number,
    reject,
    shown,
    trim,
    unless_trimmed,
    whole_number_text,
)

__all__ = [
    "normalise_identifier",
    "normalise_major_code",
    "normalise_phone",
    "normalise_school_code",
]

_ID_FIELDS = ("学号", "课程代码")
_CODE_FIELDS = ("学号", "课程代码", "专业代码")

ID_NUMERIC = Rule(
    code="SXPT-W-ID-NUMERIC", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_CODE_FIELDS,
    statement=("学号、课程代码等编号应为文本，数字格式的单元格会丢失开头的 0。",
               "Identifiers must be text cells; numeric cells lose leading zeros."),
    message=("{value} 是数字格式，已按文本 {text} 读取",
             "{value} is a number; read as the text {text}"),
    hint=("把这一列设为文本格式后重新填写，以保留开头的 0。",
          "Format the column as text and enter the values again, so that leading zeros stay."),
)

ID_FULLWIDTH = Rule(
    code="SXPT-W-ID-FULLWIDTH", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_CODE_FIELDS,
    statement=("编号中的全角字母和数字改为半角。",
               "Full-width letters and digits in identifiers become ASCII."),
    message=("“{value}” 中的全角字符已改为半角，读作 “{text}”",
             "the full-width characters in '{value}' were replaced; read as '{text}'"),
    hint=("用半角（英文输入法）填写字母和数字。",
          "Type letters and digits in half width (an English input mode)."),
)

ID_DATE = Rule(
    code="SXPT-E-ID-DATE", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_ID_FIELDS,
    statement=("学号和课程代码不能是日期格式的单元格。",
               "学号 and 课程代码 cells must not be date cells."),
    message=("{value} 是日期格式的单元格，Excel 可能把输入的编号转换成了日期",
             "{value} is a date cell; Excel has probably turned the identifier into a date"),
    hint=("把这一列设为文本格式，再按学籍信息或培养方案重新填写。",
          "Format the column as text and enter the identifier again from the roster or the plan."),
)

ID_PRECISION = Rule(
    code="SXPT-E-ID-PRECISION", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_ID_FIELDS,
    statement=(
        "数字格式的编号不能超过 15 位，Excel 只保存 15 位有效数字。",
        "Identifiers in number cells have at most 15 digits, because Excel keeps only 15 "
        "significant digits.",
    ),
    message=("{value} 超过 15 位数字，Excel 已丢失第 15 位之后的数字",
             "{value} has more than 15 digits; Excel has lost the digits after the fifteenth"),
    hint=(
        "把这一列设为文本格式，再按学籍信息或培养方案重新填写完整的编号。",
        "Format the column as text and enter the full identifier again from the roster or the "
        "plan.",
    ),
)

ID_NUMBER_INVALID = Rule(
    code="SXPT-E-ID-NUMBER-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_ID_FIELDS,
    statement=("数字格式的编号只能是非负整数。",
               "An identifier in a number cell must be a whole number, not negative."),
    message=("{value} 不是整数，不能作为编号",
             "{value} is not a whole number and cannot be an identifier"),
    hint=("把这一列设为文本格式，按学籍信息或培养方案填写编号。",
          "Format the column as text and enter the identifier from the roster or the plan."),
)

ID_TOO_LONG = Rule(
    code="SXPT-E-ID-TOO-LONG", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_ID_FIELDS,
    statement=("编号不超过模板为该列规定的最大长度。",
               "An identifier is at most the maximum length the template sets for its column."),
    message=("编号有 {length} 个字符，超过了上限 {limit}",
             "the identifier has {length} characters, over the limit of {limit}"),
    hint=("核对是否把其他内容填进了编号列。",
          "Check whether other content was entered in the identifier column."),
)

# 15 significant digits: the largest whole number Excel stores exactly is 10^15 - 1.
_EXACT_LIMIT = 10**15


def normalise_identifier(value: Any, *, max_length: int | None = None) -> Outcome:
    """Read a 学号 or 课程代码 as text.

    >>> normalise_identifier("21050101").value
    '21050101'
    >>> normalise_identifier(21050101.0).change.code
    'SXPT-W-ID-NUMERIC'
    >>> normalise_identifier("２１０５０１０１").change.code
    'SXPT-W-ID-FULLWIDTH'
    >>> normalise_identifier(2.1050101e16).findings[0].code
    'SXPT-E-ID-PRECISION'
    >>> normalise_identifier(2105.5).findings[0].code
    'SXPT-E-ID-NUMBER-INVALID'
    >>> normalise_identifier(datetime.date(2021, 5, 1)).findings[0].code
    'SXPT-E-ID-DATE'
    >>> normalise_identifier("210501012345", max_length=10).findings[0].code
    'SXPT-E-ID-TOO-LONG'
    """
    cls = value.__class__
    if cls is str:
        if value.isascii() and value.isalnum() and (max_length is None or len(value) <= max_length):
            return Outcome(value)
        return _identifier_from_text(value, max_length)
    if cls is float and value.is_integer() and 0 <= value < _EXACT_LIMIT:
        digits = str(int(value))
        if max_length is None or len(digits) <= max_length:
            return Outcome(digits, change=ID_NUMERIC, text=digits)
    if cls is float or cls is int or cls is Decimal:
        return _identifier_from_number(value, max_length)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, (datetime.date, datetime.time, datetime.timedelta)):
        return Outcome(None, (ID_DATE(value=shown(value)),))
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _identifier_from_number(value, max_length)
    return Outcome(None, (FIELD_CELL_TYPE(value=shown(value)),))


_FLOAT_TEXT = re.compile(r"[0-9]+\.0+")


def _identifier_from_text(text: str, max_length: int | None) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    # NFKC can put a space in front (¯ becomes a space and a combining macron), so
    # trim again to read the result back unchanged.
    folded = trim(unicodedata.normalize("NFKC", trimmed))
    if max_length is not None and len(folded) > max_length:
        return Outcome(None, (ID_TOO_LONG(length=len(folded), limit=max_length),))
    if _FLOAT_TEXT.fullmatch(folded):
        # 2301010001.0: a number written out by a script or a CSV export.
        digits = folded.partition(".")[0]
        return Outcome(digits, change=ID_NUMERIC, text=digits)
    if folded != trimmed:
        return Outcome(folded, change=ID_FULLWIDTH, text=folded)
    if trimmed != text:
        return Outcome(trimmed, change=FIELD_SPACE, text=trimmed)
    return Outcome(text)


def _identifier_from_number(number: int | float | Decimal, max_length: int | None) -> Outcome:
    if not is_finite_number(number) or number < 0:
        return Outcome(None, (ID_NUMBER_INVALID(value=shown(number)),))
    if number >= _EXACT_LIMIT:
        return Outcome(None, (ID_PRECISION(value=shown(number)),))
    if number != int(number):
        return Outcome(None, (ID_NUMBER_INVALID(value=shown(number)),))
    digits = str(int(number))
    if max_length is not None and len(digits) > max_length:
        return Outcome(None, (ID_TOO_LONG(length=len(digits), limit=max_length),))
    return Outcome(digits, change=ID_NUMERIC, text=digits)


# ---------------------------------------------------------------------------
# School codes and major codes
# ---------------------------------------------------------------------------

CODE_FORMAT = Rule(
    code="SXPT-W-CODE-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("专业代码",),
    statement=(
        "学校代码和专业代码中的全角字符、空格和小写字母会被整理。",
        "Full-width characters, spaces and lower-case letters in school and major codes are "
        "tidied.",
    ),
    message=("“{value}” 已读作 {text}", "'{value}' read as {text}"),
    hint=("用半角数字和大写字母填写代码，中间不加空格。",
          "Write codes in half-width digits and capitals, without spaces."),
)

SCHOOL_CODE_INVALID = Rule(
    code="SXPT-E-SCHOOL-CODE-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=(),
    statement=("学校代码是 10 位数字。", "A school code has 10 digits."),
    message=("“{value}” 不是 10 位数字的学校代码", "'{value}' is not a 10-digit school code"),
    hint=("填写教育部颁发的 10 位学校标识码，例如 4133010335。",
          "Enter the 10-digit school code issued by the Ministry of Education, e.g. 4133010335."),
)

MAJOR_CODE_INVALID = Rule(
    code="SXPT-E-MAJOR-CODE-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("专业代码",),
    statement=(
        "专业代码按《普通高等学校本科专业目录》填写：6 位数字，特设专业加 T，国家控制布点专业加 "
        "K（或 TK）。",
        "A major code follows the undergraduate catalogue of majors: 6 digits, followed by T, K "
        "or TK for special and state-controlled majors.",
    ),
    message=("“{value}” 不是有效的专业代码", "'{value}' is not a valid major code"),
    hint=(
        "填写本科专业目录中的代码，例如 080901 或 080910T；数字格式的单元格会丢失开头的 0，"
        "请设为文本格式。",
        "Enter the code from the catalogue of majors, e.g. 080901 or 080910T; number cells lose "
        "the leading 0, so format the column as text.",
    ),
)

_SCHOOL_CODE = re.compile(r"[0-9]{10}")
_MAJOR_CODE = re.compile(r"[0-9]{6}(?:TK|T|K)?")
_CODE_SPACES = re.compile(r"\s+")


def normalise_school_code(value: Any) -> Outcome:
    """Read a 10-digit school code as text.

    >>> normalise_school_code("4133010335").value
    '4133010335'
    >>> normalise_school_code(4133010335).change.code
    'SXPT-W-ID-NUMERIC'
    >>> normalise_school_code("413301033").findings[0].code
    'SXPT-E-SCHOOL-CODE-INVALID'
    """
    return _normalise_code(value, _SCHOOL_CODE, SCHOOL_CODE_INVALID)


def normalise_major_code(value: Any) -> Outcome:
    """Read a major code of the undergraduate catalogue (080901, 080910T, 100901K) as text.

    >>> normalise_major_code("080910T").value
    '080910T'
    >>> normalise_major_code("080910t").change.code
    'SXPT-W-CODE-FORMAT'
    >>> normalise_major_code(80901).findings[0].code
    'SXPT-E-MAJOR-CODE-INVALID'
    """
    return _normalise_code(value, _MAJOR_CODE, MAJOR_CODE_INVALID)


def _normalise_code(value: Any, pattern: re.Pattern[str], invalid: Rule) -> Outcome:
    cls = value.__class__
    if cls is str:
        if pattern.fullmatch(value):
            return Outcome(value)
        return _code_from_text(value, pattern, invalid)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    digits = whole_number_text(value)
    if digits is not None and pattern.fullmatch(digits):
        return Outcome(digits, change=ID_NUMERIC, text=digits)
    return Outcome(None, (invalid(value=shown(value)),))


def _code_from_text(text: str, pattern: re.Pattern[str], invalid: Rule) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return Outcome(None, (invalid(value=shown(text)),))
    tidied = _CODE_SPACES.sub("", unicodedata.normalize("NFKC", trimmed)).upper()
    if not pattern.fullmatch(tidied):
        return Outcome(None, (invalid(value=shown(text)),))
    if tidied == trimmed:
        return unless_trimmed(tidied, text, trimmed)
    return Outcome(tidied, change=CODE_FORMAT, text=tidied)


# ---------------------------------------------------------------------------
# Phone
# ---------------------------------------------------------------------------

PHONE_INVALID = Rule(
    code="SXPT-E-PHONE-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("企业指导人员电话",),
    statement=("电话是一个 11 位手机号，或带区号的固定电话。",
               "A phone number is one 11-digit mobile number, or a landline with its area code."),
    message=("“{value}” 不是有效的电话号码", "'{value}' is not a valid phone number"),
    hint=(
        "填写一个 11 位手机号，或带区号的固定电话，例如 0571-88888888；"
        "固定电话的单元格请设为文本格式，以保留开头的 0。",
        "Enter one 11-digit mobile number, or a landline with its area code such as "
        "0571-88888888; format landline cells as text to keep the leading 0.",
    ),
)

PHONE_FORMAT = Rule(
    code="SXPT-W-PHONE-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("企业指导人员电话",),
    statement=(
        "电话中的空格、连字符、括号和 +86 前缀会被整理：手机号写作 11 位数字，"
        "固定电话写作“区号-号码”。",
        "Spaces, hyphens, brackets and a +86 prefix are tidied: mobile numbers become 11 digits, "
        "landlines area code-number.",
    ),
    message=("“{value}” 已读作 {text}", "'{value}' read as {text}"),
    hint=(
        "手机号只写 11 位数字；固定电话写作“区号-号码”，例如 0571-88888888。",
        "Write mobile numbers as 11 digits and landlines as area code-number, e.g. 0571-88888888.",
    ),
)

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Area codes: 010 and 020–029 have three digits, all others four.
_AREA_CODE = r"0(?:10|2[0-9]|[3-9][0-9]{2})"
_LANDLINE = re.compile(_AREA_CODE + r"-?[0-9]{7,8}(?:-[0-9]{1,6})?")
_PHONE_PREFIX = re.compile(r"(?:\(\s*\+?\s*86\s*\)|\+\s*86|0086|86(?=[\s-]))[\s-]*")
_PHONE_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"[0-9\s()\-]+")
_DIGIT_GROUPS = re.compile(r"[0-9]+")


def normalise_phone(value: Any) -> Outcome:
    """Read one phone number as text: a mobile number or a landline with area code.

    ``13812345678``, ``0571-88888888`` and ``057188888888`` (optionally with ``-123``
    for an extension) are taken as written. Spaces, hyphens, brackets, full-width digits,
    a +86 prefix and extension words (转, 分机, ext) are ``SXPT-W-PHONE-FORMAT``. Anything
    else, including two numbers in one cell, is ``SXPT-E-PHONE-INVALID``.

    >>> normalise_phone("13812345678").value
    '13812345678'
    >>> normalise_phone("+86 138-1234-5678").text
    '13812345678'
    >>> normalise_phone("(0571) 8888 8888").text
    '0571-88888888'
    >>> normalise_phone("88888888").findings[0].code
    'SXPT-E-PHONE-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
            return Outcome(value)
        return _phone_from_text(value, shown(value))
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    # A mobile number in a number cell is read as its digits. A landline in a number
    # cell has lost its leading 0 and is rejected.
    digits = whole_number_text(value)
    if digits is not None and _MOBILE.fullmatch(digits):
        return Outcome(digits)
    return reject(PHONE_INVALID, value=shown(value))


def _phone_from_text(text: str, shown_as: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(PHONE_INVALID, value=shown_as)
    folded = fold_width(trimmed)

    extension = None
    match = _PHONE_EXTENSION.search(folded)
    if match is not None and match.end() == len(folded):
        extension = match.group(1)
        folded = folded[: match.start()]

    international = False
    match = _PHONE_PREFIX.match(folded)
    if match is not None:
        international = True
        folded = folded[match.end():]

    if not _PHONE_CHARS.fullmatch(folded):
        return reject(PHONE_INVALID, value=shown_as)
    groups = _DIGIT_GROUPS.findall(folded)
    digits = "".join(groups)

    if extension is None and _MOBILE.fullmatch(digits):
        return _phone_outcome(digits, text, trimmed)
    if international and not digits.startswith("0"):
        digits = "0" + digits
        groups[0] = "0" + groups[0]
    canonical = _landline_text(groups, digits, extension)
    if canonical is None:
        return reject(PHONE_INVALID, value=shown_as)
    return _phone_outcome(canonical, text, trimmed)


def _landline_text(groups: list[str], digits: str, extension: str | None) -> str | None:
    """Return ``area-number[-extension]``, or None when the digits are no landline."""
    if len(digits) < 10 or not re.match(_AREA_CODE, digits):
        return None
    area_length = 3 if digits[1] in "12" else 4
    area, rest = digits[:area_length], digits[area_length:]

    # A last group of up to six digits after a complete local number is an extension,
    # as in 0571-88888888-123.
    if extension is None and len(groups) >= 2 and len(groups[-1]) <= 6:
        local = rest[: len(rest) - len(groups[-1])]
        if 7 <= len(local) <= 8 and sum(map(len, groups[:-1])) == area_length + len(local):
            extension, rest = groups[-1], local

    if not 7 <= len(rest) <= 8:
        return None
    return f"{area}-{rest}" + (f"-{extension}" if extension else "")


def _phone_outcome(canonical: str, text: str, trimmed: str) -> Outcome:
    if trimmed == canonical:
        return unless_trimmed(canonical, text, trimmed)
    return Outcome(canonical, change=PHONE_FORMAT, text=canonical)
