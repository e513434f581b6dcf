"""Responses of the server's API, as frozen attrs classes structured with cattrs.

Members that a class does not name are ignored, so a newer server that adds members
does not break the SDK. A stored record's ``cells`` are keyed by the template's
Chinese headers, exactly as :data:`sxpt_core.models.converter` writes a
:class:`~sxpt_core.models.Record`; :attr:`StoredRecord.record` is that ``Record``, equal
to the one that local validation (``Validation.models()``) makes of the same row.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from sxpt_core.models import Record
from sxpt_core.models import converter as record_converter

__all__ = [
    "Account",
    "Activation",
    "ApiKey",
    "AuditEntry",
    "Batch",
    "BatchCounts",
    "BatchLinks",
    "BatchReport",
    "CodeSent",
    "DeleteResult",
    "Department",
    "Download",
    "FailedUnit",
    "Identity",
    "IssuedApiKey",
    "NormalisedValue",
    "NotStoredRow",
    "PhoneChange",
    "ProblemType",
    "Province",
    "RecordIssue",
    "RecordUnit",
    "RecordUnitCheck",
    "RecordVersion",
    "ReferenceList",
    "ReportIssue",
    "ReviewResult",
    "School",
    "SchoolCount",
    "Statistics",
    "StoredRecord",
    "Unit",
    "UnitCheck",
    "UploadResult",
    "converter",
    "record_from_cells",
    "structure",
]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Unit:
    """A unit of the account tree: ``level`` is ministry, province, school or department."""

    level: str
    province: str | None = None
    school: str | None = None
    department: str | None = None
    name: str = ""


@attrs.frozen(kw_only=True)
class Activation:
    """Whether an activation SMS went out; when it did not, ``code`` and ``detail`` give the reason."""

    sent: bool
    phone: str | None = None
    valid_hours: int | None = None
    code: str | None = None
    detail: str | None = None
    detail_en: str | None = None
    retry_after: int | None = None


@attrs.frozen(kw_only=True)
class Account:
    """An account; ``phone`` is masked except in the account's own view of itself."""

    name: str
    unit: Unit
    phone: str | None = None
    contact_name: str | None = None
    status: str | None = None
    created_at: datetime.datetime | None = None
    created_by: str | None = None
    activated_at: datetime.datetime | None = None
    activation: Activation | None = None
    sessions_ended: int | None = None


@attrs.frozen(kw_only=True)
class ApiKey:
    """An API key as lists show it: its public prefix and scope, never the key itself."""

    prefix: str
    label: str
    scope: Unit
    created_by: str | None = None
    created_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = None
    revoked_at: datetime.datetime | None = None
    last_used_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class IssuedApiKey(ApiKey):
    """A newly issued key with its secret ``key``, which the server shows this once.

    ``repr()`` leaves the key out, so that it does not end up in logs.
    """

    key: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class Identity:
    """The identity behind the requests (``GET /me``): an account or an API key, its unit and allowed actions."""

    kind: str
    unit: Unit
    allowed_actions: tuple[str, ...] = ()
    account: Account | None = None
    api_key: ApiKey | None = None
    idle_timeout: int | None = None


@attrs.frozen(kw_only=True)
class CodeSent:
    """An SMS code was sent: to the masked ``phone``, valid ``expires_in`` seconds."""

    sent: bool
    phone: str | None = None
    expires_in: int | None = None
    resend_after: int | None = None


@attrs.frozen(kw_only=True)
class PhoneChange:
    """The new masked phone number, and how many sessions of the account ended."""

    phone: str
    sessions_ended: int


@attrs.frozen(kw_only=True)
class Province:
    """A registered province, by its GB/T 2260 code."""

    code: str
    name: str | None = None
    created_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class School:
    """A registered school: code, province, registered name, credit code and city."""

    code: str
    province: str
    name: str
    uscc: str | None = None
    city: str | None = None
    created_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class Department:
    """A registered department of a school."""

    school: str
    name: str
    created_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class ReferenceList:
    """The current version of a school's roster or training plan."""

    kind: str
    version: int
    entries: int
    batch: int
    created_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class BatchCounts:
    """Errors and warnings of a batch; every normalised value counts as a warning."""

    error: int = 0
    warning: int = 0


@attrs.frozen(kw_only=True)
class BatchLinks:
    """API paths of a batch's report, annotated workbook and errors-only workbook."""

    report: str
    annotated: str
    errors_only: str


@attrs.frozen(kw_only=True)
class Batch:
    """One upload of records, a roster or a plan, with what it stored.

    ``status`` is ``stored``, or ``rejected`` for a roster or plan with errors.
    ``created``, ``updated`` and ``unchanged`` count stored records; ``not_stored``
    counts rows that were not stored (their reasons are in the report).
    """

    id: int
    kind: str
    status: str
    school: str | None = None
    department: str | None = None
    actor: str | None = None
    filename: str | None = None
    created_at: datetime.datetime | None = None
    rows: int = 0
    valid_rows: int = 0
    counts: BatchCounts = attrs.field(factory=BatchCounts)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_stored: int = 0
    links: BatchLinks | None = None


