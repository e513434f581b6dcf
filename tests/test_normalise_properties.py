"""Property tests of the normalisers: round trips, idempotence, and junk that never raises."""

from __future__ import annotations

import datetime
import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sxpt_core.normalise import Outcome, normalise_cell
from sxpt_core.normalise.dates import normalise_date
from sxpt_core.normalise.fields import SHOWN_LENGTH, normalise_choice, normalise_credits
from sxpt_core.normalise.identifiers import normalise_identifier
from sxpt_core.normalise.names import normalise_name
from sxpt_core.templates import Column, get_template
from tests.strategies import (
    junk,
    padded,
    to_full_width,
    written_credits,
    written_dates,
    written_identifiers,
    written_names,
)

TEMPLATES = [get_template(kind) for kind in ("records", "plan", "roster")]
# Unit and city codes are normalised outside this package, and their own tests cover them.
OWN_COLUMNS = [
    column for template in TEMPLATES for column in template if column.kind not in {"uscc", "city"}
]
CHOICE_COLUMNS = [column for column in OWN_COLUMNS if column.choices]


def value_text(value: object) -> str:
    """Write a normalised value as the text a user would type for it."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def assert_taken_as_written(outcome: Outcome, value: object) -> None:
    assert outcome.value == value
    assert outcome.change is None
    assert outcome.findings == ()


# --- Round trips: every accepted way of writing a value reads as that value ----------


@given(written_names())
def test_names_round_trip(case: tuple[str, str]) -> None:
    """A name typed with extra spaces and look-alike dots reads as the clean name."""
    clean, typed = case
    assert normalise_name(typed, max_length=50).value == clean


@given(written_dates())
def test_dates_round_trip(case: tuple[datetime.date, object]) -> None:
    """A date in any accepted shape reads as that date."""
    day, written = case
    assert normalise_date(written).value == day


@given(written_credits())
def test_credits_round_trip(case: tuple[Decimal, object]) -> None:
    """Credits as number cells or typed text read as the same Decimal."""
    credits, written = case
    assert normalise_credits(written).value == credits


@given(written_identifiers())
def test_identifiers_round_trip(case: tuple[str, object]) -> None:
    """Identifiers as typed text or number cells read as the same text."""
    text, written = case
    assert normalise_identifier(written, max_length=30).value == text


@st.composite
def written_choices(draw: st.DrawFn) -> tuple[Column, str, str]:
    """Return (column, standard value, the value or one of its aliases as typed)."""
    column = draw(st.sampled_from(CHOICE_COLUMNS))
    pairs = [(choice, choice) for choice in column.choices]
    pairs += [(target, alias) for alias, target in column.choice_aliases.items()]
    standard, typed = draw(st.sampled_from(pairs))
    typed = draw(st.sampled_from([typed, typed.lower(), to_full_width(typed)]))
    return column, standard, draw(padded(typed))


@given(written_choices())
def test_choices_round_trip(case: tuple[Column, str, str]) -> None:
    """Code-list values and aliases, padded or in other case or width, read as standard."""
    column, standard, typed = case
    outcome = normalise_choice(typed, column)
    assert value_text(outcome.value) == standard


# --- Idempotence: the normalised text reads back unchanged ----------------------------


@given(written_names())
def test_names_idempotent(case: tuple[str, str]) -> None:
    """Normalising a normalised name changes nothing."""
    first = normalise_name(case[1])
    assert_taken_as_written(normalise_name(value_text(first.value)), first.value)


@given(st.text(max_size=30))
def test_names_idempotent_on_any_text(text: str) -> None:
    """For any text that reads as a name, reading its normalised form changes nothing."""
    first = normalise_name(text)
    if first.value is not None:
        assert_taken_as_written(normalise_name(first.value), first.value)


@given(written_dates())
def test_dates_idempotent(case: tuple[datetime.date, object]) -> None:
    """Normalising the ISO text of a normalised date changes nothing."""
    first = normalise_date(case[1])
    assert_taken_as_written(normalise_date(value_text(first.value)), first.value)


@given(written_credits())
def test_credits_idempotent(case: tuple[Decimal, object]) -> None:
    """Normalising the text of normalised credits changes nothing."""
    first = normalise_credits(case[1])
    assert_taken_as_written(normalise_credits(value_text(first.value)), first.value)


@given(written_identifiers())
def test_identifiers_idempotent(case: tuple[str, object]) -> None:
    """Normalising a normalised identifier changes nothing."""
    first = normalise_identifier(case[1])
    assert_taken_as_written(normalise_identifier(first.value), first.value)


@given(written_choices())
def test_choices_idempotent(case: tuple[Column, str, str]) -> None:
    """Normalising the standard value of a code list changes nothing."""
    column, _, typed = case
    first = normalise_choice(typed, column)
    assert_taken_as_written(normalise_choice(value_text(first.value), column), first.value)


@given(st.sampled_from(OWN_COLUMNS), st.one_of(junk, st.text(max_size=20)))
def test_every_kind_idempotent(column: Column, value: object) -> None:
    """In every column, any value that is accepted reads back unchanged from its new text."""
    first = normalise_cell(column, value)
    if first.value is not None:
        text = first.text if first.text is not None else value_text(first.value)
        assert_taken_as_written(normalise_cell(column, text), first.value)


# --- Junk never raises --------------------------------------------------------------


@given(st.sampled_from(OWN_COLUMNS), junk)
def test_junk_gives_outcome(column: Column, value: object) -> None:
    """Any cell value gives an Outcome whose findings render in both languages."""
    outcome = normalise_cell(column, value)
    assert isinstance(outcome, Outcome)
    for finding in outcome.findings:
        for template in (*finding.rule.message, *finding.rule.hint):
            assert placeholders(template) <= finding.params.keys()


def test_value_none_when_rejected() -> None:
    """A rejected credit cell carries neither a value nor a change."""
    outcome = normalise_cell(get_template("records").column("学分"), "两学分")
    assert outcome.value is None
    assert outcome.change is None


MEGABYTE = 2**20
HUGE_VALUES = [
    "1" * MEGABYTE,
    "张" * MEGABYTE,
    " " * MEGABYTE,
    "张" + " " * MEGABYTE + "三，",
    "2024" + " " * MEGABYTE + "-09-01 1:00",
    "a\n" * (MEGABYTE // 2),
    "\u200b" * MEGABYTE,
]
ONE_COLUMN_PER_KIND = list({column.kind: column for column in OWN_COLUMNS}.values())


@pytest.mark.parametrize("value", HUGE_VALUES, ids=lambda value: repr(value[:6]))
@pytest.mark.parametrize("column", ONE_COLUMN_PER_KIND, ids=lambda column: column.kind)
def test_huge_cell_gives_outcome(column: Column, value: str) -> None:
    """A cell of a megabyte gives an Outcome and cuts the value shown in messages."""
    outcome = normalise_cell(column, value)
    assert isinstance(outcome, Outcome)
    for finding in outcome.findings:
        assert len(finding.params.get("value", "")) <= SHOWN_LENGTH + 1
