"""Build small workbooks and CSV files for tests, from code.

``write_xlsx`` and ``write_workbook`` use XlsxWriter for ordinary workbooks.
``write_package`` (with ``sheet_xml`` and ``inline_row``) and ``write_zip_bomb`` write an
xlsx zip package by hand, for files that no writer would produce: forged ranges, missing
elements, prefixed XML, zip bombs.

Cell values are written by type: ``str`` as text (never as a formula or number),
``int``/``float`` as numbers, ``bool`` as booleans, ``date``/``datetime`` as dates,
:class:`Formula` as a formula with a cached result, None as an empty cell.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name

from sxpt_core.templates import get_template

RECORD_HEADERS: tuple[str, ...] = tuple(column.header for column in get_template("records").columns)

Rows = Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Formula:
    """A formula cell and the result Excel cached for it, e.g. ``Formula("=NA()", "#N/A")``."""

    formula: str
    result: Any = 0


def sample_record(index: int = 1, **changes: str) -> list[str]:
    """Return one 实习数据 row as text, in RECORD_HEADERS order; ``changes`` by header."""
    values = {
        "学号": f"210501{index:02d}",
        "学生姓名": "张三",
        "入学年份": "2021",
        "院系": "计算机学院",
        "班级": "计科2101",
        "课程名称": "专业实习",
        "课程代码": "CS3001",
        "学分": "2",
        "实习类型": "专业实习",
        "实习组织形式": "集中实习",
        "实习方式": "现场实习",
        "学年": "2024-2025",
        "校内指导教师": "李老师",
        "实习单位名称": "杭州示例科技有限公司",
        "实习单位统一社会信用代码": "91330100MA2B3C4D5E",
        "实习地区及代码": "330100",
        "实习详细地址": "杭州市西湖区文三路 100 号",
        "是否有实习责任险": "是",
        "是否有人身意外险": "是",
        "是否进行实习安全教育和培训": "是",
        "是否签订实习三方协议": "是",
        "实习单位获取方式": "学校安排",
        "实习单位是否有安全应急预案": "是",
        "实习单位是否为校级及以上实习基地": "否",
        "实习单位是否为数智赋能实习基地": "否",
        "实习单位是否为海外实习基地": "否",
        "实习开始时间": "2024-07-01",
        "实习结束时间": "2024-08-30",
        "实际实习天数": "60",
        "实习岗位": "开发实习生",
        "实习报酬（元/月）": "3000",
        "企业指导人员姓名": "王经理",
        "企业指导人员电话": "13800138000",
        "专业": "计算机科学与技术",
    }
    for header, value in changes.items():
        if header not in values:
            raise KeyError(header)
        values[header] = value
    return [values[header] for header in RECORD_HEADERS]


def record_rows(count: int = 2) -> list[list[Any]]:
    """Return the 实习数据 header row followed by ``count`` sample rows."""
    return [list(RECORD_HEADERS), *(sample_record(index) for index in range(1, count + 1))]


# --- XlsxWriter ---------------------------------------------------------------------


def write_xlsx(
    path: str | os.PathLike[str],
    rows: Rows,
    *,
    sheet: str = "Sheet1",
    title_rows: Rows = (),
    first_cell: str = "A1",
    date1904: bool = False,
    hidden_rows: Iterable[int] = (),
    merged: Iterable[str] = (),
    extra_sheets: Mapping[str, Rows] | None = None,
    sheets_before: Mapping[str, Rows] | None = None,
    hidden_sheets: Mapping[str, Rows] | None = None,
) -> Path:
    """Write a workbook whose sheet ``sheet`` contains ``title_rows`` then ``rows``.

    The first title row (or the header row) starts at ``first_cell``. ``hidden_rows``
    are Excel row numbers; ``merged`` are ranges such as ``"A5:A7"``, which keep the
    top-left value. ``sheets_before`` and ``extra_sheets`` add visible sheets before
    and after the data sheet, ``hidden_sheets`` hidden ones at the end.
    """
    sheets: dict[str, tuple[Rows, bool]] = {}
    for name, sheet_rows in (sheets_before or {}).items():
        sheets[name] = (sheet_rows, False)
    sheets[sheet] = ([*title_rows, *rows], False)
    for name, sheet_rows in (extra_sheets or {}).items():
        sheets[name] = (sheet_rows, False)
    for name, sheet_rows in (hidden_sheets or {}).items():
        sheets[name] = (sheet_rows, True)
    return write_workbook(
        path, sheets, date1904=date1904, first_cells={sheet: first_cell},
        hidden_rows={sheet: hidden_rows}, merged={sheet: merged},
    )


def write_workbook(
    path: str | os.PathLike[str],
    sheets: Mapping[str, Rows | tuple[Rows, bool]],
    *,
    date1904: bool = False,
    first_cells: Mapping[str, str] | None = None,
    hidden_rows: Mapping[str, Iterable[int]] | None = None,
    merged: Mapping[str, Iterable[str]] | None = None,
) -> Path:
    """Write a workbook with one sheet per entry of ``sheets`` (rows, or (rows, hidden))."""
    workbook = xlsxwriter.Workbook(os.fspath(path), {"date_1904": date1904})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, content in sheets.items():
        sheet_rows, hidden = content if _is_pair(content) else (content, False)  # type: ignore[misc]
        worksheet = workbook.add_worksheet(name)
        if hidden:
            worksheet.hide()
        top, left = xl_cell_to_rowcol((first_cells or {}).get(name, "A1"))
        values: dict[tuple[int, int], Any] = {}
        for row_offset, row in enumerate(sheet_rows):
            for column_offset, value in enumerate(row):
                cell = (top + row_offset, left + column_offset)
                values[cell] = value
                _write_cell(worksheet, cell, value, date_format)
        for number in (hidden_rows or {}).get(name, ()):
            worksheet.set_row(number - 1, None, None, {"hidden": True})
        for cell_range in (merged or {}).get(name, ()):
            first, last = cell_range.split(":")
            first_row, first_column = xl_cell_to_rowcol(first)
            last_row, last_column = xl_cell_to_rowcol(last)
            value = values.get((first_row, first_column))
            worksheet.merge_range(first_row, first_column, last_row, last_column,
                                  "" if value is None else value)
    workbook.close()
    return Path(path)


def _is_pair(content: Any) -> bool:
    return isinstance(content, tuple) and len(content) == 2 and isinstance(content[1], bool)


def _write_cell(worksheet: Any, cell: tuple[int, int], value: Any, date_format: Any) -> None:
    row, column = cell
    if value is None:
        return
    if isinstance(value, Formula):
        worksheet.write_formula(row, column, value.formula, None, value.result)
    elif isinstance(value, bool):
        worksheet.write_boolean(row, column, value)
    elif isinstance(value, (int, float)):
        worksheet.write_number(row, column, value)
    elif isinstance(value, (datetime.date, datetime.datetime)):
        worksheet.write_datetime(row, column, value, date_format)
    else:
        worksheet.write_string(row, column, str(value))


# --- CSV ------------------------------------------------------------------------------


def write_csv(
    path: str | os.PathLike[str],
    rows: Rows,
    encoding: str = "utf-8",
    *,
    delimiter: str = ",",
    title_rows: Rows = (),
) -> Path:
    """Write ``title_rows`` then ``rows`` as CSV in ``encoding`` with CRLF line ends, as Excel does.

    Use ``utf-8-sig`` for UTF-8 with a byte order mark.
    """
    Path(path).write_bytes(csv_bytes([*title_rows, *rows], encoding, delimiter=delimiter))
    return Path(path)


def csv_bytes(rows: Rows, encoding: str = "utf-8", *, delimiter: str = ",") -> bytes:
    """Return ``rows`` as CSV bytes in ``encoding``; None becomes an empty field."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode(encoding)


