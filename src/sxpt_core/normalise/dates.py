"""Normalisers of dates (实习开始时间, 实习结束时间, 入学日期) and years (入学年份, 年级, 学年).

Dates accepted, each giving a ``datetime.date``:

- A date cell and the text ``2024-09-01`` are taken as written.
- A date-and-time cell gives its date. A time other than midnight is
  ``SXPT-W-DATE-TIME``.
- ``2024-9-1``, ``2024/9/1``, ``2024.9.1``, ``2024年9月1日`` (or 号), ``20240901``,
  full-width digits and a trailing time such as ``08:00:00`` are ``SXPT-W-DATE-FORMAT``.
  The number 20240901 is read the same way.
- A number is read as an Excel date serial (45536 is 2024-09-01) with
  ``SXPT-W-DATE-SERIAL``, and so is five-digit text. A fraction (the time of day) is
  dropped.

Rejected:

- two-digit years, ``SXPT-E-DATE-TWO-DIGIT-YEAR``;
- dates with the year last, such as ``9/1/2024``, because the order of month and day
  is unknown, ``SXPT-E-DATE-ORDER``;
- days that do not exist, such as 2024-02-30, ``SXPT-E-DATE-NO-SUCH-DAY``;
- a year and month without a day, ``SXPT-E-DATE-MONTH-ONLY``;
- five-digit years, words, times and anything else, ``SXPT-E-DATE-INVALID``.

Whether a date is plausible (from 2015-01-01 to a year after today) depends on today's
date, so a calendar rule checks it, not this module.

Years of enrolment are four digits from 2000 to 2100. A year written with 届 is
rejected, because 届 names the year of graduation, not of enrolment. Academic years are
written ``2024-2025``.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.fields import (
    SHORT_TEXT_LIMIT,
    fold_width,
    is_finite_number,
    reject,
    shown,
    trim,
    unless_trimmed,
)

__all__ = ["excel_serial_date", "normalise_academic_year", "normalise_date", "normalise_year"]

_DATE_FIELDS = ("实习开始时间", "实习结束时间", "入学日期")
_EXAMPLE_HINT = ("按 2024-09-01 的格式填写日期：四位年份、月、日。",
                 "Write the date as 2024-09-01: four-digit year, month, day.")

DATE_FORMAT = Rule(
    code="SXPT-W-DATE-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=(
        "写作 2024-9-1、2024/9/1、2024.9.1、2024年9月1日、20240901、全角数字或带时刻的日期读作 "
        "2024-09-01。",
        "Dates written as 2024-9-1, 2024/9/1, 2024.9.1, 2024年9月1日, 20240901, in full-width "
        "digits or with a time are read as 2024-09-01.",
    ),
    message=("“{value}” 已读作 {text}", "'{value}' read as {text}"),
    hint=_EXAMPLE_HINT,
)

DATE_SERIAL = Rule(
    code="SXPT-W-DATE-SERIAL", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=(
        "日期列中的数字按 Excel 日期序号（1900 日期系统）读取，例如 45536 是 2024-09-01。",
        "A number in a date column is read as an Excel date serial (1900 date system); 45536 is "
        "2024-09-01.",
    ),
    message=("数字 {value} 已按 Excel 日期序号读作 {text}",
             "the number {value} was read as the Excel date serial of {text}"),
    hint=("把这一列设为日期格式，或按 2024-09-01 的格式填写。",
          "Format the column as dates, or write the dates as 2024-09-01."),
)

DATE_TIME = Rule(
    code="SXPT-W-DATE-TIME", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=("带时刻的日期单元格只取日期。", "Date-and-time cells are read as their date."),
    message=("{value} 带有时刻，已只取日期 {text}",
             "{value} has a time of day; read as the date {text}"),
    hint=("只填写日期，例如 2024-09-01。", "Enter only the date, e.g. 2024-09-01."),
)

DATE_INVALID = Rule(
    code="SXPT-E-DATE-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=("日期写作四位年份、月、日，例如 2024-09-01。",
               "A date has a four-digit year, a month and a day, as in 2024-09-01."),
    message=("“{value}” 不是有效的日期", "'{value}' is not a valid date"),
    hint=_EXAMPLE_HINT,
)

DATE_NO_SUCH_DAY = Rule(
    code="SXPT-E-DATE-NO-SUCH-DAY", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=_DATE_FIELDS,
    statement=("日期必须在日历上存在。", "A date must exist in the calendar."),
    message=("日期 “{value}” 不存在", "the date '{value}' does not exist"),
    hint=(
        "核对月份的天数（例如 2 月最多 29 天，4 月只有 30 天）；按 2024-09-01 的格式填写。",
        "Check the days of the month (February has at most 29, April 30); write the date as "
        "2024-09-01.",
    ),
)

DATE_TWO_DIGIT_YEAR = Rule(
    code="SXPT-E-DATE-TWO-DIGIT-YEAR", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=_DATE_FIELDS,
    statement=("日期的年份写全四位。", "The year of a date is written with four digits."),
    message=("“{value}” 的年份只有两位", "'{value}' has a two-digit year"),
    hint=("写出四位年份，例如 2024-09-01。", "Write the four-digit year, e.g. 2024-09-01."),
)

DATE_ORDER = Rule(
    code="SXPT-E-DATE-ORDER", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=(
        "日期按 年-月-日 的顺序填写；年份在最后的写法（如 9/1/2024）无法确定月和日。",
        "Dates are written year-month-day; with the year last (as in 9/1/2024) month and day "
        "cannot be told apart.",
    ),
    message=("“{value}” 把年份写在最后，无法确定哪个是月、哪个是日",
             "'{value}' puts the year last, so month and day cannot be told apart"),
    hint=("按 年-月-日 的顺序填写，例如 2024-09-01。", "Write year-month-day, e.g. 2024-09-01."),
)

DATE_MONTH_ONLY = Rule(
    code="SXPT-E-DATE-MONTH-ONLY", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_DATE_FIELDS,
    statement=("日期写到具体的日。", "A date includes the day."),
    message=("“{value}” 只有年和月，缺少日", "'{value}' has a year and a month but no day"),
    hint=("填写具体到日的日期，例如 2024-09-01。", "Enter the full date, e.g. 2024-09-01."),
)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_SUFFIX = re.compile(
    r"(?:\s*T|\s+|(?<=[日号]))[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
_NUMERIC_DATE = re.compile(r"([0-9]+)\s*([-/.])\s*([0-9]+)\s*\2\s*([0-9]+)")
_CHINESE_DATE = re.compile(r"([0-9]+)\s*年\s*([0-9]+)\s*月\s*([0-9]+)\s*[日号]?")
_COMPACT_DATE = re.compile(r"[0-9]{8}")
_MONTH_ONLY = re.compile(
    r"[0-9]{4}\s*[-/.]\s*[0-9]{1,2}|[0-9]{1,2}\s*[-/.]\s*[0-9]{4}|[0-9]{4}\s*年\s*[0-9]{1,2}\s*月?"
    r"|(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
)
_TWO_DIGIT_YEAR = re.compile(r"[0-9]{6}|[0-9]{2}\s*年\s*[0-9]{1,2}\s*月\s*[0-9]{1,2}\s*[日号]?")
_SERIAL_TEXT = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")

# The last serial Excel accepts: 9999-12-31.
_LAST_SERIAL = 2958465
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def excel_serial_date(serial: int) -> datetime.date | None:
    """Return the date of an Excel serial in the 1900 date system, or None if there is none.

    Excel counts 1900-02-29, which did not exist, as serial 60, so serials 1 to 59 are
    one day later than a plain count from 1899-12-30.

    >>> excel_serial_date(45536)
    datetime.date(2024, 9, 1)
    >>> excel_serial_date(60) is None
    True
    """
    if serial < 1 or serial > _LAST_SERIAL or serial == 60:
        return None
    if serial < 60:
        serial += 1
    return _EXCEL_EPOCH + datetime.timedelta(days=serial)


def normalise_date(value: Any) -> Outcome:
    """Read a date cell, a date serial or date text as a ``datetime.date``.

    >>> normalise_date("2024-09-01").value
    datetime.date(2024, 9, 1)
    >>> normalise_date("2024年9月1日").text
    '2024-09-01'
    >>> normalise_date(45536).change.code
    'SXPT-W-DATE-SERIAL'
    >>> normalise_date(datetime.datetime(2024, 9, 1, 8, 30)).change.code
    'SXPT-W-DATE-TIME'
    >>> normalise_date("24-9-1").findings[0].code
    'SXPT-E-DATE-TWO-DIGIT-YEAR'
    >>> normalise_date("9/1/2024").findings[0].code
    'SXPT-E-DATE-ORDER'
    >>> normalise_date("2024-02-30").findings[0].code
    'SXPT-E-DATE-NO-SUCH-DAY'
    >>> normalise_date("2024年9月").findings[0].code
    'SXPT-E-DATE-MONTH-ONLY'
    >>> normalise_date("下周一").findings[0].code
    'SXPT-E-DATE-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if _ISO_DATE.fullmatch(value):
            try:
                return Outcome(datetime.date.fromisoformat(value))
            except ValueError:
                pass
        return _date_from_text(value)
    if cls is datetime.date:
        return Outcome(value)
    if cls is datetime.datetime:
        return _date_from_datetime(value)
    if cls is float or cls is int or cls is Decimal:
        return _date_from_number(value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, datetime.datetime):
        return _date_from_datetime(value)
    if isinstance(value, datetime.date):
        return Outcome(datetime.date(value.year, value.month, value.day))
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _date_from_number(value)
    return Outcome(None, (DATE_INVALID(value=shown(value)),))


