"""Tests of reading .xlsx workbooks into the row model, with workbooks built in each test."""

from __future__ import annotations

import datetime
import io
import os
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from sxpt_core.catalogue import Layer, Severity, get_rule
from sxpt_core.errors import (
    AmbiguousSheetError,
    FileTooLargeError,
    HeaderNotFoundError,
    InputError,
    UnsupportedFormatError,
)
from sxpt_core.io import CellError, ReadLimits, Table, read_table
from sxpt_core.io.table import column_index, column_letter
from sxpt_core.templates import Column, Template, get_template
from tests.workbooks import (
    RECORD_HEADERS,
    Formula,
    inline_row,
    record_rows,
    sample_record,
    shared_row,
    sheet_xml,
    write_package,
    write_xlsx,
    write_zip_bomb,
)

RECORDS = get_template("records")


def codes(table: Table) -> list[str]:
    return [issue.code for issue in table.issues]


def issues_of(table: Table, code: str) -> list:
    return [issue for issue in table.issues if issue.code == code]


def value(table: Table, row_index: int, header: str) -> object:
    position = next(i for i, column in enumerate(table.columns)
                    if column.column is not None and column.column.header == header)
    return list(table.rows)[row_index].values[position]


# --- finding the data sheet and its header ------------------------------------------------


def test_plain_sheet(tmp_path: Path) -> None:
    """A sheet with the header in row 1 gives data rows numbered from 2."""
    table = read_table(write_xlsx(tmp_path / "a.xlsx", record_rows(2)), RECORDS)
    rows = list(table.rows)
    assert table.sheet == "Sheet1"
    assert table.header_row == 1
    assert [row.number for row in rows] == [2, 3]
    assert rows[0].values[0] == "21050101"
    assert table.issues == ()


def test_columns_by_letter(tmp_path: Path) -> None:
    """Every template column maps, with letters A to AH as Excel shows them."""
    table = read_table(write_xlsx(tmp_path / "a.xlsx", record_rows(1)), RECORDS)
    assert [column.letter for column in table.columns][:3] == ["A", "B", "C"]
    assert table.columns[-1].letter == "AH"
    assert [column.column.header for column in table.columns] == list(RECORD_HEADERS)


def test_title_rows_above_header(tmp_path: Path) -> None:
    """Title rows above the header are skipped and row numbers stay Excel's."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(2),
                      title_rows=[["2024 年 9 月实习数据"], ["填报单位：计算机学院"]])
    table = read_table(path, RECORDS)
    assert table.header_row == 3
    assert [row.number for row in table.rows] == [4, 5]


def test_range_not_at_a1(tmp_path: Path) -> None:
    """A used range that starts at C5 keeps Excel's row numbers and column letters."""
    table = read_table(write_xlsx(tmp_path / "a.xlsx", record_rows(2), first_cell="C5"), RECORDS)
    assert table.header_row == 5
    assert [row.number for row in table.rows] == [6, 7]
    assert table.columns[0].letter == "C"
    assert table.columns[0].index == 2
    assert table.columns[0].column.header == "学号"


def test_instructions_sheet_ignored(tmp_path: Path) -> None:
    """A sheet of instructions before the data sheet is not taken for data."""
    instructions = [["填写说明"], ["学号"], ["学生姓名"], ["课程代码"], ["请勿修改表头。"]]
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), sheet="实习数据",
                      sheets_before={"说明": instructions})
    table = read_table(path, RECORDS)
    assert table.sheet == "实习数据"


def test_two_data_sheets(tmp_path: Path) -> None:
    """Two sheets that both hold the header row raise an error naming both."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), sheet="九月",
                      extra_sheets={"十月": record_rows(1)})
    with pytest.raises(AmbiguousSheetError) as raised:
        read_table(path, RECORDS)
    assert "九月" in raised.value.message
    assert "十月" in raised.value.message
    assert "十月" in raised.value.message_en


def test_hidden_sheet_ignored(tmp_path: Path) -> None:
    """A hidden sheet with the same header does not make the workbook ambiguous."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), hidden_sheets={"旧数据": record_rows(3)})
    assert read_table(path, RECORDS).sheet == "Sheet1"


