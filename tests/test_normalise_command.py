"""``sxpt normalise``: the cleaned workbook, its change list, and normalising twice."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from sxpt_core.cli import main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.io import read_table
from sxpt_core.io.xlsx_writer import write_normalised
from sxpt_core.models import Report
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_table
from tests.strategies import RECORD_CELL_CHOICES, record_rows
from tests.workbooks import RECORD_HEADERS, sample_record, write_csv, write_xlsx

TODAY = datetime.date(2025, 10, 15)
UNIT_CODE = "91110000600037341L"
RECORDS = get_template("records")
EXPORTED = [column.header for column in RECORDS.columns if column.exported]


def record(index: int, **changes: Any) -> list[Any]:
    """Return a 实习数据 row that validates clean on TODAY, with ``changes`` by header."""
    defaults = {"实习单位统一社会信用代码": UNIT_CODE, "实习开始时间": "2025-08-01",
                "实习结束时间": "2025-09-30", "实际实习天数": "60"}
    row: list[Any] = sample_record(index, **defaults)
    for header, value in changes.items():
        row[RECORD_HEADERS.index(header)] = value
    return row


def build_source(path: Path) -> Path:
    """Write a workbook with a title row, a clean row 3 and values to normalise in rows 4-5.

    Row 5 also has a start date the normalisers reject (7/1/2025).
    """
    rows = [
        list(RECORD_HEADERS),
        record(1),
        record(2, 学分="2学分", 实习组织形式="集中", 学生姓名="张 三", 实习开始时间="2025/8/1"),
        record(3, 学号=21050103, 是否有实习责任险="Y", 实习开始时间="7/1/2025"),
    ]
    return write_xlsx(path, rows, title_rows=[["实习数据报送表"]])


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def normalised(tmp_path: Path) -> tuple[Any, Any]:
    """The command's result on build_source's workbook, and the output's data sheet."""
    source = build_source(tmp_path / "records.xlsx")
    out = tmp_path / "clean.xlsx"
    result = run("normalise", str(source), "-o", str(out))
    return result, openpyxl.load_workbook(out)["实习数据"]


def test_command_exits_zero(normalised: tuple[Any, Any]) -> None:
    """The command exits 0 even though a cell could not be normalised."""
    result, _ = normalised
    assert result.exit_code == 0, result.output


def test_change_list(normalised: tuple[Any, Any]) -> None:
    """The change list names each changed cell by its row, column and field, in Chinese."""
    result, _ = normalised
    lines = result.stdout.splitlines()
    assert lines[0] == "records.xlsx：规范了 6 处。"
    assert lines[1:7] == [
        "  第 4 行 B 列（学生姓名）：张 三 → 张三",
        "  第 4 行 H 列（学分）：2学分 → 2",
        "  第 4 行 J 列（实习组织形式）：集中 → 集中实习",
        "  第 4 行 AA 列（实习开始时间）：2025/8/1 → 2025-08-01",
        "  第 5 行 A 列（学号）：21050103.0 → 21050103",
        "  第 5 行 R 列（是否有实习责任险）：Y → 是",
    ]


def test_rejected_cells_counted(normalised: tuple[Any, Any]) -> None:
    """The output reports how many cells kept their values, and where the file was written."""
    result, _ = normalised
    assert "有 1 个单元格无法自动规范" in result.stdout
    assert "已写入规范后的工作簿" in result.stdout


def test_output_layout(normalised: tuple[Any, Any]) -> None:
    """The output has the template's header on row 1 and one row per data row."""
    _, sheet = normalised
    assert [cell.value for cell in sheet[1]] == [*EXPORTED, "专业"]
    assert sheet.max_row == 4


