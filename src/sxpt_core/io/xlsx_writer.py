"""The parts of sxpt's workbook writers that do not depend on a report.

Every workbook is written with XlsxWriter in constant-memory mode: rows go to disk in
order, so memory does not grow with the file. :func:`output_workbook` writes to a
temporary file beside the output and renames it on success, so a failed run never
leaves a half-written workbook or overwrites a good one. :class:`TemplateSheet` writes
rows in a template's column layout (header on row 1, identifiers as text), as the
errors-only workbook and ``sxpt normalise`` need it; :func:`write_normalised` writes
every row of a validated table with its normalised values.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import xlsxwriter
import xlsxwriter.exceptions

from sxpt_core.catalogue import Severity
from sxpt_core.errors import OutputError
from sxpt_core.io.table import CellError, Table
from sxpt_core.io.template_writer import (
    DATE_FORMAT,
    LAST_ROW,
    LIST_LIMIT,
    TEXT_KINDS,
    display_width,
)
from sxpt_core.normalise.fields import is_blank
from sxpt_core.templates import Column, Template

if TYPE_CHECKING:
    from sxpt_core.validate import Validation

__all__ = [
    "CellFormats",
    "CellNote",
    "OutputError",
    "TemplateLayout",
    "TemplateSheet",
    "WrittenWorkbook",
    "output_workbook",
    "write_normalised",
    "write_value",
]

# Column kinds whose normalised value is a Python bool, written back as 是 / 否.
YES_NO_KINDS = frozenset({"yesno"})

# Excel's own "Bad" and "Neutral" cell styles: fill colour and font colour.
FILLS: Mapping[Severity, tuple[str, str]] = {
    Severity.ERROR: ("#FFC7CE", "#9C0006"),
    Severity.WARNING: ("#FFEB9C", "#9C5700"),
}

TEXT_FORMAT = "@"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIME_FORMAT = "hh:mm:ss"
DURATION_FORMAT = "[h]:mm:ss"

# Error values that Excel accepts as constants in a formula, so "=#N/A" recreates them.
FORMULA_ERROR_CONSTANTS = frozenset(
    {"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"}
)

# Comment boxes: width in pixels, and an estimated height in pixels of one line of text.
COMMENT_WIDTH = 360
COMMENT_LINE_HEIGHT = 16
# An estimate of the display columns (a CJK character counts two) on one line of a box.
COMMENT_LINE_COLUMNS = 52

TEXT = {
    "annotated": (
        "已写入标注工作簿 {path}：标出 {cells} 个单元格，问题清单 {entries} 条。",
        "Wrote the annotated workbook {path}: {cells} cells marked, {entries} entries in the "
        "issues sheet.",
    ),
    "errors_only": (
        "已写入只含错误行的工作簿 {path}：{rows} 行。改正后可以单独重新校验这个文件。",
        "Wrote the errors-only workbook {path}: {rows} rows. Fix them and validate that file "
        "on its own.",
    ),
    "normalised": (
        "已写入规范后的工作簿 {path}：{rows} 行。",
        "Wrote the normalised workbook {path}: {rows} rows.",
    ),
}


@attrs.frozen
class WrittenWorkbook:
    """The result of a writer: the file written and its number of data rows.

    ``kind`` is annotated, errors_only or normalised. ``marked_cells`` counts the filled and commented cells, ``entries`` the lines of the
    issues sheet, and ``kept_cells`` the cells of a normalised workbook that keep the
    user's value because the normalisers rejected it.
    """

    kind: str
    path: Path
    rows: int
    marked_cells: int = 0
    entries: int = 0
    kept_cells: int = 0

    def describe(self, lang: str = "zh") -> str:
        """Return one sentence saying what was written, in ``lang`` (zh or en)."""
        zh, en = TEXT[self.kind]
        return (en if lang == "en" else zh).format(
            path=self.path, rows=self.rows, cells=self.marked_cells, entries=self.entries
        )


@attrs.define
class CellNote:
    """The issues of one cell: the worst severity, which sets its fill, and comment entries."""

    severity: Severity = Severity.WARNING
    entries: list[str] = attrs.field(factory=list)

    def add(self, severity: Severity, entry: str) -> None:
        if severity is Severity.ERROR:
            self.severity = Severity.ERROR
        self.entries.append(entry)

    def merge(self, other: CellNote) -> None:
        for entry in other.entries:
            self.add(other.severity, entry)

    @property
    def comment(self) -> str:
        return "\n\n".join(self.entries)

    def comment_options(self) -> dict[str, int]:
        """Return XlsxWriter comment options: a box tall enough for the whole text."""
        lines = 0
        for line in self.comment.split("\n"):
            # An estimate of display_width(line) that needs no per-character loop: every
            # character outside ASCII takes two or more UTF-8 bytes, and most are CJK.
            width = len(line) + (len(line.encode()) - len(line)) // 2
            lines += max(1, math.ceil(width / COMMENT_LINE_COLUMNS))
        return {"width": COMMENT_WIDTH, "height": COMMENT_LINE_HEIGHT * lines + 12}


class CellFormats:
    """The formats of one workbook, made once per (fill, number format) pair."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self._cache: dict[tuple[Severity | None, str | None], Any] = {}
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
             "valign": "vcenter"}
        )

    def get(self, fill: Severity | None, number_format: str | None) -> Any:
        """Return the format with ``fill`` and ``number_format``; None when both are None."""
        key = (fill, number_format)
        try:
            return self._cache[key]
        except KeyError:
            pass
        properties: dict[str, Any] = {}
        if fill is not None:
            background, font = FILLS[fill]
            properties.update(bg_color=background, font_color=font, pattern=1)
        if number_format is not None:
            properties["num_format"] = number_format
        cell_format = self._workbook.add_format(properties) if properties else None
        self._cache[key] = cell_format
        return cell_format


