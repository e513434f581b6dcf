"""The annotated workbook, built from workbooks with known mistakes and read back with openpyxl."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from sxpt_core.cli import main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.errors import OutputError
from sxpt_core.io.annotate import ISSUE_HEADERS, issue_entries, write_annotated
from sxpt_core.models import Report
from sxpt_core.validate import validate_file
from tests.workbooks import RECORD_HEADERS, Formula, sample_record, write_csv, write_xlsx

TODAY = datetime.date(2025, 10, 15)
UNIT_CODE = "91110000600037341L"
WRONG_UNIT_CODE = "91110000600037341M"
RED, YELLOW = "FFFFC7CE", "FFFFEB9C"
TITLE = "东海理工大学 2025 年 9 月实习数据报送表"


def record(index: int, **changes: Any) -> list[Any]:
    """Return a 实习数据 row that validates clean on TODAY, with ``changes`` by header."""
    defaults = {"实习单位统一社会信用代码": UNIT_CODE, "实习开始时间": "2025-08-01",
                "实习结束时间": "2025-09-30", "实际实习天数": "60"}
    row: list[Any] = sample_record(index, **defaults)
    for header, value in changes.items():
        row[RECORD_HEADERS.index(header)] = value
    return row


def build_rows() -> list[list[Any]]:
    """Return the header (row 2) and data rows 3-17 of the main test workbook.

    Rows 3-13 are clean; row 5 has a number, a date and a text with a leading zero.
    Row 14 has a wrong check character, row 15 credits to normalise, row 16 is hidden
    and row 17 lacks its 院系.
    """
    rows = [list(RECORD_HEADERS)]
    rows += [record(index) for index in range(1, 12)]
    rows[3] = record(3, 入学年份=2021, 实习开始时间=datetime.date(2025, 8, 1), 课程代码="0803101")
    rows.append(record(12, 实习单位统一社会信用代码=WRONG_UNIT_CODE))
    rows.append(record(13, 学分="2学分"))
    rows.append(record(14))
    rows.append(record(15, 院系=""))
    return rows


def context() -> Context:
    return Context(today=TODAY, divisions=load_divisions())


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """The main test workbook, validated, and its annotated workbook."""
    folder = tmp_path_factory.mktemp("annotated")
    source = write_xlsx(folder / "records.xlsx", build_rows(), sheet="实习数据", title_rows=[[TITLE]],
                        hidden_rows=[16], merged=["A1:E1"])
    report = validate_file(source, context()).report
    out = folder / "annotated.xlsx"
    write_annotated(source, report, out)
    return out, report


@pytest.fixture(scope="module")
def book(annotated: tuple[Path, Report]) -> openpyxl.Workbook:
    return openpyxl.load_workbook(annotated[0])


def fill(cell: Any) -> str | None:
    """Return the fill colour of ``cell`` as openpyxl reads it, or None without a fill."""
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def comment(cell: Any) -> str:
    return cell.comment.text if cell.comment is not None else ""


# --- the data sheet ------------------------------------------------------------------


def test_sheets_named(book: openpyxl.Workbook) -> None:
    """The data sheet keeps its name and the issues sheet follows it."""
    assert book.sheetnames == ["实习数据", "问题清单"]


def test_error_cell_red(book: openpyxl.Workbook) -> None:
    """The cell with a wrong check character is filled red."""
    assert fill(book["实习数据"]["O14"]) == RED


def test_error_cell_comment(book: openpyxl.Workbook) -> None:
    """The cell with a wrong check character has a comment with the code and message."""
    text = comment(book["实习数据"]["O14"])
    assert "SXPT-E-USCC-CHECKSUM" in text
    assert "校验码不正确" in text
    assert "[错误]" in text


def test_error_cell_keeps_value(book: openpyxl.Workbook) -> None:
    """The faulty cell shows the value the user wrote."""
    assert book["实习数据"]["O14"].value == WRONG_UNIT_CODE


def test_normalised_cell_yellow(book: openpyxl.Workbook) -> None:
    """A normalised cell is filled yellow, with the rule and the value it was read as."""
    cell = book["实习数据"]["H15"]
    assert fill(cell) == YELLOW
    assert "SXPT-W-CREDITS-FORMAT" in comment(cell)
    assert "“2学分” 已读作 2" in comment(cell)
    assert cell.value == "2学分"


def test_blank_required_cell_red(book: openpyxl.Workbook) -> None:
    """A blank required cell is filled red and commented, and stays blank."""
    cell = book["实习数据"]["D17"]
    assert fill(cell) == RED
    assert "SXPT-E-FIELD-REQUIRED" in comment(cell)
    assert cell.value is None


def test_row_issue_marks_first_cell(book: openpyxl.Workbook) -> None:
    """A hidden row's warning marks the row's first cell, and the row stays hidden."""
    sheet = book["实习数据"]
    assert fill(sheet["A16"]) == YELLOW
    assert "SXPT-W-FILE-HIDDEN-ROW" in comment(sheet["A16"])
    assert sheet.row_dimensions[16].hidden


def test_clean_cells_unfilled(book: openpyxl.Workbook) -> None:
    """No cell of the clean rows 3-13 has a fill or a comment."""
    sheet = book["实习数据"]
    marked = [
        cell.coordinate
        for row in sheet.iter_rows(min_row=3, max_row=13)
        for cell in row
        if fill(cell) is not None or cell.comment is not None
    ]
    assert marked == []


def test_only_faulty_cells_marked(book: openpyxl.Workbook, annotated: tuple[Path, Report]) -> None:
    """The marked cells of the data sheet are exactly the cells the report names."""
    _, report = annotated
    sheet = book["实习数据"]
    marked = {cell.coordinate for row in sheet.iter_rows() for cell in row if cell.comment is not None}
    expected = {f"{entry.column or 'A'}{entry.row}" for entry in issue_entries(report) if entry.row}
    assert marked == expected


def test_title_row_kept(book: openpyxl.Workbook) -> None:
    """The title row above the header is written back, still merged."""
    sheet = book["实习数据"]
    assert sheet["A1"].value == TITLE
    assert [str(cell_range) for cell_range in sheet.merged_cells.ranges] == ["A1:E1"]


def test_header_row_kept(book: openpyxl.Workbook) -> None:
    """The header row stays on row 2, unmarked."""
    sheet = book["实习数据"]
    assert [cell.value for cell in sheet[2]][:3] == ["学号", "学生姓名", "入学年份"]
    assert sheet["A2"].comment is None


def test_number_stays_number(book: openpyxl.Workbook) -> None:
    """A number cell is written back as a number."""
    assert book["实习数据"]["C5"].value == 2021


def test_date_stays_date(book: openpyxl.Workbook) -> None:
    """A date cell is written back as a date with a date format."""
    cell = book["实习数据"]["AA5"]
    assert cell.value == datetime.datetime(2025, 8, 1)
    assert cell.number_format == "yyyy-mm-dd"


def test_text_stays_text(book: openpyxl.Workbook) -> None:
    """Text cells stay text, leading zeros and date-like text included."""
    sheet = book["实习数据"]
    assert sheet["G5"].value == "0803101"
    assert sheet["AA6"].value == "2025-08-01"


# --- the issues sheet ----------------------------------------------------------------


def issue_rows(book: openpyxl.Workbook, name: str = "问题清单") -> list[tuple[Any, ...]]:
    return list(book[name].iter_rows(values_only=True))


def test_issue_sheet_header(book: openpyxl.Workbook) -> None:
    """The issues sheet starts with the eight Chinese headers."""
    assert issue_rows(book)[0] == ISSUE_HEADERS[0]


def test_issue_sheet_lists_everything(book: openpyxl.Workbook, annotated: tuple[Path, Report]) -> None:
    """The issues sheet has one row per issue and per normalisation."""
    _, report = annotated
    assert len(issue_rows(book)) - 1 == len(report.issues) + len(report.normalised)


def test_issue_sheet_reading_order(book: openpyxl.Workbook) -> None:
    """The issues sheet is sorted by row, then by column."""
    places = [(row[0], row[1]) for row in issue_rows(book)[1:]]
    assert places == [(14, "O"), (15, "H"), (16, None), (17, "D")]


def test_issue_sheet_error_row(book: openpyxl.Workbook) -> None:
    """An error row shows the place, the value, the severity, the code and the texts."""
    row = issue_rows(book)[1]
    assert row[:6] == (14, "O", "实习单位统一社会信用代码", WRONG_UNIT_CODE, "错误", "SXPT-E-USCC-CHECKSUM")
    assert "校验码不正确" in row[6]
    assert row[7]


def test_issue_sheet_normalisation_row(book: openpyxl.Workbook) -> None:
    """A normalisation is listed as a warning with the value the user wrote."""
    row = issue_rows(book)[2]
    assert row[:6] == (15, "H", "学分", "2学分", "警告", "SXPT-W-CREDITS-FORMAT")


def test_issue_sheet_severity_filled(book: openpyxl.Workbook) -> None:
    """The severity cells carry the same fills as the data sheet."""
    sheet = book["问题清单"]
    assert fill(sheet["E2"]) == RED
    assert fill(sheet["E3"]) == YELLOW


# --- languages, sources and layouts ---------------------------------------------------


def test_english_annotation(tmp_path: Path) -> None:
    """With lang="en" the comments and the issues sheet are in English."""
    source = write_xlsx(tmp_path / "records.xlsx",
                        [list(RECORD_HEADERS), record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE)])
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out, lang="en")
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Sheet1", "Issues"]
    assert issue_rows(book, "Issues")[0] == ISSUE_HEADERS[1]
    assert "[error] SXPT-E-USCC-CHECKSUM: " in comment(book["Sheet1"]["O2"])
    assert issue_rows(book, "Issues")[1][4] == "error"


def test_csv_input(tmp_path: Path) -> None:
    """A CSV file gives an annotated workbook with the same cells marked, all as text."""
    rows = [list(RECORD_HEADERS), record(1), record(2, 实习单位统一社会信用代码=WRONG_UNIT_CODE)]
    source = write_csv(tmp_path / "records.csv", rows, "gb18030", title_rows=[[TITLE]])
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out)
    sheet = openpyxl.load_workbook(out)["实习数据"]
    assert sheet["A1"].value == TITLE
    assert fill(sheet["O4"]) == RED
    assert "SXPT-E-USCC-CHECKSUM" in comment(sheet["O4"])
    assert fill(sheet["O3"]) is None
    assert sheet["C3"].value == "2021"


def test_csv_bytes_input(tmp_path: Path) -> None:
    """The file's bytes with a CSV file name work like the path."""
    rows = [list(RECORD_HEADERS), record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE)]
    source = write_csv(tmp_path / "records.csv", rows, "utf-8-sig")
    report = validate_file(source, context()).report
    out = tmp_path / "annotated.xlsx"
    write_annotated(source.read_bytes(), report, out, filename="records.csv")
    assert fill(openpyxl.load_workbook(out)["实习数据"]["O2"]) == RED


