"""Tests of the code-list, number and text normalisers and the shared text helpers."""

from __future__ import annotations

import datetime
import sys
from decimal import Decimal

import pytest

from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.fields import (
    SHOWN_LENGTH,
    TRIM_CHARS,
    WHITESPACE,
    fold_width,
    is_blank,
    join_lines,
    normalise_choice,
    normalise_count,
    normalise_credits,
    normalise_days,
    normalise_money,
    normalise_text,
    normalise_yes_no,
    number_text,
    shown,
    trim,
)
from sxpt_core.templates import Column, get_template

RECORDS = get_template("records")
PLAN = get_template("plan")
FORM = RECORDS.column("实习组织形式")
TYPE = RECORDS.column("实习类型")
TERM = PLAN.column("学期")


def codes(outcome: Outcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


def change_code(outcome: Outcome) -> str | None:
    return outcome.change.code if outcome.change is not None else None


# --- Helpers ------------------------------------------------------------------------


def test_whitespace_matches_isspace() -> None:
    """WHITESPACE lists exactly the characters for which str.isspace() is true."""
    expected = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert set(WHITESPACE) == expected


@pytest.mark.parametrize("char", ["\u3000", "\xa0", "\u200b", "\u200c", "\u200d", "\ufeff", "\t"])
def test_trim_removes_padding(char: str) -> None:
    """Trimming removes every kind of whitespace and zero-width character."""
    assert trim(f"{char}计算机{char}") == "计算机"


def test_trim_drops_inner_zero_width() -> None:
    """Zero-width characters inside the text are dropped; inner spaces stay."""
    assert trim("计\u200b算 机") == "计算 机"


@pytest.mark.parametrize("value", [None, "", " ", "\u3000\u200b\ufeff", "\n\t"])
def test_is_blank_true(value: object) -> None:
    """None and text of only padding are blank."""
    assert is_blank(value)


@pytest.mark.parametrize("value", ["0", 0, False, "\u200b0"])
def test_is_blank_false(value: object) -> None:
    """A zero, FALSE and text with content are not blank."""
    assert not is_blank(value)


def test_fold_width() -> None:
    """Full-width ASCII and U+3000 become ASCII; Han characters stay."""
    assert fold_width("２０２４．９　学分ＡＢ") == "2024.9 学分AB"


@pytest.mark.parametrize(
    ("number", "text"),
    [(21050101.0, "21050101"), (1.5, "1.5"), (0.1 + 0.2, "0.3"), (1e15, "1e+15"), (-0.0, "-0")],
)
def test_number_text(number: float, text: str) -> None:
    """Floats are written with the 15 significant digits that Excel shows."""
    assert number_text(number) == text


def test_shown_cuts_long_text() -> None:
    """Values in messages are cut to SHOWN_LENGTH characters and an ellipsis."""
    assert shown("x" * 1000) == "x" * SHOWN_LENGTH + "…"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "TRUE"),
        (False, "FALSE"),
        (2.0, "2"),
        (datetime.datetime(2024, 9, 1, 8), "2024-09-01 08:00:00"),
        (datetime.date(2024, 9, 1), "2024-09-01"),
        (None, "None"),
    ],
)
def test_shown_cell_types(value: object, text: str) -> None:
    """Values in messages read as Excel shows the cell."""
    assert shown(value) == text


def test_join_lines() -> None:
    """Line breaks with the spaces around them become one space."""
    assert join_lines("实习\r\n \n单位\u2028名称") == "实习 单位 名称"


# --- Code lists ---------------------------------------------------------------------


@pytest.mark.parametrize("choice", FORM.choices)
def test_choice_exact(choice: str) -> None:
    """A value of the list is taken as written."""
    outcome = normalise_choice(choice, FORM)
    assert outcome.value == choice
    assert outcome.change is None
    assert outcome.findings == ()


