"""``AsyncClient``: the async twin of :class:`~sxpt_core.client.Client`."""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from sxpt_core.client import _calls as calls
from sxpt_core.client import _http
from sxpt_core.client._calls import IdempotencyKey, ProgressCallback, RecordQuery, RecordSource, Scope
from sxpt_core.client._common import (
    CHECKING,
    DEFAULT_TIMEOUT,
    PAGE_SIZE,
    ClientOptions,
    WaitScope,
    WaitTarget,
    ids_scope,
    wait_timeout_error,
)
from sxpt_core.client._http import AsyncSender, RetryPolicy
from sxpt_core.client.environment import api_key_from_environment, server_url_from_environment
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
    RecordIssue,
    RecordVersion,
    ReferenceList,
    ReviewResult,
    School,
    Statistics,
    StoredRecord,
    UnitCheck,
    UploadResult,
)
from sxpt_core.errors import ConfigError

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """The async twin of :class:`~sxpt_core.client.Client`: the same methods and errors, awaited.

    Iterators are async iterators, ``login`` accepts a callback that returns the code
    or an awaitable of it, and the client closes with ``async with`` or ``await
    client.aclose()``. ``transport`` is an async httpx transport.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        lang: str = "zh",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._options = ClientOptions.make(base_url, api_key=api_key, lang=lang, retry=retry, headers=headers)
        self._http = httpx.AsyncClient(base_url=self._options.base_url, headers=self._options.headers,
                                  transport=transport, timeout=timeout)
        self._sender = AsyncSender(self._http, self._options.retry)

    @classmethod
    def from_environment(cls, **options: Any) -> AsyncClient:
        """Make a client from ``SXPT_SERVER_URL`` and ``SXPT_API_KEY`` (or ``SXPT_API_KEY_FILE``).

        Raises ConfigError when the URL or the key is missing.
        """
        url = server_url_from_environment()
        key = api_key_from_environment()
        if url is None or key is None:
            raise ConfigError(
                "请设置环境变量 SXPT_SERVER_URL（服务器地址）和 SXPT_API_KEY（或 SXPT_API_KEY_FILE，API 密钥文件）。",
                message_en="Set SXPT_SERVER_URL (the server URL) and SXPT_API_KEY (or SXPT_API_KEY_FILE, a file "
                           "with the API key).",
            )
        return cls(url, api_key=key, **options)

    def __repr__(self) -> str:
        return f"AsyncClient({self._options.base_url!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, value: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections; the server's session, if any, stays until logout or timeout."""
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        """The server's URL as given to the constructor."""
        return self._options.base_url

    async def _run(self, call: calls.Call[T]) -> T:
        return call.parse(await self._sender.send(call))

    # --- login and the caller's own account ---

    async def login(self, account: str, password: str,
                    code_callback: Callable[[str], str | Awaitable[str]]) -> Account:
        """Log in with password and SMS code; the session cookie is kept for later requests.

        The server sends an SMS code to the account's phone, then ``code_callback`` is
        called with the account name and returns the code that the user typed.
        """
        self._options.check_login_allowed()
        await self._run(calls.send_login_code(account, password))
        answer = code_callback(account)
        code = await answer if inspect.isawaitable(answer) else answer
        return await self._run(calls.log_in(account, password, code.strip()))

    async def send_login_code(self, account: str, password: str) -> CodeSent:
        """Check the password and send the login SMS code (the first half of :meth:`login`)."""
        self._options.check_login_allowed()
        return await self._run(calls.send_login_code(account, password))

    async def complete_login(self, account: str, password: str, code: str) -> Account:
        """Log in with the code of :meth:`send_login_code` (the second half of :meth:`login`)."""
        self._options.check_login_allowed()
        return await self._run(calls.log_in(account, password, code.strip()))

    async def logout(self) -> None:
        """End the session."""
        await self._run(calls.log_out())

    async def activate(self, account: str, code: str, password: str) -> None:
        """Set the password of a new account with the activation code from its SMS."""
        await self._run(calls.activate(account, code, password))

    async def me(self) -> Identity:
        """Return who makes the requests (account or API key), its unit and allowed actions."""
        return await self._run(calls.me())

    async def change_password(self, password: str, new_password: str) -> int:
        """Change the own password; every session ends, this one too. Returns the number ended."""
        return await self._run(calls.change_password(password, new_password))

    async def send_phone_code(self, phone: str) -> CodeSent:
        """Send a code to a new phone number, to change the own phone with :meth:`change_phone`."""
        return await self._run(calls.send_phone_code(phone))

    async def change_phone(self, phone: str, code: str, password: str) -> PhoneChange:
        """Bind the own account to ``phone`` with the code sent there; every session ends."""
        return await self._run(calls.change_phone(phone, code, password))

    # --- accounts, organisations, API keys, audit log ---

    async def accounts(self) -> list[Account]:
        """List the accounts of the own unit and those that the caller manages."""
        return await self._run(calls.accounts())

    async def account(self, name: str) -> Account:
        """Return one account."""
        return await self._run(calls.account(name))

    async def create_account(self, *, level: str, phone: str, province: str | None = None, school: str | None = None,
                       department: str | None = None, contact_name: str | None = None) -> Account:
        """Create an account one level below the caller; the server sends its activation SMS."""
        return await self._run(calls.create_account({
            "level": level, "phone": phone, "province": province, "school": school, "department": department,
            "contact_name": contact_name}))

    async def edit_account(self, name: str, *, contact_name: str | None) -> Account:
        """Change the contact name of an account that the caller manages."""
        return await self._run(calls.edit_account(name, contact_name))

    async def delete_account(self, name: str) -> None:
        """Delete an account that the caller manages, with its sessions."""
        await self._run(calls.delete_account(name))

    async def resend_activation(self, name: str) -> Activation:
        """Send a new activation SMS to an account that the caller manages."""
        return await self._run(calls.resend_activation(name))

    async def set_account_phone(self, name: str, phone: str) -> Account:
        """Bind a subordinate account to another phone; its sessions end."""
        return await self._run(calls.set_account_phone(name, phone))

    async def provinces(self) -> list[Province]:
        """List the provinces that the caller may see."""
        return await self._run(calls.provinces())

    async def create_province(self, code: str) -> Province:
        """Register a province by its GB/T 2260 code (ministry users)."""
        return await self._run(calls.create_province(code))

    async def schools(self, province: str | None = None) -> list[School]:
        """List the schools that the caller may see, optionally of one province."""
        return await self._run(calls.schools(province))

    async def school(self, code: str) -> School:
        """Return one school."""
        return await self._run(calls.school(code))

    async def create_school(self, *, code: str, name: str, uscc: str, city: str, province: str | None = None) -> School:
        """Register a school of the caller's province (province users)."""
        return await self._run(calls.create_school(
            {"code": code, "name": name, "uscc": uscc, "city": city, "province": province}))

    async def departments(self, school: str) -> list[Department]:
        """List the departments of a school that the caller may see."""
        return await self._run(calls.departments(school))

    async def create_department(self, school: str, name: str) -> Department:
        """Register a department of the caller's school (school users)."""
        return await self._run(calls.create_department(school, name))

    async def api_keys(self) -> list[ApiKey]:
        """List the API keys of the caller's school (school users), without the keys themselves."""
        return await self._run(calls.api_keys())

    async def issue_api_key(self, label: str, *, department: str | None = None,
                      expires_in_days: int | None = None) -> IssuedApiKey:
        """Issue an API key for the school or one department; ``key`` is in this result only."""
        return await self._run(calls.issue_api_key(label, department, expires_in_days))

    async def revoke_api_key(self, prefix: str) -> None:
        """Revoke an API key by its prefix."""
        await self._run(calls.revoke_api_key(prefix))

    async def audit(self, *, page_size: int = 50) -> AsyncIterator[AuditEntry]:
        """Iterate over the audit entries that the caller may read, newest first, page by page."""
        before: int | None = None
        while True:
            page = await self._run(calls.audit_page(before, page_size))
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            before = page.cursor

    # --- roster, plan and uploads of records ---

    async def upload_records(self, source: RecordSource, *, filename: str | None = None,
                       idempotency_key: IdempotencyKey = None, progress: ProgressCallback | None = None) -> UploadResult:
        """Upload records: a file path, the bytes of an xlsx or CSV file, or ``Record`` objects or dicts.

        Every call sends an idempotency key, a new uuid4 unless ``idempotency_key``
        gives one, so a retried upload is stored once. ``idempotency_key=False`` sends
        none, and the upload is then never retried. ``progress`` is called with (bytes
        sent, total) while a file is sent.
        """
        return await self._run(calls.upload_records(source, filename=filename, idempotency_key=idempotency_key,
                                              progress=progress))

    async def upload_roster(self, source: str | os.PathLike[str] | bytes, *, filename: str | None = None,
                      idempotency_key: IdempotencyKey = None, progress: ProgressCallback | None = None) -> UploadResult:
        """Upload the school's student roster (school users, logged in); see :meth:`upload_records`.

        Unlike record uploads, roster and plan uploads send no idempotency key unless
        ``idempotency_key`` gives one, so they are not retried by default.
        """
        return await self._run(calls.upload_reference("roster", source, filename=filename, idempotency_key=idempotency_key,
                                                progress=progress))

    async def upload_plan(self, source: str | os.PathLike[str] | bytes, *, filename: str | None = None,
                    idempotency_key: IdempotencyKey = None, progress: ProgressCallback | None = None) -> UploadResult:
        """Upload the school's training plan (school users, logged in); see :meth:`upload_roster`."""
        return await self._run(calls.upload_reference("plan", source, filename=filename, idempotency_key=idempotency_key,
                                                progress=progress))

    async def current_roster(self) -> ReferenceList | None:
        """Return the school's current roster, or None before the first one."""
        return await self._run(calls.current_reference("roster"))

    async def current_plan(self) -> ReferenceList | None:
        """Return the school's current training plan, or None before the first one."""
        return await self._run(calls.current_reference("plan"))

    async def batches(self, *, kind: str | None = None, page_size: int = 50) -> AsyncIterator[Batch]:
        """Iterate over the uploads of the caller's school or department, newest first."""
        before: int | None = None
        while True:
            page = await self._run(calls.batches_page(kind, before, page_size))
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            before = page.cursor

    async def batch(self, batch_id: int) -> Batch:
        """Return one upload."""
        return await self._run(calls.batch(batch_id))

    async def batch_report(self, batch_id: int) -> BatchReport:
        """Return the kept report of an upload, with messages in the client's language."""
        return await self._run(calls.batch_report(batch_id, self._options.lang))

    async def download_annotated(self, batch_id: int, path: str | os.PathLike[str]) -> Download:
        """Write the uploaded sheet with every faulty cell marked and commented to ``path``."""
        return await self._run(calls.batch_workbook(batch_id, "annotated", path, self._options.lang))

    async def download_errors_only(self, batch_id: int, path: str | os.PathLike[str]) -> Download:
        """Write the rows with errors, in the template layout, to ``path``, to fix and upload again."""
        return await self._run(calls.batch_workbook(batch_id, "errors", path, self._options.lang))

    async def wait_for_checks(self, target: WaitTarget, *, timeout: float = 600.0, poll: float = 2.0) -> None:
        """Wait until the records of an upload, or the records with the given ids, are checked.

        ``target`` is an upload (``UploadResult``, ``Batch`` or batch id) or an iterable
        of record ids. For an upload the client waits until no record of the upload's
        department (the school's for a school-level upload) that was written at or after
        the upload is 待校验. It polls every ``poll`` seconds and raises WaitTimeoutError
        after ``timeout`` seconds, with the ids still waiting.
        """
        deadline = time.monotonic() + timeout
        scope = await self._wait_scope(target)
        while True:
            pending = [item.id async for item in self.records(state=CHECKING, department=scope.department)
                       if scope.waits_for(item)]
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise wait_timeout_error(pending, timeout)
            await _http._async_sleep(min(poll, remaining))

    async def _wait_scope(self, target: WaitTarget) -> WaitScope:
        if isinstance(target, UploadResult):
            return WaitScope.of_batch(target.batch)
        if isinstance(target, Batch):
            return WaitScope.of_batch(target)
        if isinstance(target, int):
            return WaitScope.of_batch(await self.batch(target))
        return ids_scope(target)

    # --- records ---

    async def records(self, *, state: str | Iterable[str] | None = None, department: str | None = None,
                school: str | None = None, province: str | None = None, month: str | None = None,
                student_id: str | None = None, course_code: str | None = None, unit_code: str | None = None,
                delete_requested: bool | None = None, page_size: int = PAGE_SIZE) -> AsyncIterator[StoredRecord]:
        """Iterate over the records that the caller may see, in id order, page by page.

        The filters are those of ``GET /records``: ``state`` one or more of 待校验,
        校验不通过, 待审核, 审核通过, 已退回; ``month`` a reporting month such as 2025-10.
        """
        query = RecordQuery(state=state, department=department, school=school, province=province, month=month,
                            student_id=student_id, course_code=course_code, unit_code=unit_code,
                            delete_requested=delete_requested)
        after: int | None = None
        while True:
            page = await self._run(calls.records_page(query, after, page_size, self._options.lang))
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            after = page.cursor

    async def issues(self, *, severity: str | None = None, state: str | Iterable[str] | None = None,
               department: str | None = None, month: str | None = None,
               page_size: int = PAGE_SIZE) -> AsyncIterator[tuple[StoredRecord, RecordIssue]]:
        """Iterate over the issues of the stored records, as (record, issue) pairs, page by page.

        ``severity`` is ``error`` or ``warning``; the other filters are those of :meth:`records`.
        """
        async for item in self.records(state=state, department=department, month=month, page_size=page_size):
            for issue in item.issues:
                if severity is None or issue.severity == severity:
                    yield item, issue

    async def count_records(self, *, state: str | Iterable[str] | None = None, department: str | None = None,
                      school: str | None = None, province: str | None = None, month: str | None = None,
                      student_id: str | None = None, course_code: str | None = None, unit_code: str | None = None,
                      delete_requested: bool | None = None) -> int:
        """Count the records that :meth:`records` with the same filters would return."""
        return await self._run(calls.count_records(RecordQuery(
            state=state, department=department, school=school, province=province, month=month,
            student_id=student_id, course_code=course_code, unit_code=unit_code, delete_requested=delete_requested)))

    async def record(self, record_id: int) -> StoredRecord:
        """Return one record with its issues, exceptions and unit check."""
        return await self._run(calls.record(record_id, self._options.lang))

    async def edit_record(self, record_id: int, cells: Mapping[str, Any]) -> StoredRecord:
        """Change cells of a record, keyed by template header (None clears a cell); the new version is checked again."""
        return await self._run(calls.edit_record(record_id, cells, self._options.lang))

    async def delete_record(self, record_id: int) -> DeleteResult:
        """Delete a record, or, when it has an approved version, ask the school to delete it."""
        return await self._run(calls.delete_record(record_id))

    async def record_versions(self, record_id: int) -> list[RecordVersion]:
        """List every version of a record (school and department users)."""
        return await self._run(calls.record_versions(record_id))

    async def accept_exception(self, record_id: int, code: str, reason: str) -> StoredRecord:
        """Accept a warning or a unit check failure of a record as an exception, with a reason (school users)."""
        return await self._run(calls.accept_exception(record_id, code, reason, self._options.lang))

    # --- review ---

    async def review_queue(self, *, delete_requested: bool | None = None, state: str | Iterable[str] | None = None,
                     department: str | None = None, month: str | None = None,
                     page_size: int = PAGE_SIZE) -> AsyncIterator[StoredRecord]:
        """Iterate over the school's review queue (school users): 待审核 records, or deletion requests.

        ``delete_requested=True`` lists the records whose deletion waits for review.
        """
        query = RecordQuery(state=state, department=department, month=month, delete_requested=delete_requested)
        after: int | None = None
        while True:
            page = await self._run(calls.review_page(query, after, page_size, self._options.lang))
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            after = page.cursor

    async def review_total(self, *, delete_requested: bool | None = None, department: str | None = None) -> int:
        """Return the number of records in the review queue."""
        query = RecordQuery(department=department, delete_requested=delete_requested)
        page = await self._run(calls.review_page(query, None, 1, self._options.lang))
        return page.total or 0

    async def review(self, action: str, record_ids: Iterable[int], *, reason: str | None = None) -> ReviewResult:
        """Apply a review action (approve, return, approve_delete, reject_delete) to records, all or none."""
        return await self._run(calls.review(action, record_ids, reason))

    async def approve(self, record_ids: Iterable[int]) -> ReviewResult:
        """Approve records; the province and the ministry see the approved versions."""
        return await self.review("approve", record_ids)

    async def return_records(self, record_ids: Iterable[int], reason: str) -> ReviewResult:
        """Return records to their department with a reason."""
        return await self.review("return", record_ids, reason=reason)

    async def approve_deletion(self, record_ids: Iterable[int]) -> ReviewResult:
        """Approve the deletion requests of records."""
        return await self.review("approve_delete", record_ids)

    async def reject_deletion(self, record_ids: Iterable[int], reason: str | None = None) -> ReviewResult:
        """Reject the deletion requests of records."""
        return await self.review("reject_delete", record_ids, reason=reason)

    # --- unit checks, statistics, export, meta ---

    async def unit_checks(self, *, state: str | None = None, code: str | None = None,
                    page_size: int = PAGE_SIZE) -> AsyncIterator[UnitCheck]:
        """Iterate over the checks of the host organisations that the caller's records name."""
        after: int | None = None
        while True:
            page = await self._run(calls.unit_checks_page(state, code, after, page_size))
            for item in page.items:
                yield item
            if page.cursor is None:
                return
            after = page.cursor

    async def retry_unit_check(self, check_id: int) -> UnitCheck:
        """Send a failed unit check back to the queue (school users)."""
        return await self._run(calls.retry_unit_check(check_id))

    async def statistics(self, *, month_from: str | None = None, month_to: str | None = None, province: str | None = None,
                   school: str | None = None, department: str | None = None, versions: str | None = None,
                   missing_limit: int | None = None) -> Statistics:
        """Count the records of a scope by month, type, department, school and state, with coverage."""
        scope = Scope(month_from=month_from, month_to=month_to, province=province, school=school,
                      department=department, versions=versions)
        return await self._run(calls.statistics(scope, missing_limit))

    async def export(self, path: str | os.PathLike[str], *, file_format: str = "xlsx", month_from: str | None = None,
               month_to: str | None = None, province: str | None = None, school: str | None = None,
               department: str | None = None, versions: str | None = None) -> Download:
        """Write the records of a scope to ``path`` as the national workbook (xlsx) or CSV.

        The server exports approved versions unless ``versions="current"``.
        """
        scope = Scope(month_from=month_from, month_to=month_to, province=province, school=school,
                      department=department, versions=versions)
        return await self._run(calls.export(scope, file_format, path))

    async def health(self) -> bool:
        """Return True when the server's health check reports ok."""
        return await self._run(calls.health())

    async def openapi(self) -> dict[str, Any]:
        """Return the server's OpenAPI document."""
        return await self._run(calls.openapi())

    async def problem_type(self, code: str) -> ProblemType:
        """Return the description of a problem code."""
        return await self._run(calls.problem_type(code))
