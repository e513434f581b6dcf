"""The store interface for uploads, records, rosters, plans and unit checks.

A record's content is a dict of cells keyed by the template's Chinese headers, as the
upload gave it after normalisation (``sxpt_core.records.cells_of``). Issues are stored
as dicts with ``code``, ``severity``, ``layer``, ``column``, ``field``, ``value`` and
``params``, without the row of the upload they came from.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

__all__ = [
    "Batch",
    "NewBatch",
    "RecordFilter",
    "RecordStore",
    "RecordWrite",
    "ReferenceList",
    "StoredRecord",
    "UnitCheck",
    "Version",
]


@attrs.frozen
class NewBatch:
    """An upload about to be stored."""

    kind: str  # "records", "roster" or "plan"
    province: str
    school: str
    department: str  # "" for an upload by a school-level user or key
    actor: str
    filename: str | None
    media_type: str
    digest: str
    idempotency_key: str | None
    status: str  # "stored", or "rejected" for a roster or plan with errors
    created_at: datetime.datetime
    rows: int
    valid_rows: int
    errors: int
    warnings: int
    created: int
    updated: int
    unchanged: int
    not_stored: int
    report: Mapping[str, Any]
    source: bytes | None


@attrs.frozen
class Batch:
    """A stored upload without its report and source, which are read on demand."""

    id: int
    kind: str
    province: str
    school: str
    department: str
    actor: str
    filename: str | None
    media_type: str
    digest: str
    idempotency_key: str | None
    status: str
    created_at: datetime.datetime
    rows: int
    valid_rows: int
    errors: int
    warnings: int
    created: int
    updated: int
    unchanged: int
    not_stored: int


@attrs.frozen
class StoredRecord:
    """A record with its current version, and its approved version when it has one.

    The province and the ministry read ``approved_cells``; the school and the
    department read ``cells``.
    """

    id: int
    province: str
    school: str
    department: str
    natural_key: str
    state: str
    delete_requested: bool
    current_version: int
    approved_version: int | None
    review_reason: str | None
    unit_code: str
    unit_name: str
    reporting_month: str
    cells: dict[str, Any]
    issues: list[dict[str, Any]]
    digest: str
    approved_cells: dict[str, Any] | None
    approved_department: str | None
    approved_month: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


@attrs.frozen
class Version:
    """One version of a record."""

    record_id: int
    version: int
    department: str
    reporting_month: str
    cells: dict[str, Any]
    issues: list[dict[str, Any]]
    digest: str
    batch_id: int | None
    created_at: datetime.datetime
    created_by: str


@attrs.frozen
class RecordWrite:
    """New content for a record: a new record when ``record_id`` is None, else a new version."""

    record_id: int | None
    province: str
    school: str
    department: str
    natural_key: str
    state: str
    student_id: str
    course_code: str
    unit_code: str
    unit_name: str
    reporting_month: str
    cells: Mapping[str, Any]
    issues: Sequence[Mapping[str, Any]]
    digest: str


@attrs.frozen
class RecordFilter:
    """The selection of records that a list or a count returns.

    ``approved_only`` reads the approved versions, as the province and the ministry do;
    the other filters then apply to the approved version's department and month.
    ``after_id`` pages through the records in ascending id order.
    """

    province: str | None = None
    school: str | None = None
    department: str | None = None
    states: tuple[str, ...] = ()
    approved_only: bool = False
    reporting_month: str | None = None
    student_id: str | None = None
    course_code: str | None = None
    unit_code: str | None = None
    delete_requested: bool | None = None
    after_id: int | None = None
    limit: int = 100


@attrs.frozen
class ReferenceList:
    """A version of a school's roster or training plan, as its rows keyed by template header."""

    id: int
    kind: str
    school: str
    batch_id: int
    entries: int
    data: list[dict[str, Any]]
    created_at: datetime.datetime


@attrs.frozen
class UnitCheck:
    """The verification of one host organisation (code and registered name)."""

    id: int
    unit_code: str
    unit_name: str
    state: str  # a sxpt_core.review.UnitCheckState value
    reason: str | None
    reason_en: str | None
    verifier: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime.datetime
    created_at: datetime.datetime
    checked_at: datetime.datetime | None


class RecordStore(Protocol):
    """The record part of the store. Writes join the caller's ``transaction()``."""

    # --- batches ---

    def add_batch(self, batch: NewBatch) -> int:
        """Store an upload and return its id."""

    def get_batch(self, batch_id: int) -> Batch | None: ...
    def list_batches(
        self, *, school: str, kind: str | None = None, department: str | None = None,
        before_id: int | None = None, limit: int = 50,
    ) -> list[Batch]:
        """Return the school's uploads, newest first; ``department`` narrows to one department's."""

    def find_batch(self, *, school: str, kind: str, department: str, digest: str) -> Batch | None:
        """Return the newest stored upload of the same unit with the same content digest."""

    def find_batch_by_idempotency_key(self, school: str, key: str) -> Batch | None: ...
    def batch_report(self, batch_id: int) -> dict[str, Any]: ...
    def batch_source(self, batch_id: int) -> bytes | None: ...

    # --- records ---

    def records_by_key(self, school: str, keys: Iterable[str]) -> dict[str, StoredRecord]:
        """Return the school's live records with the given natural keys."""

    def write_records(
        self, writes: Sequence[RecordWrite], *, batch_id: int | None, actor: str, now: datetime.datetime
    ) -> list[int]:
        """Store new records and new versions; return the record ids in order."""

    def get_record(self, record_id: int) -> StoredRecord | None:
        """Return a live (not deleted) record."""

    def list_records(self, query: RecordFilter) -> list[StoredRecord]: ...
    def count_records(self, query: RecordFilter) -> int: ...
    def records_with_units(self, units: Iterable[tuple[str, str]], *, states: Sequence[str]) -> list[StoredRecord]:
        """Return the live records in ``states`` whose unit (code, name) is one of ``units``."""

    def record_versions(self, record_id: int) -> list[Version]: ...
    def set_record_status(
        self,
        record_id: int,
        *,
        state: str,
        delete_requested: bool,
        approve_current: bool,
        review_reason: str | None,
        now: datetime.datetime,
    ) -> None: ...
    def set_record_checks(self, record_id: int, *, state: str, issues: Sequence[Mapping[str, Any]],
                          now: datetime.datetime) -> None:
        """Replace the issues of the current version after a re-check, and set the state."""

    def delete_record(self, record_id: int, *, now: datetime.datetime) -> None:
        """Mark a record deleted; its versions stay for the audit trail."""

    def add_exception(self, record_id: int, code: str, *, reason: str, actor: str, now: datetime.datetime) -> None: ...
    def exceptions_of(self, record_id: int) -> dict[str, str]:
        """Return the accepted codes of a record with their reasons."""

    def exceptions_for(self, record_ids: Iterable[int]) -> dict[int, set[str]]: ...

    # --- rosters and plans ---

    def add_reference_list(
        self, kind: str, school: str, *, batch_id: int, data: Sequence[Mapping[str, Any]], now: datetime.datetime
    ) -> int: ...
    def current_reference_list(self, kind: str, school: str) -> ReferenceList | None: ...

    # --- unit checks ---

    def ensure_unit_checks(self, units: Iterable[tuple[str, str]], *, now: datetime.datetime) -> None:
        """Queue a check for each (code, name) that has none yet."""

    def unit_checks_for(self, units: Iterable[tuple[str, str]]) -> dict[tuple[str, str], UnitCheck]: ...