@pytest.mark.parametrize("value", [" 集中实习", "集中实习\u3000", "\u200b集中实习", "集中实习\n"])
def test_choice_trimmed(value: str) -> None:
    """A padded value of the list is SXPT-W-FIELD-SPACE."""
    outcome = normalise_choice(value, FORM)
    assert outcome.value == "集中实习"
    assert change_code(outcome) == "SXPT-W-FIELD-SPACE"
    assert outcome.text == "集中实习"


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        (FORM, "集中", "集中实习"),
        (FORM, " 分散 ", "分散实习"),
        (FORM, "集中 实习", "集中实习"),
        (TYPE, "毕业", "毕业实习"),
        (RECORDS.column("实习方式"), "线下", "现场实习"),
        (RECORDS.column("实习单位获取方式"), "自主联系", "学生自主联系"),
        (TERM, "1", "第一学期"),
        (TERM, "１", "第一学期"),
        (TERM, 2, "第二学期"),
        (TERM, 3.0, "第三学期"),
        (TERM, "第1学期", "第一学期"),
        (TERM, "秋季学期", "第一学期"),
        (PLAN.column("实习方式"), "模拟", "模拟实习"),
    ],
)
def test_choice_alias(column: Column, value: object, expected: str) -> None:
    """Aliases and matches after NFKC, case folding and space removal are SXPT-W-CHOICE-ALIAS."""
    outcome = normalise_choice(value, column)
    assert outcome.value == expected
    assert change_code(outcome) == "SXPT-W-CHOICE-ALIAS"
    assert outcome.text == expected


@pytest.mark.parametrize(
    "value", ["混合实习", "集中实习、分散实习", "1", 1, 1.5, True, datetime.date(2024, 9, 1)]
)
def test_choice_invalid(value: object) -> None:
    """Anything else is SXPT-E-CHOICE-INVALID."""
    outcome = normalise_choice(value, FORM)
    assert outcome.value is None
    assert codes(outcome) == ["SXPT-E-CHOICE-INVALID"]


def test_choice_invalid_lists_allowed() -> None:
    """The finding names the field and lists the allowed values joined by 、."""
    finding = normalise_choice("混合", FORM).findings[0]
    assert finding.params == {
        "value": "混合",
        "field": "实习组织形式",
        "allowed": "集中实习、分散实习",
    }


def test_choice_long_text_rejected() -> None:
    """A long text is rejected without trying the aliases."""
    assert codes(normalise_choice("集中" * 10_000, FORM)) == ["SXPT-E-CHOICE-INVALID"]


def test_choice_custom_column() -> None:
    """A column built at run time gets its own lookup table."""
    column = Column("层级", "tier", "choice", choices=("甲", "乙"), choice_aliases={"A": "甲"})
    assert normalise_choice("a", column).value == "甲"
    assert codes(normalise_choice("集中实习", column)) == ["SXPT-E-CHOICE-INVALID"]


def test_term_without_choices_uses_defaults() -> None:
    """A term column without its own list uses the three terms of the 2024 template."""
    column = Column("学期", "term", "term")
    assert normalise_choice("第二学期", column).value == "第二学期"


@pytest.mark.parametrize("value", [None, "", "\u3000"])
def test_choice_blank(value: object) -> None:
    """Blank cells give the shared blank outcome."""
    assert normalise_choice(value, FORM) is BLANK


def test_choice_formula_error() -> None:
    """A formula error gives the unreadable outcome."""
    assert normalise_choice(CellError("#N/A"), FORM) is UNREADABLE


@pytest.mark.parametrize(("value", "expected"), [("是", True), ("否", False)])
def test_yes_no_exact(value: str, expected: bool) -> None:
    """是 and 否 read as True and False with no change."""
    outcome = normalise_yes_no(value)
    assert outcome.value is expected
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Y", True),
        ("y", True),
        ("yes", True),
        ("YES", True),
        ("有", True),
        ("√", True),
        ("N", False),
        ("no", False),
        ("无", False),
        ("×", False),
        ("Ｙ", True),
        (True, True),
        (False, False),
    ],
)
def test_yes_no_alias(value: object, expected: bool) -> None:
    """Aliases and TRUE/FALSE cells read as 是/否 with SXPT-W-CHOICE-ALIAS."""
    outcome = normalise_yes_no(value)
    assert outcome.value is expected
    assert change_code(outcome) == "SXPT-W-CHOICE-ALIAS"
    assert outcome.text == ("是" if expected else "否")


def test_yes_no_trimmed() -> None:
    """A padded 是 is SXPT-W-FIELD-SPACE."""
    outcome = normalise_yes_no(" 是 ")
    assert outcome.value is True
    assert change_code(outcome) == "SXPT-W-FIELD-SPACE"


