"""Workbooks that show a report inside the user's own data.

:func:`write_annotated` writes the user's data sheet back, every row as the user had it
(title rows too, each value with its type). Every faulty cell is filled red for an error
or yellow for a warning or a normalisation, and has a comment with the codes and
messages. A second sheet, 问题清单, lists every issue and normalisation in reading
order. :func:`write_errors_only` writes only the rows with errors, with the user's raw
values in the template's column layout and the original row number in a last column
原行号, so they can be fixed and validated on their own.

Both read the source file again, because a report contains the issues but not the
cells. Row-level issues (no column, such as a hidden row) mark the first cell of their
row. Issues of the whole file appear only in the issues sheet.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from sxpt_core.catalogue import Severity, get_rule
from sxpt_core.errors import ConfigError
from sxpt_core.io import ZIP_SIGNATURES, read_table
from sxpt_core.io.csv import _find_header, _records, _unwrap_formula_text, decode_text
from sxpt_core.io.table import (
    FORMULA_ERROR,
    HEADER_SCAN_ROWS,
    HIDDEN_ROW,
    CellError,
    CellValue,
    Table,
    column_index,
    find_header_row,
)
from sxpt_core.io.template_writer import DATE_FORMAT, TEXT_KINDS, display_width
from sxpt_core.io.xlsx import _load_sheet, _open_workbook
from sxpt_core.io.xlsx_writer import (
    CellFormats,
    CellNote,
    TemplateLayout,
    TemplateSheet,
    WrittenWorkbook,
    output_workbook,
    write_value,
)
from sxpt_core.models import Issue, Normalisation, Report
from sxpt_core.templates import Template, get_template, template_names

if TYPE_CHECKING:
    from sxpt_core.validate import Validation

__all__ = [
    "SOURCE_ROW_HEADER",
    "IssueEntry",
    "issue_entries",
    "template_of",
    "write_annotated",
    "write_errors_only",
]

# Header of the errors-only workbook's last column: the row number in the user's file.
# The reader does not know it, so it reports SXPT-W-FILE-UNKNOWN-COLUMN and skips it.
SOURCE_ROW_HEADER = "原行号"

ISSUE_SHEET_NAMES = ("问题清单", "Issues")
ISSUE_HEADERS = (
    ("行", "列", "字段", "值", "级别", "代码", "说明", "修改提示"),
    ("Row", "Column", "Field", "Value", "Severity", "Code", "Message", "Hint"),
)
ISSUE_COLUMN_WIDTHS = (7, 6, 26, 26, 8, 30, 60, 60)
SEVERITY_WORDS = {Severity.ERROR: ("错误", "error"), Severity.WARNING: ("警告", "warning")}
HINT_WORDS = ("提示", "Hint")
# The sentence of a normalisation whose rule message needs more than the two values.
NORMALISED_WORDS = ("“{value}” 已读作 “{text}”", "'{value}' was read as '{text}'")

Source = str | os.PathLike[str] | bytes | IO[bytes]


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


# --- the report as entries and notes -------------------------------------------------


@attrs.frozen
class IssueEntry:
    """One line of the issues sheet: an issue or a normalisation, with its texts rendered.

    ``row`` and ``column`` are None for problems of the whole file; ``column`` is None
    for problems of a whole row.
    """

    row: int | None
    column: str | None
    field: str | None
    value: str | None
    severity: Severity
    code: str
    message: str
    hint: str

    def comment_entry(self, lang: str) -> str:
        """Return this entry as a cell comment shows it: severity, code, message, hint."""
        severity = _pick(SEVERITY_WORDS[self.severity], lang)
        separator = ": " if lang == "en" else "："
        text = f"[{severity}] {self.code}{separator}{self.message}"
        if self.hint:
            text += f"\n{_pick(HINT_WORDS, lang)}{separator}{self.hint}"
        return text


def issue_entries(report: Report, lang: str = "zh") -> list[IssueEntry]:
    """Return every issue and normalisation of ``report`` in reading order.

    Problems of the whole file come first, then by row and column; at one cell the
    issues come before the normalisation.
    """
    entries = [_issue_entry(issue, lang) for issue in report.issues]
    entries += [_normalisation_entry(entry, lang) for entry in report.normalised]

    def reading_order(entry: IssueEntry) -> tuple[int, int]:
        column = column_index(entry.column) if entry.column else -1
        return (entry.row or 0, column)

    # sorted() is stable, so the validator's order (by layer) stays within a cell.
    return sorted(entries, key=reading_order)


def _issue_entry(issue: Issue, lang: str) -> IssueEntry:
    return IssueEntry(issue.row, issue.column, issue.field, issue.value, issue.severity,
                      issue.code, issue.message(lang), issue.hint(lang))


def _normalisation_entry(entry: Normalisation, lang: str) -> IssueEntry:
    rule = get_rule(entry.code)
    params = {"value": entry.original, "text": entry.normalised}
    message = _render(_pick(rule.message, lang), params)
    if message is None:
        message = _pick(NORMALISED_WORDS, lang).format(**params)
    hint = _render(_pick(rule.hint, lang), params) or ""
    return IssueEntry(entry.row, entry.column, entry.field, entry.original, Severity.WARNING,
                      entry.code, message, hint)


def _render(template: str, params: Mapping[str, str]) -> str | None:
    """Return ``template`` filled from ``params``, or None when it needs other parameters.

    A normalisation keeps only its two values, so a rule message that names more (such
    as the county of a city code) cannot be filled from it.
    """
    try:
        return template.format_map(params)
    except (KeyError, IndexError, ValueError):
        return None


RowNotes = dict[str | None, CellNote]


def collect_notes(entries: Iterable[IssueEntry], lang: str) -> dict[int, RowNotes]:
    """Return {Excel row: {column letter, or None for the row itself: note}}."""
    notes: dict[int, RowNotes] = {}
    for entry in entries:
        if entry.row is None:
            continue
        row_notes = notes.setdefault(entry.row, {})
        note = row_notes.get(entry.column)
        if note is None:
            note = row_notes[entry.column] = CellNote()
        note.add(entry.severity, entry.comment_entry(lang))
    return notes


def _place_notes(row_notes: RowNotes, positions: Mapping[str, int], first: int) -> dict[int, CellNote]:
    """Return ``row_notes`` by output column; a row's own note goes to column ``first``.

    A letter missing from ``positions`` (a column that the output lacks) also goes to
    ``first``, because its message still names the cell.
    """
    placed: dict[int, CellNote] = {}
    for letter, note in sorted(row_notes.items(), key=lambda item: item[0] is None):
        position = positions.get(letter, first) if letter is not None else first
        if position in placed:
            placed[position].merge(note)
        else:
            placed[position] = CellNote(note.severity, list(note.entries))
    return placed


def template_of(report: Report) -> Template:
    """Return the registered template that ``report`` names, such as 实习数据/2024."""
    for name in template_names():
        kind, version = name.split("/", 1)
        template = get_template(kind, version)
        if template.name == report.template:
            return template
    raise ConfigError(
        f"没有名为 {report.template} 的模板，无法写出这份报告的工作簿。",
        message_en=f"No template is named {report.template}, so the report's workbook "
        "cannot be written.",
    )


def report_sheet(report: Report) -> str | None:
    """Return the sheet that ``report``'s issues name, or None (always None for CSV)."""
    sheets = [issue.sheet for issue in report.issues]
    sheets += [entry.sheet for entry in report.normalised]
    return next((sheet for sheet in sheets if sheet is not None), None)