def test_named_sheet(tmp_path: Path) -> None:
    """Passing ``sheet`` reads that sheet even when another one also looks like data."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), sheet="九月",
                      extra_sheets={"十月": record_rows(3)})
    table = read_table(path, RECORDS, sheet="十月")
    assert table.sheet == "十月"
    assert len(list(table.rows)) == 3


def test_named_sheet_missing(tmp_path: Path) -> None:
    """Naming a sheet the workbook lacks raises an error listing its sheets."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1))
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS, sheet="十月")
    assert "Sheet1" in raised.value.message


def test_no_header(tmp_path: Path) -> None:
    """A workbook without the header row raises an error naming the sheets checked."""
    path = write_xlsx(tmp_path / "a.xlsx", [["姓名", "成绩"], ["张三", 90]], sheet="成绩单")
    with pytest.raises(HeaderNotFoundError) as raised:
        read_table(path, RECORDS)
    assert "成绩单" in raised.value.message
    assert "学号" in raised.value.message
    assert "成绩单" in raised.value.message_en


def test_header_below_scan_rows(tmp_path: Path) -> None:
    """A header row below the first 20 rows of the used range is not found."""
    title_rows = [[f"说明 {index}"] for index in range(20)]
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), title_rows=title_rows)
    with pytest.raises(HeaderNotFoundError):
        read_table(path, RECORDS)


def test_empty_sheet(tmp_path: Path) -> None:
    """A workbook whose only sheet is empty raises HeaderNotFoundError."""
    with pytest.raises(HeaderNotFoundError):
        read_table(write_xlsx(tmp_path / "a.xlsx", []), RECORDS)


# --- header text ----------------------------------------------------------------------------


def test_header_aliases(tmp_path: Path) -> None:
    """Aliases such as 姓名 and 城市代码 map to their template columns."""
    header = list(RECORD_HEADERS)
    header[1] = "姓名"
    header[15] = "城市代码"
    table = read_table(write_xlsx(tmp_path / "a.xlsx", [header, sample_record()]), RECORDS)
    assert table.columns[1].column.header == "学生姓名"
    assert table.columns[1].header == "姓名"
    assert table.columns[15].column.header == "实习地区及代码"
    assert table.issues == ()


def test_header_width_and_spaces(tmp_path: Path) -> None:
    """Half-width brackets, inner spaces, U+3000 and a trailing line break still match."""
    header = list(RECORD_HEADERS)
    header[0] = " 学　号 "
    header[30] = "实习报酬(元/月)"
    header[5] = "课程名称\n"
    table = read_table(write_xlsx(tmp_path / "a.xlsx", [header, sample_record()]), RECORDS)
    assert table.columns[0].column.header == "学号"
    assert table.columns[30].column.header == "实习报酬（元/月）"
    assert table.columns[5].column.header == "课程名称"
    assert table.issues == ()


def test_unknown_column(tmp_path: Path) -> None:
    """An unknown header gives a warning and a column that is not read."""
    rows = record_rows(1)
    rows[0].append("备注")
    rows[1].append("补报")
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-W-FILE-UNKNOWN-COLUMN")
    assert issue.severity is Severity.WARNING
    assert issue.column == "AI"
    assert issue.row == 1
    assert issue.value == "备注"
    assert table.columns[-1].column is None
    assert next(iter(table.rows)).values[-1] == "补报"


