"""Tests of reading CSV files into the row model, with files built in each test."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from sxpt_core.catalogue import Severity
from sxpt_core.errors import FileTooLargeError, HeaderNotFoundError, InputError
from sxpt_core.io import CellError, ReadLimits, SourceRow, Table, read_table
from sxpt_core.templates import Column, Template, get_template
from tests.workbooks import (
    RECORD_HEADERS,
    Formula,
    csv_bytes,
    record_rows,
    sample_record,
    write_csv,
    write_xlsx,
)

RECORDS = get_template("records")


def issues_of(table: Table, code: str) -> list:
    return [issue for issue in table.issues if issue.code == code]


def values(table: Table) -> list[tuple]:
    return [row.values for row in table.rows]


def first_row(table: Table) -> SourceRow:
    return next(iter(table.rows))


# --- encodings and delimiters ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_encodings(tmp_path: Path, encoding: str) -> None:
    """UTF-8, UTF-8 with BOM, GB18030 and GBK files give the same Chinese text."""
    table = read_table(write_csv(tmp_path / "a.csv", record_rows(2), encoding), RECORDS)
    rows = list(table.rows)
    assert table.columns[0].column.header == "学号"
    assert rows[0].values[1] == "张三"
    assert rows[1].values[13] == "杭州示例科技有限公司"


def test_gb18030_four_byte(tmp_path: Path) -> None:
    """A rare character outside GBK, in a GB18030 file, is kept exactly."""
    rows = record_rows(1)
    rows[1][1] = "王𠮷"
    table = read_table(write_csv(tmp_path / "a.csv", rows, "gb18030"), RECORDS)
    assert first_row(table).values[1] == "王𠮷"


def test_utf16_tab_text(tmp_path: Path) -> None:
    """Excel's "Unicode text" export, tab-delimited UTF-16 with a BOM in a .txt file, is read."""
    path = tmp_path / "a.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + csv_bytes(record_rows(1), "utf-16-le", delimiter="\t"))
    table = read_table(path, RECORDS)
    assert first_row(table).values[1] == "张三"


def test_undecodable(tmp_path: Path) -> None:
    """Bytes valid in neither UTF-8 nor GB18030 raise an error naming the encodings tried."""
    path = tmp_path / "a.csv"
    path.write_bytes("学号,姓名\n".encode() + b"\xff\xfe\xff\x80\x80\n")
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS)
    assert "UTF-8" in raised.value.message
    assert "GB18030" in raised.value.message


def test_binary_as_csv(tmp_path: Path) -> None:
    """A binary file under a .csv name raises an error saying it is not text."""
    path = tmp_path / "a.csv"
    path.write_bytes(b"\x00\x01\x02binary\x00" * 50)
    with pytest.raises(InputError) as raised:
        read_table(path, RECORDS)
    assert "不是文本文件" in raised.value.message


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiters(tmp_path: Path, delimiter: str) -> None:
    """Comma, tab and semicolon delimiters are recognised from the header row."""
    path = write_csv(tmp_path / "a.csv", record_rows(1), delimiter=delimiter)
    table = read_table(path, RECORDS)
    assert len(table.columns) == len(RECORD_HEADERS)
    assert first_row(table).values[1] == "张三"


def test_bytes_without_name(tmp_path: Path) -> None:
    """CSV bytes without a file name are read as CSV."""
    table = read_table(csv_bytes(record_rows(1)), RECORDS)
    assert table.sheet is None
    assert len(list(table.rows)) == 1


# --- rows, numbers and cells ------------------------------------------------------------


def test_title_lines(tmp_path: Path) -> None:
    """Title lines above the header are skipped and rows keep their line numbers."""
    path = write_csv(tmp_path / "a.csv", record_rows(2), title_rows=[["2024 年 9 月实习数据"], []])
    table = read_table(path, RECORDS)
    assert table.header_row == 3
    assert [row.number for row in table.rows] == [4, 5]


