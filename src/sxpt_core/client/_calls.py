"""The requests of the API, described once for the sync and the async client.

Each function returns a :class:`Call`: method, path, parameters, body and the function
that turns the response into the SDK's value. ``Client`` and ``AsyncClient`` send the
same calls, each with its own httpx client.
"""

from __future__ import annotations

import datetime
import io
import os
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import attrs
import cattrs
import httpx

from sxpt_core.client.errors import ResponseFormatError
from sxpt_core.client.models import (
    Account,
    Activation,
    ApiKey,
    AuditEntry,
    Batch,
    BatchReport,
    CodeSent,
    DeleteResult,
    Department,
    Download,
    Identity,
    IssuedApiKey,
    PhoneChange,
    ProblemType,
    Province,
    RecordVersion,
    ReferenceList,
    ReviewResult,
    School,
    Statistics,
    StoredRecord,
    UnitCheck,
    UploadResult,
    structure,
)
from sxpt_core.models import Record
from sxpt_core.models import converter as record_converter

__all__ = ["DOWNLOAD_KEY", "Call", "IdempotencyKey", "ProgressCallback", "RecordSource", "UploadBody"]

T = TypeVar("T")

API = "/api/v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes sent, total bytes) while an upload's file is sent."""

IdempotencyKey = str | Literal[False] | None
"""None makes a new key (uuid4) for the call; False sends none; a string is sent as it is."""

RecordSource = str | os.PathLike[str] | bytes | Iterable[Record | Mapping[str, Any]]
"""A file path, the bytes of an xlsx or CSV file, or records (``Record`` objects or dicts by header)."""

# The key of httpx.Response.extensions under which the sender leaves a download's Download.
DOWNLOAD_KEY = "sxpt_download"

# Methods that change nothing when a request is sent twice (RFC 9110, section 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@attrs.frozen
class UploadBody:
    """A file to send as ``multipart/form-data`` in the form field ``file``."""

    content: bytes
    filename: str
    media_type: str
    progress: ProgressCallback | None = None


@attrs.frozen
class Call(Generic[T]):
    """One API request and the function that reads its response.

    ``retry`` allows the client to send it again after a 429, a 5xx or a transport
    error. ``download`` names the file that the response body is written to.
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    upload: UploadBody | None = None
    headers: tuple[tuple[str, str], ...] = ()
    retry: bool = False
    download: Path | None = None


def _call(method: str, path: str, parse: Callable[[httpx.Response], T], **options: Any) -> Call[T]:
    """Build a call whose retry follows from its method: idempotent methods may be sent again."""
    options.setdefault("retry", method in IDEMPOTENT_METHODS)
    return Call(method, path, parse, **options)


def _params(**values: Any) -> tuple[tuple[str, str], ...]:
    """Return query parameters, leaving out None; iterables other than strings repeat the name."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, (list, tuple, set, frozenset)):
            pairs.extend((name, str(item)) for item in value)
        else:
            pairs.append((name, str(value)))
    return tuple(pairs)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        raise _format_error(response, "the body is not JSON") from error


def _format_error(response: httpx.Response, reason: str) -> ResponseFormatError:
    return ResponseFormatError(
        f"服务器的响应格式不符合 API 文档（{reason}）。请确认服务器地址指向 sxpt 服务器，且版本与本 SDK 相符。",
        detail_en=f"The server's response does not match the API document ({reason}). Check that the URL points "
                  "to an sxpt server of a version that this SDK supports.",
        status=response.status_code, request_id=response.headers.get("X-Request-ID"), response=response,
    )


def _structured(cls: type[T], member: str | None = None) -> Callable[[httpx.Response], T]:
    """Return a parser that structures the JSON body (or one member of it) into ``cls``."""

    def parse(response: httpx.Response) -> T:
        data = _json(response)
        try:
            return structure(data[member] if member is not None else data, cls)
        except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as error:
            raise _format_error(response, f"{cls.__name__}: {error}") from error

    return parse