def test_duplicate_column(tmp_path: Path) -> None:
    """A template column given twice is an error naming both letters; only the first is read."""
    rows = record_rows(1)
    rows[0].append("学号")
    rows[1].append("99999999")
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-DUPLICATE-COLUMN")
    assert issue.severity is Severity.ERROR
    assert issue.column == "AI"
    assert issue.params["first"] == "A"
    assert issue.params["second"] == "AI"
    assert "A 列和 AI 列" in issue.message()
    assert table.columns[0].column.header == "学号"
    assert table.columns[-1].column is None


def test_duplicate_by_alias(tmp_path: Path) -> None:
    """A header and its alias in one sheet count as the same column twice."""
    rows = record_rows(1)
    rows[0].append("姓名")
    rows[1].append("李四")
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-DUPLICATE-COLUMN")
    assert issue.field == "学生姓名"


def test_missing_required_column(tmp_path: Path) -> None:
    """A missing required column is an error at the header row; the file still reads."""
    rows = [row[:2] + row[3:] for row in record_rows(2)]  # drop 入学年份
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows, title_rows=[["标题"]]), RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-MISSING-COLUMN")
    assert issue.row == 2
    assert issue.column is None
    assert issue.field == "入学年份"
    assert len(list(table.rows)) == 2


def test_missing_optional_column(tmp_path: Path) -> None:
    """An optional column such as 专业 may be left out without an issue."""
    rows = [row[:-1] for row in record_rows(1)]
    assert read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS).issues == ()


def test_unnamed_column_with_data(tmp_path: Path) -> None:
    """Data in a column without a header gives one warning for that column."""
    rows = record_rows(2)
    rows[0].append(None)
    rows[1].append("多出来的值")
    rows[2].append("又一个")
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-W-FILE-UNNAMED-COLUMN")
    assert issue.column == "AI"
    assert issue.row == 1


# --- cells -------------------------------------------------------------------------------


def test_blank_rows_skipped(tmp_path: Path) -> None:
    """Rows of empty or whitespace-only cells are skipped; the others keep their numbers."""
    rows = record_rows(2)
    rows.insert(2, [None] * len(RECORD_HEADERS))
    rows.insert(3, [" ", "\u3000", "", "\t"])
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert [row.number for row in table.rows] == [2, 5]


def test_blank_cells_are_none(tmp_path: Path) -> None:
    """An empty cell inside a data row is None."""
    rows = record_rows(1)
    rows[1][16] = None
    rows[1][29] = ""
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert value(table, 0, "实习详细地址") is None
    assert value(table, 0, "实习岗位") is None


def test_values_as_calamine_gives(tmp_path: Path) -> None:
    """Numbers, booleans and dates come as Python values, not normalised."""
    rows = record_rows(1)
    rows[1][0] = 21050101
    rows[1][7] = 2.5
    rows[1][26] = datetime.date(2024, 7, 1)
    rows[1][17] = True
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert value(table, 0, "学号") == 21050101
    assert value(table, 0, "学分") == 2.5
    assert value(table, 0, "实习开始时间") == datetime.date(2024, 7, 1)
    assert value(table, 0, "是否有实习责任险") is True


def test_long_number_stays_float(tmp_path: Path) -> None:
    """A number of more than 15 digits comes as the float Excel stored."""
    rows = record_rows(1)
    rows[1][0] = 123456789012345678
    value_read = value(read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS), 0, "学号")
    assert isinstance(value_read, float)


def test_date1904(tmp_path: Path) -> None:
    """Dates of a workbook in the 1904 date system are read as the dates Excel shows."""
    rows = record_rows(1)
    rows[1][26] = datetime.date(2024, 9, 1)
    path = write_xlsx(tmp_path / "a.xlsx", rows, date1904=True)
    assert value(read_table(path, RECORDS), 0, "实习开始时间") == datetime.date(2024, 9, 1)


