"""Tests of the name normaliser."""

from __future__ import annotations

import datetime

import pytest

from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.names import (
    check_name_characters,
    join_names,
    normalise_name,
    tidy_spaces,
    unify_dots,
)


def codes(outcome: Outcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


def change_code(outcome: Outcome) -> str | None:
    return outcome.change.code if outcome.change is not None else None


@pytest.mark.parametrize(
    "value",
    [
        "张三",
        "欧阳娜娜",
        "阿依古丽·买买提",
        "𪚥",
        "张𠀀",
        "王〇",
        "John Smith",
        "J. Smith",
        "Jean-Luc O'Neil",
        "李四、王五",
        "Zoë",
        "김민준",
        "张 San",
    ],
)
def test_name_taken_as_written(value: str) -> None:
    """Clean names, rare characters outside the BMP and Latin names are read with no change."""
    outcome = normalise_name(value, max_length=50)
    assert outcome.value == value
    assert outcome.change is None
    assert outcome.findings == ()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (" 张三", "张三"),
        ("张三\u3000", "张三"),
        ("\xa0张三\xa0", "张三"),
        ("张\u200b三", "张三"),
        ("\ufeff张三", "张三"),
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        ("张  \t三", "张三"),
        ("欧阳 娜 娜", "欧阳娜娜"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("李四 、王五", "李四、王五"),
        ("John   Smith", "John Smith"),
        ("John\u3000Smith", "John Smith"),
        ("张\n三", "张三"),
        ("𠀀 𪚥", "𠀀𪚥"),
    ],
)
def test_name_spaces(value: str, text: str) -> None:
    """Whitespace is trimmed, dropped between Han characters and collapsed elsewhere."""
    outcome = normalise_name(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-NAME-SPACE"
    assert outcome.text == text


@pytest.mark.parametrize(
    "dot",
    [
        "•",
        "・",
        "‧",
        "．",
        ".",
        "∙",
        "⋅",
        "⸱",
        "･",
        "\u0387",
        "\u2027",
        "\u30fb",
        "\uff0e",
        "\u2022",
    ],
)
def test_name_dots_unified(dot: str) -> None:
    """Every look-alike of the middle dot becomes · with SXPT-W-NAME-DOT."""
    outcome = normalise_name(f"阿依古丽{dot}买买提")
    assert outcome.value == "阿依古丽·买买提"
    assert change_code(outcome) == "SXPT-W-NAME-DOT"
    assert outcome.text == "阿依古丽·买买提"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("艾力··买买提", "艾力·买买提"),
        ("艾力· ・买买提", "艾力·买买提"),
        ("·艾力", "艾力"),
        ("艾力•", "艾力"),
        (" 艾力 • 买买提 ", "艾力·买买提"),
        ("；.艾力", "艾力"),
        ("、·艾力、", "艾力"),
    ],
)
def test_name_dot_runs(value: str, text: str) -> None:
    """Doubled dots become one, and dots and separators around the name are dropped."""
    assert normalise_name(value).value == text


def test_name_dot_beats_space() -> None:
    """A name with both a dot and a space change reports SXPT-W-NAME-DOT."""
    assert change_code(normalise_name(" 阿依古丽 • 买买提")) == "SXPT-W-NAME-DOT"


