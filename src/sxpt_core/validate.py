"""Run a table through normalisation and every rule, in one pass, into a report.

The layers run in order for each row (format → checksum → code tables → roster → plan
→ calendar), then the batch rules over all rows. Nothing stops at the first problem:
every issue of every row is reported, each at the cell the user sees in Excel.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import itertools
import operator
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

import attrs

from sxpt_core.catalogue import LAYERS, Finding, Severity
from sxpt_core.context import Context
from sxpt_core.models import Issue, Normalisation, PlanCourse, Record, Report, RosterEntry
from sxpt_core.normalise import Outcome, normalise_cell
from sxpt_core.normalise.city import normalise_city
from sxpt_core.rules import Placed, RowValues
from sxpt_core.rules.batch import BatchChecker
from sxpt_core.rules.calendar import check_calendar
from sxpt_core.rules.identity import check_identity
from sxpt_core.rules.plan import check_plan
from sxpt_core.rules.plan_file import PlanBatchChecker, check_plan_row
from sxpt_core.rules.record import check_record
from sxpt_core.rules.roster_file import RosterBatchChecker
from sxpt_core.templates import Column, Template, get_template

__all__ = ["Validation", "display_value", "validate_file", "validate_rows", "validate_table"]

MODELS: Mapping[str, type] = {"records": Record, "roster": RosterEntry, "plan": PlanCourse}
_LAYER_ORDER = {layer: index for index, layer in enumerate(LAYERS)}


@attrs.frozen
class Validation:
    """A report together with the normalised values of every row.

    ``rows`` holds (Excel row number, values by attribute name) for every data row;
    :meth:`models` builds model objects for the rows without errors.
    """

    report: Report
    kind: str
    rows: tuple[tuple[int, dict[str, Any]], ...]
    error_rows: frozenset[int]

    def models(self) -> list[Any]:
        """Return a model object (Record, RosterEntry or PlanCourse) per row without errors."""
        cls = MODELS[self.kind]
        fields = attrs.fields_dict(cls)
        optional = {name for name, field in fields.items() if field.default is not attrs.NOTHING}
        models = []
        for row, values in self.rows:
            if row in self.error_rows:
                continue
            # A blank optional cell leaves the model's default (e.g. 层次 本科) in place.
            arguments = {
                name: value for name, value in values.items()
                if name in fields and not (value is None and name in optional)
            }
            models.append(cls(**arguments))
        return models


def display_value(value: object) -> str | None:
    """Return a cell value as the report shows it: ISO dates, floats as Python prints them.

    >>> display_value(21050101.0)
    '21050101.0'
    >>> display_value(datetime.date(2024, 9, 1))
    '2024-09-01'
    >>> display_value(None) is None
    True
    """
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# Days between the 1900 and the 1904 date systems' day zero.
DAYS_1904 = 1462


def _normaliser_for(column: Column, context: Context, *, date1904: bool = False) -> Callable[[Any], Outcome]:
    if column.kind == "date" and date1904:

        def normalise_1904(value: Any) -> Outcome:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return normalise_cell(column, value + DAYS_1904)
            return normalise_cell(column, value)

        return normalise_1904
    if column.kind == "city":
        divisions = context.divisions

        def normalise(value: Any) -> Outcome:
            if value is None or (isinstance(value, str) and not value.strip()):
                return normalise_cell(column, value)
            return normalise_city(value, divisions)

        return normalise
    return lambda value: normalise_cell(column, value)


def _row_rules(kind: str, values: RowValues, context: Context) -> list[Placed]:
    if kind == "plan":
        return check_plan_row(values, context)
    if kind != "records":
        return []
    found = check_record(values, context)
    found += check_identity(values, context.roster, context.school.name)
    found += check_plan(values, context)
    found += check_calendar(values, context.today)
    return found


def _normalise_column(
    raws: Sequence[Any], normalise: Callable[[Any], Outcome]
) -> tuple[Sequence[Any], list[Outcome], set[Any]]:
    """Normalise one column: each distinct value once, then map the outcomes to the rows.

    Returns the cache keys of the rows, their outcomes, and the keys whose outcome has
    findings or a change. True, 1 and 1.0 are equal
    dict keys but normalise differently, so when a column mixes those types the keys
    carry the type too.
    """
    types = set(map(type, raws))
    if len(types & _NUMERIC_TYPES) <= 1:
        keys = raws
    else:
        keys = [raw if type(raw) is str else (type(raw), raw) for raw in raws]
    distinct = dict(zip(keys, raws))
    outcome_of = {key: normalise(raw) for key, raw in distinct.items()}
    flagged = {key for key, outcome in outcome_of.items() if outcome.findings or outcome.change is not None}
    return keys, list(map(outcome_of.__getitem__, keys)), flagged


_NUMERIC_TYPES = frozenset({bool, int, float})
_VALUE = operator.itemgetter(0)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, and restore its state afterwards.

    Validation allocates millions of small objects and frees none of them until it
    returns, so the collector's passes over the growing heap find nothing. They took
    about a third of the validation time of a 100,000-row file. The pause is process-wide, so
    other threads allocate without cyclic collection meanwhile; reference counting
    still frees their objects.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_table(table: Any, context: Context, *, template: Template | None = None) -> Validation:
    """Validate a :class:`~sxpt_core.io.table.Table` read from a workbook or CSV file.

    Cells are normalised column by column, because a column has few distinct values
    (units, courses, dates, 是/否) and each is normalised only once. The row and batch
    rules then run row by row.
    """
    with _collector_paused():
        return _validate_table(table, context, template)


def _validate_table(table: Any, context: Context, template: Template | None) -> Validation:
    template = template or get_template("records", context.school.template_version)
    kind = template.kind
    sheet = table.sheet
    source_rows = list(table.rows)
    numbers = [source_row.number for source_row in source_rows]
    mapped = [(position, source.letter, source.column) for position, source in enumerate(table.columns)
              if source.column is not None]
    places = {column.attr: (letter, column.header) for _, letter, column in mapped}

    issues: list[Issue] = list(table.issues)
    normalised: list[Normalisation] = []
    raw_columns: dict[str, Sequence[Any]] = {}
    value_columns: list[Iterable[Any]] = []
    attrs_in_order: list[str] = []
    columns_of_cells = list(zip(*(source_row.values for source_row in source_rows)))
    for position, letter, column in mapped:
        raws = columns_of_cells[position] if columns_of_cells else ()
        normalise = _normaliser_for(column, context, date1904=getattr(table, "date1904", False))
        keys, outcomes, flagged = _normalise_column(raws, normalise)
        raw_columns[column.attr] = raws
        attrs_in_order.append(column.attr)
        value_columns.append(list(map(_VALUE, outcomes)))
        if flagged:
            _collect_cell_issues(keys, flagged, outcomes, raws, numbers, sheet, letter, column,
                                 issues, normalised)
    for column in template:
        if column.attr not in places:
            attrs_in_order.append(column.attr)
            value_columns.append(itertools.repeat(None))

    rows = [(number, dict(zip(attrs_in_order, values)))
            for number, values in zip(numbers, zip(*value_columns))] if value_columns else []
    index_of = {number: index for index, number in enumerate(numbers)}

    def place(finding: Finding, attr: str | None, number: int) -> Issue:
        letter, header = places.get(attr, (None, None)) if attr else (None, None)
        raws = raw_columns.get(attr) if attr else None
        shown = display_value(raws[index_of[number]]) if raws is not None else None
        return Issue.from_finding(finding, sheet=sheet, row=number, column=letter, field=header, value=shown)

    batch = _batch_checker(kind, context)
    if batch is not None:
        for number, values in rows:
            for attr, finding in _row_rules(kind, values, context):
                issues.append(place(finding, attr, number))
            batch.add(number, values)
        for item in batch.finish():
            issues.append(place(item.finding, item.attr, item.row))

    return _finish(template, issues, normalised, rows, places)


def _batch_checker(
    kind: str, context: Context
) -> BatchChecker | PlanBatchChecker | RosterBatchChecker | None:
    """Return the checker of the rules across rows for a template kind."""
    if kind == "records":
        return BatchChecker(school=context.school.name or "")
    if kind == "plan":
        return PlanBatchChecker()
    if kind == "roster":
        return RosterBatchChecker()
    return None


def _collect_cell_issues(
    keys: Sequence[Any],
    flagged: set[Any],
    outcomes: list[Outcome],
    raws: Sequence[Any],
    numbers: list[int],
    sheet: str | None,
    letter: str,
    column: Column,
    issues: list[Issue],
    normalised: list[Normalisation],
) -> None:
    """Append the issues and normalisations of the flagged cells of one column."""
    for index, key in enumerate(keys):
        if key not in flagged:
            continue
        outcome = outcomes[index]
        number = numbers[index]
        shown = display_value(raws[index])
        for finding in outcome.findings:
            issues.append(Issue.from_finding(finding, sheet=sheet, row=number, column=letter,
                                             field=column.header, value=shown))
        if outcome.change is not None:
            normalised.append(Normalisation(outcome.change.code, sheet, number, letter, column.header,
                                            shown or "", outcome.text or ""))


def _column_number(letter: str | None) -> int:
    if not letter:
        return 0
    number = 0
    for character in letter:
        number = number * 26 + ord(character) - 64
    return number


def _finish(
    template: Template,
    issues: list[Issue],
    normalised: list[Normalisation],
    rows: list[tuple[int, dict[str, Any]]],
    places: Mapping[str, tuple[str, str]],
) -> Validation:
    issues.sort(key=lambda issue: (issue.row or 0, _column_number(issue.column), _LAYER_ORDER[issue.layer]))
    normalised.sort(key=lambda entry: (entry.row, _column_number(entry.column)))
    file_error = any(issue.row is None and issue.severity is Severity.ERROR for issue in issues)
    missing_required = any(column.required and column.attr not in places for column in template)
    if file_error or missing_required:
        error_rows = frozenset(number for number, _ in rows)
    else:
        error_rows = frozenset(
            issue.row for issue in issues if issue.severity is Severity.ERROR and issue.row is not None
        )
    report = Report(
        template=template.name,
        rows=len(rows),
        valid_rows=sum(1 for number, _ in rows if number not in error_rows),
        issues=tuple(issues),
        normalised=tuple(normalised),
    )
    return Validation(report, template.kind, tuple(rows), error_rows)


def validate_file(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    context: Context,
    *,
    kind: str = "records",
    filename: str | None = None,
    sheet: str | None = None,
    limits: Any = None,
) -> Validation:
    """Read ``source`` (.xlsx or CSV) and validate it against the ``kind`` template.

    Raises :class:`~sxpt_core.errors.InputError` when the file cannot be read at all.
    """
    from sxpt_core.io import ReadLimits, read_table

    template = get_template(kind, context.school.template_version)
    table = read_table(source, template, filename=filename, sheet=sheet, limits=limits or ReadLimits())
    return validate_table(table, context, template=template)


def validate_rows(
    rows: Iterable[Mapping[str, Any]], context: Context, *, kind: str = "records", first_row: int = 1
) -> Validation:
    """Validate rows given as dicts keyed by template header (e.g. JSON records).

    Row numbers count from ``first_row``; columns are lettered in template order.
    """
    from sxpt_core.io.table import SourceColumn, SourceRow, Table, column_letter

    template = get_template(kind, context.school.template_version)
    columns = tuple(
        SourceColumn(index, column_letter(index), column.header, column)
        for index, column in enumerate(template.columns)
    )
    source_rows = [
        SourceRow(first_row + offset, tuple(row.get(column.header) for column in template.columns))
        for offset, row in enumerate(rows)
    ]
    table = Table(sheet=None, header_row=first_row - 1, columns=columns, rows=source_rows)
    return validate_table(table, context, template=template)