@attrs.frozen(kw_only=True)
class UploadResult:
    """The response to an upload.

    ``unchanged`` is True when the content equals what an earlier batch stored. Then
    ``batch`` is that earlier batch and ``message`` states it. ``replayed`` is True when the
    idempotency key was used before and ``batch`` is the first request's batch.
    """

    batch: Batch
    unchanged: bool = False
    replayed: bool = False
    message: str | None = None
    message_en: str | None = None


@attrs.frozen(kw_only=True)
class ReportIssue:
    """One issue of a batch report, placed at the Excel row and column letter."""

    code: str
    severity: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    field: str | None = None
    value: str | None = None
    message: str = ""
    hint: str = ""


@attrs.frozen(kw_only=True)
class NormalisedValue:
    """A value that the server normalised, with its warning code."""

    row: int
    column: str
    field: str
    original: str
    normalised: str
    code: str


@attrs.frozen(kw_only=True)
class NotStoredRow:
    """A row that the batch did not store, and why."""

    row: int
    reason: str


@attrs.frozen(kw_only=True)
class BatchReport:
    """The kept report of a batch, in the shape of ``sxpt validate --format json`` plus ``not_stored``.

    :meth:`to_dict` returns the plain JSON document again.
    """

    batch: int
    template: str | None = None
    rows: int = 0
    valid_rows: int = 0
    counts: BatchCounts = attrs.field(factory=BatchCounts)
    issues: tuple[ReportIssue, ...] = ()
    normalised: tuple[NormalisedValue, ...] = ()
    not_stored: tuple[NotStoredRow, ...] = ()

    @property
    def errors(self) -> tuple[ReportIssue, ...]:
        """The issues of severity error."""
        return tuple(issue for issue in self.issues if issue.severity == "error")

    def to_dict(self) -> dict[str, Any]:
        """Return the report as the API sent it."""
        document: dict[str, Any] = converter.unstructure(self)
        return document


@attrs.frozen(kw_only=True)
class RecordIssue:
    """An issue of a stored record; the column letter is that of the template layout."""

    code: str
    severity: str
    column: str | None = None
    field: str | None = None
    value: str | None = None
    message: str = ""
    hint: str = ""


@attrs.frozen(kw_only=True)
class RecordUnit:
    """The host organisation that a record names."""

    code: str | None = None
    name: str | None = None


@attrs.frozen(kw_only=True)
class RecordUnitCheck:
    """The state of the verification of a record's host organisation."""

    state: str
    reason: str | None = None
    checked_at: datetime.datetime | None = None


@attrs.frozen(kw_only=True)
class StoredRecord:
    """A record as the server stores it and the caller may see it.

    ``state`` is None for province and ministry users, who read the approved version
    only. ``record`` is the :class:`~sxpt_core.models.Record` of ``cells`` when they
    form a valid one (every field readable, and no error among ``issues``), else None.
    """

    id: int
    school: str | None = None
    province: str | None = None
    department: str | None = None
    state: str | None = None
    delete_requested: bool = False
    version: int | None = None
    approved_version: int | None = None
    review_reason: str | None = None
    reporting_month: str | None = None
    unit: RecordUnit | None = None
    cells: dict[str, Any] | None = None
    updated_at: datetime.datetime | None = None
    created_at: datetime.datetime | None = None
    issues: tuple[RecordIssue, ...] = ()
    unit_check: RecordUnitCheck | None = None
    exceptions: dict[str, str] | None = None
    approved_cells: dict[str, Any] | None = None
    record: Record | None = None


@attrs.frozen(kw_only=True)
class RecordVersion:
    """One version of a record; ``approved`` marks the version that the province reads."""

    version: int
    cells: dict[str, Any]
    department: str | None = None
    created_at: datetime.datetime | None = None
    created_by: str | None = None
    batch: int | None = None
    approved: bool = False
    record: Record | None = None


@attrs.frozen(kw_only=True)
class DeleteResult:
    """The outcome of deleting a record: deleted at once, or a deletion request for the school."""

    deleted: bool
    delete_requested: bool = False
    message: str | None = None
    message_en: str | None = None


@attrs.frozen(kw_only=True)
class ReviewResult:
    """The ids of the records that a review action changed (all of those sent)."""

    action: str
    records: tuple[int, ...]


@attrs.frozen(kw_only=True)
class UnitCheck:
    """The verification of one host organisation (实习单位校验).

    ``records`` counts the caller's records that name the unit (in lists only);
    ``requeued`` is set by a retry request.
    """

    id: int
    unit_code: str
    unit_name: str
    state: str
    reason: str | None = None
    reason_en: str | None = None
    verifier: str | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime.datetime | None = None
    created_at: datetime.datetime | None = None
    checked_at: datetime.datetime | None = None
    records: int | None = None
    requeued: bool | None = None


@attrs.frozen(kw_only=True)
class SchoolCount:
    """The number of records of one school."""

    school: str | None
    name: str | None
    count: int