# --- the user's file read again ------------------------------------------------------


@attrs.frozen
class _SourceFile:
    """The user's file as a path or as bytes, with the name used in messages."""

    path: str | None
    data: bytes | None
    name: str

    @classmethod
    def load(cls, source: Source, filename: str | None) -> _SourceFile:
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            return cls(path, None, filename or os.path.basename(path))
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls(None, bytes(source), filename or "(未命名文件)")
        stream_name = getattr(source, "name", None)
        name = filename or (os.path.basename(stream_name) if isinstance(stream_name, str) else None)
        return cls(None, source.read(), name or "(未命名文件)")

    @property
    def content(self) -> str | bytes:
        """Return what the readers take: the path, else the bytes."""
        return self.path if self.path is not None else self.data  # type: ignore[return-value]

    def is_workbook(self) -> bool:
        if self.data is not None:
            return self.data.startswith(ZIP_SIGNATURES)
        assert self.path is not None
        with open(self.path, "rb") as stream:
            return stream.read(4).startswith(ZIP_SIGNATURES)

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return Path(self.path).read_bytes()

    def paths(self) -> tuple[str, ...]:
        return (self.path,) if self.path is not None else ()


@attrs.frozen
class _Grid:
    """The cells of the user's data sheet, row by row from ``first_row`` (0-based).

    Each row lists the values from ``first_column`` on; an empty cell is "".
    ``merged`` contains (top, left, bottom, right) of each merged range, 0-based.
    """

    title: str
    rows: Iterator[Sequence[CellValue]]
    first_row: int
    first_column: int
    merged: tuple[tuple[int, int, int, int], ...] = ()


