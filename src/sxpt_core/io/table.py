"""The row model every reader produces: cells with their place in the user's file.

This module also contains what the xlsx and CSV readers share: the read limits, the FILE
layer rules (merged cells, formula errors, hidden rows, column problems, long cells),
finding the header row, mapping header cells to template columns and turning raw rows
into :class:`SourceRow` values.
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import attrs

from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.errors import FileTooLargeError
from sxpt_core.models import Issue
from sxpt_core.templates import Column, Template

__all__ = [
    "CELL_TOO_LONG",
    "DEFAULT_LIMITS",
    "DUPLICATE_COLUMN",
    "EXCEL_ERRORS",
    "FORMULA_ERROR",
    "HEADER_SCAN_ROWS",
    "HIDDEN_ROW",
    "MERGED_CELLS",
    "MISSING_COLUMN",
    "UNKNOWN_COLUMN",
    "UNNAMED_COLUMN",
    "CellError",
    "CellValue",
    "ReadLimits",
    "SourceColumn",
    "SourceRow",
    "Table",
    "column_index",
    "column_letter",
]


@attrs.frozen
class CellError:
    """A formula error shown in a cell, such as ``#N/A`` or ``#VALUE!``."""

    text: str

    def __str__(self) -> str:
        return self.text


CellValue = (
    str | int | float | bool | datetime.date | datetime.datetime | datetime.time
    | datetime.timedelta | CellError | None
)


@attrs.frozen
class SourceColumn:
    """A column of the user's sheet: position, Excel letter, header text, template column.

    ``index`` is the 0-based column number in the sheet (column A is 0). ``column`` is
    None for a column that is not read: an unknown or blank header, or the second copy
    of a template column.
    """

    index: int
    letter: str
    header: str
    column: Column | None


@attrs.frozen
class SourceRow:
    """One non-blank data row; ``number`` is the row number Excel shows (for CSV, the record).

    ``values`` are aligned with :attr:`Table.columns`. An empty cell is None; a cell
    containing only whitespace keeps its text, which the normalisers trim.
    """

    number: int
    values: tuple[CellValue, ...]
    hidden: bool = False


@attrs.frozen
class Table:
    """A data sheet found in a workbook or CSV file, ready for normalisation.

    ``issues`` are problems of the file itself (merged cells, formula errors, hidden rows,
    missing or repeated columns), already placed at their cells. The readers in
    :mod:`sxpt_core.io` fill ``rows`` with a list, read in full before they return.
    """

    sheet: str | None
    header_row: int
    columns: tuple[SourceColumn, ...]
    rows: Iterable[SourceRow]
    issues: tuple[Issue, ...] = ()
    # True when the workbook counts date serial numbers from 1904 (an option of Excel
    # for Mac); plain numbers in date columns are then 1,462 days later.
    date1904: bool = False


MIB = 1024 * 1024


@attrs.frozen
class ReadLimits:
    """Limits that keep reading a hostile or broken file bounded in time and memory.

    ``max_cells`` bounds the used range (rows × columns) of a worksheet, because
    python-calamine allocates the whole range at once, about 32 bytes per cell
    in version 0.9.1, even when most cells are empty.
    """

    max_file_bytes: int = 50 * MIB
    max_rows: int = 200_000
    max_uncompressed_bytes: int = 500 * MIB
    max_compression_ratio: int = 100
    max_cells: int = 16_000_000
    max_cell_chars: int = 32_767


DEFAULT_LIMITS = ReadLimits()


# Excel's own error values; a cell showing one of them contains no usable data.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
     "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)

# How many rows from the top of the used range are searched for the header row.
HEADER_SCAN_ROWS = 20

# A row is a header row when at least this many of its cells name template columns...
HEADER_MIN_MATCHES = 3
# ...and it names at least this share of the template's required columns.
HEADER_REQUIRED_SHARE = 0.5


MERGED_CELLS = Rule(
    code="SXPT-E-FILE-MERGED",
    severity=Severity.ERROR,
    layer=Layer.FILE,
    fields=(),
    statement=("数据区域（表头行及以下）不能有合并单元格。",
               "The data area, the header row and the rows below it, must not contain "
               "merged cells."),
    message=("单元格 {range} 是合并单元格", "Cells {range} are merged"),
    hint=("取消合并，并在每一行填写完整的值。",
          "Unmerge the cells and fill in the value on every row."),
)

FORMULA_ERROR = Rule(
    code="SXPT-E-FILE-FORMULA-ERROR",
    severity=Severity.ERROR,
    layer=Layer.FILE,
    fields=(),
    statement=("单元格不能是公式错误值，例如 #N/A、#VALUE!。",
               "A cell must not show a formula error such as #N/A or #VALUE!."),
    message=("单元格 {cell} 的公式出错，显示为 {error}",
             "Cell {cell} shows the formula error {error}"),
    hint=("检查这个公式引用的单元格，或直接填写正确的值。",
          "Check the cells that the formula refers to, or type the correct value."),
)