# --- hand-written packages --------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def sheet_xml(
    rows_xml: str | bytes, *, dimension: str | None = "A1", prefix: str = ""
) -> bytes:
    """Return a worksheet part whose sheetData contains ``rows_xml``.

    With ``prefix`` (such as ``"x"``) every element carries that namespace prefix, as
    some .NET writers produce.
    """
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{_MAIN}"' if prefix else f'xmlns="{_MAIN}"'
    body = rows_xml.encode() if isinstance(rows_xml, str) else rows_xml
    dimension_xml = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {xmlns}>'
        f"{dimension_xml}<{p}sheetData>".encode()
        + body
        + f"</{p}sheetData></{p}worksheet>".encode()
    )


def inline_row(
    number: int, values: Sequence[str | None], *, prefix: str = "", attributes: str = ""
) -> str:
    """Return a ``<row>`` of inline-string cells from column A on."""
    p = f"{prefix}:" if prefix else ""
    cells = "".join(
        f'<{p}c r="{xl_col_to_name(column)}{number}" t="inlineStr"><{p}is><{p}t>{_escape(value)}'
        f"</{p}t></{p}is></{p}c>"
        for column, value in enumerate(values)
        if value is not None
    )
    return f'<{p}row r="{number}"{attributes}>{cells}</{p}row>'