def test_latin_full_stop_kept() -> None:
    """A full stop in a Latin name marks an initial and stays."""
    assert normalise_name("J. R. Smith").value == "J. R. Smith"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("李四，王五", "李四、王五"),
        ("李四,王五", "李四、王五"),
        ("李四；王五", "李四、王五"),
        ("李四/王五", "李四、王五"),
        ("李四 , 王五", "李四、王五"),
        ("李四、、王五", "李四、王五"),
        ("李四，", "李四"),
    ],
)
def test_name_list_separators(value: str, text: str) -> None:
    """Commas, semicolons and slashes between names become 、 with SXPT-W-NAME-LIST."""
    outcome = normalise_name(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-NAME-LIST"


@pytest.mark.parametrize(
    ("value", "text"), [("ＪＯＨＮ", "JOHN"), ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith")]
)
def test_name_full_width_letters(value: str, text: str) -> None:
    """Full-width Latin letters become ASCII with SXPT-W-NAME-FULLWIDTH."""
    outcome = normalise_name(value)
    assert outcome.value == text
    assert change_code(outcome) == "SXPT-W-NAME-FULLWIDTH"


def test_name_compatibility_ideograph_kept() -> None:
    """A CJK compatibility ideograph is kept, not replaced by its NFKC form."""
    assert normalise_name("金\uf900").value == "金\uf900"


@pytest.mark.parametrize("value", ["张?", "张？", "\ufffd三", "王□", "王〓", "?"])
def test_name_lost_character(value: str) -> None:
    """Placeholders of a lost rare character are SXPT-E-NAME-QUESTION-MARK."""
    outcome = normalise_name(value)
    assert outcome.value is None
    assert codes(outcome) == ["SXPT-E-NAME-QUESTION-MARK"]


def test_name_lost_character_params() -> None:
    """The finding names the placeholder found."""
    assert normalise_name("张？三").findings[0].params == {"value": "张？三", "chars": "？"}


@pytest.mark.parametrize("value", ["张三2", "张三１", "2号", 123, 21050101.0])
def test_name_digits(value: object) -> None:
    """Digits, also as a number cell, are SXPT-E-NAME-DIGIT."""
    assert codes(normalise_name(value)) == ["SXPT-E-NAME-DIGIT"]


@pytest.mark.parametrize(
    "value",
    ["张三（男）", "张三(已退学)", "张三😀", "王\ue000", "-", "·", "、", "张三@", "Smith, John"],
)
def test_name_other_characters(value: str) -> None:
    """Brackets, emoji, private-use characters and lone punctuation are SXPT-E-NAME-CHARACTER."""
    assert codes(normalise_name(value)) == ["SXPT-E-NAME-CHARACTER"]


def test_name_several_errors() -> None:
    """A name with several faults reports each of them."""
    outcome = normalise_name("张?2（男）")
    assert codes(outcome) == [
        "SXPT-E-NAME-QUESTION-MARK",
        "SXPT-E-NAME-DIGIT",
        "SXPT-E-NAME-CHARACTER",
    ]


def test_name_too_long() -> None:
    """A name over the limit after tidying is SXPT-E-NAME-TOO-LONG."""
    outcome = normalise_name("张" * 51, max_length=50)
    assert codes(outcome) == ["SXPT-E-NAME-TOO-LONG"]
    assert outcome.findings[0].params == {"length": "51", "limit": "50"}


def test_name_limit_after_tidying() -> None:
    """Spaces removed by tidying do not count towards the limit."""
    assert normalise_name(" ".join("张" * 50), max_length=50).value == "张" * 50


def test_name_limit_counts_code_points() -> None:
    """A character outside the BMP counts once towards the limit."""
    assert normalise_name("𠀀" * 50, max_length=50).value == "𠀀" * 50


@pytest.mark.parametrize("value", [datetime.date(2024, 9, 1), True, datetime.time(8)])
def test_name_cell_type(value: object) -> None:
    """Date, time and TRUE/FALSE cells are SXPT-E-FIELD-CELL-TYPE."""
    assert codes(normalise_name(value)) == ["SXPT-E-FIELD-CELL-TYPE"]


@pytest.mark.parametrize("value", [None, "", "  ", "\u3000\u200b"])
def test_name_blank(value: object) -> None:
    """Blank cells give the shared blank outcome."""
    assert normalise_name(value) is BLANK


def test_name_formula_error() -> None:
    """A formula error gives the unreadable outcome."""
    assert normalise_name(CellError("#N/A")) is UNREADABLE


def test_name_rejected_reports_no_change() -> None:
    """A rejected name reports no normalisation even if it was also tidied."""
    outcome = normalise_name(" 张 ?")
    assert outcome.change is None
    assert outcome.text is None


def test_unify_dots_keeps_clean() -> None:
    """A name without dots comes back unchanged."""
    assert unify_dots("张三", has_latin=False) == "张三"


def test_join_names_without_separators() -> None:
    """A single name comes back unchanged."""
    assert join_names("张三") == "张三"


def test_tidy_spaces_keeps_latin_space() -> None:
    """One space between Latin words stays."""
    assert tidy_spaces("Ann Lee") == "Ann Lee"


def test_check_name_characters_clean() -> None:
    """A clean name has no character errors."""
    assert check_name_characters("阿依古丽·买买提", "阿依古丽·买买提") == []