def test_formula_errors(tmp_path: Path) -> None:
    """Formula errors become CellError values with an error issue at their cell."""
    rows = record_rows(2)
    rows[1][0] = Formula("=NA()", "#N/A")
    rows[2][7] = Formula('=1+"a"', "#VALUE!")
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert value(table, 0, "学号") == CellError("#N/A")
    assert value(table, 1, "学分") == CellError("#VALUE!")
    first, second = issues_of(table, "SXPT-E-FILE-FORMULA-ERROR")
    assert (first.row, first.column, first.field, first.value) == (2, "A", "学号", "#N/A")
    assert (second.row, second.column, second.field, second.value) == (3, "H", "学分", "#VALUE!")
    assert "H3" in second.message()


@pytest.mark.parametrize("error", ["#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!"])
def test_each_formula_error(tmp_path: Path, error: str) -> None:
    """Each of Excel's classic error values is recovered from the sheet XML."""
    rows = record_rows(1)
    rows[1][2] = Formula("=A1", error)
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert value(table, 0, "入学年份") == CellError(error)


def test_row_of_only_errors(tmp_path: Path) -> None:
    """A row whose only values are formula errors is data, not a blank row."""
    rows = record_rows(1)
    rows.append([Formula("=NA()", "#N/A")])
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert [row.number for row in table.rows] == [2, 3]


def test_formula_value_kept(tmp_path: Path) -> None:
    """A formula without error gives its cached result."""
    rows = record_rows(1)
    rows[1][28] = Formula("=30+30", 60)
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS)
    assert value(table, 0, "实际实习天数") == 60


def test_hidden_rows(tmp_path: Path) -> None:
    """Hidden rows are data, flagged and reported with a warning on the row."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(3), hidden_rows=[3])
    table = read_table(path, RECORDS)
    assert [(row.number, row.hidden) for row in table.rows] == [(2, False), (3, True), (4, False)]
    [issue] = issues_of(table, "SXPT-W-FILE-HIDDEN-ROW")
    assert issue.severity is Severity.WARNING
    assert (issue.row, issue.column) == (3, None)


def test_hidden_title_row(tmp_path: Path) -> None:
    """A hidden row above the header is not data and gives no warning."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), title_rows=[["标题"]], hidden_rows=[1])
    assert read_table(path, RECORDS).issues == ()


def test_merged_data_cells(tmp_path: Path) -> None:
    """Merged cells in the data area are an error at the top-left cell naming the range."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(3), merged=["D2:D4"])
    table = read_table(path, RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-MERGED")
    assert (issue.row, issue.column, issue.field) == (2, "D", "院系")
    assert issue.params["range"] == "D2:D4"
    assert "D2:D4" in issue.message()


def test_merged_title_fine(tmp_path: Path) -> None:
    """A merged title above the header row is not reported."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1), title_rows=[["2024 年实习数据"]],
                      merged=["A1:H1"])
    assert read_table(path, RECORDS).issues == ()


def test_issue_order(tmp_path: Path) -> None:
    """Issues come in reading order: by row, then by column."""
    rows = record_rows(3)
    rows[3][5] = Formula("=NA()", "#N/A")
    rows[1][9] = Formula("=NA()", "#N/A")
    path = write_xlsx(tmp_path / "a.xlsx", rows, hidden_rows=[4], merged=["B3:B4"])
    places = [(issue.row, issue.column) for issue in read_table(path, RECORDS).issues]
    assert places == [(2, "J"), (3, "B"), (4, None), (4, "F")]


# --- sources and formats -------------------------------------------------------------------


def test_bytes_source(tmp_path: Path) -> None:
    """The workbook's bytes read like its path, recognised as a zip without a file name."""
    data = write_xlsx(tmp_path / "a.xlsx", record_rows(2)).read_bytes()
    table = read_table(data, RECORDS)
    assert [row.number for row in table.rows] == [2, 3]


def test_file_object_source(tmp_path: Path) -> None:
    """A binary file object reads like the path."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(2))
    with path.open("rb") as stream:
        assert len(list(read_table(stream, RECORDS).rows)) == 2


def test_xlsm_extension(tmp_path: Path) -> None:
    """A workbook named .xlsm is read like .xlsx."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(1))
    assert read_table(path.read_bytes(), RECORDS, filename="宏.xlsm").sheet == "Sheet1"


