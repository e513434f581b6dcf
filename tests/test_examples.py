"""The bundled example: its report is checked in, and each planted mistake is found."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sxpt_core.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TODAY = "2025-10-15"


@pytest.fixture(scope="module")
def report() -> dict:
    """The JSON report of the example, run in examples/ so that its sxpt.toml applies."""
    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(EXAMPLES)
    try:
        result = runner.invoke(main, ["validate", "records.xlsx", "--today", TODAY, "--format", "json"])
    finally:
        os.chdir(previous)
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)


def codes_at(report: dict, row: int) -> set[str]:
    found = {issue["code"] for issue in report["issues"] if issue["row"] == row}
    return found | {entry["code"] for entry in report["normalised"] if entry["row"] == row}


def test_example_matches_expected_report(report: dict) -> None:
    """The example's report equals the checked-in expected report, issue for issue."""
    expected = json.loads((EXAMPLES / "expected-report.json").read_text(encoding="utf-8"))
    assert report == expected


def test_example_size(report: dict) -> None:
    """The example has a few hundred rows, most of them clean."""
    assert 250 <= report["rows"] <= 400
    assert report["valid_rows"] >= report["rows"] - 60


# Excel row of each planted mistake: the header is on row 2, so records[i] is on row i + 3.
PLANTED = {
    3: "SXPT-E-USCC-CHECKSUM",
    5: "SXPT-E-USCC-LOOKALIKE",
    8: "SXPT-E-USCC-OLD",
    9: "SXPT-W-USCC-FORMAT",
    14: "SXPT-E-UNIT-NONE-MAINLAND",
    16: "SXPT-W-CITY-FORMAT",
    17: "SXPT-W-CITY-COUNTY",
    18: "SXPT-E-CITY-PROVINCE",
    19: "SXPT-E-CITY-ABOLISHED",
    20: "SXPT-W-CITY-MUNICIPALITY",
    22: "SXPT-E-ROSTER-NOT-FOUND",
    23: "SXPT-E-ROSTER-NAME-MISMATCH",
    24: "SXPT-E-ROSTER-SWAPPED",
    25: "SXPT-E-ROSTER-SWAPPED",
    27: "SXPT-E-ROSTER-ZHUANKE",
    28: "SXPT-E-ROSTER-STATUS",
    29: "SXPT-E-ROSTER-BEFORE-UPGRADE",
    31: "SXPT-E-PLAN-NOT-FOUND",
    32: "SXPT-E-PLAN-CREDITS",
    33: "SXPT-E-PLAN-TYPE",
    34: "SXPT-W-PLAN-YEAR",
    40: "SXPT-E-BATCH-DUPLICATE",
    42: "SXPT-E-BATCH-OVERLAP",
    45: "SXPT-E-CAL-NOT-ENDED",
    46: "SXPT-W-CAL-EARLY",
    47: "SXPT-W-CAL-LATE",
    49: "SXPT-E-DAYS-EXCEED-SPAN",
    50: "SXPT-E-DATE-END-BEFORE-START",
    52: "SXPT-W-DATE-FORMAT",
    53: "SXPT-W-DATE-FORMAT",
    54: "SXPT-W-DATE-FORMAT",
    55: "SXPT-E-DATE-ORDER",
    56: "SXPT-E-DATE-TWO-DIGIT-YEAR",
    58: "SXPT-W-CREDITS-FORMAT",
    59: "SXPT-E-CREDITS-UNIT",
    60: "SXPT-W-CHOICE-ALIAS",
    61: "SXPT-E-CHOICE-INVALID",
    62: "SXPT-W-CHOICE-ALIAS",
    63: "SXPT-W-CHOICE-ALIAS",
    65: "SXPT-W-NAME-SPACE",
    66: "SXPT-E-NAME-QUESTION-MARK",
    67: "SXPT-W-NAME-DOT",
    69: "SXPT-E-UNIT-ON-CAMPUS-WORD",
    70: "SXPT-E-FIELD-REQUIRED",
    71: "SXPT-E-PHONE-INVALID",
    73: "SXPT-W-BATCH-UNIT-NAMES",
    74: "SXPT-E-PLAN-LEADING-ZERO",
    75: "SXPT-W-ID-NUMERIC",
    150: "SXPT-W-FILE-HIDDEN-ROW",
}


@pytest.mark.parametrize(("index", "code"), sorted(PLANTED.items()))
def test_planted_mistake_found(report: dict, index: int, code: str) -> None:
    """Each mistake planted by scripts/make_examples.py is reported on its row."""
    assert code in codes_at(report, index + 3)


def test_first_rows_clean(report: dict) -> None:
    """Rows without planted mistakes have no issues."""
    for index in (0, 1, 2, 4):
        assert codes_at(report, index + 3) == set(), index