def test_table_away_from_a1(tmp_path: Path) -> None:
    """A table that starts at C4 is written at C4, and row issues mark column C."""
    rows = [list(RECORD_HEADERS), record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE), record(2)]
    source = write_xlsx(tmp_path / "records.xlsx", rows, first_cell="C4", hidden_rows=[6])
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out)
    sheet = openpyxl.load_workbook(out)["Sheet1"]
    assert sheet["C4"].value == "学号"
    assert fill(sheet["Q5"]) == RED
    assert "SXPT-W-FILE-HIDDEN-ROW" in comment(sheet["C6"])


def test_formula_error_kept(tmp_path: Path) -> None:
    """A cell showing #N/A is written as a formula error and marked red."""
    rows = [list(RECORD_HEADERS), record(1, 院系=Formula("=NA()", "#N/A"))]
    source = write_xlsx(tmp_path / "records.xlsx", rows)
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out)
    cell = openpyxl.load_workbook(out, data_only=True)["Sheet1"]["D2"]
    assert cell.value == "#N/A"
    assert fill(cell) == RED
    assert "SXPT-E-FILE-FORMULA-ERROR" in comment(cell)


def test_unknown_column_header_marked(tmp_path: Path) -> None:
    """A header outside the template is marked yellow in the header row."""
    rows = [[*RECORD_HEADERS, "备注"], [*record(1), "补录"]]
    source = write_xlsx(tmp_path / "records.xlsx", rows)
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out)
    cell = openpyxl.load_workbook(out)["Sheet1"]["AI1"]
    assert cell.value == "备注"
    assert fill(cell) == YELLOW
    assert "SXPT-W-FILE-UNKNOWN-COLUMN" in comment(cell)