def _structured_list(cls: type[T], member: str) -> Callable[[httpx.Response], list[T]]:
    def parse(response: httpx.Response) -> list[T]:
        data = _json(response)
        try:
            return [structure(item, cls) for item in data[member]]
        except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as error:
            raise _format_error(response, f"{cls.__name__}: {error}") from error

    return parse


def _nothing(response: httpx.Response) -> None:
    return None


def _member(name: str) -> Callable[[httpx.Response], Any]:
    def parse(response: httpx.Response) -> Any:
        data = _json(response)
        if not isinstance(data, dict) or name not in data:
            raise _format_error(response, f"no member {name!r}")
        return data[name]

    return parse


@attrs.frozen
class Page(Generic[T]):
    """One page of a list and the cursor of the next page (None after the last)."""

    items: list[T]
    cursor: int | None
    total: int | None = None


def _page(cls: type[T], member: str, cursor: str) -> Callable[[httpx.Response], Page[T]]:
    items = _structured_list(cls, member)

    def parse(response: httpx.Response) -> Page[T]:
        data = _json(response)
        total = data.get("total") if isinstance(data, dict) else None
        return Page(items(response), data.get(cursor), total)

    return parse


# --- auth and me ---


def send_login_code(account: str, password: str) -> Call[CodeSent]:
    return _call("POST", f"{API}/auth/code", _structured(CodeSent), json={"account": account, "password": password})


def log_in(account: str, password: str, code: str) -> Call[Account]:
    return _call("POST", f"{API}/auth/login", _structured(Account, "account"),
                 json={"account": account, "password": password, "code": code})


def log_out() -> Call[None]:
    return _call("POST", f"{API}/auth/logout", _nothing)


def activate(account: str, code: str, password: str) -> Call[None]:
    return _call("POST", f"{API}/auth/activate", _nothing,
                 json={"account": account, "code": code, "password": password})


def me() -> Call[Identity]:
    return _call("GET", f"{API}/me", _structured(Identity))


def change_password(password: str, new_password: str) -> Call[int]:
    return _call("POST", f"{API}/me/password", _member("sessions_ended"),
                 json={"password": password, "new_password": new_password})


def send_phone_code(phone: str) -> Call[CodeSent]:
    return _call("POST", f"{API}/me/phone/code", _structured(CodeSent), json={"phone": phone})


def change_phone(phone: str, code: str, password: str) -> Call[PhoneChange]:
    return _call("POST", f"{API}/me/phone", _structured(PhoneChange),
                 json={"phone": phone, "code": code, "password": password})


# --- accounts, organisations, keys, audit ---


def accounts() -> Call[list[Account]]:
    return _call("GET", f"{API}/accounts", _structured_list(Account, "accounts"))


def account(name: str) -> Call[Account]:
    return _call("GET", f"{API}/accounts/{_segment(name)}", _structured(Account))


def create_account(fields: Mapping[str, str | None]) -> Call[Account]:
    body = {name: value for name, value in fields.items() if value is not None}
    return _call("POST", f"{API}/accounts", _structured(Account), json=body)


def edit_account(name: str, contact_name: str | None) -> Call[Account]:
    return _call("PATCH", f"{API}/accounts/{_segment(name)}", _structured(Account), json={"contact_name": contact_name})


def delete_account(name: str) -> Call[None]:
    return _call("DELETE", f"{API}/accounts/{_segment(name)}", _nothing)


def resend_activation(name: str) -> Call[Activation]:
    return _call("POST", f"{API}/accounts/{_segment(name)}/activation", _structured(Activation, "activation"))


def set_account_phone(name: str, phone: str) -> Call[Account]:
    return _call("PUT", f"{API}/accounts/{_segment(name)}/phone", _structured(Account), json={"phone": phone})


def provinces() -> Call[list[Province]]:
    return _call("GET", f"{API}/provinces", _structured_list(Province, "provinces"))


def create_province(code: str) -> Call[Province]:
    return _call("POST", f"{API}/provinces", _structured(Province), json={"code": code})


def schools(province: str | None) -> Call[list[School]]:
    return _call("GET", f"{API}/schools", _structured_list(School, "schools"), params=_params(province=province))