HIDDEN_ROW = Rule(
    code="SXPT-W-FILE-HIDDEN-ROW",
    severity=Severity.WARNING,
    layer=Layer.FILE,
    fields=(),
    statement=("隐藏的行也按数据读取和上报。",
               "Hidden rows are read and reported like any other row."),
    message=("第 {row} 行被隐藏（或被筛选掉），仍按数据读取",
             "Row {row} is hidden or filtered out, and is still read as data"),
    hint=("如果这一行不需要上报，请删除它；否则取消隐藏后核对内容。",
          "Delete the row if it should not be reported; otherwise unhide it and check it."),
)

UNKNOWN_COLUMN = Rule(
    code="SXPT-W-FILE-UNKNOWN-COLUMN",
    severity=Severity.WARNING,
    layer=Layer.FILE,
    fields=(),
    statement=("表头不在模板中的列不会被读取。",
               "Columns whose header is not in the template are not read."),
    message=("{column} 列的表头“{header}”不是模板中的列，该列不会被读取",
             "Column {column} has the header '{header}', which is not in the template, so the "
             "column is not read"),
    hint=("如果它应当是模板中的某一列，请把表头改成模板中的写法；不需要的列可以删除。",
          "If it is meant to be a template column, use the template's header text; "
          "otherwise you may delete the column."),
)

UNNAMED_COLUMN = Rule(
    code="SXPT-W-FILE-UNNAMED-COLUMN",
    severity=Severity.WARNING,
    layer=Layer.FILE,
    fields=(),
    statement=("没有表头的列不会被读取。", "Columns without a header are not read."),
    message=("{column} 列没有表头，但有数据，该列不会被读取",
             "Column {column} has data but no header, so the column is not read"),
    hint=("在第 {row} 行（表头行）补上表头，或删除这一列。",
          "Add a header in row {row}, the header row, or delete the column."),
)

DUPLICATE_COLUMN = Rule(
    code="SXPT-E-FILE-DUPLICATE-COLUMN",
    severity=Severity.ERROR,
    layer=Layer.FILE,
    fields=(),
    statement=("模板中的每一列只能出现一次。", "Each template column may appear only once."),
    message=("“{header}”列出现了不止一次：{first} 列和 {second} 列",
             "The column '{header}' appears more than once: columns {first} and {second}"),
    hint=("删除多余的列。删除之前只读取 {first} 列。",
          "Delete the extra column. Until then only column {first} is read."),
)

MISSING_COLUMN = Rule(
    code="SXPT-E-FILE-MISSING-COLUMN",
    severity=Severity.ERROR,
    layer=Layer.FILE,
    fields=(),
    statement=("模板中的必填列都必须有。",
               "Every required column of the template must be present."),
    message=("缺少必填列“{header}”", "The required column '{header}' is missing"),
    hint=("在第 {row} 行（表头行）加入表头为“{header}”的列。",
          "Add a column with the header '{header}' to row {row}, the header row."),
)

CELL_TOO_LONG = Rule(
    code="SXPT-E-FILE-CELL-TOO-LONG",
    severity=Severity.ERROR,
    layer=Layer.FILE,
    fields=(),
    statement=("单元格内容不能超过 Excel 单元格的上限 32,767 个字符。",
               "A cell must not hold more than 32,767 characters, Excel's own limit."),
    message=("单元格 {cell} 有 {length} 个字符，超过上限 {limit} 个字符",
             "Cell {cell} contains {length} characters, more than the limit of {limit}"),
    hint=("删减内容。检查时只读取前 {limit} 个字符。",
          "Shorten the text. Only the first {limit} characters are checked."),
)


