"""Cell → value: turn what people type into workbooks into clean, typed values.

Each normaliser takes one raw cell value (as the reader delivers it: ``str``, ``int``,
``float``, ``bool``, ``datetime.date``, ``datetime.datetime``, :class:`~sxpt_core.io.table.CellError`
or None for a blank cell) and returns an :class:`Outcome`. Normalisers are pure and depend only on
the column and the value, so the validator caches their outcomes per distinct value.

:func:`normalise_cell` picks the normaliser for a column's kind. The normalisers live in
``fields`` (code lists, numbers, text), ``names``, ``dates`` (dates and years) and
``identifiers`` (identifiers, codes, phones). Unit codes and city codes are normalised
by ``sxpt_core.rules.unit`` and ``sxpt_core.normalise.city``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from sxpt_core.catalogue import Finding, Rule

if TYPE_CHECKING:
    from sxpt_core.io.table import CellValue
    from sxpt_core.templates import Column

__all__ = ["BLANK", "UNREADABLE", "Outcome", "normalise_cell"]


class Outcome(NamedTuple):
    """The result of normalising one cell.

    ``value`` is the typed value (None when the cell is blank or rejected). ``change`` is
    the warning rule under which the value was rewritten, and ``text`` the rewritten value
    as the report's ``to`` shows it; both are None when the cell was taken as written.
    ``findings`` are the problems of the cell that are not normalisations.

    A named tuple rather than an attrs class, because one is built for every distinct
    cell value of a workbook and a tuple is several times cheaper to create.
    """

    value: Any
    findings: tuple[Finding, ...] = ()
    change: Rule | None = None
    text: str | None = None

    @property
    def rejected(self) -> bool:
        return any(finding.rule.severity.value == "error" for finding in self.findings)


# The outcome of a blank cell. Normalisers return this very object, so that
# normalise_cell can tell a blank cell by identity and add SXPT-E-FIELD-REQUIRED.
BLANK = Outcome(None)

# The outcome of a formula-error cell (#N/A, #VALUE!): no value and no finding of its
# own, because the reader already reported the error at that cell.
UNREADABLE = Outcome(None)

Handler = Callable[["Column", Any], Outcome]

# Column kind → handler(column, value). It is filled on first use, so that importing
# this package stays cheap and free of import cycles.
_HANDLERS: dict[str, Handler] = {}


def normalise_cell(column: Column, value: CellValue) -> Outcome:
    """Normalise one cell of ``column`` with the normaliser of ``column.kind``.

    A blank cell (None, empty, or only whitespace and zero-width characters) gives
    ``Outcome(None)``, with an ``SXPT-E-FIELD-REQUIRED`` finding when the column is
    required. A formula error gives ``Outcome(None)`` with no finding.

    >>> from sxpt_core.templates import get_template
    >>> column = get_template("records").column("学分")
    >>> normalise_cell(column, "2学分").value
    Decimal('2')
    >>> normalise_cell(column, " ").findings[0].code
    'SXPT-E-FIELD-REQUIRED'
    """
    handler = _HANDLERS.get(column.kind)
    if handler is None:
        handler = _load_handler(column.kind)
    outcome = handler(column, value)
    if outcome is BLANK and column.required:
        from sxpt_core.normalise.fields import FIELD_REQUIRED

        return Outcome(None, (FIELD_REQUIRED(field=column.header),))
    return outcome


def _load_handler(kind: str) -> Handler:
    """Return the handler of ``kind``, importing its module on first use."""
    if not _HANDLERS:
        _HANDLERS.update(_local_handlers())
    if kind in _HANDLERS:
        return _HANDLERS[kind]
    if kind == "uscc":
        handler = _external_handler("sxpt_core.rules.unit", "normalise_unit_code")
    elif kind == "city":
        handler = _external_handler("sxpt_core.normalise.city", "normalise_city")
    else:
        raise KeyError(f"no normaliser for column kind {kind!r}")
    _HANDLERS[kind] = handler
    return handler


def _local_handlers() -> dict[str, Handler]:
    from sxpt_core.normalise import dates, fields, identifiers, names

    def credits(column: Column, value: Any) -> Outcome:
        return fields.normalise_credits(value, unit=fields.credit_unit(column))

    return {
        "id": lambda column, value: identifiers.normalise_identifier(
            value, max_length=column.max_length),
        "name": lambda column, value: names.normalise_name(value, max_length=column.max_length),
        "text": lambda column, value: fields.normalise_text(value, max_length=column.max_length),
        "year": lambda column, value: dates.normalise_year(value),
        "credits": credits,
        "choice": lambda column, value: fields.normalise_choice(value, column),
        "term": lambda column, value: fields.normalise_choice(value, column),
        "yesno": lambda column, value: fields.normalise_yes_no(value, column),
        "academic_year": lambda column, value: dates.normalise_academic_year(value),
        "date": lambda column, value: dates.normalise_date(value),
        "days": lambda column, value: fields.normalise_days(value),
        "money": lambda column, value: fields.normalise_money(value),
        "phone": lambda column, value: identifiers.normalise_phone(value),
        "school_code": lambda column, value: identifiers.normalise_school_code(value),
        "major_code": lambda column, value: identifiers.normalise_major_code(value),
        "count": lambda column, value: fields.normalise_count(value),
    }


def _external_handler(module_name: str, function_name: str) -> Handler:
    """Wrap ``module.function(value) -> Outcome``, a normaliser written outside this package.

    Blank and formula-error cells are handled here, so the wrapped function only
    receives cells with content.
    """
    from sxpt_core.io.table import CellError
    from sxpt_core.normalise.fields import is_blank

    function = getattr(importlib.import_module(module_name), function_name)

    def handle(column: Column, value: Any) -> Outcome:
        if is_blank(value):
            return BLANK
        if isinstance(value, CellError):
            return UNREADABLE
        outcome: Outcome = function(value)
        return outcome

    return handle
