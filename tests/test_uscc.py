"""Tests of the USCC check (GB 32100) and of the unit-code normaliser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from sxpt_core.codes import uscc
from sxpt_core.rules.unit import normalise_unit_code

VALID = "91110000600037341L"


def with_check(body: str) -> str:
    return body + uscc.calc_check_character(body)


@given(
    st.sampled_from("123456789Y"),
    st.text(alphabet=uscc.ALPHABET, min_size=16, max_size=16),
)
def test_check_character_matches_stdnum(first: str, rest: str) -> None:
    """Our check character equals python-stdnum's for first characters both accept."""
    body = first + rest
    assert uscc.calc_check_character(body) == stdnum_uscc.calc_check_digit(body)


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_letter_first_characters_accepted(first: str) -> None:
    """GB 32100 allows the registration authorities A, N and Y."""
    number = with_check(first + "1330100MA2B3C4D5")
    assert uscc.is_valid(number)


def test_zero_first_character_rejected() -> None:
    """0 is not a registration authority."""
    number = with_check("01330100MA2B3C4D5")
    with pytest.raises(uscc.InvalidFirstCharacter):
        uscc.validate(number)


def test_compact_full_width_and_hyphens() -> None:
    """Full-width characters, hyphens and spaces are removed, letters upper-cased."""
    assert uscc.compact("９１１１-0000 600037341l") == VALID


@pytest.mark.parametrize(
    ("value", "kind"),
    [("330106000123456", "registration_number"), ("60003734-1", "organisation_code"),
     ("60003734X", "organisation_code")],
)
def test_old_identifiers_named(value: str, kind: str) -> None:
    """Old registration numbers and organisation codes are recognised as such."""
    with pytest.raises(uscc.OldIdentifier) as raised:
        uscc.validate(value)
    assert raised.value.kind == kind


def test_unit_code_valid_taken_as_written() -> None:
    """A clean valid code has no findings and no change."""
    outcome = normalise_unit_code(VALID)
    assert outcome.value == VALID
    assert outcome.findings == ()
    assert outcome.change is None


def test_unit_code_lower_case_normalised() -> None:
    """Lower case and spaces are normalised with a warning."""
    outcome = normalise_unit_code(" 91110000 600037341l ")
    assert outcome.value == VALID
    assert outcome.change is not None
    assert outcome.change.code == "SXPT-W-USCC-FORMAT"


def test_unit_code_none_literal() -> None:
    """The literal 无 is accepted as written."""
    assert normalise_unit_code("无").value == "无"


@pytest.mark.parametrize("value", ["/", "N/A", "暂无", "境外"])
def test_unit_code_none_variants_rejected(value: str) -> None:
    """Other ways of writing 'no code' are errors that point to 无."""
    outcome = normalise_unit_code(value)
    assert [finding.code for finding in outcome.findings] == ["SXPT-E-USCC-NONE-FORM"]


def test_unit_code_letter_o_hint() -> None:
    """The letter O is an error whose hint names the position and the digit 0."""
    number = "9111000O600037341L"
    finding = normalise_unit_code(number).findings[0]
    assert finding.code == "SXPT-E-USCC-LOOKALIKE"
    assert finding.params["position"] == "8"
    assert finding.params["probable"] == "0"


def test_unit_code_checksum_layer() -> None:
    """A wrong check character is reported in the checksum layer."""
    finding = normalise_unit_code("91110000600037341M").findings[0]
    assert finding.code == "SXPT-E-USCC-CHECKSUM"
    assert finding.rule.layer.value == "checksum"


def test_unit_code_old_registration_number() -> None:
    """A 15-digit number typed as a number cell is named as a registration number."""
    finding = normalise_unit_code(330106000123456.0).findings[0]
    assert finding.code == "SXPT-E-USCC-OLD"
    assert "工商注册号" in finding.params["kind"]


def test_unit_code_wrong_length() -> None:
    """A code of 17 characters reports its length."""
    finding = normalise_unit_code(VALID[:17]).findings[0]
    assert finding.code == "SXPT-E-USCC-LENGTH"
    assert finding.params["length"] == "17"


@given(st.one_of(st.none(), st.text(), st.integers(), st.floats(), st.booleans()))
def test_unit_code_junk_never_raises(value: object) -> None:
    """Any junk gives an outcome, never an exception."""
    outcome = normalise_unit_code(value)
    assert outcome.value is None or isinstance(outcome.value, str)


def test_unit_code_number_lost_digits() -> None:
    """A code stored as an 18-digit number is an error about lost digits."""
    finding = normalise_unit_code(915101001234567000.0).findings[0]
    assert finding.code == "SXPT-E-USCC-NUMBER"
    assert finding.params["value"] == "9.15101001234567e+17"


def test_unit_code_traditional_none() -> None:
    """The traditional form 無 points to 无."""
    finding = normalise_unit_code("無").findings[0]
    assert finding.code == "SXPT-E-USCC-NONE-FORM"