@attrs.frozen(kw_only=True)
class FailedUnit:
    """A host organisation whose verification failed, and how many records name it."""

    unit_code: str
    unit_name: str
    reason: str | None = None
    checked_at: datetime.datetime | None = None
    records: int = 0


@attrs.frozen(kw_only=True)
class Statistics:
    """Counts of the records in a scope.

    The ``by_…`` mappings go from month, type, department or state to a count, in the
    server's order. ``by_state`` and ``coverage`` are None where the caller reads
    approved versions only. ``coverage`` is the server's document as it is.
    """

    scope: Unit
    versions: str
    total: int
    month_from: str | None = None
    month_to: str | None = None
    by_month: dict[str, int] = attrs.field(factory=dict)
    by_type: dict[str, int] = attrs.field(factory=dict)
    by_department: dict[str, int] = attrs.field(factory=dict)
    by_school: tuple[SchoolCount, ...] = ()
    by_state: dict[str, int] | None = None
    late_total: int = 0
    late_by_month: dict[str, int] = attrs.field(factory=dict)
    failed_units: int = 0
    failed_unit_records: int = 0
    failed_unit_items: tuple[FailedUnit, ...] = ()
    coverage: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One entry of the audit log: who did what to what, when, and from which request."""

    id: int
    at: datetime.datetime | None
    event: str
    actor: str | None = None
    ip: str | None = None
    request_id: str | None = None
    target: str | None = None
    unit: Unit | None = None
    detail: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ProblemType:
    """The description of a problem code, as its ``type`` URI serves it."""

    type: str
    code: str
    status: int
    title: str
    title_en: str


@attrs.frozen(kw_only=True)
class Download:
    """A file written by a download: where, the server's file name for it, and its size in bytes."""

    path: Path
    filename: str | None
    size: int
    media_type: str | None = None


def _structure_datetime(value: Any, _: type) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    text = str(value)
    # datetime.fromisoformat of Python 3.10 does not read the Z suffix.
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def _counts_by(items: Any, key: str) -> dict[str, int]:
    return {str(item.get(key)): int(item.get("count", 0)) for item in items or ()}


def _structure_statistics(data: Mapping[str, Any], _: type) -> Statistics:
    late = data.get("late") or {}
    failed = data.get("failed_units") or {}
    by_state = data.get("by_state")
    return Statistics(
        scope=converter.structure(data["scope"], Unit),
        versions=str(data.get("versions")),
        total=int(data.get("total", 0)),
        month_from=data.get("from"),
        month_to=data.get("to"),
        by_month=_counts_by(data.get("by_month"), "month"),
        by_type=_counts_by(data.get("by_type"), "type"),
        by_department=_counts_by(data.get("by_department"), "department"),
        by_school=tuple(converter.structure(item, SchoolCount) for item in data.get("by_school") or ()),
        by_state=None if by_state is None else _counts_by(by_state, "state"),
        late_total=int(late.get("total", 0)),
        late_by_month=_counts_by(late.get("by_month"), "month"),
        failed_units=int(failed.get("units", 0)),
        failed_unit_records=int(failed.get("records", 0)),
        failed_unit_items=tuple(converter.structure(item, FailedUnit) for item in failed.get("items") or ()),
        coverage=data.get("coverage"),
    )


def record_from_cells(cells: Mapping[str, Any] | None, issues: tuple[RecordIssue, ...] = ()) -> Record | None:
    """Return the ``Record`` of a stored record's cells, or None when they do not form a valid one.

    The record is None when a required cell is missing or unreadable, or when an
    issue of severity error is listed, as ``Validation.models()`` leaves such rows out.
    """
    if cells is None or any(issue.severity == "error" for issue in issues):
        return None
    try:
        return record_converter.structure(dict(cells), Record)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, ArithmeticError):
        return None


def _make_converter() -> cattrs.Converter:
    result = cattrs.Converter()
    result.register_structure_hook(datetime.datetime, _structure_datetime)
    result.register_unstructure_hook(datetime.datetime, lambda value: value.isoformat())
    result.register_structure_hook(Statistics, _structure_statistics)

    renames: Mapping[str, Any] = {"original": override(rename="from"), "normalised": override(rename="to")}
    result.register_structure_hook(NormalisedValue, make_dict_structure_fn(NormalisedValue, result, **renames))
    result.register_unstructure_hook(NormalisedValue, make_dict_unstructure_fn(NormalisedValue, result, **renames))

    # The Record of a stored record comes from its cells, never from a member of the JSON.
    for cls in (StoredRecord, RecordVersion):
        result.register_structure_hook(cls, _with_record(make_dict_structure_fn(cls, result, record=override(omit=True))))
    return result


def _with_record(structure_fields: Any) -> Any:
    def structure_with_record(data: Mapping[str, Any], cls: type) -> Any:
        value = structure_fields(data, cls)
        return attrs.evolve(value, record=record_from_cells(value.cells, getattr(value, "issues", ())))

    return structure_with_record


converter = _make_converter()
"""The converter of the API's JSON to the classes of this module."""


def structure(data: Any, cls: type[T]) -> T:
    """Structure one JSON value of the API into ``cls``."""
    return converter.structure(data, cls)
