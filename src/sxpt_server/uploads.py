"""Uploads: records, rosters and plans, checked with exactly the core rules and stored atomically.

An upload of records runs in two steps. First the file (xlsx or CSV) or the JSON rows
go through ``sxpt_core``'s readers and every rule, outside any transaction. Then one
write transaction stores the batch, its report and every row that has a complete natural
key, with the state the core gives it: all of it, or nothing.

Decided here:

- A row whose natural key is incomplete (学号, 课程代码, dates or unit missing or
  invalid) or whose 院系 is blank is not stored as a record; the batch report lists it
  under ``not_stored`` with the reason, and the user fixes it and uploads again.
- A department uploads only rows of its own department; a school only rows of its
  registered departments. A file that breaks this is refused as a whole, naming the
  rows, because half of it would be stored under the wrong owner otherwise.
- When an upload would create and update nothing, and the same unit uploaded the same
  bytes before, nothing is stored and the answer names the earlier batch.
- A second row with the natural key of an earlier row in the same file is not stored;
  the batch rule reports it as a duplicate.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from sxpt_core import access
from sxpt_core import records as core_records
from sxpt_core.catalogue import Severity
from sxpt_core.context import Context
from sxpt_core.errors import InputError
from sxpt_core.io import ReadLimits, read_table
from sxpt_core.models import Normalisation, Report, converter
from sxpt_core.review import Action, RecordState, RecordStatus, ReviewError, transition
from sxpt_core.templates import Template, get_template
from sxpt_core.validate import MODELS, Validation, validate_rows, validate_table
from sxpt_server import audit, checks
from sxpt_server.problems import Problem
from sxpt_server.store import ConflictError, School, Store, school_scope
from sxpt_server.store.records import Batch, NewBatch, RecordWrite

__all__ = [
    "Upload",
    "UploadResult",
    "json_rows_as_csv",
    "problem_from_input_error",
    "report_document",
    "safe_filename",
    "stored_report",
    "upload_records",
    "upload_reference_list",
]

# Rows listed by name in a refusal; the rest are counted.
LISTED_ROWS = 20

JSON_MEDIA_TYPE = "application/json"


@attrs.frozen
class Upload:
    """An upload as received: file bytes with a name, or JSON rows keyed by template header."""

    content: bytes | None = None
    filename: str | None = None
    rows: Sequence[Mapping[str, Any]] | None = None
    idempotency_key: str | None = None


@attrs.frozen
class UploadResult:
    """The batch an upload made, or the earlier batch when the upload changed nothing."""

    batch: Batch | None
    unchanged: bool = False
    replayed: bool = False


FILENAME_MAX_LENGTH = 200


def safe_filename(name: str | None) -> str | None:
    r"""Return the base name of an uploaded file without folders or control characters.

    Browsers on Windows may send ``C:\Users\…\实习数据.xlsx``; only the last part is kept,
    after either kind of slash.

    >>> safe_filename("..\\..\\实习数据.xlsx")
    '实习数据.xlsx'
    >>> safe_filename("a\x00b/\tx.csv")
    'x.csv'
    """
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(character for character in base if unicodedata.category(character)[0] != "C")
    # Leading dots would hide the file on Unix; some Werkzeug versions leave "..实习数据.xlsx" of "..\实习数据.xlsx".
    cleaned = cleaned.strip().lstrip(". ")[-FILENAME_MAX_LENGTH:]
    return cleaned or None


def problem_from_input_error(error: InputError) -> Problem:
    """Turn a file that cannot be read into a problem with the core's code and message."""
    code = error.code if error.code.startswith("SXPT-INPUT") else "SXPT-INPUT"
    return Problem(code, error.message, error.message_en or error.message)


def json_rows_as_csv(template: Template, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Write JSON rows as a UTF-8 CSV file in template order, kept as the batch's source.

    The annotated and errors-only workbooks of a JSON upload are made from this file;
    its records are numbered from 2, as the rows of a sheet under its header row are.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in template])
    for row in rows:
        writer.writerow(["" if row.get(column.header) is None else str(row.get(column.header))
                         for column in template])
    return buffer.getvalue().encode("utf-8")