def test_blank_lines_skipped(tmp_path: Path) -> None:
    """Blank and whitespace-only lines are skipped but still counted."""
    rows = record_rows(2)
    rows.insert(2, [])
    rows.insert(3, ["  ", "", "\u3000"])
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    assert [row.number for row in table.rows] == [2, 5]


def test_blank_cells_are_none(tmp_path: Path) -> None:
    """Empty fields are None; all other values are text."""
    rows = record_rows(1)
    rows[1][16] = ""
    row = first_row(read_table(write_csv(tmp_path / "a.csv", rows), RECORDS))
    assert row.values[16] is None
    others = [value for position, value in enumerate(row.values) if position != 16]
    assert all(isinstance(value, str) for value in others)


def test_short_rows_padded(tmp_path: Path) -> None:
    """A line with fewer fields than the header is padded with None."""
    rows = record_rows(1)
    rows[1] = rows[1][:5]
    row = first_row(read_table(write_csv(tmp_path / "a.csv", rows), RECORDS))
    assert len(row.values) == len(RECORD_HEADERS)
    assert row.values[5] is None


def test_long_row_unnamed_column(tmp_path: Path) -> None:
    """A line with more fields than the header gives an unnamed-column warning."""
    rows = record_rows(1)
    rows[1].append("多余")
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-W-FILE-UNNAMED-COLUMN")
    assert issue.column == "AI"
    assert first_row(table).values[-1] == "多余"


def test_line_break_in_field(tmp_path: Path) -> None:
    """A quoted field with a line break counts as one row, as Excel shows it."""
    rows = record_rows(2)
    rows[1][16] = "杭州市\n西湖区"
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    assert [row.number for row in table.rows] == [2, 3]
    assert first_row(table).values[16] == "杭州市\n西湖区"


def test_formula_text_unwrapped(tmp_path: Path) -> None:
    """An ="00123" field, which exports use to keep leading zeros, gives its text."""
    rows = record_rows(1)
    rows[1][0] = '="0021050101"'
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    assert first_row(table).values[0] == "0021050101"


def test_error_text(tmp_path: Path) -> None:
    """A #N/A field, as Excel saves a formula error, becomes a CellError with an issue."""
    rows = record_rows(1)
    rows[1][7] = "#N/A"
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    assert first_row(table).values[7] == CellError("#N/A")
    [issue] = issues_of(table, "SXPT-E-FILE-FORMULA-ERROR")
    assert (issue.sheet, issue.row, issue.column, issue.field) == (None, 2, "H", "学分")


def test_huge_field(tmp_path: Path) -> None:
    """A 10 MB field gives a too-long error instead of a csv module failure."""
    rows = record_rows(1)
    rows[1][16] = "x" * 10_000_000
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    [issue] = issues_of(table, "SXPT-E-FILE-CELL-TOO-LONG")
    assert issue.severity is Severity.ERROR
    assert issue.column == "Q"
    assert len(first_row(table).values[16]) == 32_767


def test_header_columns(tmp_path: Path) -> None:
    """Column problems are reported in CSV as in xlsx: missing, duplicate and unknown."""
    extras = ["课程代码", "CS9"]  # 课程代码 again, after dropping 学号
    rows = [[*row[1:], extra] for row, extra in zip(record_rows(1), extras, strict=True)]
    rows[0].append("备注")
    rows[1].append("无")
    table = read_table(write_csv(tmp_path / "a.csv", rows), RECORDS)
    codes = [issue.code for issue in table.issues]
    assert "SXPT-E-FILE-MISSING-COLUMN" in codes
    assert "SXPT-E-FILE-DUPLICATE-COLUMN" in codes
    assert "SXPT-W-FILE-UNKNOWN-COLUMN" in codes


def test_no_header(tmp_path: Path) -> None:
    """A CSV file without the header in its first lines raises HeaderNotFoundError."""
    path = write_csv(tmp_path / "a.csv", [["姓名", "成绩"], ["张三", "90"]])
    with pytest.raises(HeaderNotFoundError) as raised:
        read_table(path, RECORDS)
    assert "a.csv" in raised.value.message