def _xlsx_grid(file: _SourceFile, sheet: str) -> _Grid:
    workbook = _open_workbook(file.content, file.name)
    loaded = _load_sheet(workbook, sheet, file.name)
    start = loaded.start or (0, 0)
    # python-calamine 0.9.1 yields start[0] empty rows before the used range.
    rows = itertools.islice(iter(loaded.iter_rows()), start[0], None)
    merged = tuple(
        (top, left, bottom, right)
        for (top, left), (bottom, right) in loaded.merged_cell_ranges or ()
    )
    return _Grid(sheet, rows, start[0], start[1], merged)


def _csv_grid(file: _SourceFile, template: Template) -> _Grid:
    text = decode_text(file.read_bytes(), file.name)
    delimiter, _, _ = _find_header(text, template, file.name)
    records: Iterator[list[str]] = iter(_records(text, delimiter, file.name))
    if '="' in text:
        records = ([_unwrap_formula_text(value) for value in record] for record in records)
    return _Grid(template.title, records, 0, 0)


# --- the annotated workbook ----------------------------------------------------------


def write_annotated(
    source: Source,
    report: Report,
    out: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    filename: str | None = None,
    lang: str = "zh",
) -> WrittenWorkbook:
    """Write the user's data sheet with every issue of ``report`` marked, and an issues sheet.

    ``source`` (a path, bytes, or a binary file object read from its current position)
    must be the file that ``report`` was made from. A CSV file gives a workbook too.
    ``sheet`` names the data sheet of a workbook. By default it is the sheet the report
    names, else the one the reader finds. Comments and the issues sheet are in ``lang``
    (zh or en).

    Formulas are written as the values they showed, and a formula error as a formula
    that shows the same error. Merged ranges are kept, and so are the hidden rows that
    the report names (hidden data rows; a hidden title row is shown). Other formatting,
    column widths and the workbook's other sheets are not copied.
    """
    template = template_of(report)
    file = _SourceFile.load(source, filename)
    hidden_rows = {issue.row for issue in report.issues if issue.code == HIDDEN_ROW.code}
    error_texts = {
        (issue.row, column_index(issue.column)): issue.value or "#VALUE!"
        for issue in report.issues
        if issue.code == FORMULA_ERROR.code and issue.row is not None and issue.column
    }

    workbook_input = file.is_workbook()
    if workbook_input:
        sheet = sheet or report_sheet(report)
        if sheet is None:
            sheet = read_table(file.content, template, filename=file.name).sheet
        assert sheet is not None
        title = sheet
    else:
        title = template.title
    issue_sheet_name = _pick(ISSUE_SHEET_NAMES, lang)
    if issue_sheet_name == title:
        issue_sheet_name += " (2)"

    with output_workbook(out, sources=file.paths()) as workbook, \
            concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        # python-calamine releases the GIL while it loads a sheet, so the issues sheet
        # is written meanwhile.
        if workbook_input:
            pending = pool.submit(_xlsx_grid, file, title)
        else:
            pending = pool.submit(_csv_grid, file, template)
        entries = issue_entries(report, lang)
        notes = collect_notes(entries, lang)
        formats = CellFormats(workbook)
        data_sheet = workbook.add_worksheet(title)
        _write_issue_sheet(workbook.add_worksheet(issue_sheet_name), entries, formats, lang)
        grid = pending.result()
        marked = _write_grid(data_sheet, grid, template, notes, hidden_rows, error_texts, formats)
    return WrittenWorkbook("annotated", Path(out), rows=report.rows, marked_cells=marked,
                           entries=len(entries))


