"""Exports of stored records: formula neutralising, the national workbook and CSV."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import tracemalloc
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from sxpt_core.errors import OutputError
from sxpt_core.io.export import (
    FORMULA_TRIGGERS,
    QUOTE,
    export_columns,
    neutralise,
    write_records_csv,
    write_records_xlsx,
)
from sxpt_core.templates import get_template
from tests.workbooks import RECORD_HEADERS, sample_record

EXPORT_HEADERS = [column.header for column in get_template("records").columns if column.exported]

# Cells that a spreadsheet program would run as formulas, by header.
FORMULA_CELLS = {
    "实习岗位": "=HYPERLINK(\"http://example.com/\",\"点击\")",
    "实习详细地址": "+1+2",
    "企业指导人员姓名": "@SUM(A1:A2)",
    "校内指导教师": "  -2+3",
    "班级": "\t=1+1",
    "实习单位名称": "\r示例公司",
}


def cells(index: int = 1, **changes: str) -> dict[str, Any]:
    """Return a stored record's cells: the sample row keyed by header."""
    return dict(zip(RECORD_HEADERS, sample_record(index, **changes)))


def first_visible(text: str) -> str:
    for char in text:
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return char
    return ""


def looks_like_formula(text: str) -> bool:
    return text[:1] in ("\t", "\r", "\x00") or first_visible(text) in FORMULA_TRIGGERS


# --- neutralise ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800138000", "'+8613800138000"),
        ("-3000", "'-3000"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1+1", "'  =1+1"),
        ("\u3000=1+1", "'\u3000=1+1"),
        ("\u200b=1+1", "'\u200b=1+1"),
        ("\t杭州", "'\t杭州"),
        ("\r杭州", "'\r杭州"),
        ("\x00=1", "'\x00=1"),
        ("\n=1", "'\n=1"),
        ("'=1+1", "'=1+1"),
        ("2024-2025", "2024-2025"),
        ("林晓雨", "林晓雨"),
        ("a=b", "a=b"),
        ("   ", "   "),
        ("", ""),
    ],
)
def test_neutralise_text_cases(value: str, expected: str) -> None:
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    "value", [-5, -2.5, Decimal("-3000"), 0, None, True, datetime.date(2025, 7, 1),
              datetime.datetime(2025, 7, 1, 8, 0)],
)
def test_neutralise_leaves_non_text(value: object) -> None:
    assert neutralise(value) is value


@given(st.text())
def test_neutralise_never_starts_formula(value: str) -> None:
    result = neutralise(value)
    assert not looks_like_formula(result)


@given(st.text())
def test_neutralise_keeps_text(value: str) -> None:
    """The result is the text itself, or the text with one quote in front."""
    result = neutralise(value)
    assert result in (value, QUOTE + value)


@given(st.text())
def test_neutralise_idempotent(value: str) -> None:
    assert neutralise(neutralise(value)) == neutralise(value)


@given(st.text(alphabet=" \t\r\n\u3000\u200b=+-@'abc林0", max_size=8))
def test_neutralise_formula_alphabet(value: str) -> None:
    """Short texts of triggers, spaces and control characters are never left as formulas."""
    assert not looks_like_formula(neutralise(value))


def test_export_columns_match_template() -> None:
    assert [column.header for column in export_columns()] == EXPORT_HEADERS
    assert "专业" not in EXPORT_HEADERS


# --- the workbook ---------------------------------------------------------------------


def read_workbook(source: Path | io.BytesIO) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(source)
    sheet = workbook.worksheets[0]
    assert sheet.title == "实习数据"
    assert len(workbook.worksheets) == 1
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"
    # openpyxl leaves control characters in the _xHHHH_ form of the file; Excel shows them.
    return [[unescape(value) if isinstance(value, str) else value for value in row]
            for row in sheet.iter_rows(values_only=True)]