def write_value(
    worksheet: Any,
    row: int,
    column: int,
    value: Any,
    formats: CellFormats,
    fill: Severity | None = None,
    text_column: bool = False,
) -> None:
    """Write ``value`` with its type: text as text, numbers as numbers, dates as dates.

    ``row`` and ``column`` count from 0. A blank value is written only when it has a
    fill. A formula error (:class:`CellError`) becomes a formula that shows the same
    error, so that sxpt reports it again. ``text_column`` gives text the text format.
    """
    kind = value.__class__
    if kind is str:
        if not value:
            if fill is not None:
                worksheet.write_blank(row, column, None, formats.get(fill, None))
            return
        _write_text(worksheet, row, column, value, formats.get(fill, TEXT_FORMAT if text_column else None))
    elif value is None:
        if fill is not None:
            worksheet.write_blank(row, column, None, formats.get(fill, None))
    elif kind is bool:
        worksheet.write_boolean(row, column, value, formats.get(fill, None))
    elif kind is int or kind is float or kind is Decimal:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            worksheet.write_number(row, column, number, formats.get(fill, None))
        else:
            _write_text(worksheet, row, column, str(value), formats.get(fill, None))
    elif kind is datetime.datetime:
        worksheet.write_datetime(row, column, value, formats.get(fill, DATETIME_FORMAT))
    elif kind is datetime.date:
        worksheet.write_datetime(row, column, value, formats.get(fill, DATE_FORMAT))
    elif kind is datetime.time:
        worksheet.write_datetime(row, column, value, formats.get(fill, TIME_FORMAT))
    elif kind is datetime.timedelta:
        worksheet.write_datetime(row, column, value, formats.get(fill, DURATION_FORMAT))
    elif kind is CellError:
        text = value.text
        formula = f"={text}" if text in FORMULA_ERROR_CONSTANTS else "=NA()"
        worksheet.write_formula(row, column, formula, formats.get(fill, None), text)
    else:
        _write_text(worksheet, row, column, str(value), formats.get(fill, None))