def school(code: str) -> Call[School]:
    return _call("GET", f"{API}/schools/{_segment(code)}", _structured(School))


def create_school(fields: Mapping[str, str | None]) -> Call[School]:
    body = {name: value for name, value in fields.items() if value is not None}
    return _call("POST", f"{API}/schools", _structured(School), json=body)


def departments(school_code: str) -> Call[list[Department]]:
    return _call("GET", f"{API}/schools/{_segment(school_code)}/departments",
                 _structured_list(Department, "departments"))


def create_department(school_code: str, name: str) -> Call[Department]:
    return _call("POST", f"{API}/schools/{_segment(school_code)}/departments", _structured(Department),
                 json={"name": name})


def api_keys() -> Call[list[ApiKey]]:
    return _call("GET", f"{API}/keys", _structured_list(ApiKey, "keys"))


def issue_api_key(label: str, department: str | None, expires_in_days: int | None) -> Call[IssuedApiKey]:
    body: dict[str, Any] = {"label": label}
    if department is not None:
        body["department"] = department
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    return _call("POST", f"{API}/keys", _structured(IssuedApiKey), json=body)


def revoke_api_key(prefix: str) -> Call[None]:
    return _call("DELETE", f"{API}/keys/{_segment(prefix)}", _nothing)


def audit_page(before: int | None, limit: int) -> Call[Page[AuditEntry]]:
    return _call("GET", f"{API}/audit", _page(AuditEntry, "entries", "next_before"),
                 params=_params(before=before, limit=limit))


# --- uploads and batches ---


def _new_key(idempotency_key: IdempotencyKey, *, default: bool) -> str | None:
    if idempotency_key is False:
        return None
    if idempotency_key is None:
        return uuid.uuid4().hex if default else None
    if not 1 <= len(idempotency_key) <= 100:
        raise ValueError("an idempotency key has 1 to 100 characters")
    return idempotency_key


def _upload_call(path: str, body: UploadBody | None, records: list[dict[str, Any]] | None, key: str | None
                 ) -> Call[UploadResult]:
    headers = (("Idempotency-Key", key),) if key else ()
    # An upload creates a batch, so it is sent again only under an idempotency key,
    # for which the server returns the first request's batch.
    return _call("POST", path, _structured(UploadResult), upload=body,
                 json={"records": records} if records is not None else None,
                 headers=headers, retry=key is not None)


def file_body(source: str | os.PathLike[str] | bytes, filename: str | None,
              progress: ProgressCallback | None) -> UploadBody:
    """Read the file to upload; bytes without a file name are named by their content (xlsx or CSV)."""
    if isinstance(source, bytes):
        content = source
        name = filename or ("upload.xlsx" if content[:2] == b"PK" else "upload.csv")
    else:
        path = Path(source)
        content = path.read_bytes()
        name = filename or path.name
    media_type = CSV if name.lower().endswith((".csv", ".txt")) else XLSX
    return UploadBody(content, name, media_type, progress)


def record_cells(record: Record | Mapping[str, Any]) -> dict[str, Any]:
    """Return a record as the JSON upload sends it: cells by template header.

    A ``Record`` is written with :data:`sxpt_core.models.converter`, yes/no fields as
    是/否 and blank optional fields left out, so the server reads it without warnings.
    """
    if isinstance(record, Record):
        cells = record_converter.unstructure(record)
        return {header: _cell(value) for header, value in cells.items() if value is not None}
    return {str(header): _cell(value) for header, value in record.items()}


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def upload_records(source: RecordSource, *, filename: str | None, idempotency_key: IdempotencyKey,
                   progress: ProgressCallback | None) -> Call[UploadResult]:
    key = _new_key(idempotency_key, default=True)
    if isinstance(source, (str, bytes, os.PathLike)):
        return _upload_call(f"{API}/batches", file_body(source, filename, progress), None, key)
    rows = [record_cells(item) for item in source]
    return _upload_call(f"{API}/batches", None, rows, key)