def _write_grid(
    worksheet: Any,
    grid: _Grid,
    template: Template,
    notes: Mapping[int, RowNotes],
    hidden_rows: set[int | None],
    error_texts: Mapping[tuple[int, int], str],
    formats: CellFormats,
) -> int:
    """Write every row of ``grid`` at its own place and return the number of marked cells."""
    head = list(itertools.islice(grid.rows, HEADER_SCAN_ROWS))
    first_row, first_column = grid.first_row, grid.first_column
    header_position = find_header_row(head, template)
    header_row: int | None = None

    # Identifier columns below the header, by position. A faulty cell in them gets the
    # text format, so that a value typed over it keeps its leading zeros. Clean cells
    # get none: a format on every cell of five columns made the write of 100,000 rows
    # about 4% slower (benchmarks/annotate_bench.py).
    no_text_columns: list[bool] = [False] * max(map(len, head), default=0)
    data_text_columns = no_text_columns
    if header_position is not None:
        header_row = first_row + header_position
        header = head[header_position]
        data_text_columns = [_is_text_column(value, template) for value in header]
        for offset, value in enumerate(header):
            if isinstance(value, str) and value.strip():
                width = min(max(display_width(value.strip()) + 2, 8), 40)
                worksheet.set_column(first_column + offset, first_column + offset, width)
        worksheet.freeze_panes(header_row + 1, 0)

    for top, left, bottom, right in grid.merged:
        # An empty value without a format writes no cell, so the range can be recorded
        # before its rows. The top-left value is written with its row.
        worksheet.merge_range(top, left, bottom, right, "", None)

    positions: dict[str, int] = {}
    marked = 0
    write_string = worksheet.write_string
    write_number = worksheet.write_number
    write_datetime = worksheet.write_datetime
    date_format = formats.get(None, DATE_FORMAT)
    for row, values in enumerate(itertools.chain(head, grid.rows), first_row):
        number = row + 1
        if number in hidden_rows:
            worksheet.set_row(row, None, None, {"hidden": True})

        # Every value first, with as few calls as possible: most rows have no issue.
        for column, value in enumerate(values, first_column):
            kind = value.__class__
            if kind is str:
                if value and value[:3] != "<r>":  # type: ignore[index]  # value is a str
                    write_string(row, column, value)
                elif value:
                    write_value(worksheet, row, column, value, formats)
            elif kind is float:
                write_number(row, column, value)
            elif kind is datetime.date:
                write_datetime(row, column, value, date_format)
            else:
                write_value(worksheet, row, column, value, formats)

        # Then the faulty cells again, with their fills and comments. XlsxWriter keeps
        # the current row until the next one starts, so a second write replaces the first.
        row_notes = notes.get(number)
        if row_notes is not None:
            placed = _place_notes(row_notes, _column_positions(row_notes, positions), first_column)
            text_columns = data_text_columns if header_row is not None and row > header_row \
                else no_text_columns
            _mark_cells(worksheet, row, values, first_column, placed, text_columns, error_texts,
                        formats)
            marked += len(placed)
    return marked


def _is_text_column(header: CellValue, template: Template) -> bool:
    if not isinstance(header, str):
        return False
    column = template.column_for(header)
    return column is not None and column.kind in TEXT_KINDS


def _column_positions(row_notes: RowNotes, cache: dict[str, int]) -> dict[str, int]:
    for letter in row_notes:
        if letter is not None and letter not in cache:
            cache[letter] = column_index(letter)
    return cache