def shared_row(number: int, indexes: Sequence[int | None]) -> str:
    """Return a ``<row>`` of shared-string cells from column A on, by string index."""
    cells = "".join(
        f'<c r="{xl_col_to_name(column)}{number}" t="s"><v>{index}</v></c>'
        for column, index in enumerate(indexes)
        if index is not None
    )
    return f'<row r="{number}">{cells}</row>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_package(
    path: str | os.PathLike[str],
    sheets: Mapping[str, bytes | Iterable[bytes]],
    *,
    shared_strings: Sequence[str] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a minimal xlsx package with one worksheet part per entry of ``sheets``.

    A part given as an iterable of byte chunks is streamed into the zip. Cells of type
    ``s`` refer to ``shared_strings`` by index.
    """
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{index}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for index in range(1, len(names) + 1)
    )
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        f'{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheet_entries = "".join(
        f'<sheet name="{_escape(name)}" sheetId="{index}" r:id="rId{index}"/>'
        for index, name in enumerate(names, 1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        f"<sheets>{sheet_entries}</sheets></workbook>"
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{index}" Type="{_RELS}/worksheet" '
            f'Target="worksheets/sheet{index}.xml"/>'
            for index in range(1, len(names) + 1)
        )
        + (f'<Relationship Id="rIdStrings" Type="{_RELS}/sharedStrings" '
           'Target="sharedStrings.xml"/>' if shared_strings else "")
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", compression) as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("_rels/.rels", root_rels)
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        if shared_strings:
            items = "".join(f"<si><t>{_escape(text)}</t></si>" for text in shared_strings)
            package.writestr(
                "xl/sharedStrings.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" '
                f'count="{len(shared_strings)}" uniqueCount="{len(shared_strings)}">{items}</sst>',
            )
        for index, name in enumerate(names, 1):
            part = f"xl/worksheets/sheet{index}.xml"
            content = sheets[name]
            if isinstance(content, bytes):
                package.writestr(part, content)
                continue
            with package.open(part, "w", force_zip64=True) as stream:
                for chunk in content:
                    stream.write(chunk)
    return Path(path)


def write_zip_bomb(path: str | os.PathLike[str], size: int) -> Path:
    """Write an xlsx package whose worksheet part is ``size`` bytes, nearly all blanks.

    The part is streamed into the zip, so building it needs little memory; it
    compresses about 1000:1.
    """
    opening, closing = sheet_xml(inline_row(1, list(RECORD_HEADERS))).split(b"</sheetData>")

    def chunks() -> Iterator[bytes]:
        yield opening
        block = b" " * (1024 * 1024)
        for _ in range(size // len(block)):
            yield block
        yield b"</sheetData>" + closing

    return write_package(path, {"Sheet1": chunks()})