def upload_reference(kind: str, source: str | os.PathLike[str] | bytes, *, filename: str | None,
                     idempotency_key: IdempotencyKey, progress: ProgressCallback | None) -> Call[UploadResult]:
    # NOTE: no key by default. The server does not look a roster or plan upload's key up
    # before storing it, so a repeated key of a rejected file fails with SXPT-INTERNAL.
    key = _new_key(idempotency_key, default=False)
    return _upload_call(f"{API}/{kind}", file_body(source, filename, progress), None, key)


def _current_list(response: httpx.Response) -> ReferenceList | None:
    data = _json(response)
    current = data.get("current") if isinstance(data, dict) else None
    if current is None:
        return None
    try:
        return structure({**current, "kind": data.get("kind")}, ReferenceList)
    except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as error:
        raise _format_error(response, f"ReferenceList: {error}") from error


def current_reference(kind: str) -> Call[ReferenceList | None]:
    return _call("GET", f"{API}/{kind}", _current_list)


def batches_page(kind: str | None, before: int | None, limit: int) -> Call[Page[Batch]]:
    def parse(response: httpx.Response) -> Page[Batch]:
        items = _structured_list(Batch, "batches")(response)
        # Newest first: the next page lists the batches before the last one here.
        return Page(items, items[-1].id if len(items) == limit else None)

    return _call("GET", f"{API}/batches", parse, params=_params(kind=kind, before=before, limit=limit))


def batch(batch_id: int) -> Call[Batch]:
    return _call("GET", f"{API}/batches/{int(batch_id)}", _structured(Batch))


def batch_report(batch_id: int, lang: str | None) -> Call[BatchReport]:
    return _call("GET", f"{API}/batches/{int(batch_id)}/report", _structured(BatchReport), params=_params(lang=lang))


def _download(response: httpx.Response) -> Download:
    """Return the file that the sender wrote the body of a download call to."""
    result: Download = response.extensions[DOWNLOAD_KEY]
    return result


def batch_workbook(batch_id: int, workbook: str, path: str | os.PathLike[str], lang: str | None) -> Call[Download]:
    """Download the ``annotated`` workbook of a batch, or its ``errors`` (errors-only) workbook."""
    name = "annotated.xlsx" if workbook == "annotated" else "errors.xlsx"
    return _call("GET", f"{API}/batches/{int(batch_id)}/{name}", _download, params=_params(lang=lang),
                 download=Path(path))


# --- records, review, unit checks, statistics, export ---


@attrs.frozen(kw_only=True)
class RecordQuery:
    """Filters of the record list, the count and the review queue."""

    state: str | Iterable[str] | None = None
    department: str | None = None
    school: str | None = None
    province: str | None = None
    month: str | None = None
    student_id: str | None = None
    course_code: str | None = None
    unit_code: str | None = None
    delete_requested: bool | None = None

    def params(self) -> tuple[tuple[str, str], ...]:
        if isinstance(self.state, str):
            states: list[str] | None = [self.state]
        elif self.state:
            states = list(self.state)
        else:
            states = None
        return _params(state=states, department=self.department, school=self.school, province=self.province,
                       month=self.month, student_id=self.student_id, course_code=self.course_code,
                       unit_code=self.unit_code, delete_requested=self.delete_requested)


def records_page(query: RecordQuery, after: int | None, limit: int, lang: str | None) -> Call[Page[StoredRecord]]:
    params = (*query.params(), *_params(after=after, limit=limit, lang=lang))
    return _call("GET", f"{API}/records", _page(StoredRecord, "records", "next_after"), params=params)


def count_records(query: RecordQuery) -> Call[int]:
    return _call("GET", f"{API}/records/count", _member("count"), params=query.params())


def record(record_id: int, lang: str | None) -> Call[StoredRecord]:
    return _call("GET", f"{API}/records/{int(record_id)}", _structured(StoredRecord), params=_params(lang=lang))


def edit_record(record_id: int, cells: Mapping[str, Any], lang: str | None) -> Call[StoredRecord]:
    body = {"cells": {str(header): _cell(value) for header, value in cells.items()}}
    return _call("PATCH", f"{API}/records/{int(record_id)}", _structured(StoredRecord), json=body,
                 params=_params(lang=lang))