def _mark_cells(
    worksheet: Any,
    row: int,
    values: Sequence[CellValue],
    first_column: int,
    placed: Mapping[int, CellNote],
    text_columns: Sequence[bool],
    error_texts: Mapping[tuple[int, int], str],
    formats: CellFormats,
) -> None:
    """Write the cells of ``placed`` on ``row`` with their fills and comments."""
    for column, note in placed.items():
        offset = column - first_column
        # A note may sit beyond the row's values, such as on a blank cell past the used range.
        value = values[offset] if 0 <= offset < len(values) else None
        if value == "" and (row + 1, column) in error_texts:
            # calamine reads a formula error as an empty cell; the report has its text.
            value = CellError(error_texts[(row + 1, column)])
        text_column = 0 <= offset < len(text_columns) and text_columns[offset]
        write_value(worksheet, row, column, value, formats, note.severity, text_column)
        worksheet.write_comment(row, column, note.comment, note.comment_options())


def _write_issue_sheet(
    worksheet: Any, entries: Sequence[IssueEntry], formats: CellFormats, lang: str
) -> None:
    """Write the issues sheet: one row per entry under a frozen, filtered header."""
    headers = ISSUE_HEADERS[1 if lang == "en" else 0]
    for position, (header, width) in enumerate(zip(headers, ISSUE_COLUMN_WIDTHS)):
        worksheet.set_column(position, position, width)
        worksheet.write_string(0, position, header, formats.header)
    for row, entry in enumerate(entries, 1):
        if entry.row is not None:
            worksheet.write_number(row, 0, entry.row)
        cells = (entry.column, entry.field, entry.value)
        for position, text in enumerate(cells, 1):
            if text:
                write_value(worksheet, row, position, text, formats)
        severity = _pick(SEVERITY_WORDS[entry.severity], lang)
        worksheet.write_string(row, 4, severity, formats.get(entry.severity, None))
        worksheet.write_string(row, 5, entry.code)
        write_value(worksheet, row, 6, entry.message, formats)
        if entry.hint:
            write_value(worksheet, row, 7, entry.hint, formats)
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, max(len(entries), 1), len(headers) - 1)


# --- the errors-only workbook --------------------------------------------------------


def write_errors_only(
    source: Source,
    validation: Validation,
    out: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    filename: str | None = None,
    lang: str = "zh",
    table: Table | None = None,
) -> WrittenWorkbook:
    """Write the rows of ``validation`` that have errors, to be fixed and validated again.

    ``validation`` is the :class:`~sxpt_core.validate.Validation` of ``source``. The rows
    are written in the template's column layout with the user's raw values, the header
    on row 1 and the original row number in a last column, 原行号. Every faulty cell is
    filled and commented as in :func:`write_annotated`. Issues of the header row and of
    the whole file are not shown, because the new layout replaces the user's. Pass the
    ``table`` read from ``source`` to avoid reading it again.
    """
    report = validation.report
    template = template_of(report)
    file = _SourceFile.load(source, filename)
    if table is None:
        table = read_table(file.content, template, filename=file.name,
                           sheet=sheet or report_sheet(report))
    layout = TemplateLayout.for_table(template, table)
    positions = layout.positions_by_letter(table)
    notes = collect_notes(issue_entries(report, lang), lang)
    error_rows = validation.error_rows

    written = marked = 0
    with output_workbook(out, sources=file.paths()) as workbook:
        output = TemplateSheet(workbook, CellFormats(workbook), layout.columns,
                               name=template.title, extra_headers=(SOURCE_ROW_HEADER,))
        for source_row in table.rows:
            if source_row.number not in error_rows:
                continue
            values: list[Any] = [
                source_row.values[position] if position is not None else None
                for position in layout.sources
            ]
            values.append(source_row.number)
            placed = _place_notes(notes.get(source_row.number, {}), positions, 0)
            output.write_row(values, placed)
            written += 1
            marked += len(placed)
    return WrittenWorkbook("errors_only", Path(out), rows=written, marked_cells=marked)