@pytest.mark.parametrize("value", ["是的", "不确定", "1", 0, "是/否"])
def test_yes_no_invalid(value: object) -> None:
    """Anything else is SXPT-E-CHOICE-INVALID listing 是、否."""
    outcome = normalise_yes_no(value)
    assert codes(outcome) == ["SXPT-E-CHOICE-INVALID"]
    assert outcome.findings[0].params["allowed"] == "是、否"


def test_yes_no_uses_column() -> None:
    """With a template column the field name in the finding is the column's header."""
    column = RECORDS.column("是否有实习责任险")
    assert normalise_yes_no("也许", column).findings[0].params["field"] == "是否有实习责任险"


# --- Credits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", Decimal("2")),
        ("1.5", Decimal("1.5")),
        ("0.5", Decimal("0.5")),
        ("2.0", Decimal("2.0")),
        (1.5, Decimal("1.5")),
        (2.0, Decimal("2")),
        (2, Decimal("2")),
        (0.1 + 0.2, Decimal("0.3")),
        (Decimal("1.5"), Decimal("1.5")),
        ("16", Decimal("16")),
    ],
)
def test_credits_taken_as_written(value: object, expected: Decimal) -> None:
    """Positive numbers with at most one decimal place are read with no change."""
    outcome = normalise_credits(value)
    assert outcome.value == expected
    assert type(outcome.value) is Decimal
    assert outcome.change is None


def test_credits_float_keeps_form() -> None:
    """A float cell 1.5 reads as Decimal('1.5'), not as the float's binary expansion."""
    assert str(normalise_credits(1.5).value) == "1.5"
    assert str(normalise_credits(2.0).value) == "2"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2学分", "2"),
        ("2 学分", "2"),
        ("1.5学分", "1.5"),
        ("2分", "2"),
        ("２", "2"),
        ("１．５", "1.5"),
        ("1.50", "1.5"),
        (".5", "0.5"),
        ("+2", "2"),
        ("２学分", "2"),
    ],
)
def test_credits_normalised(value: str, text: str) -> None:
    """Units, full-width digits and extra zeros are SXPT-W-CREDITS-FORMAT."""
    outcome = normalise_credits(value)
    assert outcome.value == Decimal(text)
    assert change_code(outcome) == "SXPT-W-CREDITS-FORMAT"
    assert outcome.text == text


def test_credits_trimmed() -> None:
    """Padding alone is SXPT-W-FIELD-SPACE."""
    outcome = normalise_credits(" 2\u3000")
    assert outcome.value == Decimal("2")
    assert change_code(outcome) == "SXPT-W-FIELD-SPACE"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2周", "SXPT-E-CREDITS-UNIT"),
        ("2星期", "SXPT-E-CREDITS-UNIT"),
        ("32学时", "SXPT-E-CREDITS-UNIT"),
        ("10天", "SXPT-E-CREDITS-UNIT"),
        ("0", "SXPT-E-CREDITS-NOT-POSITIVE"),
        ("0.0", "SXPT-E-CREDITS-NOT-POSITIVE"),
        ("-1", "SXPT-E-CREDITS-NOT-POSITIVE"),
        (0, "SXPT-E-CREDITS-NOT-POSITIVE"),
        (-1.5, "SXPT-E-CREDITS-NOT-POSITIVE"),
        (-0.0, "SXPT-E-CREDITS-NOT-POSITIVE"),
        ("1.25", "SXPT-E-CREDITS-PRECISION"),
        (1.25, "SXPT-E-CREDITS-PRECISION"),
        (Decimal("0.05"), "SXPT-E-CREDITS-PRECISION"),
        ("两学分", "SXPT-E-CREDITS-INVALID"),
        ("二", "SXPT-E-CREDITS-INVALID"),
        ("约2学分", "SXPT-E-CREDITS-INVALID"),
        ("2-3", "SXPT-E-CREDITS-INVALID"),
        ("1,5", "SXPT-E-CREDITS-INVALID"),
        ("1e3", "SXPT-E-CREDITS-INVALID"),
        ("2" + " " * 100 + "学分", "SXPT-E-CREDITS-INVALID"),
        (float("nan"), "SXPT-E-CREDITS-INVALID"),
        (float("inf"), "SXPT-E-CREDITS-INVALID"),
        (Decimal("sNaN"), "SXPT-E-CREDITS-INVALID"),
        (True, "SXPT-E-CREDITS-INVALID"),
        (datetime.date(2024, 9, 1), "SXPT-E-CREDITS-INVALID"),
    ],
)
def test_credits_rejected(value: object, code: str) -> None:
    """Weeks, zero, negatives, two decimals and words are rejected with the matching rule."""
    outcome = normalise_credits(value)
    assert outcome.value is None
    assert codes(outcome) == [code]