def _delete_result(response: httpx.Response) -> DeleteResult:
    if response.status_code == 204:
        return DeleteResult(deleted=True)
    data = _json(response)
    return DeleteResult(deleted=False, delete_requested=bool(data.get("delete_requested")),
                        message=data.get("message"), message_en=data.get("message_en"))


def delete_record(record_id: int) -> Call[DeleteResult]:
    return _call("DELETE", f"{API}/records/{int(record_id)}", _delete_result)


def record_versions(record_id: int) -> Call[list[RecordVersion]]:
    return _call("GET", f"{API}/records/{int(record_id)}/versions", _structured_list(RecordVersion, "versions"))


def accept_exception(record_id: int, code: str, reason: str, lang: str | None) -> Call[StoredRecord]:
    return _call("POST", f"{API}/records/{int(record_id)}/exceptions", _structured(StoredRecord),
                 json={"code": code, "reason": reason}, params=_params(lang=lang))


def review_page(query: RecordQuery, after: int | None, limit: int, lang: str | None) -> Call[Page[StoredRecord]]:
    params = (*query.params(), *_params(after=after, limit=limit, lang=lang))
    return _call("GET", f"{API}/review", _page(StoredRecord, "records", "next_after"), params=params)


def review(action: str, record_ids: Iterable[int], reason: str | None) -> Call[ReviewResult]:
    body: dict[str, Any] = {"action": action, "records": [int(record_id) for record_id in record_ids]}
    if reason is not None:
        body["reason"] = reason
    return _call("POST", f"{API}/review", _structured(ReviewResult), json=body)


def unit_checks_page(state: str | None, code: str | None, after: int | None, limit: int) -> Call[Page[UnitCheck]]:
    return _call("GET", f"{API}/unit-checks", _page(UnitCheck, "checks", "next_after"),
                 params=_params(state=state, code=code, after=after, limit=limit))


def retry_unit_check(check_id: int) -> Call[UnitCheck]:
    return _call("POST", f"{API}/unit-checks/{int(check_id)}/retry", _structured(UnitCheck))


@attrs.frozen(kw_only=True)
class Scope:
    """The scope filters of statistics and exports."""

    month_from: str | None = None
    month_to: str | None = None
    province: str | None = None
    school: str | None = None
    department: str | None = None
    versions: str | None = None

    def params(self) -> tuple[tuple[str, str], ...]:
        return _params(**{"from": self.month_from, "to": self.month_to}, province=self.province,
                       school=self.school, department=self.department, versions=self.versions)


def statistics(scope: Scope, missing_limit: int | None) -> Call[Statistics]:
    return _call("GET", f"{API}/statistics", _structured(Statistics),
                 params=(*scope.params(), *_params(missing_limit=missing_limit)))


def export(scope: Scope, file_format: str, path: str | os.PathLike[str]) -> Call[Download]:
    if file_format not in ("xlsx", "csv"):
        raise ValueError(f"file_format must be xlsx or csv, not {file_format!r}")
    return _call("GET", f"{API}/export", _download, params=(("format", file_format), *scope.params()),
                 download=Path(path))


# --- meta ---


def health() -> Call[bool]:
    return _call("GET", f"{API}/health", lambda response: _member("status")(response) == "ok")


def openapi() -> Call[dict[str, Any]]:
    def parse(response: httpx.Response) -> dict[str, Any]:
        data = _json(response)
        if not isinstance(data, dict):
            raise _format_error(response, "the document is not an object")
        return data

    return _call("GET", f"{API}/openapi.json", parse)


def problem_type(code: str) -> Call[ProblemType]:
    return _call("GET", f"{API}/problems/{_segment(code)}", _structured(ProblemType))


def _segment(value: str) -> str:
    """Quote one path segment, so that a name cannot change the path."""
    return urllib.parse.quote(str(value), safe="")


class ProgressReader(io.BytesIO):
    """The bytes of an upload, reporting each read to a progress callback."""

    def __init__(self, content: bytes, progress: ProgressCallback) -> None:
        super().__init__(content)
        self._total = len(content)
        self._progress = progress

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self._progress(self.tell(), self._total)
        return chunk