def _write_text(worksheet: Any, row: int, column: int, text: str, cell_format: Any) -> None:
    """Write ``text`` as a text cell, whatever it looks like.

    In constant-memory mode XlsxWriter 3.3 copies a string that starts with ``<r>`` and
    ends with ``</r>`` into the XML unescaped, as a rich string, which corrupts the cell.
    Such a text is written as a rich string of three plain parts (XlsxWriter rejects
    fewer), which reads back as the same text.
    """
    if text.startswith("<r>") and text.endswith("</r>"):
        parts = (text[:1], text[1:2], text[2:])
        if cell_format is None:
            worksheet.write_rich_string(row, column, *parts)
        else:
            worksheet.write_rich_string(row, column, *parts, cell_format)
    else:
        worksheet.write_string(row, column, text, cell_format)


# --- the output file ---------------------------------------------------------------


def check_output_path(
    out: str | os.PathLike[str], sources: Sequence[str | os.PathLike[str]] = ()
) -> Path:
    """Return ``out`` as a Path; raise OutputError when it cannot or must not be written."""
    path = Path(out)
    if path.suffix.lower() != ".xlsx":
        raise OutputError(
            f"输出文件 {path} 须是 .xlsx 工作簿，请把文件名改为以 .xlsx 结尾。",
            message_en=f"The output file {path} must be an .xlsx workbook; give it a name that "
            "ends in .xlsx.",
        )
    for source in sources:
        if _same_file(path, Path(source)):
            raise OutputError(
                f"输出文件 {path} 就是输入文件，写入会覆盖原始数据。请换一个文件名。",
                message_en=f"The output file {path} is the input file, and writing it would "
                "overwrite the original data. Choose another file name.",
            )
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"无法写入 {path}：文件夹 {folder} 不存在。请先创建它，或换一个位置。",
            message_en=f"Cannot write {path}: the folder {folder} does not exist. Create it "
            "first or choose another place.",
        )
    return path


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return False


def _write_failed(path: Path, error: OSError) -> OutputError:
    reason = error.strerror or str(error)
    return OutputError(
        f"无法写入 {path}：{reason}。如果这个文件正在 Excel 或 WPS 中打开，请先关闭；"
        "否则请检查文件夹的权限。",
        message_en=f"Cannot write {path}: {reason}. If the file is open in Excel or WPS, "
        "close it; otherwise check the folder's permissions.",
    )


@contextlib.contextmanager
def output_workbook(
    out: str | os.PathLike[str], *, sources: Sequence[str | os.PathLike[str]] = ()
) -> Iterator[Any]:
    """Yield a constant-memory XlsxWriter workbook that becomes ``out`` on success.

    The workbook is written to a temporary file in the same folder and renamed over
    ``out`` only when the block ends without an exception. ``sources`` are input files
    that ``out`` must not be. Raises OutputError for a path that cannot be written.
    """
    path = check_output_path(out, sources)
    descriptor, temporary = tempfile.mkstemp(suffix=".xlsx", prefix=".sxpt-", dir=path.parent)
    os.close(descriptor)
    workbook = xlsxwriter.Workbook(temporary, {"constant_memory": True})
    try:
        yield workbook
        try:
            workbook.close()
            os.replace(temporary, path)
        except xlsxwriter.exceptions.FileCreateError as error:
            # XlsxWriter wraps the OSError of writing the package as its first argument.
            cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else None
            raise _write_failed(path, cause or OSError(str(error))) from None
        except OSError as error:
            raise _write_failed(path, error) from None
    finally:
        # After a failure, closing deletes the temporary files of XlsxWriter's
        # constant-memory worksheets; the package it writes is then removed.
        if not workbook.fileclosed:
            with contextlib.suppress(Exception):
                workbook.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


# --- the template's layout ---------------------------------------------------------


@attrs.frozen
class TemplateLayout:
    """The columns of a workbook in template order, and where each is in a read table.

    ``sources[i]`` is the position in :attr:`Table.columns` of ``columns[i]``, or None
    when the user's file lacks that column. Columns that the template does not export
    (such as 专业) are part of the layout only when the file has them.
    """

    columns: tuple[Column, ...]
    sources: tuple[int | None, ...]

    @classmethod
    def for_table(cls, template: Template, table: Table) -> TemplateLayout:
        positions = {
            source.column.header: position
            for position, source in enumerate(table.columns)
            if source.column is not None
        }
        columns = tuple(
            column for column in template.columns
            if column.exported or column.header in positions
        )
        return cls(columns, tuple(positions.get(column.header) for column in columns))

    def positions_by_letter(self, table: Table) -> dict[str, int]:
        """Return {the user's column letter: its position in this layout}."""
        return {
            table.columns[source].letter: position
            for position, source in enumerate(self.sources)
            if source is not None
        }