def test_renamed_as_csv(tmp_path: Path) -> None:
    """A workbook saved under a .csv name is recognised by its content."""
    data = write_xlsx(tmp_path / "a.xlsx", record_rows(1)).read_bytes()
    assert read_table(data, RECORDS, filename="数据.csv").sheet == "Sheet1"


def test_legacy_xls(tmp_path: Path) -> None:
    """An OLE2 .xls workbook raises UnsupportedFormatError telling to save as .xlsx."""
    path = tmp_path / "旧表.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(path, RECORDS)
    assert "另存为" in raised.value.message
    assert ".xlsx" in raised.value.message
    assert "旧表.xls" in raised.value.message_en


def test_xls_renamed_xlsx(tmp_path: Path) -> None:
    """An OLE2 workbook under an .xlsx name gets the .xls message, not a zip error."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(data, RECORDS, filename="数据.xlsx")
    assert ".xls" in raised.value.message


def test_html_named_xls(tmp_path: Path) -> None:
    """An HTML table exported under an .xls name is explained as a web page."""
    data = "<html><body><table><tr><td>学号</td></tr></table></body></html>".encode()
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(data, RECORDS, filename="导出.xls")
    assert "HTML" in raised.value.message


def test_real_xlsx_named_xls(tmp_path: Path) -> None:
    """An xlsx package saved under an .xls name is read as the workbook it is."""
    data = write_xlsx(tmp_path / "a.xlsx", record_rows(1)).read_bytes()
    assert read_table(data, RECORDS, filename="导出.xls").sheet == "Sheet1"


def test_lock_file(tmp_path: Path) -> None:
    """An Office lock file raises an error saying it is the lock file and naming the real one."""
    path = tmp_path / "~$实习数据.xlsx"
    path.write_bytes(b"\x0czhang san" + bytes(150))
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(path, RECORDS)
    assert "临时锁定文件" in raised.value.message
    assert "实习数据.xlsx" in raised.value.message
    assert "lock file" in raised.value.message_en


@pytest.mark.parametrize("extension", [".xlsb", ".et", ".ods"])
def test_other_spreadsheet_formats(tmp_path: Path, extension: str) -> None:
    """Spreadsheet formats sxpt does not read ask the user to save as .xlsx."""
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(b"PK\x03\x04data", RECORDS, filename=f"a{extension}")
    assert "另存为" in raised.value.message


def test_unknown_extension(tmp_path: Path) -> None:
    """An unknown extension raises an error listing the accepted ones."""
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF-1.7")
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(path, RECORDS)
    for extension in (".xlsx", ".xlsm", ".csv", ".txt"):
        assert extension in raised.value.message


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist raises InputError naming it."""
    with pytest.raises(InputError) as raised:
        read_table(tmp_path / "没有.xlsx", RECORDS)
    assert "没有.xlsx" in raised.value.message
    assert "not found" in raised.value.message_en


def test_directory(tmp_path: Path) -> None:
    """A folder given as the file raises InputError."""
    folder = tmp_path / "数据.xlsx"
    folder.mkdir()
    with pytest.raises(InputError) as raised:
        read_table(folder, RECORDS)
    assert "文件夹" in raised.value.message


def test_empty_file(tmp_path: Path) -> None:
    """A file of 0 bytes raises InputError."""
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS)
    assert "空文件" in raised.value.message


# --- junk and limits -----------------------------------------------------------------------


def test_random_bytes(tmp_path: Path) -> None:
    """Random bytes under an .xlsx name raise InputError, not a calamine exception."""
    path = tmp_path / "a.xlsx"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS)
    assert "xlsx" in raised.value.message


