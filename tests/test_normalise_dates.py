"""Tests of the date, year and academic-year normalisers."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.dates import (
    excel_serial_date,
    normalise_academic_year,
    normalise_date,
    normalise_year,
)

SEPT_1 = datetime.date(2024, 9, 1)


def codes(outcome: Outcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


def change_code(outcome: Outcome) -> str | None:
    return outcome.change.code if outcome.change is not None else None


# --- Dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [SEPT_1, datetime.datetime(2024, 9, 1), "2024-09-01"],
    ids=["date", "midnight", "iso"],
)
def test_date_taken_as_written(value: object) -> None:
    """A date cell, a midnight datetime and ISO text are read with no change."""
    outcome = normalise_date(value)
    assert outcome.value == SEPT_1
    assert outcome.change is None
    assert outcome.text is None
    assert outcome.findings == ()


@pytest.mark.parametrize(
    "value",
    [
        "2024-9-1",
        "2024/9/1",
        "2024.9.1",
        "2024 / 09 / 01",
        "2024年9月1日",
        "2024年09月01日",
        "2024年9月1号",
        "2024年9月1",
        "20240901",
        "２０２４－０９－０１",
        "２０２４年９月１日",
        "2024-09-01 08:00:00",
        "2024-09-01 8:00",
        "2024/9/1 23:59:59.5",
        "2024-09-01T08:00:00Z",
        "2024-09-01T08:00:00+08:00",
        "2024年9月1日 8:00",
        " 2024-09-01",
        "2024-09-01\u3000",
        "\u200b2024-09-01",
        20240901,
        20240901.0,
    ],
)
def test_date_format_normalised(value: object) -> None:
    """Other accepted shapes read as 2024-09-01 with SXPT-W-DATE-FORMAT."""
    outcome = normalise_date(value)
    assert outcome.value == SEPT_1
    assert change_code(outcome) == "SXPT-W-DATE-FORMAT"
    assert outcome.text == "2024-09-01"
    assert outcome.findings == ()


@pytest.mark.parametrize("value", [45536, 45536.0, 45536.75, "45536", Decimal(45536)])
def test_date_serial_normalised(value: object) -> None:
    """An Excel serial reads as its date with SXPT-W-DATE-SERIAL; a time fraction is dropped."""
    outcome = normalise_date(value)
    assert outcome.value == SEPT_1
    assert change_code(outcome) == "SXPT-W-DATE-SERIAL"
    assert outcome.text == "2024-09-01"


def test_datetime_with_time_warns() -> None:
    """A datetime cell with a time of day keeps the date with SXPT-W-DATE-TIME."""
    outcome = normalise_date(datetime.datetime(2024, 9, 1, 8, 30))
    assert outcome.value == SEPT_1
    assert change_code(outcome) == "SXPT-W-DATE-TIME"
    assert outcome.text == "2024-09-01"


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, datetime.date(1900, 1, 1)),
        (59, datetime.date(1900, 2, 28)),
        (61, datetime.date(1900, 3, 1)),
        (43831, datetime.date(2020, 1, 1)),
        (2958465, datetime.date(9999, 12, 31)),
    ],
)
def test_excel_serial_dates(serial: int, expected: datetime.date) -> None:
    """Serials follow Excel's 1900 date system, including its day 60 (1900-02-29)."""
    assert excel_serial_date(serial) == expected