class TemplateSheet:
    """A worksheet in a template's layout: the header on row 1, then one row per call.

    Identifier-like columns (:data:`~sxpt_core.io.template_writer.TEXT_KINDS`) carry the
    text format, code-list columns a drop-down list of their values. ``extra_headers``
    are columns after the template's, such as 原行号.
    """

    def __init__(
        self,
        workbook: Any,
        formats: CellFormats,
        columns: Sequence[Column],
        *,
        name: str,
        extra_headers: Sequence[str] = (),
    ) -> None:
        self.worksheet = workbook.add_worksheet(name)
        self.formats = formats
        self.text_columns = [column.kind in TEXT_KINDS for column in columns]
        self.rows = 0
        worksheet = self.worksheet
        headers = [column.header for column in columns] + list(extra_headers)
        for position, header in enumerate(headers):
            text_format = formats.get(None, TEXT_FORMAT) if (
                position < len(columns) and self.text_columns[position]) else None
            width = min(max(display_width(header) + 2, 10), 40)
            worksheet.set_column(position, position, width, text_format)
            worksheet.write_string(0, position, header, formats.header)
        for position, column in enumerate(columns):
            # Excel keeps an inline list of at most LIST_LIMIT characters.
            if column.choices and len(",".join(column.choices)) <= LIST_LIMIT:
                worksheet.data_validation(
                    1, position, LAST_ROW, position,
                    {"validate": "list", "source": list(column.choices)},
                )
        worksheet.freeze_panes(1, 0)

    def write_row(
        self, values: Sequence[Any], notes: Mapping[int, CellNote] | None = None
    ) -> None:
        """Write ``values`` (one per header) on the next row; ``notes`` by position."""
        self.rows += 1
        row = self.rows
        worksheet = self.worksheet
        text_columns = self.text_columns
        for position, value in enumerate(values):
            note = notes.get(position) if notes else None
            text_column = position < len(text_columns) and text_columns[position]
            fill = note.severity if note is not None else None
            write_value(worksheet, row, position, value, self.formats, fill, text_column)
            if note is not None:
                worksheet.write_comment(row, position, note.comment, note.comment_options())


def write_normalised(
    table: Table,
    validation: Validation,
    out: str | os.PathLike[str],
    *,
    template: Template,
    sources: Sequence[str | os.PathLike[str]] = (),
) -> WrittenWorkbook:
    """Write every row of ``table`` to ``out`` in the template's layout, normalised.

    Each cell gets its normalised value from ``validation`` (made from ``table``). A
    cell whose value the normalisers rejected keeps the user's raw value, so that
    validating the output reports it again; blank cells stay blank.
    """
    layout = TemplateLayout.for_table(template, table)
    values_by_row = dict(validation.rows)
    written = kept = 0
    with output_workbook(out, sources=sources) as workbook:
        sheet = TemplateSheet(workbook, CellFormats(workbook), layout.columns, name=template.title)
        for source_row in table.rows:
            values = values_by_row.get(source_row.number, {})
            cells = []
            for column, source in zip(layout.columns, layout.sources):
                raw = source_row.values[source] if source is not None else None
                value = values.get(column.attr)
                if value is not None:
                    cells.append(_written_value(column, value))
                elif is_blank(raw):
                    cells.append(None)
                else:
                    cells.append(raw)
                    kept += 1
            sheet.write_row(cells)
            written += 1
    return WrittenWorkbook("normalised", Path(out), rows=written, kept_cells=kept)


def _written_value(column: Column, value: Any) -> Any:
    """Return a normalised value as the workbook shows it: yes/no columns as 是 / 否."""
    if column.kind in YES_NO_KINDS and isinstance(value, bool):
        return "是" if value else "否"
    return value