def test_output_values_normalised(normalised: tuple[Any, Any]) -> None:
    """Normalised values are written with their types: numbers, dates, text, 是 / 否."""
    _, sheet = normalised
    assert sheet["B3"].value == "张三"
    assert sheet["H3"].value == 2
    assert sheet["J3"].value == "集中实习"
    assert sheet["AA3"].value == datetime.datetime(2025, 8, 1)
    assert sheet["AA3"].number_format == "yyyy-mm-dd"
    assert sheet["A4"].value == "21050103"
    assert sheet["A4"].number_format == "@"
    assert sheet["R4"].value == "是"


def test_rejected_cell_keeps_raw_value(normalised: tuple[Any, Any]) -> None:
    """A value the normalisers reject is written as the user wrote it."""
    _, sheet = normalised
    assert sheet["AA4"].value == "7/1/2025"


def test_english_change_list(tmp_path: Path) -> None:
    """--lang en prints the change list in English."""
    source = build_source(tmp_path / "records.xlsx")
    result = run("normalise", str(source), "-o", str(tmp_path / "clean.xlsx"), "--lang", "en")
    assert "records.xlsx: 6 values normalised." in result.stdout
    assert "  Row 4, column H (学分): 2学分 → 2" in result.stdout
    assert "Wrote the normalised workbook" in result.stdout


def test_json_change_list(tmp_path: Path) -> None:
    """--format json prints the changes as the report's normalised entries."""
    source = build_source(tmp_path / "records.xlsx")
    result = run("normalise", str(source), "-o", str(tmp_path / "clean.xlsx"), "--format", "json")
    data = json.loads(result.stdout)
    assert data["rows"] == 3
    assert data["kept"] == 1
    assert data["changes"][1] == {"row": 4, "column": "H", "field": "学分", "from": "2学分",
                                  "to": "2", "code": "SXPT-W-CREDITS-FORMAT"}


def test_clean_file_no_changes(tmp_path: Path) -> None:
    """A file with nothing to normalise is reported as such."""
    source = write_csv(tmp_path / "records.csv", [list(RECORD_HEADERS), record(1)])
    result = run("normalise", str(source), "-o", str(tmp_path / "clean.xlsx"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "records.csv：没有需要规范的值。"


def test_output_over_input_rejected(tmp_path: Path) -> None:
    """Writing the output over the input fails with exit 2 and one sentence."""
    source = build_source(tmp_path / "records.xlsx")
    result = run("normalise", str(source), "-o", str(source))
    assert result.exit_code == 2
    assert "就是输入文件" in result.stderr


def test_output_name_required(tmp_path: Path) -> None:
    """Without -o the command stops with a usage error."""
    source = build_source(tmp_path / "records.xlsx")
    assert run("normalise", str(source)).exit_code == 2


def test_twice_changes_nothing(tmp_path: Path) -> None:
    """Normalising the command's own output changes nothing."""
    source = build_source(tmp_path / "records.xlsx")
    first, second = tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    run("normalise", str(source), "-o", str(first))
    result = run("normalise", str(first), "-o", str(second))
    assert result.stdout.splitlines()[0] == "once.xlsx：没有需要规范的值。"


# --- normalise(normalise(x)) changes nothing ------------------------------------------


def normalise_file(source: Path, out: Path) -> tuple[Report, list[list[Any]]]:
    """Normalise ``source`` into ``out``; return the report and the output's cells."""
    context = Context(today=TODAY, divisions=load_divisions())
    table = read_table(source, RECORDS)
    validation = validate_table(table, context, template=RECORDS)
    write_normalised(table, validation, out, template=RECORDS)
    cells = [list(row) for row in openpyxl.load_workbook(out).active.iter_rows(values_only=True)]
    return validation.report, cells


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=record_rows())
def test_normalise_idempotent(tmp_path: Path, rows: list[list[str]]) -> None:
    """Normalising a normalised workbook lists no change and writes the same cells."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_CELL_CHOICES), *rows])
    _, once = normalise_file(source, tmp_path / "once.xlsx")
    report, twice = normalise_file(tmp_path / "once.xlsx", tmp_path / "twice.xlsx")
    assert [entry.to_dict() for entry in report.normalised] == []
    assert twice == once