def test_xlsx_header_is_template(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    assert write_records_xlsx([], path) == 0
    assert read_workbook(path) == [EXPORT_HEADERS]


def test_xlsx_neutralises_formula_cells(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    rows = [cells(1, **FORMULA_CELLS), cells(2)]
    assert write_records_xlsx(rows, path) == 2
    header, first, second = read_workbook(path)
    written = dict(zip(header, first))
    for name, value in FORMULA_CELLS.items():
        assert written[name] == QUOTE + value, name
    for row in (first, second):
        for value in row:
            if isinstance(value, str):
                assert not looks_like_formula(value), value


def test_xlsx_keeps_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    write_records_xlsx([cells(1, 学号="0210501", 课程代码="0803101")], path)
    header, row = read_workbook(path)
    written = dict(zip(header, row))
    assert written["学号"] == "0210501"
    assert written["课程代码"] == "0803101"


def test_xlsx_types_numbers_and_dates(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    row = cells(1, 学分="2.5")
    row["实际实习天数"] = 60  # a stored whole number stays a number
    write_records_xlsx([row], path)
    header, values = read_workbook(path)
    written = dict(zip(header, values))
    assert written["入学年份"] == 2021
    assert written["学分"] == 2.5
    assert written["实际实习天数"] == 60
    assert written["实习报酬（元/月）"] == 3000
    assert written["实习开始时间"] == datetime.datetime(2024, 7, 1)
    assert written["学年"] == "2024-2025"
    assert written["企业指导人员电话"] == "13800138000"


def test_xlsx_keeps_invalid_values_as_text(tmp_path: Path) -> None:
    """A cell that the checks rejected keeps the user's text, unless it is a plain number."""
    path = tmp_path / "export.xlsx"
    row = cells(1, 学分="2周", 实习开始时间="2024-13-01")
    row["实习报酬（元/月）"] = "-3000"
    write_records_xlsx([row], path)
    header, values = read_workbook(path)
    written = dict(zip(header, values))
    assert written["学分"] == "2周"
    assert written["实习开始时间"] == "2024-13-01"
    assert written["实习报酬（元/月）"] == -3000


def test_xlsx_negative_number_stays_number(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    row = cells(1)
    row["实习报酬（元/月）"] = Decimal("-3000")
    write_records_xlsx([row], path)
    header, values = read_workbook(path)
    assert dict(zip(header, values))["实习报酬（元/月）"] == -3000


def test_xlsx_to_stream_matches_path(tmp_path: Path) -> None:
    rows = [cells(1, **FORMULA_CELLS), cells(2, 学号="0210502")]
    path = tmp_path / "export.xlsx"
    write_records_xlsx(rows, path)
    stream = io.BytesIO()
    assert write_records_xlsx(iter(rows), stream) == 2
    stream.seek(0)
    assert read_workbook(stream) == read_workbook(path)


def test_xlsx_rejects_other_extension(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"\.xlsx"):
        write_records_xlsx([cells()], tmp_path / "export.csv")


def test_xlsx_english_properties(tmp_path: Path) -> None:
    """``lang`` changes the document properties, never the headers the national system reads."""
    path = tmp_path / "export.xlsx"
    write_records_xlsx([cells()], path, lang="en")
    workbook = openpyxl.load_workbook(path)
    assert workbook.properties.title == "Internship records export"
    assert [cell.value for cell in workbook.worksheets[0][1]] == EXPORT_HEADERS


def generated_rows(count: int) -> Iterator[dict[str, Any]]:
    for index in range(count):
        yield cells(index % 90 + 1)


def peak_memory(count: int, path: Path) -> int:
    tracemalloc.start()
    try:
        write_records_xlsx(generated_rows(count), path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_xlsx_memory_does_not_grow(tmp_path: Path) -> None:
    """Eight times the rows need about the same peak memory, because rows go straight to disk."""
    small = peak_memory(300, tmp_path / "small.xlsx")
    large = peak_memory(2400, tmp_path / "large.xlsx")
    assert large < small * 1.5, (small, large)


# --- CSV ------------------------------------------------------------------------------


def read_csv_bytes(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_header_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    assert write_records_csv([cells()], path) == 1
    header, row = read_csv_bytes(path.read_bytes())
    assert header == EXPORT_HEADERS
    assert dict(zip(header, row))["学号"] == "21050101"


def test_csv_neutralises_and_keeps_zeros() -> None:
    stream = io.BytesIO()
    rows = [cells(1, 学号="0210501", **FORMULA_CELLS), cells(2, 实习详细地址="杭州市\n西湖区")]
    assert write_records_csv(rows, stream) == 2
    header, first, second = read_csv_bytes(stream.getvalue())
    written = dict(zip(header, first))
    assert written["学号"] == "0210501"
    for name, value in FORMULA_CELLS.items():
        assert written[name] == QUOTE + value, name
    assert dict(zip(header, second))["实习详细地址"] == "杭州市\n西湖区"
    for row in (first, second):
        for value in row:
            assert not looks_like_formula(value), value


def test_csv_numbers_and_blanks() -> None:
    row = cells(1)
    row["实际实习天数"] = 60
    row["实习报酬（元/月）"] = Decimal("-3000")
    del row["实习岗位"]
    stream = io.BytesIO()
    write_records_csv([row], stream)
    header, values = read_csv_bytes(stream.getvalue())
    written = dict(zip(header, values))
    assert written["实际实习天数"] == "60"
    assert written["实习报酬（元/月）"] == "-3000"
    assert written["实习岗位"] == ""


def test_csv_leaves_stream_open() -> None:
    stream = io.BytesIO()
    write_records_csv([cells()], stream)
    assert not stream.closed


def test_csv_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="无法写入"):
        write_records_csv([cells()], tmp_path / "missing" / "export.csv")


def test_csv_failed_write_keeps_old_file(tmp_path: Path) -> None:
    """A path is replaced only when every row was written."""
    path = tmp_path / "export.csv"
    path.write_text("old", encoding="utf-8")

    def failing_rows() -> Iterator[dict[str, Any]]:
        yield cells()
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        write_records_csv(failing_rows(), path)
    assert path.read_text(encoding="utf-8") == "old"
    assert [entry.name for entry in tmp_path.iterdir()] == ["export.csv"]


@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_csv_never_writes_formula(texts: list[str]) -> None:
    rows = [cells(1, 实习岗位=text, 实习详细地址=text) for text in texts]
    stream = io.BytesIO()
    write_records_csv(rows, stream)
    _header, *written = read_csv_bytes(stream.getvalue())
    for row, text in zip(written, texts):
        values = dict(zip(EXPORT_HEADERS, row))
        assert values["实习岗位"] in (text, QUOTE + text)
        assert not looks_like_formula(values["实习岗位"])
