"""Tests of the 实习地区及代码 normaliser over the shipped division table."""

from __future__ import annotations

import pytest

from sxpt_core.normalise.city import normalise_city


@pytest.mark.parametrize("value", ["330100", "110000", "500000", "429004", "810000", "820000", "710000",
                                   "990000", "441900", 330100, 330100.0])
def test_city_accepted_as_written(value: object) -> None:
    """Prefecture, municipality, province-administered city, HMT and abroad codes pass."""
    outcome = normalise_city(value)
    assert outcome.value == str(int(value)) if not isinstance(value, str) else value
    assert outcome.findings == ()
    assert outcome.change is None


@pytest.mark.parametrize(
    ("value", "expected", "code"),
    [
        ("杭州市-330100", "330100", "SXPT-W-CITY-FORMAT"),
        ("浙江省杭州市(330100)", "330100", "SXPT-W-CITY-FORMAT"),
        ("３３０１００", "330100", "SXPT-W-CITY-FORMAT"),
        ("330106", "330100", "SXPT-W-CITY-COUNTY"),
        ("110100", "110000", "SXPT-W-CITY-MUNICIPALITY"),
        ("500200", "500000", "SXPT-W-CITY-MUNICIPALITY"),
        ("110105", "110000", "SXPT-W-CITY-COUNTY"),
    ],
)
def test_city_normalised(value: str, expected: str, code: str) -> None:
    """Names around the code, county codes and municipality parts normalise with a warning."""
    outcome = normalise_city(value)
    assert outcome.value == expected
    assert outcome.change is not None
    assert outcome.change.code == code
    assert outcome.text == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("330000", "SXPT-E-CITY-PROVINCE"),
        ("330101", "SXPT-E-CITY-DISTRICT-AGGREGATE"),
        ("341400", "SXPT-E-CITY-ABOLISHED"),
        ("371200", "SXPT-E-CITY-ABOLISHED"),
        ("999999", "SXPT-E-CITY-UNKNOWN"),
        ("杭州", "SXPT-E-CITY-FORMAT"),
        ("33010", "SXPT-E-CITY-FORMAT"),
        ("330100/330200", "SXPT-E-CITY-FORMAT"),
    ],
)
def test_city_rejected(value: str, code: str) -> None:
    """Province codes, aggregates, abolished, unknown and malformed codes are errors."""
    outcome = normalise_city(value)
    assert outcome.value is None
    assert [finding.code for finding in outcome.findings] == [code]


def test_abolished_hint_names_successor() -> None:
    """The hint of an abolished code names its successor."""
    finding = normalise_city("371200").findings[0]
    assert "370100" in finding.params["hint"]


def test_name_disagrees_with_code() -> None:
    """A city name that does not belong to the code is a warning."""
    outcome = normalise_city("宁波市-330100")
    assert outcome.value == "330100"
    assert [finding.code for finding in outcome.findings] == ["SXPT-W-CITY-NAME-MISMATCH"]


def test_name_of_county_agrees() -> None:
    """A county name with its county code is consistent."""
    outcome = normalise_city("西湖区 330106")
    assert outcome.findings == ()


def test_float_text_code() -> None:
    """510100.0 written by a script reads as 510100 without a name warning."""
    outcome = normalise_city("510100.0")
    assert outcome.value == "510100"
    assert outcome.findings == ()
    assert outcome.change is not None
    assert outcome.change.code == "SXPT-W-CITY-FORMAT"