def test_random_bytes_after_zip_signature(tmp_path: Path) -> None:
    """Random bytes behind a zip signature raise InputError."""
    with pytest.raises(InputError):
        read_table(b"PK\x03\x04" + os.urandom(4096), RECORDS, filename="a.xlsx")


def test_truncated_zip(tmp_path: Path) -> None:
    """A workbook cut off halfway, as by a failed download, raises InputError."""
    data = write_xlsx(tmp_path / "a.xlsx", record_rows(50)).read_bytes()
    with pytest.raises(InputError) as raised:
        read_table(data[: len(data) // 2], RECORDS, filename="a.xlsx")
    assert "损坏" in raised.value.message


def test_damaged_sheet_xml(tmp_path: Path) -> None:
    """Malformed sheet XML raises InputError instead of a calamine exception."""
    broken = sheet_xml(inline_row(1, list(RECORD_HEADERS))).replace(b"</sheetData>", b"<row><c")
    with pytest.raises(InputError):
        read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": broken}), RECORDS)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    """A zip archive without a workbook part raises InputError saying so."""
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS)
    assert "不是 Excel 工作簿" in raised.value.message


def test_password_protected_ole2(tmp_path: Path) -> None:
    """An OLE2 file holding an EncryptedPackage stream is reported as password protected."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(data, RECORDS, filename="加密.xlsx")
    assert "密码" in raised.value.message


def test_password_protected_real(tmp_path: Path) -> None:
    """A workbook encrypted with a password as Excel does it raises the password error."""
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = write_xlsx(tmp_path / "plain.xlsx", record_rows(1))
    encrypted = io.BytesIO()
    with plain.open("rb") as stream:
        ooxml.OOXMLFile(stream).encrypt("1234", encrypted)
    path = tmp_path / "加密.xlsx"
    path.write_bytes(encrypted.getvalue())
    with pytest.raises(UnsupportedFormatError) as raised:
        read_table(path, RECORDS)
    assert "密码" in raised.value.message


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    """A worksheet part that compresses about 1000:1 is rejected before calamine opens it."""
    path = write_zip_bomb(tmp_path / "bomb.xlsx", 64 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS)
    assert time.perf_counter() - started < 2
    assert "zip" in raised.value.message


def test_uncompressed_total(tmp_path: Path) -> None:
    """A package that unpacks to more than max_uncompressed_bytes is rejected with both sizes."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(200))
    limits = ReadLimits(max_uncompressed_bytes=10_000)
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS, limits=limits)
    assert "0.0 MiB" in raised.value.message


def test_file_size_limit(tmp_path: Path) -> None:
    """A file over max_file_bytes is rejected with its size and the limit."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(50))
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS, limits=ReadLimits(max_file_bytes=1000))
    assert "MiB" in raised.value.message
    assert "limit" in raised.value.message_en


def test_row_limit(tmp_path: Path) -> None:
    """More data rows than max_rows raise FileTooLargeError naming the limit."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(6))
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS, limits=ReadLimits(max_rows=5))
    assert "5 行" in raised.value.message


def test_million_empty_rows(tmp_path: Path) -> None:
    """A stray value in row 1,000,000 below 34 columns is rejected in a few seconds."""
    path = tmp_path / "a.xlsx"
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    worksheet = workbook.add_worksheet()
    for row_index, row in enumerate(record_rows(2)):
        worksheet.write_row(row_index, 0, row)
    worksheet.write_string(999_999, 0, " ")
    workbook.close()
    started = time.perf_counter()
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS)
    assert time.perf_counter() - started < 10
    assert "A1:AH1000000" in raised.value.message
    assert "Ctrl+End" in raised.value.message


def test_million_rows_narrow(tmp_path: Path) -> None:
    """A stray value in row 1,000,000 of a three-column range is read, skipping blank rows."""
    narrow = Template(kind="test", version="1", title="测试", columns=(
        Column("学号", "student_id", "id"),
        Column("姓名", "student_name", "name"),
        Column("课程代码", "course_code", "id"),
    ))
    path = tmp_path / "a.xlsx"
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    worksheet = workbook.add_worksheet()
    worksheet.write_row(0, 0, ["学号", "姓名", "课程代码"])
    worksheet.write_row(1, 0, ["21050101", "张三", "CS3001"])
    worksheet.write_string(999_999, 0, " ")
    workbook.close()
    started = time.perf_counter()
    table = read_table(path, narrow)
    assert time.perf_counter() - started < 10
    assert [row.number for row in table.rows] == [2]


def test_million_formatted_rows(tmp_path: Path) -> None:
    """A million formatted but empty rows are read in a few seconds."""
    rows = [inline_row(1, list(RECORD_HEADERS)), inline_row(2, sample_record())]
    empty = (f'<row r="{number}" s="1" customFormat="1"/>' for number in range(3, 1_000_001))
    xml = sheet_xml("".join([*rows, *empty]), dimension="A1:AH1000000")
    started = time.perf_counter()
    table = read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": xml}), RECORDS)
    assert time.perf_counter() - started < 10
    assert [row.number for row in table.rows] == [2]


def test_million_formatted_cells(tmp_path: Path) -> None:
    """A million formatted empty cells do not count towards the used range."""
    rows = [inline_row(1, list(RECORD_HEADERS)), inline_row(2, sample_record())]
    empty = (f'<row r="{number}"><c r="AH{number}" s="1"/></row>' for number in range(3, 1_000_001))
    xml = sheet_xml("".join([*rows, *empty]), dimension="A1:AH1000000")
    table = read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": xml}), RECORDS)
    assert [row.number for row in table.rows] == [2]


def test_used_range_limit(tmp_path: Path) -> None:
    """Values spread over more cells than max_cells raise an error telling to use Ctrl+End."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(40))
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS, limits=ReadLimits(max_cells=1000))
    assert "Ctrl+End" in raised.value.message
    assert "A1:AH41" in raised.value.message