def test_credits_unit_names_both_units() -> None:
    """SXPT-E-CREDITS-UNIT names the unit written and the unit expected."""
    params = normalise_credits("2周").findings[0].params
    assert params["found"] == "周"
    assert params["expected"] == "学分"


@pytest.mark.parametrize(("value", "text"), [("2周", "2"), ("3 星期", "3"), ("1.5周", "1.5")])
def test_weeks_accept_weeks(value: str, text: str) -> None:
    """With unit 周, a number of weeks is SXPT-W-CREDITS-FORMAT."""
    outcome = normalise_credits(value, unit="周")
    assert outcome.value == Decimal(text)
    assert change_code(outcome) == "SXPT-W-CREDITS-FORMAT"


def test_weeks_reject_credits() -> None:
    """With unit 周, credits are SXPT-E-CREDITS-UNIT."""
    assert codes(normalise_credits("2学分", unit="周")) == ["SXPT-E-CREDITS-UNIT"]


# --- Days and counts ----------------------------------------------------------------


@pytest.mark.parametrize("value", [30, 30.0, "30", Decimal(30)])
def test_days_taken_as_written(value: object) -> None:
    """A whole number of at least 1 is read with no change."""
    outcome = normalise_days(value)
    assert outcome.value == 30
    assert type(outcome.value) is int
    assert outcome.change is None


@pytest.mark.parametrize("value", ["30天", "30 天", "30日", "３０", "30.0", "+30"])
def test_days_normalised(value: str) -> None:
    """A unit, full-width digits or a zero fraction are SXPT-W-DAYS-FORMAT."""
    outcome = normalise_days(value)
    assert outcome.value == 30
    assert change_code(outcome) == "SXPT-W-DAYS-FORMAT"
    assert outcome.text == "30"


@pytest.mark.parametrize(
    "value",
    [
        "0",
        0,
        -3,
        "-3",
        "30.5",
        30.5,
        "三十天",
        "30周",
        "约30天",
        float("inf"),
        Decimal("NaN"),
        True,
    ],
)
def test_days_rejected(value: object) -> None:
    """Zero, negatives, fractions, words and other units are SXPT-E-DAYS-INVALID."""
    assert codes(normalise_days(value)) == ["SXPT-E-DAYS-INVALID"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("45", None),
        (45.0, None),
        ("45人", "SXPT-W-COUNT-FORMAT"),
        ("45名", "SXPT-W-COUNT-FORMAT"),
        ("４５", "SXPT-W-COUNT-FORMAT"),
    ],
)
def test_count_accepted(value: object, code: str | None) -> None:
    """Counts are whole numbers; 人, 名 and full-width digits are format warnings."""
    outcome = normalise_count(value)
    assert outcome.value == 45
    assert change_code(outcome) == code


@pytest.mark.parametrize("value", ["0", "四十五", "45.5", -1, "45天"])
def test_count_rejected(value: object) -> None:
    """Zero, words, fractions, negatives and other units are SXPT-E-COUNT-INVALID."""
    assert codes(normalise_count(value)) == ["SXPT-E-COUNT-INVALID"]


# --- Money --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3000", Decimal("3000")),
        ("0", Decimal("0")),
        ("3000.5", Decimal("3000.5")),
        ("3000.00", Decimal("3000.00")),
        (3000, Decimal("3000")),
        (3000.0, Decimal("3000")),
        (2500.75, Decimal("2500.75")),
        (0, Decimal("0")),
        (-0.0, Decimal("0")),
    ],
)
def test_money_taken_as_written(value: object, expected: Decimal) -> None:
    """Amounts of at least 0 with at most two decimals are read with no change."""
    outcome = normalise_money(value)
    assert outcome.value == expected
    assert type(outcome.value) is Decimal
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("3000元", "3000"),
        ("3000 元", "3000"),
        ("3000元/月", "3000"),
        ("3000/月", "3000"),
        ("3000元每月", "3000"),
        ("¥3000", "3000"),
        ("￥3,000", "3000"),
        ("3,000.50", "3000.5"),
        ("RMB 3000", "3000"),
        ("３０００", "3000"),
        ("无", "0"),
        ("没有", "0"),
        ("0元", "0"),
    ],
)
def test_money_normalised(value: str, text: str) -> None:
    """Units, currency signs, separators, full-width digits and 无 are SXPT-W-MONEY-FORMAT."""
    outcome = normalise_money(value)
    assert outcome.value == Decimal(text)
    assert change_code(outcome) == "SXPT-W-MONEY-FORMAT"
    assert outcome.text == text