@pytest.mark.parametrize("serial", [0, -1, 60, 2958466])
def test_excel_serial_without_date(serial: int) -> None:
    """Serials before day 1, day 60 and after 9999-12-31 have no date."""
    assert excel_serial_date(serial) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("24-9-1", "SXPT-E-DATE-TWO-DIGIT-YEAR"),
        ("24/09/01", "SXPT-E-DATE-TWO-DIGIT-YEAR"),
        ("24年9月1日", "SXPT-E-DATE-TWO-DIGIT-YEAR"),
        ("240901", "SXPT-E-DATE-TWO-DIGIT-YEAR"),
        ("01/09/24", "SXPT-E-DATE-TWO-DIGIT-YEAR"),
        ("9/1/2024", "SXPT-E-DATE-ORDER"),
        ("1.9.2024", "SXPT-E-DATE-ORDER"),
        ("13/09/2024", "SXPT-E-DATE-ORDER"),
        ("2024-02-30", "SXPT-E-DATE-NO-SUCH-DAY"),
        ("2023-02-29", "SXPT-E-DATE-NO-SUCH-DAY"),
        ("2024年4月31日", "SXPT-E-DATE-NO-SUCH-DAY"),
        ("20240230", "SXPT-E-DATE-NO-SUCH-DAY"),
        (20240230, "SXPT-E-DATE-NO-SUCH-DAY"),
        ("2024-09", "SXPT-E-DATE-MONTH-ONLY"),
        ("2024/9", "SXPT-E-DATE-MONTH-ONLY"),
        ("9/2024", "SXPT-E-DATE-MONTH-ONLY"),
        ("2024年9月", "SXPT-E-DATE-MONTH-ONLY"),
        ("2024年9", "SXPT-E-DATE-MONTH-ONLY"),
        ("202409", "SXPT-E-DATE-MONTH-ONLY"),
        ("20240-09-01", "SXPT-E-DATE-INVALID"),
        ("2024-13-01", "SXPT-E-DATE-INVALID"),
        ("2024-09-32", "SXPT-E-DATE-INVALID"),
        ("0000-01-01", "SXPT-E-DATE-INVALID"),
        ("2024-9/1", "SXPT-E-DATE-INVALID"),
        ("二〇二四年九月一日", "SXPT-E-DATE-INVALID"),
        ("下周一", "SXPT-E-DATE-INVALID"),
        ("2024", "SXPT-E-DATE-INVALID"),
        ("08:00", "SXPT-E-DATE-INVALID"),
        ("2024-09-01 至 2024-09-30", "SXPT-E-DATE-INVALID"),
        ("2024" + " " * 100 + "-9-1", "SXPT-E-DATE-INVALID"),
        (0, "SXPT-E-DATE-INVALID"),
        (-5, "SXPT-E-DATE-INVALID"),
        (60, "SXPT-E-DATE-INVALID"),
        (3e6, "SXPT-E-DATE-INVALID"),
        (float("nan"), "SXPT-E-DATE-INVALID"),
        (float("inf"), "SXPT-E-DATE-INVALID"),
        (Decimal("NaN"), "SXPT-E-DATE-INVALID"),
        (True, "SXPT-E-DATE-INVALID"),
        (datetime.time(8, 0), "SXPT-E-DATE-INVALID"),
        (datetime.timedelta(days=3), "SXPT-E-DATE-INVALID"),
    ],
)
def test_date_rejected(value: object, code: str) -> None:
    """Dates that cannot be read unambiguously are rejected with the rule that names the reason."""
    outcome = normalise_date(value)
    assert outcome.value is None
    assert codes(outcome) == [code]
    assert outcome.change is None


def test_date_rejection_shows_value() -> None:
    """The finding of a rejected date carries the cell as written."""
    outcome = normalise_date("9/1/2024")
    assert outcome.findings[0].params == {"value": "9/1/2024"}


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000\u200b"])
def test_date_blank(value: object) -> None:
    """Blank cells give the shared blank outcome."""
    assert normalise_date(value) is BLANK


def test_date_formula_error() -> None:
    """A formula error gives the unreadable outcome with no finding."""
    assert normalise_date(CellError("#VALUE!")) is UNREADABLE


def test_date_subclass_accepted() -> None:
    """A subclass of date, as some libraries deliver, reads as a plain date."""

    class Day(datetime.date):
        pass

    outcome = normalise_date(Day(2024, 9, 1))
    assert outcome.value == SEPT_1
    assert type(outcome.value) is datetime.date