def test_far_cell(tmp_path: Path) -> None:
    """A value in XFD1048576 is rejected by the range check instead of exhausting memory."""
    path = tmp_path / "a.xlsx"
    workbook = xlsxwriter.Workbook(path)
    worksheet = workbook.add_worksheet()
    for row_index, row in enumerate(record_rows(1)):
        worksheet.write_row(row_index, 0, row)
    worksheet.write_string(1_048_575, 16_383, "x")
    workbook.close()
    with pytest.raises(FileTooLargeError) as raised:
        read_table(path, RECORDS)
    assert "A1:XFD1048576" in raised.value.message


def test_far_cell_without_dimension(tmp_path: Path) -> None:
    """Without a dimension element the cell references themselves give the range."""
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    rows = inline_row(1, list(RECORD_HEADERS)) + far
    path = write_package(tmp_path / "a.xlsx", {"Sheet1": sheet_xml(rows, dimension=None)})
    with pytest.raises(FileTooLargeError):
        read_table(path, RECORDS)


def test_huge_cell(tmp_path: Path) -> None:
    """A 10 MB cell gives a too-long error and is cut to the Excel limit."""
    record = sample_record()
    record[16] = os.urandom(5_000_000).hex()
    xml = sheet_xml(inline_row(1, list(RECORD_HEADERS)) + inline_row(2, record), dimension="A1:AH2")
    table = read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": xml}), RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-CELL-TOO-LONG")
    assert (issue.row, issue.column, issue.field) == (2, "Q", "实习详细地址")
    assert issue.params["length"] == "10000000"
    assert len(issue.value) < 100
    assert len(value(table, 0, "实习详细地址")) == 32_767