@pytest.mark.parametrize(
    "value",
    ["-1", -1, "3000.123", 0.125, "3000-4000", "面议", "3k", "3,00", "三千", float("nan"), True],
)
def test_money_rejected(value: object) -> None:
    """Negatives, three decimals, ranges and words are SXPT-E-MONEY-INVALID."""
    assert codes(normalise_money(value)) == ["SXPT-E-MONEY-INVALID"]


# --- Text ---------------------------------------------------------------------------


def test_text_taken_as_written() -> None:
    """Clean text is read with no change, full-width brackets included."""
    outcome = normalise_text("华为技术有限公司（深圳）", max_length=100)
    assert outcome.value == "华为技术有限公司（深圳）"
    assert outcome.change is None


@pytest.mark.parametrize(
    "value", [" 计算机学院", "计算机学院\u3000", "\ufeff计算机学院", "计算机\u200b学院"]
)
def test_text_trimmed(value: str) -> None:
    """Padding and zero-width characters are SXPT-W-FIELD-SPACE."""
    outcome = normalise_text(value)
    assert outcome.value == "计算机学院"
    assert change_code(outcome) == "SXPT-W-FIELD-SPACE"
    assert outcome.text == "计算机学院"


@pytest.mark.parametrize(
    "value", ["浙江省\n杭州市", "浙江省\r\n杭州市", "浙江省 \n\n 杭州市", "浙江省\u2028杭州市"]
)
def test_text_line_breaks(value: str) -> None:
    """Line breaks inside the text become one space with SXPT-W-TEXT-LINE-BREAK."""
    outcome = normalise_text(value)
    assert outcome.value == "浙江省 杭州市"
    assert change_code(outcome) == "SXPT-W-TEXT-LINE-BREAK"


def test_text_inner_spaces_kept() -> None:
    """Spaces inside the text are kept as written."""
    assert normalise_text("A  座 101").value == "A  座 101"


def test_text_too_long() -> None:
    """Text over the limit is SXPT-E-TEXT-TOO-LONG naming the length and the limit."""
    outcome = normalise_text("实" * 51, max_length=50)
    assert codes(outcome) == ["SXPT-E-TEXT-TOO-LONG"]
    assert outcome.findings[0].params == {"length": "51", "limit": "50"}


def test_text_limit_counts_code_points() -> None:
    """A character outside the BMP counts once towards the limit."""
    assert normalise_text("𠀀" * 50, max_length=50).value == "𠀀" * 50


def test_text_limit_after_trimming() -> None:
    """The limit applies to the trimmed text."""
    assert normalise_text(" " + "实" * 50 + " ", max_length=50).value == "实" * 50


@pytest.mark.parametrize(
    ("value", "text"), [(2201, "2201"), (2201.0, "2201"), (1.5, "1.5"), (Decimal("3.10"), "3.10")]
)
def test_text_from_number(value: object, text: str) -> None:
    """A number cell reads as the digits Excel shows, with no change."""
    outcome = normalise_text(value)
    assert outcome.value == text
    assert outcome.change is None


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2024, 3, 1),
        datetime.datetime(2024, 3, 1, 8),
        datetime.time(8),
        True,
        datetime.timedelta(hours=1),
        float("nan"),
    ],
)
def test_text_cell_type_rejected(value: object) -> None:
    """Date, time, TRUE/FALSE and NaN cells are SXPT-E-FIELD-CELL-TYPE."""
    assert codes(normalise_text(value)) == ["SXPT-E-FIELD-CELL-TYPE"]


@pytest.mark.parametrize("value", [None, "", "  ", "\n"])
def test_text_blank(value: object) -> None:
    """Blank cells give the shared blank outcome."""
    assert normalise_text(value) is BLANK


def test_padding_chars_are_trimmed() -> None:
    """Every whitespace and zero-width character is trimmed from text."""
    assert normalise_text(TRIM_CHARS + "实习" + TRIM_CHARS).value == "实习"
