"""Tests of the identifier, school-code, major-code and phone normalisers."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.identifiers import (
    normalise_identifier,
    normalise_major_code,
    normalise_phone,
    normalise_school_code,
)


def codes(outcome: Outcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


def change_code(outcome: Outcome) -> str | None:
    return outcome.change.code if outcome.change is not None else None


# --- 学号 and 课程代码 ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["21050101", "0210501", "CS101", "cs-101_a", "GE 101", "学号1"])
def test_identifier_taken_as_written(value: str) -> None:
    """Text is kept as written, leading zeros and inner spaces included."""
    outcome = normalise_identifier(value, max_length=30)
    assert outcome.value == value
    assert outcome.change is None
    assert outcome.findings == ()


@pytest.mark.parametrize(
    "value",
    [
        " 21050101",
        "21050101\u3000",
        "\xa021050101",
        "2105\u200b0101",
        "\ufeff21050101",
        "21050101\n",
    ],
)
def test_identifier_trimmed(value: str) -> None:
    """Padding and zero-width characters are SXPT-W-FIELD-SPACE."""
    outcome = normalise_identifier(value)
    assert outcome.value == "21050101"
    assert change_code(outcome) == "SXPT-W-FIELD-SPACE"
    assert outcome.text == "21050101"


@pytest.mark.parametrize(
    ("value", "text"),
    [("２１０５０１０１", "21050101"), ("ＣＳ１０１", "CS101"), (" ＣＳ－１０１ ", "CS-101")],
)
def test_identifier_full_width(value: str, text: str) -> None:
    """Full-width letters and digits become ASCII with SXPT-W-ID-FULLWIDTH."""
    outcome = normalise_identifier(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-ID-FULLWIDTH"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (21050101, "21050101"),
        (21050101.0, "21050101"),
        (0, "0"),
        (-0.0, "0"),
        (999999999999999.0, "999999999999999"),
        (Decimal("21050101"), "21050101"),
    ],
)
def test_identifier_numeric(value: object, text: str) -> None:
    """A whole number from a number cell reads as its digits with SXPT-W-ID-NUMERIC."""
    outcome = normalise_identifier(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-ID-NUMERIC"
    assert outcome.text == text


@pytest.mark.parametrize("value", [1e15, 2.1050101e16, 10**15, 10**20, 1e300])
def test_identifier_precision(value: object) -> None:
    """Numbers of more than 15 digits are SXPT-E-ID-PRECISION."""
    outcome = normalise_identifier(value)
    assert outcome.value is None
    assert codes(outcome) == ["SXPT-E-ID-PRECISION"]


@pytest.mark.parametrize(
    "value", [2105.5, -5, -1.0, float("nan"), float("inf"), float("-inf"), Decimal("NaN")]
)
def test_identifier_number_invalid(value: object) -> None:
    """Fractions, negatives, NaN and infinities are SXPT-E-ID-NUMBER-INVALID."""
    assert codes(normalise_identifier(value)) == ["SXPT-E-ID-NUMBER-INVALID"]


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2021, 5, 1),
        datetime.datetime(2021, 5, 1),
        datetime.time(8, 0),
        datetime.timedelta(days=1),
    ],
)
def test_identifier_date(value: object) -> None:
    """Date and time cells are SXPT-E-ID-DATE."""
    assert codes(normalise_identifier(value)) == ["SXPT-E-ID-DATE"]


def test_identifier_boolean() -> None:
    """A TRUE/FALSE cell is SXPT-E-FIELD-CELL-TYPE."""
    assert codes(normalise_identifier(True)) == ["SXPT-E-FIELD-CELL-TYPE"]


@pytest.mark.parametrize(
    ("value", "limit"), [("2" * 31, 30), ("２" * 31, 30), (1234567890, 5), (1234567890.0, 5)]
)
def test_identifier_too_long(value: object, limit: int) -> None:
    """Identifiers over the limit are SXPT-E-ID-TOO-LONG, whether text or number."""
    assert codes(normalise_identifier(value, max_length=limit)) == ["SXPT-E-ID-TOO-LONG"]


def test_identifier_too_long_params() -> None:
    """SXPT-E-ID-TOO-LONG names the length and the limit."""
    params = normalise_identifier("1" * 31, max_length=30).findings[0].params
    assert params == {"length": "31", "limit": "30"}


@pytest.mark.parametrize("value", [None, "", " ", "\u3000\u200b"])
def test_identifier_blank(value: object) -> None:
    """Blank cells give the shared blank outcome."""
    assert normalise_identifier(value) is BLANK


def test_identifier_formula_error() -> None:
    """A formula error gives the unreadable outcome."""
    assert normalise_identifier(CellError("#REF!")) is UNREADABLE


# --- School and major codes ---------------------------------------------------------


def test_school_code_taken_as_written() -> None:
    """Ten digits are read with no change."""
    assert normalise_school_code("4133010335").change is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (4133010335, "SXPT-W-ID-NUMERIC"),
        (4133010335.0, "SXPT-W-ID-NUMERIC"),
        (" 4133010335", "SXPT-W-FIELD-SPACE"),
        ("４１３３０１０３３５", "SXPT-W-CODE-FORMAT"),
        ("4133 0103 35", "SXPT-W-CODE-FORMAT"),
    ],
)
def test_school_code_normalised(value: object, code: str) -> None:
    """Number cells, padding, full width and inner spaces are normalised with a warning."""
    outcome = normalise_school_code(value)
    assert outcome.value == "4133010335"
    assert change_code(outcome) == code


@pytest.mark.parametrize(
    "value", ["413301033", "41330103351", "413301033X", 413301033, 1.5, "学校"]
)
def test_school_code_invalid(value: object) -> None:
    """Anything but ten digits is SXPT-E-SCHOOL-CODE-INVALID."""
    assert codes(normalise_school_code(value)) == ["SXPT-E-SCHOOL-CODE-INVALID"]


@pytest.mark.parametrize("value", ["080901", "080910T", "100901K", "080914TK"])
def test_major_code_taken_as_written(value: str) -> None:
    """Six digits, optionally with T, K or TK, are read with no change."""
    outcome = normalise_major_code(value)
    assert outcome.value == value
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "text", "code"),
    [
        ("080910t", "080910T", "SXPT-W-CODE-FORMAT"),
        ("０８０９０１", "080901", "SXPT-W-CODE-FORMAT"),
        ("0809 01", "080901", "SXPT-W-CODE-FORMAT"),
        (" 080901 ", "080901", "SXPT-W-FIELD-SPACE"),
        (120201, "120201", "SXPT-W-ID-NUMERIC"),
        (120201.0, "120201", "SXPT-W-ID-NUMERIC"),
    ],
)
def test_major_code_normalised(value: object, text: str, code: str) -> None:
    """Lower case, full width, spaces and number cells are normalised with a warning."""
    outcome = normalise_major_code(value)
    assert outcome.value == text
    assert change_code(outcome) == code


@pytest.mark.parametrize(
    "value", [80901, "80901", "0809010", "080901X", "080901KT", "计算机科学与技术"]
)
def test_major_code_invalid(value: object) -> None:
    """A lost leading zero and anything else is SXPT-E-MAJOR-CODE-INVALID."""
    assert codes(normalise_major_code(value)) == ["SXPT-E-MAJOR-CODE-INVALID"]


# --- Phones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "19912345678",
        "0571-88888888",
        "057188888888",
        "010-12345678",
        "01012345678",
        "0571-8888888",
        "0571-88888888-123",
    ],
)
def test_phone_taken_as_written(value: str) -> None:
    """Mobile numbers and landlines with area code are read with no change."""
    outcome = normalise_phone(value)
    assert outcome.value == value
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("(+86)13812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("(0571) 8888 8888", "0571-88888888"),
        ("（0571）88888888", "0571-88888888"),
        ("0571 88888888", "0571-88888888"),
        ("0571-8888-8888", "0571-88888888"),
        ("010 1234 5678", "010-12345678"),
        ("+86 571 88888888", "0571-88888888"),
        ("0571-88888888转123", "0571-88888888-123"),
        ("0571-88888888 分机 12", "0571-88888888-12"),
        ("0571-88888888 ext. 12", "0571-88888888-12"),
        ("0571-88888888#12", "0571-88888888-12"),
        ("0571 88888888 123", "0571-88888888-123"),
    ],
)
def test_phone_normalised(value: str, text: str) -> None:
    """Spaces, hyphens, brackets, +86 and extension words are SXPT-W-PHONE-FORMAT."""
    outcome = normalise_phone(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-PHONE-FORMAT"
    assert outcome.text == text


def test_phone_trimmed() -> None:
    """Padding alone is SXPT-W-FIELD-SPACE."""
    assert change_code(normalise_phone(" 13812345678 ")) == "SXPT-W-FIELD-SPACE"


@pytest.mark.parametrize("value", [13812345678, 13812345678.0])
def test_phone_mobile_number_cell(value: object) -> None:
    """A mobile number in a number cell reads as its digits with no change."""
    outcome = normalise_phone(value)
    assert outcome.value == "13812345678"
    assert outcome.change is None


@pytest.mark.parametrize(
    "value",
    [
        "88888888",
        "12345678901",
        "1381234567",
        "138123456789",
        "13812345678/13912345678",
        "13812345678、13912345678",
        "400-800-8888",
        "0571-123456",
        "0571-123456789",
        "abc",
        "138****5678",
        "13812345678转1",
        57188888888,
        1.5,
        True,
        datetime.date(2024, 9, 1),
        "1" + " " * 100 + "2",
    ],
)
def test_phone_invalid(value: object) -> None:
    """Numbers without area code, wrong lengths, two numbers and words are SXPT-E-PHONE-INVALID."""
    assert codes(normalise_phone(value)) == ["SXPT-E-PHONE-INVALID"]


def test_float_text_identifier() -> None:
    """A number written as text with .0 reads as its digits with the numeric warning."""
    outcome = normalise_identifier("2301010001.0")
    assert outcome.value == "2301010001"
    assert outcome.change is not None
    assert outcome.change.code == "SXPT-W-ID-NUMERIC"