# --- Years --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [2022, 2022.0, "2022", Decimal("2022")])
def test_year_taken_as_written(value: object) -> None:
    """A four-digit year as number or text is read with no change."""
    outcome = normalise_year(value)
    assert outcome.value == 2022
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2022级", "SXPT-W-YEAR-FORMAT"),
        ("2022年", "SXPT-W-YEAR-FORMAT"),
        ("2022 级", "SXPT-W-YEAR-FORMAT"),
        ("2022年级", "SXPT-W-YEAR-FORMAT"),
        ("２０２２", "SXPT-W-YEAR-FORMAT"),
        (" 2022", "SXPT-W-FIELD-SPACE"),
        ("2022\u00a0", "SXPT-W-FIELD-SPACE"),
    ],
)
def test_year_normalised(value: str, code: str) -> None:
    """Suffixes and full-width digits are format warnings, and padding alone a space warning."""
    outcome = normalise_year(value)
    assert outcome.value == 2022
    assert change_code(outcome) == code
    assert outcome.text == "2022"


@pytest.mark.parametrize(
    "value",
    [
        "22级",
        "2022届",
        "1999",
        "2101",
        1999,
        2101,
        2022.5,
        "二〇二二",
        "2022-2023",
        True,
        float("nan"),
        Decimal("sNaN"),
        datetime.date(2022, 9, 1),
    ],
)
def test_year_rejected(value: object) -> None:
    """Short years, 届, years outside 2000–2100 and non-years are SXPT-E-YEAR-INVALID."""
    outcome = normalise_year(value)
    assert outcome.value is None
    assert codes(outcome) == ["SXPT-E-YEAR-INVALID"]


def test_year_bounds_accepted() -> None:
    """2000 and 2100 are both valid years."""
    assert normalise_year(2000).value == 2000
    assert normalise_year("2100").value == 2100


# --- Academic years -----------------------------------------------------------------


def test_academic_year_taken_as_written() -> None:
    """2024-2025 is read with no change."""
    outcome = normalise_academic_year("2024-2025")
    assert outcome.value == "2024-2025"
    assert outcome.change is None


@pytest.mark.parametrize(
    "value",
    [
        "2024—2025",
        "2024–2025",
        "2024~2025",
        "2024～2025",
        "2024至2025",
        "2024到2025",
        "2024-25",
        "2024/2025",
        "2024－2025",
        "2024 - 2025",
        "2024-2025学年",
        "2024-2025学年度",
        "２０２４-２０２５",
        "2024学年-2025学年",
    ],
)
def test_academic_year_normalised(value: str) -> None:
    """Other separators, short second years and 学年 read as 2024-2025 with a format warning."""
    outcome = normalise_academic_year(value)
    assert outcome.value == "2024-2025"
    assert change_code(outcome) == "SXPT-W-ACADEMIC-YEAR-FORMAT"
    assert outcome.text == "2024-2025"


def test_academic_year_padding() -> None:
    """Padding alone is a space warning."""
    assert change_code(normalise_academic_year(" 2024-2025 ")) == "SXPT-W-FIELD-SPACE"


def test_academic_year_century() -> None:
    """A two-digit second year rolls over to the next century."""
    assert normalise_academic_year("2099-00").value == "2099-2100"


@pytest.mark.parametrize("value", ["2024-2026", "2024-2024", "2025-2024", "2024-24"])
def test_academic_year_span(value: str) -> None:
    """Years that do not follow each other are SXPT-E-ACADEMIC-YEAR-SPAN."""
    assert codes(normalise_academic_year(value)) == ["SXPT-E-ACADEMIC-YEAR-SPAN"]


@pytest.mark.parametrize(
    "value",
    [
        "2024",
        "2024-2025-1",
        "24-25",
        "1999-2000",
        "二〇二四",
        2024,
        2024.5,
        datetime.date(2024, 9, 1),
        "2024" + " " * 100 + "-2025",
    ],
)
def test_academic_year_invalid(value: object) -> None:
    """Anything else is SXPT-E-ACADEMIC-YEAR-INVALID."""
    assert codes(normalise_academic_year(value)) == ["SXPT-E-ACADEMIC-YEAR-INVALID"]


def test_float_text_year() -> None:
    """2023.0 written by a script reads as the year 2023 with a warning."""
    outcome = normalise_year("2023.0")
    assert outcome.value == 2023
    assert outcome.change is not None