def test_huge_shared_string(tmp_path: Path) -> None:
    """A 10 MB text in the shared strings table, as Excel stores text, is cut and reported."""
    strings = [*RECORD_HEADERS, *sample_record(), os.urandom(5_000_000).hex()]
    header = list(range(len(RECORD_HEADERS)))
    record = [len(RECORD_HEADERS) + position for position in range(len(RECORD_HEADERS))]
    record[16] = len(strings) - 1
    xml = sheet_xml(shared_row(1, header) + shared_row(2, record), dimension="A1:AH2")
    table = read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": xml}, shared_strings=strings),
                       RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-CELL-TOO-LONG")
    assert issue.column == "Q"
    assert len(value(table, 0, "实习详细地址")) == 32_767


def test_lower_length_limit(tmp_path: Path) -> None:
    """A lower max_cell_chars is applied to cells shorter than Excel's own limit."""
    rows = record_rows(1)
    rows[1][16] = "杭州市西湖区" * 100
    table = read_table(write_xlsx(tmp_path / "a.xlsx", rows), RECORDS,
                       limits=ReadLimits(max_cell_chars=100))
    [issue] = issues_of(table, "SXPT-E-FILE-CELL-TOO-LONG")
    assert issue.params["length"] == "600"


def test_prefixed_xml(tmp_path: Path) -> None:
    """Hidden rows and error cells are found in XML whose elements carry a prefix."""
    header = inline_row(1, list(RECORD_HEADERS), prefix="x")
    data = inline_row(2, sample_record(), prefix="x", attributes=' hidden="1"')
    error_cell = '<x:row r="3"><x:c r="A3" t="e"><x:f>NA()</x:f><x:v>#N/A</x:v></x:c></x:row>'
    xml = sheet_xml(header + data + error_cell, dimension="A1:AH3", prefix="x")
    table = read_table(write_package(tmp_path / "a.xlsx", {"Sheet1": xml}), RECORDS)
    assert [row.hidden for row in table.rows] == [True, False]
    assert list(table.rows)[1].values[0] == CellError("#N/A")


def test_calamine_row_padding(tmp_path: Path) -> None:
    """Row numbers hold when the used range starts far below row 1."""
    path = write_xlsx(tmp_path / "a.xlsx", record_rows(2), first_cell="B40")
    table = read_table(path, RECORDS)
    assert table.header_row == 40
    assert [row.number for row in table.rows] == [41, 42]


# --- helpers and catalogue -----------------------------------------------------------------


def test_column_letters() -> None:
    """Column letters and indexes convert both ways across one, two and three letters."""
    for index in (0, 25, 26, 33, 701, 702, 16383):
        assert column_index(column_letter(index)) == index


def test_file_rules_declared() -> None:
    """Every FILE rule is in the catalogue with its severity prefix."""
    for code in ("SXPT-E-FILE-MERGED", "SXPT-E-FILE-FORMULA-ERROR", "SXPT-W-FILE-HIDDEN-ROW",
                 "SXPT-W-FILE-UNKNOWN-COLUMN", "SXPT-W-FILE-UNNAMED-COLUMN",
                 "SXPT-E-FILE-DUPLICATE-COLUMN", "SXPT-E-FILE-MISSING-COLUMN",
                 "SXPT-E-FILE-CELL-TOO-LONG"):
        assert get_rule(code).layer is Layer.FILE


def test_1904_serial_number_in_date_column(tmp_path: Path) -> None:
    """A plain number in a date column of a 1904 workbook counts from 1904."""
    import datetime

    from sxpt_core.codes.divisions import load_divisions
    from sxpt_core.context import Context
    from sxpt_core.validate import validate_file

    row: list[object] = list(sample_record())
    row[RECORD_HEADERS.index("实习开始时间")] = 44810  # 2026-09-07 in the 1904 system
    path = write_xlsx(tmp_path / "mac.xlsx", [list(RECORD_HEADERS), row], date1904=True)
    validation = validate_file(path, Context(datetime.date(2026, 11, 10), load_divisions()))
    assert validation.rows[0][1]["start_date"] == datetime.date(2026, 9, 7)