def column_letter(index: int) -> str:
    """Return the Excel letters of the 0-based column ``index``.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """Return the 0-based column number of the Excel column ``letters``.

    >>> column_index("A"), column_index("AH"), column_index("XFD")
    (0, 33, 16383)
    """
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def _header_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def header_matches(values: Sequence[CellValue], template: Template) -> tuple[int, int]:
    """Return how many template columns, and how many required ones, ``values`` name."""
    found = {template.column_for(value) for value in values if isinstance(value, str)}
    found.discard(None)
    required = sum(1 for column in found if column is not None and column.required)
    return len(found), required


def is_header_row(values: Sequence[CellValue], template: Template) -> bool:
    """Return whether ``values`` look like the template's header row.

    The row must name at least half of the template's required columns, and at least
    ``HEADER_MIN_MATCHES`` template columns. A template with fewer required columns
    than that needs only as many as it has.
    """
    matched, required = header_matches(values, template)
    needed = min(HEADER_MIN_MATCHES, max(len(template.required), 1))
    needed_required = math.ceil(len(template.required) * HEADER_REQUIRED_SHARE)
    return matched >= needed and required >= needed_required


def find_header_row(rows: Sequence[Sequence[CellValue]], template: Template) -> int | None:
    """Return the index in ``rows`` of the header row, or None when there is none.

    When several rows qualify, the one naming the most template columns wins, and the
    upper one on a tie.
    """
    best: int | None = None
    best_matched = 0
    for position, values in enumerate(rows):
        if not is_header_row(values, template):
            continue
        matched, _ = header_matches(values, template)
        if matched > best_matched:
            best, best_matched = position, matched
    return best


@attrs.frozen
class SheetPlace:
    """Position of a table: sheet name (None for CSV), header row, first column index."""

    sheet: str | None
    header_row: int
    first_column: int


# Columns that sxpt's own errors-only workbook adds after the template's columns.
BOOKKEEPING_HEADERS = frozenset({"原行号"})


def map_columns(
    header: Sequence[CellValue], place: SheetPlace, template: Template
) -> tuple[tuple[SourceColumn, ...], list[Issue]]:
    """Map the header cells to template columns and report column problems.

    Unknown headers give a warning, a template column seen again gives an error (only its
    first copy is read), and every required column that is absent gives an error.
    """
    columns: list[SourceColumn] = []
    issues: list[Issue] = []
    first_letter: dict[str, str] = {}

    for offset, value in enumerate(header):
        index = place.first_column + offset
        letter = column_letter(index)
        text = _header_text(value)
        column = template.column_for(text) if text else None

        if text in BOOKKEEPING_HEADERS:
            pass  # written by sxpt itself next to the data; read as nothing, silently
        elif text and column is None:
            finding = UNKNOWN_COLUMN(column=letter, header=text)
            issues.append(_place(finding, place, letter, text, text))
        elif column is not None and column.header in first_letter:
            first = first_letter[column.header]
            finding = DUPLICATE_COLUMN(header=column.header, first=first, second=letter)
            issues.append(_place(finding, place, letter, column.header, text))
            column = None
        elif column is not None:
            first_letter[column.header] = letter

        columns.append(SourceColumn(index=index, letter=letter, header=text, column=column))

    for column in template.required:
        if column.header not in first_letter:
            finding = MISSING_COLUMN(header=column.header, row=place.header_row)
            issues.append(Issue.from_finding(
                finding, sheet=place.sheet, row=place.header_row, column=None,
                field=column.header, value=None,
            ))
    return tuple(columns), issues


def _place(
    finding: Finding, place: SheetPlace, letter: str, field: str | None, value: str | None
) -> Issue:
    return Issue.from_finding(
        finding, sheet=place.sheet, row=place.header_row, column=letter, field=field, value=value
    )


def field_name(column: SourceColumn) -> str | None:
    """Return the field a column reports under: the template header, else the sheet's."""
    if column.column is not None:
        return column.column.header
    return column.header or None


def shorten(text: str, length: int = 50) -> str:
    """Return ``text`` cut to ``length`` characters with an ellipsis, for reports."""
    return text if len(text) <= length else text[:length] + "…"


_BLANK_TO_NONE: Mapping[object, None] = {"": None}