def _check_json_rows(rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise Problem("SXPT-VALIDATION", "records 须为对象数组，每个对象以模板表头为键。",
                      "records must be an array of objects keyed by template header.")
    if not rows:
        raise Problem("SXPT-VALIDATION", "records 为空：请至少提交一条记录。", "records is empty; send at least one record.")
    return rows


def _check_json_keys(rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str]) -> None:
    """Refuse JSON records with keys that are not template headers, which would be lost silently."""
    for index, row in enumerate(rows, start=1):
        unknown = sorted(key for key in row if key not in headers)
        if unknown:
            raise Problem("SXPT-VALIDATION",
                          f"第 {index} 条记录有模板中没有的字段：{'、'.join(unknown)}。字段名须与实习数据模板表头一致"
                          "（如 学生姓名、实习单位统一社会信用代码）。",
                          f"Record {index} has fields that the template does not have: {', '.join(unknown)}. Use "
                          "the template's headers.", extra={"record": index, "fields": unknown})


class _SourceValues(Mapping[str, Any]):
    """The values of one row of a file as read, by attribute: a view of the row, not a copy.

    A dict per row would add about 80 MiB (tracemalloc) to a 100,000-row upload while its
    rows are prepared, which is when the upload's memory peaks.
    """

    __slots__ = ("_positions", "_values")

    def __init__(self, values: Sequence[Any], positions: Mapping[str, int]) -> None:
        self._values = values
        self._positions = positions

    def __getitem__(self, attr: str) -> Any:
        return self._values[self._positions[attr]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


def _validate(upload: Upload, kind: str, context: Context, limits: ReadLimits,
              ) -> tuple[Validation, dict[int, Mapping[str, Any]], bytes, str]:
    """Run the core checks; return the validation, the raw values by row, the source bytes and media type."""
    template = get_template(kind, context.school.template_version)
    raws: dict[int, Mapping[str, Any]] = {}
    if upload.rows is not None:
        rows = _check_json_rows(upload.rows)
        if len(rows) > limits.max_rows:
            raise Problem("SXPT-INPUT-TOO-LARGE", f"一次最多提交 {limits.max_rows} 条记录，本次 {len(rows)} 条。",
                          f"At most {limits.max_rows} records per upload; this one has {len(rows)}.")
        headers = {column.header: column.attr for column in template}
        _check_json_keys(rows, headers)
        validation = validate_rows(rows, context, kind=kind, first_row=2)
        for number, row in enumerate(rows, start=2):
            raws[number] = {headers[key]: value for key, value in row.items() if key in headers}
        return validation, raws, json_rows_as_csv(template, rows), JSON_MEDIA_TYPE

    assert upload.content is not None
    try:
        table = read_table(upload.content, template, filename=upload.filename, limits=limits)
        source_rows = list(table.rows)
        table = attrs.evolve(table, rows=source_rows)
        validation = validate_table(table, context, template=template)
    except InputError as error:
        raise problem_from_input_error(error) from error
    if not source_rows:
        raise Problem("SXPT-INPUT", "文件只有表头，没有数据行：请在表头下方填写记录后再上传。",
                      "The file has a header row but no data rows; fill in the records below the header and upload "
                      "again.")
    positions = {source.column.attr: position for position, source in enumerate(table.columns)
                 if source.column is not None}
    for source_row in source_rows:
        raws[source_row.number] = _SourceValues(source_row.values, positions)
    name = (upload.filename or "").lower()
    media = "text/csv" if name.endswith((".csv", ".txt")) else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return validation, raws, upload.content, media


def stored_report(report: Report, not_stored: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Return a report as a batch keeps it: issues by code and parameters, so both languages can be shown."""
    return {
        "template": report.template,
        "rows": report.rows,
        "valid_rows": report.valid_rows,
        "issues": [{**core_records.stored_issue(issue), "sheet": issue.sheet, "row": issue.row}
                   for issue in report.issues],
        "normalised": [entry.to_dict() | {"sheet": entry.sheet} for entry in report.normalised],
        "not_stored": list(not_stored),
    }


def report_document(stored: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """Render a kept report in the shape of ``sxpt validate --format json`` (SPEC §6), in ``lang``."""
    issues = [core_records.issue_from_stored(item, row=item.get("row"), sheet=item.get("sheet"))
              for item in stored.get("issues", [])]
    errors = sum(1 for issue in issues if issue.severity is Severity.ERROR)
    normalised = [{key: value for key, value in entry.items() if key != "sheet"}
                  for entry in stored.get("normalised", [])]
    not_stored = [
        {"row": entry["row"], "reason": entry["reason_en"] if lang == "en" else entry["reason"]}
        for entry in stored.get("not_stored", [])
    ]
    return {
        "template": stored.get("template"),
        "rows": stored.get("rows"),
        "valid_rows": stored.get("valid_rows"),
        "counts": {"error": errors, "warning": len(issues) - errors + len(normalised)},
        "issues": [issue.to_dict(lang) for issue in issues],
        "normalised": normalised,
        "not_stored": not_stored,
    }


def report_of(stored: Mapping[str, Any]) -> Report:
    """Rebuild the core ``Report`` of a kept report, for the annotated workbooks."""
    issues = tuple(core_records.issue_from_stored(item, row=item.get("row"), sheet=item.get("sheet"))
                   for item in stored.get("issues", []))
    normalised = tuple(
        Normalisation(code=entry["code"], sheet=entry.get("sheet"), row=entry["row"], column=entry["column"],
                      field=entry["field"], original=entry["from"], normalised=entry["to"])
        for entry in stored.get("normalised", []))
    return Report(template=stored["template"], rows=stored["rows"], valid_rows=stored["valid_rows"],
                  issues=issues, normalised=normalised)


def _refuse_rows(code: str, rows: list[int], zh: str, en: str) -> Problem:
    listed = "、".join(str(row) for row in rows[:LISTED_ROWS])
    more = f"等 {len(rows)} 行" if len(rows) > LISTED_ROWS else ""
    more_en = f" and {len(rows) - LISTED_ROWS} more" if len(rows) > LISTED_ROWS else ""
    return Problem(code, f"第 {listed} 行{more}：{zh}", f"Rows {', '.join(map(str, rows[:LISTED_ROWS]))}{more_en}: {en}",
                   extra={"rows": rows})


def _check_scope(actor: access.Unit, school: School, departments: set[str],
                 rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Refuse the upload when a row belongs to a department outside the actor's unit or not registered."""
    outside: list[int] = []
    unknown: dict[str, list[int]] = {}
    for number, values in rows:
        department = values.get("department")
        if not department:
            continue
        if not access.can_upload_records(actor, school=school.code, department=department):
            outside.append(number)
        elif department not in departments:
            unknown.setdefault(department, []).append(number)
    if outside:
        raise _refuse_rows(
            "SXPT-UPLOAD-SCOPE", outside,
            f"院系不是“{actor.department}”。院系用户只能上报本院系学生的记录：请删除这些行，或请校级用户上报。",
            f"the department is not {actor.department!r}. A department uploads only its own students; remove these "
            "rows or ask a school-level user to upload them.")
    if unknown:
        name, rows_of = next(iter(unknown.items()))
        raise _refuse_rows(
            "SXPT-DEPARTMENT-UNKNOWN", rows_of,
            f"院系“{name}”未在本校登记。请改为已登记的院系名称，或先在院系管理中添加它。",
            f"the department {name!r} is not registered for the school. Use a registered name, or add the "
            "department first.")


def _unit_pair(cells: Mapping[str, Any]) -> tuple[str, str] | None:
    code, name = cells.get("实习单位统一社会信用代码"), cells.get("实习单位名称")
    if not code or not name or code == core_records.FOREIGN_UNIT_CODE:
        return None
    return (str(code), str(name))


def _replayed(store: Store, school: School, upload: Upload, kind: str) -> Batch | None:
    """Return the batch of an earlier request with the same idempotency key, if there was one."""
    if not upload.idempotency_key:
        return None
    earlier = store.find_batch_by_idempotency_key(school.code, upload.idempotency_key)
    if earlier is not None and earlier.kind != kind:
        raise Problem("SXPT-STATE-CONFLICT",
                      f"Idempotency-Key 已用于第 {earlier.id} 批上传（另一种文件）。每次新的上传请用新的值。",
                      f"The Idempotency-Key was used for batch {earlier.id}, another kind of file. Use a new value "
                      "for each new upload.")
    return earlier


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@attrs.frozen
class _Row:
    number: int
    key: str
    department: str
    cells: dict[str, Any]
    issues: list[dict[str, Any]]
    digest: str
    unit: tuple[str, str] | None
    student_id: str
    course_code: str
    reporting_month: str


def _prepare_rows(validation: Validation, raws: Mapping[int, Mapping[str, Any]], template: Template,
                  ) -> tuple[list[_Row], list[dict[str, Any]]]:
    issues_by_row: dict[int, list[dict[str, Any]]] = {}
    for issue in validation.report.issues:
        if issue.row is not None:
            issues_by_row.setdefault(issue.row, []).append(core_records.stored_issue(issue))
    prepared: list[_Row] = []
    not_stored: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, values in validation.rows:
        cells = core_records.cells_of(template, values, raws.get(number, {}))
        key = core_records.natural_key(values, cells)
        department = values.get("department")
        if key is None or not department:
            not_stored.append({
                "row": number,
                "reason": "学号、院系、课程代码、实习起止时间或实习单位缺失或无效，未保存：请按报告改正后重新上传。",
                "reason_en": "学号, 院系, 课程代码, the dates or the unit are missing or invalid, so the row was not "
                             "stored; fix it as the report says and upload again.",
            })
            continue
        if key in seen:
            not_stored.append({
                "row": number,
                "reason": f"与第 {seen[key]} 行是同一实习（学号、课程、起止时间和单位相同），未保存。",
                "reason_en": f"Same internship as row {seen[key]} (same student, course, dates and unit); not stored.",
            })
            continue
        seen[key] = number
        prepared.append(_Row(number, key, department, cells, issues_by_row.get(number, []),
                             core_records.content_digest(cells), _unit_pair(cells), str(values.get("student_id")),
                             str(values.get("course_code")), core_records.month_of(values)))
    return prepared, not_stored


def upload_records(store: Store, *, actor: access.Unit, actor_name: str, school: School, upload: Upload,
                   now: datetime.datetime, limits: ReadLimits) -> UploadResult:
    """Check and store an upload of records; see the module docstring for what is stored."""
    earlier = _replayed(store, school, upload, "records")
    if earlier is not None:
        return UploadResult(earlier, replayed=True)

    context = checks.school_context(store, school, now)
    report, rows, not_stored, source, media = _checked_rows(store, actor=actor, school=school, upload=upload,
                                                            context=context, limits=limits)
    try:
        return _store_records(store, actor=actor, actor_name=actor_name, school=school, upload=upload, now=now,
                              report=report, rows=rows, not_stored=not_stored, source=source, media=media)
    except ConflictError:
        # A concurrent request with the same idempotency key stored its batch first.
        earlier = _replayed(store, school, upload, "records")
        if earlier is None:
            raise
        return UploadResult(earlier, replayed=True)


def _checked_rows(store: Store, *, actor: access.Unit, school: School, upload: Upload, context: Context,
                  limits: ReadLimits) -> tuple[Report, list[_Row], list[dict[str, Any]], bytes, str]:
    """Run the core checks on an upload of records and prepare its rows for storing.

    Return the report, the rows to store, the rows not stored, the source bytes and the
    media type. The normalised values and the cells as read are released when this
    returns, so that they are not held while a large upload is stored.
    """
    template = get_template("records", context.school.template_version)
    validation, raws, source, media = _validate(upload, "records", context, limits)
    departments = {department.name for department in store.list_departments(school.code)}
    _check_scope(actor, school, departments, validation.rows)
    rows, not_stored = _prepare_rows(validation, raws, template)
    return validation.report, rows, not_stored, source, media


def _store_records(store: Store, *, actor: access.Unit, actor_name: str, school: School, upload: Upload,
                   now: datetime.datetime, report: Report, rows: list[_Row],
                   not_stored: list[dict[str, Any]], source: bytes, media: str) -> UploadResult:
    """Store the checked rows of an upload and its batch in one transaction."""
    file_digest = _digest(source)
    uploader_department = actor.department or ""
    with store.transaction(scope=school_scope(school.code)):
        existing = store.records_by_key(school.code, (row.key for row in rows))
        refused: list[int] = []
        changes: list[tuple[_Row, int | None]] = []
        for row in rows:
            record = existing.get(row.key)
            if record is None:
                changes.append((row, None))
                continue
            if record.digest == row.digest:
                continue
            status = RecordStatus(RecordState(record.state), record.approved_version is not None,
                                  record.delete_requested)
            try:
                transition(status, Action.EDIT, actor=actor, school=school.code, department=record.department)
            except ReviewError as error:
                not_stored.append({"row": row.number, "reason": error.message,
                                   "reason_en": error.message_en or error.message})
                refused.append(row.number)
                continue
            changes.append((row, record.id))

        unchanged = len(rows) - len(changes) - len(refused)
        if not changes:
            earlier = store.find_batch(school=school.code, kind="records", department=uploader_department,
                                       digest=file_digest)
            if earlier is not None:
                return UploadResult(earlier, unchanged=True)

        store.ensure_unit_checks((row.unit for row, _ in changes if row.unit is not None), now=now)
        unit_checks = store.unit_checks_for(row.unit for row, _ in changes if row.unit is not None)
        accepted = store.exceptions_for(record_id for _, record_id in changes if record_id is not None)
        writes = []
        for row, record_id in changes:
            check = unit_checks.get(row.unit) if row.unit is not None else None
            state = checks.state_of(row.issues, check, row.unit is not None,
                                    accepted.get(record_id, ()) if record_id is not None else ())
            writes.append(RecordWrite(
                record_id=record_id, province=school.province, school=school.code, department=row.department,
                natural_key=row.key, state=state.value, student_id=row.student_id,
                course_code=row.course_code, unit_code=str(row.cells.get("实习单位统一社会信用代码", "")),
                unit_name=str(row.cells.get("实习单位名称", "")), reporting_month=row.reporting_month,
                cells=row.cells, issues=row.issues, digest=row.digest,
            ))
        created = sum(1 for _, record_id in changes if record_id is None)
        batch_id = store.add_batch(NewBatch(
            kind="records", province=school.province, school=school.code, department=uploader_department,
            actor=actor_name, filename=upload.filename, media_type=media, digest=file_digest,
            idempotency_key=upload.idempotency_key, status="stored", created_at=now, rows=report.rows,
            valid_rows=report.valid_rows, errors=report.error_count, warnings=report.warning_count,
            created=created, updated=len(changes) - created, unchanged=unchanged, not_stored=len(not_stored),
            report=stored_report(report, sorted(not_stored, key=lambda entry: entry["row"])), source=source,
        ))
        store.write_records(writes, batch_id=batch_id, actor=actor_name, now=now)
        audit.record(store, "batch_uploaded", target=f"batch:{batch_id}", unit=actor, kind="records",
                     rows=report.rows, created=created, updated=len(changes) - created, not_stored=len(not_stored))
        batch = store.get_batch(batch_id)
    return UploadResult(batch)


def upload_reference_list(store: Store, *, kind: str, actor: access.Unit, actor_name: str, school: School,
                          upload: Upload, now: datetime.datetime, limits: ReadLimits) -> UploadResult:
    """Check a roster or plan upload and make it the school's current one when it has no errors.

    A file with errors is kept as a rejected batch with its report, and the current list
    stays. After a new list, the school's waiting records are checked again.
    """
    earlier = _replayed(store, school, upload, kind)
    if earlier is not None:
        return UploadResult(earlier, replayed=True)
    context = checks.school_context(store, school, now)
    validation, _raws, source, media = _validate(upload, kind, context, limits)
    report = validation.report
    file_digest = _digest(source)
    current = store.current_reference_list(kind, school.code)
    if current is not None and not report.has_errors:
        current_batch = store.get_batch(current.batch_id)
        if current_batch is not None and current_batch.digest == file_digest:
            return UploadResult(current_batch, unchanged=True)

    status = "rejected" if report.has_errors else "stored"
    model = MODELS[kind]
    entries = [converter.unstructure(item, model) for item in validation.models()] if status == "stored" else []
    try:
        return _store_reference_list(store, kind=kind, actor=actor, actor_name=actor_name, school=school,
                                     upload=upload, now=now, report=report, status=status, entries=entries,
                                     source=source, media=media)
    except ConflictError:
        earlier = _replayed(store, school, upload, kind)
        if earlier is None:
            raise
        return UploadResult(earlier, replayed=True)


def _store_reference_list(store: Store, *, kind: str, actor: access.Unit, actor_name: str, school: School,
                          upload: Upload, now: datetime.datetime, report: Report, status: str,
                          entries: list[dict[str, Any]], source: bytes, media: str) -> UploadResult:
    """Store a roster or plan batch, and make its list current when it has no errors."""
    file_digest = _digest(source)
    with store.transaction(scope=school_scope(school.code)):
        batch_id = store.add_batch(NewBatch(
            kind=kind, province=school.province, school=school.code, department="", actor=actor_name,
            filename=upload.filename, media_type=media, digest=file_digest, idempotency_key=upload.idempotency_key,
            status=status, created_at=now, rows=report.rows, valid_rows=report.valid_rows,
            errors=report.error_count, warnings=report.warning_count, created=len(entries), updated=0, unchanged=0,
            not_stored=report.rows - len(entries), report=stored_report(report, []), source=source,
        ))
        if status == "stored":
            store.add_reference_list(kind, school.code, batch_id=batch_id, data=entries, now=now)
        audit.record(store, f"{kind}_uploaded", target=f"batch:{batch_id}", unit=actor, status=status,
                     rows=report.rows)
        if status == "stored":
            checks.recheck_school(store, school, now=now)
        batch = store.get_batch(batch_id)
    return UploadResult(batch)
