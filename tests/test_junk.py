"""Junk sweep: every public validator and the reader take junk without a traceback.

Cell-level junk goes through every column of every template, the USCC functions and
validate_rows; file-level junk (random bytes, a zip bomb, 1,000,000 empty rows, a
10 MB cell) goes through the real ``sxpt validate`` command in a child process with a
memory cap and a time limit, which must end with exit code 0, 1 or 2 and one message.
"""

from __future__ import annotations

import datetime
import os
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from sxpt_core.codes import uscc
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.io.table import CellError
from sxpt_core.normalise import Outcome, normalise_cell
from sxpt_core.normalise.city import normalise_city
from sxpt_core.rules.unit import normalise_unit_code
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_rows
from tests.workbooks import RECORD_HEADERS, sample_record, write_zip_bomb

JUNK = [
    None, "", " ", "\u3000", "😀", "¥", "１２３", "２０２４－０９－０１", "\x00", "\ufffd", "=1+1", "-", "无",
    "NaN", "inf", "9" * 400, "中" * 5000, 0, -1, 1e308, float("nan"), float("inf"), -0.0, 10**40, True,
    False, datetime.date(1900, 1, 1), datetime.datetime(9999, 12, 31, 23, 59), datetime.time(8, 0),
    datetime.timedelta(days=3), CellError("#N/A"),
]
COLUMNS = [column for kind in ("records", "plan", "roster") for column in get_template(kind)]
CONTEXT = Context(datetime.date(2025, 10, 15), load_divisions())


@pytest.mark.parametrize("column", COLUMNS, ids=lambda column: f"{column.header}-{column.kind}")
def test_every_column_takes_junk(column) -> None:  # type: ignore[no-untyped-def]
    """Each column's normaliser returns an outcome for every junk value."""
    for value in JUNK:
        outcome = normalise_cell(column, value)
        assert isinstance(outcome, Outcome), value


@given(st.one_of(st.text(), st.binary().map(lambda data: data.decode("latin-1")), st.integers(),
                 st.floats(), st.dates(), st.booleans(), st.none()))
def test_code_normalisers_take_junk(value: object) -> None:
    """The unit-code and city-code normalisers never raise."""
    assert isinstance(normalise_unit_code(value), Outcome)
    assert isinstance(normalise_city(value), Outcome)


@pytest.mark.parametrize("value", JUNK)
def test_uscc_is_valid_takes_junk(value: object) -> None:
    """uscc.is_valid returns False for junk instead of raising."""
    assert uscc.is_valid(value) is False


def test_validate_rows_takes_junk() -> None:
    """validate_rows reports junk rows as issues on every required column."""
    rows = [dict.fromkeys(RECORD_HEADERS, value) for value in JUNK]
    report = validate_rows(rows, CONTEXT).report
    assert report.rows == len(JUNK)
    assert report.valid_rows == 0
    assert report.error_count >= len(JUNK)


def run_capped(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``sxpt`` with at most 2 GiB of address space and 120 seconds."""

    def limit_memory() -> None:
        two_gib = 2 * 1024**3
        resource.setrlimit(resource.RLIMIT_AS, (two_gib, two_gib))

    return subprocess.run(
        [sys.executable, "-m", "sxpt_core", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120, preexec_fn=limit_memory, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_random_bytes(tmp_path: Path) -> None:
    """Random bytes named .xlsx give one clear error."""
    rng = random.Random(5)
    path = tmp_path / "random.xlsx"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(100_000)))
    result = run_capped("validate", str(path), cwd=tmp_path)
    assert_clean_failure(result)
    assert result.returncode == 2


def test_cli_zip_bomb(tmp_path: Path) -> None:
    """A 600 MB sheet compressed into a small file is refused before it is unpacked."""
    path = write_zip_bomb(tmp_path / "bomb.xlsx", 600 * 1024 * 1024)
    result = run_capped("validate", str(path), cwd=tmp_path)
    assert_clean_failure(result)
    assert result.returncode == 2


def test_cli_million_empty_rows(tmp_path: Path) -> None:
    """A header and one value a million rows down is refused or read, never a crash."""
    path = tmp_path / "tall.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, RECORD_HEADERS)
    sheet.write_row(1, 0, sample_record())
    sheet.write(999_999, 0, "x")
    workbook.close()
    result = run_capped("validate", str(path), "--format", "json", cwd=tmp_path)
    assert_clean_failure(result)


def test_cli_huge_cell(tmp_path: Path) -> None:
    """A 10 MB cell is reported, not a crash."""
    path = tmp_path / "huge.csv"
    row = sample_record()
    row[RECORD_HEADERS.index("实习详细地址")] = "路" * (10 * 1024 * 1024)
    path.write_text(",".join(RECORD_HEADERS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    result = run_capped("validate", str(path), "--format", "json", cwd=tmp_path)
    assert_clean_failure(result)
    assert "SXPT-E-FILE-CELL-TOO-LONG" in result.stdout