@attrs.define
class RowCollector:
    """Collector that turns numbered raw rows into :class:`SourceRow` values and FILE issues.

    Raw rows are sequences aligned with ``columns``; an empty string is an empty cell.
    ``hidden_rows`` and ``cell_errors`` (row number → position in the row → error text) come
    from the xlsx reader's scan of the sheet XML. With ``text_errors`` set, cells whose
    text is an Excel error value (``#N/A`` …) count as formula errors, as Excel shows
    them when it opens a CSV file. ``check_lengths`` turns on the per-cell length check.
    """

    place: SheetPlace
    columns: tuple[SourceColumn, ...]
    limits: ReadLimits
    name: str
    hidden_rows: frozenset[int] = frozenset()
    cell_errors: Mapping[int, Mapping[int, str]] = attrs.field(factory=dict)
    text_errors: bool = False
    check_lengths: bool = True
    rows: list[SourceRow] = attrs.field(factory=list)
    issues: list[Issue] = attrs.field(factory=list)

    def collect(self, numbered_rows: Iterable[tuple[int, Sequence[CellValue]]]) -> None:
        """Add every non-blank row of ``numbered_rows``; raise past ``max_rows`` rows."""
        unnamed = [position for position, column in enumerate(self.columns) if not column.header]
        unnamed_reported: set[int] = set()
        hidden_rows = self.hidden_rows
        cell_errors = self.cell_errors
        text_errors = self.text_errors
        check_lengths = self.check_lengths
        max_rows = self.limits.max_rows
        blank_get = _BLANK_TO_NONE.get
        rows = self.rows

        for number, raw in numbered_rows:
            values = tuple(map(blank_get, raw, raw))

            # Skip rows of empty or whitespace-only cells. A data row leaves this loop at
            # its first value, so the check usually costs one step.
            for value in values:
                if value is not None and (value.__class__ is not str or not value.isspace()):
                    break
            else:
                if number not in cell_errors:
                    continue

            if len(rows) >= max_rows:
                raise self._too_many_rows(number)

            if number in cell_errors:
                values = self._mark_errors(number, values, cell_errors[number])
            elif text_errors and not EXCEL_ERRORS.isdisjoint(values):
                values = self._mark_errors(number, values, _text_errors(values))
            if check_lengths:
                values = self._limit_lengths(number, values)
            for position in unnamed:
                if position not in unnamed_reported and values[position] is not None:
                    unnamed_reported.add(position)
                    self._report_unnamed(position)

            hidden = number in hidden_rows
            if hidden:
                self.issues.append(Issue.from_finding(
                    HIDDEN_ROW(row=number), sheet=self.place.sheet, row=number, column=None,
                    field=None, value=None,
                ))
            rows.append(SourceRow(number, values, hidden))

    def _too_many_rows(self, number: int) -> FileTooLargeError:
        limit = self.limits.max_rows
        where = f"{self.name} 的工作表“{self.place.sheet}”" if self.place.sheet else self.name
        where_en = f"Sheet '{self.place.sheet}' of {self.name}" if self.place.sheet else self.name
        return FileTooLargeError(
            f"{where}的数据超过 {limit:,} 行上限（读到第 {number:,} 行时已有 {limit:,} 行数据）。"
            f"请把数据拆分成几个文件，每个不超过 {limit:,} 行，再分别检查。",
            message_en=f"{where_en} has more than {limit:,} data rows, the limit (reached at "
            f"row {number:,}). Split the data into files of at most {limit:,} rows each.",
        )

    def _mark_errors(
        self, number: int, values: tuple[CellValue, ...], errors: Mapping[int, str]
    ) -> tuple[CellValue, ...]:
        marked = list(values)
        for position, text in sorted(errors.items()):
            if not 0 <= position < len(marked):
                continue
            column = self.columns[position]
            marked[position] = CellError(text)
            finding = FORMULA_ERROR(cell=f"{column.letter}{number}", error=text)
            self.issues.append(Issue.from_finding(
                finding, sheet=self.place.sheet, row=number, column=column.letter,
                field=field_name(column), value=text,
            ))
        return tuple(marked)

    def _limit_lengths(self, number: int, values: tuple[CellValue, ...]) -> tuple[CellValue, ...]:
        limit = self.limits.max_cell_chars
        if not any(value.__class__ is str and len(value) > limit for value in values):
            return values
        cut = list(values)
        for position, value in enumerate(values):
            if isinstance(value, str) and len(value) > limit:
                column = self.columns[position]
                cut[position] = value[:limit]
                cell = f"{column.letter}{number}"
                finding = CELL_TOO_LONG(cell=cell, length=len(value), limit=limit)
                self.issues.append(Issue.from_finding(
                    finding, sheet=self.place.sheet, row=number, column=column.letter,
                    field=field_name(column), value=shorten(value),
                ))
        return tuple(cut)

    def _report_unnamed(self, position: int) -> None:
        column = self.columns[position]
        finding = UNNAMED_COLUMN(column=column.letter, row=self.place.header_row)
        self.issues.append(Issue.from_finding(
            finding, sheet=self.place.sheet, row=self.place.header_row, column=column.letter,
            field=None, value=None,
        ))


def _text_errors(values: tuple[CellValue, ...]) -> dict[int, str]:
    return {
        position: value
        for position, value in enumerate(values)
        if isinstance(value, str) and value in EXCEL_ERRORS
    }


def sort_issues(issues: Iterable[Issue]) -> tuple[Issue, ...]:
    """Return ``issues`` in reading order: by row, then column, file-wide ones first."""

    def key(issue: Issue) -> tuple[int, int, int]:
        column = column_index(issue.column) if issue.column else -1
        return (issue.row or 0, column, 0 if issue.column is None else 1)

    return tuple(sorted(issues, key=key))


def numbered(
    rows: Iterable[Sequence[CellValue]], first: int
) -> Iterator[tuple[int, Sequence[CellValue]]]:
    """Pair each of ``rows`` with its row number, counting from ``first``."""
    return zip(itertools.count(first), rows)