def test_markup_like_text_kept(tmp_path: Path) -> None:
    """A text that looks like rich-string XML is written as that text.

    The source is CSV because XlsxWriter cannot write such a text into a test workbook.
    """
    rows = [list(RECORD_HEADERS), record(1, 实习岗位="<r>助理</r>"),
            record(2, 实习岗位="<r>助理</r>", 实习单位统一社会信用代码=WRONG_UNIT_CODE)]
    source = write_csv(tmp_path / "records.csv", rows)
    out = tmp_path / "annotated.xlsx"
    write_annotated(source, validate_file(source, context()).report, out)
    sheet = openpyxl.load_workbook(out)["实习数据"]
    assert sheet["AD2"].value == "<r>助理</r>"
    assert sheet["AD3"].value == "<r>助理</r>"


def test_annotated_validates_alike(annotated: tuple[Path, Report]) -> None:
    """Validating the annotated workbook reports the same issues at the same cells."""
    out, report = annotated

    def places(checked: Report) -> list[tuple[Any, ...]]:
        return [(issue.row, issue.column, issue.code) for issue in checked.issues]

    again = validate_file(out, context()).report
    assert places(again) == places(report)
    assert again.normalised == report.normalised


# --- the command line and the output file ------------------------------------------------


def test_cli_annotate_option(tmp_path: Path) -> None:
    """sxpt validate --annotate writes the workbook and reports it on stderr."""
    rows = [list(RECORD_HEADERS), record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE)]
    source = write_xlsx(tmp_path / "records.xlsx", rows)
    out = tmp_path / "标注.xlsx"
    result = CliRunner().invoke(main, ["validate", str(source), "--today", TODAY.isoformat(),
                                       "--annotate", str(out)])
    assert result.exit_code == 1
    assert out.exists()
    assert "已写入标注工作簿" in result.stderr
    assert fill(openpyxl.load_workbook(out)["Sheet1"]["O2"]) == RED