def test_row_limit(tmp_path: Path) -> None:
    """More data rows than max_rows raise FileTooLargeError."""
    path = write_csv(tmp_path / "a.csv", record_rows(4))
    with pytest.raises(FileTooLargeError):
        read_table(path, RECORDS, limits=ReadLimits(max_rows=3))


def test_file_size_limit(tmp_path: Path) -> None:
    """A CSV file over max_file_bytes is rejected before it is decoded."""
    path = write_csv(tmp_path / "a.csv", record_rows(20))
    with pytest.raises(FileTooLargeError):
        read_table(path, RECORDS, limits=ReadLimits(max_file_bytes=500))


# --- the same data as xlsx and CSV -------------------------------------------------------


def test_same_as_xlsx(tmp_path: Path) -> None:
    """The same text rows as xlsx and as CSV give the same row numbers, columns and values."""
    rows = record_rows(3)
    rows.insert(2, [None] * len(RECORD_HEADERS))
    rows[3][16] = None
    title = [["2024 年 9 月实习数据"]]
    from_xlsx = read_table(write_xlsx(tmp_path / "a.xlsx", rows, title_rows=title), RECORDS)
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        from_csv = read_table(write_csv(tmp_path / f"{encoding}.csv", rows, encoding,
                                        title_rows=title), RECORDS)
        assert from_csv.header_row == from_xlsx.header_row
        assert [row.number for row in from_csv.rows] == [row.number for row in from_xlsx.rows]
        assert [(c.letter, c.header, c.column) for c in from_csv.columns] == \
            [(c.letter, c.header, c.column) for c in from_xlsx.columns]
        assert values(from_csv) == values(from_xlsx)


def test_same_issues_as_xlsx(tmp_path: Path) -> None:
    """A formula error in xlsx and its text in CSV give the same issue at the same cell."""
    xlsx_rows = record_rows(1)
    xlsx_rows[1][7] = Formula("=NA()", "#N/A")
    csv_rows = record_rows(1)
    csv_rows[1][7] = "#N/A"
    from_xlsx = read_table(write_xlsx(tmp_path / "a.xlsx", xlsx_rows), RECORDS)
    from_csv = read_table(write_csv(tmp_path / "a.csv", csv_rows), RECORDS)
    assert [(i.code, i.row, i.column, i.value) for i in from_csv.issues] == \
        [(i.code, i.row, i.column, i.value) for i in from_xlsx.issues]
    assert values(from_csv) == values(from_xlsx)


def test_sample_record_fits_headers() -> None:
    """The test helper's sample row has one value per template column."""
    assert len(sample_record()) == len(RECORD_HEADERS)


def test_small_template_header(tmp_path: Path) -> None:
    """A template with two required columns finds a header row that names just those two."""
    small = Template(kind="test", version="1", title="名单", columns=(
        Column("学号", "student_id", "id"),
        Column("姓名", "student_name", "name"),
        Column("院系", "department", "text", required=False),
    ))
    table = read_table(write_csv(tmp_path / "a.csv", [["学号", "姓名"], ["2201010001", "林晓雨"]]),
                       small)
    assert table.header_row == 1
    assert first_row(table).values == ("2201010001", "林晓雨")


def test_records_need_three_headers(tmp_path: Path) -> None:
    """A row naming only two 实习数据 columns is not taken for the header row."""
    path = write_csv(tmp_path / "a.csv", [["学号", "学生姓名"], ["2201010001", "林晓雨"]])
    with pytest.raises(HeaderNotFoundError):
        read_table(path, RECORDS)


def test_mac_line_ends(tmp_path: Path) -> None:
    """A file whose lines end in a bare carriage return, as old Mac exports write, is read."""
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(record_rows(2)).replace(b"\r\n", b"\r"))
    assert [row.number for row in read_table(path, RECORDS).rows] == [2, 3]


def test_unix_line_ends(tmp_path: Path) -> None:
    """A file whose lines end in a bare line feed is read."""
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(record_rows(2)).replace(b"\r\n", b"\n"))
    assert [row.number for row in read_table(path, RECORDS).rows] == [2, 3]
