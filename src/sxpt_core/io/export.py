"""Exporting stored records: the national 实习数据 workbook and CSV, safe to open in a spreadsheet.

Both writers take rows as cells dicts keyed by the template's headers, as a server
stores them (see :mod:`sxpt_core.records`). They write the template's exported columns
in template order under exactly its headers, so that the workbook can be uploaded to
sx.chsi.com.cn. Rows are consumed one at a time and written straight to disk, so
memory does not grow with the number of rows.

Formula injection: a spreadsheet program runs a text cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula when the user opens or edits the file. OWASP ASVS
requirement 1.2.10 calls for a single quote ``'`` in front of a cell that starts with
one of these characters, a tab or a NUL character. :func:`neutralise` does that, also
for a carriage return and for text whose first visible character is a trigger after
leading spaces. The quote becomes part of the cell's value, so someone who needs the
original text removes it by hand. Numbers and dates are not text and are written
unchanged, so a negative number stays a number.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sxpt_core.errors import OutputError
from sxpt_core.io.xlsx_writer import CellFormats, TemplateSheet, output_workbook
from sxpt_core.templates import Column, Template, get_template

__all__ = [
    "FORMULA_TRIGGERS",
    "QUOTE",
    "export_columns",
    "neutralise",
    "write_records_csv",
    "write_records_xlsx",
]

# Characters that make a spreadsheet program read a cell as a formula.
FORMULA_TRIGGERS = frozenset("=+-@")
# Control characters that are triggers when they open a cell: tab and NUL as OWASP
# ASVS lists them, and carriage return as a precaution.
CONTROL_TRIGGERS = frozenset("\t\r\x00")
QUOTE = "'"

# Template column kinds whose text contains a number, written to a workbook as a number.
NUMBER_KINDS = frozenset({"year", "credits", "days", "money", "count"})
# A plain decimal number without leading zeros, at most 15 significant digits, so that
# Excel's double keeps it exactly.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,6})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

CSV_ENCODING = "utf-8-sig"

# Document properties of the workbook, as (Chinese, English).
PROPERTIES = {
    "title": ("实习数据导出", "Internship records export"),
    "comments": (
        "由 sxpt 按全国大学生实习公共服务系统的实习数据模板导出；以“=”“+”“-”“@”开头的文本前加了单引号 '。",
        "Exported by sxpt in the 实习数据 template of the national internship reporting system; text "
        "that starts with =, +, - or @ has a single quote ' in front.",
    ),
}


def _is_hidden(char: str) -> bool:
    """Return True for a character that a spreadsheet shows as nothing: whitespace or a format character."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def neutralise(value: Any) -> Any:
    r"""Return ``value`` in a form that no spreadsheet program runs as a formula.

    Text that a spreadsheet could read as a formula gets a single quote in front. Any
    other value, including every number and date, is returned unchanged.

    >>> neutralise("=HYPERLINK(\"http://example.com\")")
    '\'=HYPERLINK("http://example.com")'
    >>> neutralise("  +86 138 0013 8000")
    "'  +86 138 0013 8000"
    >>> neutralise("\t杭州")
    "'\t杭州"
    >>> neutralise("2021-2022"), neutralise(-5), neutralise("林晓雨")
    ('2021-2022', -5, '林晓雨')
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in CONTROL_TRIGGERS:
        return QUOTE + value
    for char in value:
        if not _is_hidden(char):
            return QUOTE + value if char in FORMULA_TRIGGERS else value
    return value


def export_columns(template: Template | None = None) -> tuple[Column, ...]:
    """Return the columns of the national 实习数据 template that an export writes, in order.

    >>> [column.header for column in export_columns()][:3]
    ['学号', '学生姓名', '入学年份']
    >>> "专业" in [column.header for column in export_columns()]
    False
    """
    template = template or get_template("records")
    return tuple(column for column in template.columns if column.exported)


# --- the workbook -------------------------------------------------------------------


def _number(text: str) -> int | float | None:
    if not _NUMBER.fullmatch(text):
        return None
    return int(text) if "." not in text else float(text)


def _date(text: str) -> datetime.date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _workbook_value(column: Column, value: Any) -> Any:
    """Return a cell as the workbook writes it: numbers and dates typed, other text neutralised.

    Stored cells contain numbers and dates as text (``"2"``, ``"2025-07-01"``). In a
    number or date column such text becomes a number or a date, because the template
    formats those columns as numbers and dates. Text that is not a valid number or date
    stays text.
    """
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or isinstance(value, (int, float, Decimal, datetime.date)):
        return value
    text = str(value)
    if column.kind in NUMBER_KINDS:
        number = _number(text)
        if number is not None:
            return number
    elif column.kind == "date":
        day = _date(text)
        if day is not None:
            return day
    return neutralise(text)


def _write_workbook(rows: Iterable[Mapping[str, Any]], path: Path, columns: tuple[Column, ...],
                    title: str, lang: str) -> int:
    index = 1 if lang == "en" else 0
    written = 0
    with output_workbook(path) as workbook:
        workbook.set_properties({name: texts[index] for name, texts in PROPERTIES.items()})
        sheet = TemplateSheet(workbook, CellFormats(workbook), columns, name=title)
        for cells in rows:
            sheet.write_row([_workbook_value(column, cells.get(column.header)) for column in columns])
            written += 1
    return written


def write_records_xlsx(
    rows: Iterable[Mapping[str, Any]],
    out: str | os.PathLike[str] | IO[bytes],
    *,
    lang: str = "zh",
    template: Template | None = None,
) -> int:
    """Write ``rows`` as the national 实习数据 workbook to a path or a binary stream; return the row count.

    The sheet is named after the template and has its headers on row 1, in Chinese
    whatever ``lang`` is, because the national system reads them. ``lang`` (zh or en)
    sets the language of the workbook's document properties. Identifier columns are
    text cells, so student numbers keep their leading zeros. A path must end in
    ``.xlsx``; the workbook replaces it only when writing succeeds. A stream receives
    the bytes of the finished workbook. Raises OutputError when ``out`` cannot be
    written.
    """
    template = template or get_template("records")
    columns = export_columns(template)
    if isinstance(out, (str, os.PathLike)):
        return _write_workbook(rows, Path(out), columns, template.title, lang)

    # XlsxWriter's constant-memory mode needs files on disk, so a stream gets the
    # finished workbook copied from a temporary folder.
    with tempfile.TemporaryDirectory(prefix="sxpt-export-") as folder:
        path = Path(folder) / "export.xlsx"
        written = _write_workbook(rows, path, columns, template.title, lang)
        with path.open("rb") as finished:
            shutil.copyfileobj(finished, out)
    return written


# --- CSV ----------------------------------------------------------------------------


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return str(neutralise(str(value)))


@contextlib.contextmanager
def _binary_target(out: str | os.PathLike[str] | IO[bytes]) -> Iterator[IO[bytes]]:
    """Yield a binary stream for ``out``: the caller's stream, or a file that replaces the path on success."""
    if not isinstance(out, (str, os.PathLike)):
        yield out
        return

    path = Path(out)
    try:
        descriptor, temporary = tempfile.mkstemp(suffix=".csv", prefix=".sxpt-", dir=path.parent)
    except OSError as error:
        raise _csv_write_failed(path, error) from None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            yield stream
        os.replace(temporary, path)
    except OSError as error:
        raise _csv_write_failed(path, error) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def _csv_write_failed(path: Path, error: OSError) -> OutputError:
    reason = error.strerror or str(error)
    return OutputError(
        f"无法写入 {path}：{reason}。请检查文件夹是否存在以及权限，或换一个位置。",
        message_en=f"Cannot write {path}: {reason}. Check that the folder exists and may be written, "
        "or choose another place.",
    )


def write_records_csv(
    rows: Iterable[Mapping[str, Any]],
    out: str | os.PathLike[str] | IO[bytes],
    *,
    template: Template | None = None,
) -> int:
    """Write ``rows`` as CSV in UTF-8 with a byte order mark to a path or a binary stream; return the row count.

    The columns and headers are those of :func:`write_records_xlsx`. The byte order
    mark makes Excel on Chinese Windows read the file as UTF-8 instead of GBK. Every
    text cell is neutralised. A path is replaced only when writing succeeds.

    NOTE: the file keeps leading zeros (``0803101``), but Excel turns digit-only text
    into numbers when it opens a CSV file directly, so for editing in Excel use the
    workbook, or import the CSV with those columns set to text.
    """
    columns = export_columns(template)
    written = 0
    with _binary_target(out) as stream:
        text = io.TextIOWrapper(stream, encoding=CSV_ENCODING, newline="")
        try:
            writer = csv.writer(text)
            writer.writerow([column.header for column in columns])
            for cells in rows:
                writer.writerow([_csv_value(cells.get(column.header)) for column in columns])
                written += 1
            text.flush()
        finally:
            # Leave the caller's stream open: the wrapper would close it.
            text.detach()
    return written