def _date_from_datetime(moment: datetime.datetime) -> Outcome:
    day = moment.date()
    if moment.time() == datetime.time(0, 0):
        return Outcome(day)
    return Outcome(day, change=DATE_TIME, text=day.isoformat())


def _date_from_number(number: int | float | Decimal) -> Outcome:
    written = shown(number)
    if not is_finite_number(number):
        return Outcome(None, (DATE_INVALID(value=written),))

    whole = int(number)
    if whole == number and 10000101 <= whole <= 99991231:
        # 20240901 typed into a number cell: far beyond the last serial, read as digits.
        return _date_from_digits(str(whole), written)
    # NOTE: serials are read in the 1900 date system. In a workbook saved with the 1904
    # system, a number in a date column stands for a date 1462 days later than this.
    day = excel_serial_date(whole)
    if day is None:
        return Outcome(None, (DATE_INVALID(value=written),))
    return Outcome(day, change=DATE_SERIAL, text=day.isoformat())


def _date_from_digits(digits: str, written: str) -> Outcome:
    return _build_date(digits[:4], digits[4:6], digits[6:], written)


def _date_from_text(text: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    written = shown(text)
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return Outcome(None, (DATE_INVALID(value=written),))
    folded = fold_width(trimmed)
    without_time = _TIME_SUFFIX.sub("", folded).rstrip()

    match = _NUMERIC_DATE.fullmatch(without_time)
    if match is not None:
        year, _, month, day = match.groups()
        return _date_from_parts(year, month, day, written)
    match = _CHINESE_DATE.fullmatch(without_time)
    if match is not None:
        year, month, day = match.groups()
        return _date_from_parts(year, month, day, written)
    if _COMPACT_DATE.fullmatch(without_time):
        return _date_from_digits(without_time, written)
    if _MONTH_ONLY.fullmatch(without_time):
        return Outcome(None, (DATE_MONTH_ONLY(value=written),))
    if _TWO_DIGIT_YEAR.fullmatch(without_time):
        return Outcome(None, (DATE_TWO_DIGIT_YEAR(value=written),))
    if _SERIAL_TEXT.fullmatch(without_time):
        return _date_from_number(float(without_time))
    return Outcome(None, (DATE_INVALID(value=written),))


def _date_from_parts(first: str, month: str, last: str, written: str) -> Outcome:
    """Classify the three numbers of a date text by the number of digits of each."""
    if len(first) == 4 and len(month) <= 2 and len(last) <= 2:
        return _build_date(first, month, last, written)
    if len(first) <= 2 and len(month) <= 2 and len(last) == 4:
        return Outcome(None, (DATE_ORDER(value=written),))
    if len(first) <= 2 and len(month) <= 2 and len(last) <= 2:
        return Outcome(None, (DATE_TWO_DIGIT_YEAR(value=written),))
    return Outcome(None, (DATE_INVALID(value=written),))


def _build_date(year: str, month: str, day: str, written: str) -> Outcome:
    year_number, month_number, day_number = int(year), int(month), int(day)
    if year_number < 1 or not 1 <= month_number <= 12 or not 1 <= day_number <= 31:
        return Outcome(None, (DATE_INVALID(value=written),))
    try:
        date = datetime.date(year_number, month_number, day_number)
    except ValueError:
        return Outcome(None, (DATE_NO_SUCH_DAY(value=written),))
    return Outcome(date, change=DATE_FORMAT, text=date.isoformat())


# ---------------------------------------------------------------------------
# Years: year, academic_year
# ---------------------------------------------------------------------------

YEAR_INVALID = Rule(
    code="SXPT-E-YEAR-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("入学年份", "年级"),
    statement=("入学年份（年级）是 2000 到 2100 之间的四位数字。",
               "The year of enrolment (年级) is a four-digit year from 2000 to 2100."),
    message=("“{value}” 不是有效的年份", "'{value}' is not a valid year"),
    hint=(
        "填写四位数字的入学年份，例如 2022；“届”指毕业年份，不能填在这里。",
        "Enter the four-digit year of enrolment, e.g. 2022; a 届 (year of graduation) does not "
        "belong here.",
    ),
)

YEAR_FORMAT = Rule(
    code="SXPT-W-YEAR-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("入学年份", "年级"),
    statement=("写作 2022级、2022年 或全角数字的年份读作四位数字。",
               "Years written as 2022级, 2022年 or in full-width digits are read as four digits."),
    message=("“{value}” 已读作年份 {text}", "'{value}' read as the year {text}"),
    hint=("只填写四位数字，例如 2022。", "Enter only the four digits, e.g. 2022."),
)

_YEAR_TEXT = re.compile(r"([0-9]{4})(?:\.0+|\s*(?:年级|级|年))?")
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


def normalise_year(value: Any) -> Outcome:
    """Read a four-digit year from 2000 to 2100 as an int.

    A number cell and the text ``2022`` are taken as written. ``2022级``, ``2022年`` and
    full-width digits are ``SXPT-W-YEAR-FORMAT``. Anything else, a year out of range or
    a year with 届 is ``SXPT-E-YEAR-INVALID``.

    >>> normalise_year("2022").value
    2022
    >>> normalise_year("2022级").change.code
    'SXPT-W-YEAR-FORMAT'
    >>> normalise_year("22级").findings[0].code
    'SXPT-E-YEAR-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if len(value) == 4 and value.isascii() and value.isdigit():
            year = int(value)
            if _FIRST_YEAR <= year <= _LAST_YEAR:
                return Outcome(year)
        return _year_from_text(value)
    if cls is int or cls is float or cls is Decimal:
        return _year_from_number(value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _year_from_number(value)
    return reject(YEAR_INVALID, value=shown(value))


def _year_from_number(number: int | float | Decimal) -> Outcome:
    if not is_finite_number(number) or number != int(number):
        return reject(YEAR_INVALID, value=shown(number))
    if not _FIRST_YEAR <= number <= _LAST_YEAR:
        return reject(YEAR_INVALID, value=shown(number))
    return Outcome(int(number))


def _year_from_text(text: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(YEAR_INVALID, value=shown(text))
    match = _YEAR_TEXT.fullmatch(fold_width(trimmed))
    if match is None:
        return reject(YEAR_INVALID, value=shown(text))
    year = int(match.group(1))
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return reject(YEAR_INVALID, value=shown(text))
    canonical = str(year)
    if trimmed == canonical:
        return unless_trimmed(year, text, trimmed)
    return Outcome(year, change=YEAR_FORMAT, text=canonical)


ACADEMIC_YEAR_INVALID = Rule(
    code="SXPT-E-ACADEMIC-YEAR-INVALID", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=("学年",),
    statement=("学年写作 2024-2025：两个四位年份，中间用半角连字符。",
               "An academic year is written 2024-2025: two four-digit years joined by a hyphen."),
    message=("“{value}” 不是有效的学年", "'{value}' is not a valid academic year"),
    hint=("按 2024-2025 的格式填写学年，不带学期。",
          "Write the academic year as 2024-2025, without the term."),
)

ACADEMIC_YEAR_SPAN = Rule(
    code="SXPT-E-ACADEMIC-YEAR-SPAN", severity=Severity.ERROR, layer=Layer.FORMAT, fields=("学年",),
    statement=("学年的第二个年份比第一个大 1。",
               "The second year of an academic year is the first plus one."),
    message=("学年 “{value}” 的两个年份不相邻",
             "the two years of the academic year '{value}' are not consecutive"),
    hint=("后一个年份应比前一个大 1，例如 2024-2025。",
          "The second year must be the first plus one, e.g. 2024-2025."),
)

ACADEMIC_YEAR_FORMAT = Rule(
    code="SXPT-W-ACADEMIC-YEAR-FORMAT", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=("学年",),
    statement=(
        "写作 2024—2025、2024~2025、2024至2025、2024-25、2024/2025 等形式的学年读作 2024-2025。",
        "Academic years written as 2024—2025, 2024~2025, 2024至2025, 2024-25, 2024/2025 and the "
        "like are read as 2024-2025.",
    ),
    message=("“{value}” 已读作学年 {text}", "'{value}' read as the academic year {text}"),
    hint=("按 2024-2025 的格式填写学年。", "Write the academic year as 2024-2025."),
)

_ACADEMIC_YEAR_LOOSE = re.compile(
    r"([0-9]{4})\s*(?:学年)?\s*(?:[-‐‑‒–—―−~〜～/]+|至|到)\s*([0-9]{4}|[0-9]{2})\s*(?:学年度|学年|年度)?"
)


def normalise_academic_year(value: Any) -> Outcome:
    """Read an academic year as the text ``2024-2025``.

    ``2024-2025`` is taken as written. Other dashes, ``~``, ``至``, ``/``, full-width
    digits, a two-digit second year (``2024-25``) and a trailing 学年 are
    ``SXPT-W-ACADEMIC-YEAR-FORMAT``. Years that are not consecutive are
    ``SXPT-E-ACADEMIC-YEAR-SPAN``, and anything else is ``SXPT-E-ACADEMIC-YEAR-INVALID``.

    >>> normalise_academic_year("2024-2025").value
    '2024-2025'
    >>> normalise_academic_year("2024至2025").change.code
    'SXPT-W-ACADEMIC-YEAR-FORMAT'
    >>> normalise_academic_year("2024-2026").findings[0].code
    'SXPT-E-ACADEMIC-YEAR-SPAN'
    >>> normalise_academic_year("2024-2025-1").findings[0].code
    'SXPT-E-ACADEMIC-YEAR-INVALID'
    """
    cls = value.__class__
    if cls is str:
        if len(value) == 9 and value[4] == "-" and value.isascii():
            first, second = value[:4], value[5:]
            if first.isdigit() and second.isdigit() and int(second) == int(first) + 1:
                if _FIRST_YEAR <= int(first) < _LAST_YEAR:
                    return Outcome(value)
        return _academic_year_from_text(value)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    return reject(ACADEMIC_YEAR_INVALID, value=shown(value))


def _academic_year_from_text(text: str) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK
    if len(trimmed) > SHORT_TEXT_LIMIT:
        return reject(ACADEMIC_YEAR_INVALID, value=shown(text))
    match = _ACADEMIC_YEAR_LOOSE.fullmatch(fold_width(trimmed))
    if match is None:
        return reject(ACADEMIC_YEAR_INVALID, value=shown(text))

    first = int(match.group(1))
    written_second = match.group(2)
    if len(written_second) == 2:
        # 2024-25: the second year is in the century of the first, or the next one (2099-00).
        second = first // 100 * 100 + int(written_second)
        if second < first:
            second += 100
    else:
        second = int(written_second)

    if not _FIRST_YEAR <= first < _LAST_YEAR:
        return reject(ACADEMIC_YEAR_INVALID, value=shown(text))
    if second != first + 1:
        return reject(ACADEMIC_YEAR_SPAN, value=shown(text))
    canonical = f"{first}-{second}"
    if trimmed == canonical:
        return unless_trimmed(canonical, text, trimmed)
    return Outcome(canonical, change=ACADEMIC_YEAR_FORMAT, text=canonical)