def test_cli_annotate_json_stdout(tmp_path: Path) -> None:
    """With --format json, stdout stays pure JSON while the workbook is written."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_HEADERS), record(1)])
    out = tmp_path / "annotated.xlsx"
    result = CliRunner().invoke(main, ["validate", str(source), "--today", TODAY.isoformat(),
                                       "--format", "json", "--annotate", str(out), "--lang", "en"])
    assert result.exit_code == 0
    assert result.stdout.lstrip().startswith("{")
    assert "Wrote the annotated workbook" in result.stderr


def test_output_is_input_rejected(tmp_path: Path) -> None:
    """Writing the annotated workbook over its own source raises OutputError."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_HEADERS), record(1)])
    report = validate_file(source, context()).report
    with pytest.raises(OutputError, match="就是输入文件"):
        write_annotated(source, report, source)


def test_output_folder_missing(tmp_path: Path) -> None:
    """A missing output folder raises OutputError naming it."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_HEADERS), record(1)])
    report = validate_file(source, context()).report
    with pytest.raises(OutputError, match="不存在"):
        write_annotated(source, report, tmp_path / "missing" / "out.xlsx")


def test_output_needs_xlsx_name(tmp_path: Path) -> None:
    """An output name without .xlsx raises OutputError, and nothing is written."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_HEADERS), record(1)])
    report = validate_file(source, context()).report
    with pytest.raises(OutputError, match=r"\.xlsx"):
        write_annotated(source, report, tmp_path / "out.csv")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["records.xlsx"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """A write that fails midway leaves neither the output nor a temporary file."""
    from sxpt_core.io.xlsx_writer import output_workbook

    out = tmp_path / "out.xlsx"
    with pytest.raises(RuntimeError), output_workbook(out) as workbook:
        workbook.add_worksheet("Sheet1").write_string(0, 0, "学号")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
