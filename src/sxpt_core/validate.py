"""Run a table through normalisation and every rule, in one pass, into a report.

The layers run in order for each row (format → checksum → code tables → roster → plan
→ calendar), then the batch rules over all rows. Nothing stops at the first problem:
every issue of every row is reported, each at the cell the user sees in Excel.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

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
from sxpt_core.rules.record import check_record
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


def _normaliser_for(column: Column, context: Context) -> Callable[[Any], Outcome]:
    if column.kind == "city":
        divisions = context.divisions

        def normalise(value: Any) -> Outcome:
            if value is None or (isinstance(value, str) and not value.strip()):
                return normalise_cell(column, value)
            return normalise_city(value, divisions)

        return normalise
    return lambda value: normalise_cell(column, value)


def _row_rules(kind: str, values: RowValues, context: Context) -> list[Placed]:
    if kind != "records":
        return []
    found = check_record(values, context)
    found += check_identity(values, context.roster)
    found += check_plan(values, context)
    found += check_calendar(values, context.today)
    return found


def validate_table(table: Any, context: Context, *, template: Template | None = None) -> Validation:
    """Validate a :class:`~sxpt_core.io.table.Table` read from a workbook or CSV file."""
    template = template or get_template("records", context.school.template_version)
    kind = template.kind
    sheet = table.sheet
    mapped = [
        (position, source.letter, source.column, _normaliser_for(source.column, context), {})
        for position, source in enumerate(table.columns)
        if source.column is not None
    ]
    places = {column.attr: (letter, column.header) for _, letter, column, _, _ in mapped}
    absent = {column.attr: None for column in template if column.attr not in places}

    issues: list[Issue] = list(table.issues)
    normalised: list[Normalisation] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    raw_by_row: dict[int, dict[str, Any]] = {}
    batch = BatchChecker(school=context.school.name or "")

    for source_row in table.rows:
        number = source_row.number
        values: dict[str, Any] = dict(absent)
        raws: dict[str, Any] = {}
        for position, letter, column, normalise, cache in mapped:
            raw = source_row.values[position]
            # True, 1 and 1.0 are equal dict keys but normalise differently, so only
            # text is cached by value alone.
            key = raw if type(raw) is str else (type(raw), raw)
            try:
                outcome = cache[key]
            except KeyError:
                outcome = cache[key] = normalise(raw)
            values[column.attr] = outcome.value
            if outcome.findings or outcome.change is not None:
                shown = display_value(raw)
                raws[column.attr] = shown
                for finding in outcome.findings:
                    issues.append(Issue.from_finding(finding, sheet=sheet, row=number, column=letter,
                                                     field=column.header, value=shown))
                if outcome.change is not None:
                    normalised.append(Normalisation(outcome.change.code, sheet, number, letter,
                                                    column.header, shown or "", outcome.text or ""))
        for attr, finding in _row_rules(kind, values, context):
            issues.append(_place(finding, attr, values, places, sheet, number, raws))
        if kind == "records":
            batch.add(number, values)
        rows.append((number, values))
        raw_by_row[number] = raws

    values_by_row = dict(rows)
    for item in batch.finish():
        issues.append(_place(item.finding, item.attr, values_by_row[item.row], places, sheet, item.row,
                             raw_by_row[item.row]))

    return _finish(template, issues, normalised, rows, places)


def _place(
    finding: Finding,
    attr: str | None,
    values: RowValues,
    places: Mapping[str, tuple[str, str]],
    sheet: str | None,
    row: int,
    raws: Mapping[str, Any],
) -> Issue:
    letter, header = places.get(attr, (None, None)) if attr else (None, None)
    if attr is None:
        shown = None
    elif attr in raws:
        shown = raws[attr]
    else:
        shown = display_value(values.get(attr))
    return Issue.from_finding(finding, sheet=sheet, row=row, column=letter, field=header, value=shown)


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
    source: str | os.PathLike[str] | bytes | IO[bytes],
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
