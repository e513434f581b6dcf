"""Actions on stored records: edit, delete, review, exceptions; and who reads which version.

Each action asks ``sxpt_core.review.transition`` whether it is allowed and what follows,
stores the outcome in one transaction, and appends one audit entry per record with who,
what and why. Reading goes through ``sxpt_core.access.can_see_records``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from sxpt_core import access
from sxpt_core import records as core_records
from sxpt_core.review import (
    UNIT_VERIFY_FAILED,
    Action,
    RecordState,
    RecordStatus,
    ReviewError,
    UnitCheckState,
    can_accept,
    transition,
)
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_rows
from sxpt_server import audit, checks
from sxpt_server.problems import Problem
from sxpt_server.store import School, Store, school_scope
from sxpt_server.store.records import RecordFilter, RecordWrite, StoredRecord

__all__ = [
    "MAX_REVIEW_RECORDS",
    "accept_exception",
    "apply_review",
    "delete_record",
    "edit_record",
    "problem_from_review_error",
    "visible_filter",
    "visible_record",
]

MAX_REVIEW_RECORDS = 1000

_STATUS_OF_CODE = {
    "SXPT-FORBIDDEN": "SXPT-FORBIDDEN",
    "SXPT-REVIEW-STATE": "SXPT-REVIEW-STATE",
    "SXPT-REVIEW-DELETE-PENDING": "SXPT-REVIEW-DELETE-PENDING",
    "SXPT-REVIEW-REASON-MISSING": "SXPT-REVIEW-REASON-MISSING",
}


def problem_from_review_error(error: ReviewError, record_id: int | None = None) -> Problem:
    """Turn the core's refusal into a problem; the core's code decides the status."""
    prefix = f"记录 {record_id}：" if record_id is not None else ""
    prefix_en = f"Record {record_id}: " if record_id is not None else ""
    return Problem(_STATUS_OF_CODE.get(error.code, "SXPT-REVIEW-STATE"), prefix + error.message,
                   prefix_en + (error.message_en or error.message))


def status_of(record: StoredRecord) -> RecordStatus:
    """Return the core's view of a stored record's status."""
    return RecordStatus(RecordState(record.state), record.approved_version is not None, record.delete_requested)


def visible_filter(unit: access.Unit, base: RecordFilter) -> RecordFilter:
    """Narrow a record filter to what ``unit`` may read, as ``access.can_see_records`` decides.

    Departments and schools read their own records in every state; provinces and the
    ministry read approved versions only. A filter outside the unit raises 403.
    """
    if unit.level in (access.Level.MINISTRY, access.Level.PROVINCE) and (base.states or base.delete_requested is not None):
        raise Problem("SXPT-VALIDATION", "省级和部级用户只能看到审核通过的版本，不能按状态或删除申请筛选。",
                      "Province and ministry users see approved versions only and cannot filter by state or by "
                      "deletion request.")
    if unit.level is access.Level.MINISTRY:
        return _with(base, approved_only=True)
    if unit.level is access.Level.PROVINCE:
        if base.province not in (None, unit.province):
            raise _outside()
        return _with(base, province=unit.province, approved_only=True)
    if base.school not in (None, unit.school) or base.province not in (None, unit.province):
        raise _outside()
    if unit.level is access.Level.SCHOOL:
        return _with(base, province=unit.province, school=unit.school)
    if base.department not in (None, unit.department):
        raise _outside()
    return _with(base, province=unit.province, school=unit.school, department=unit.department)


def _with(base: RecordFilter, **changes: Any) -> RecordFilter:
    return attrs.evolve(base, **changes)


def _outside() -> Problem:
    return Problem("SXPT-FORBIDDEN", "查询条件超出了您的数据范围。", "The query asks for data outside your unit.")


def _not_found(record_id: int) -> Problem:
    return Problem("SXPT-NOT-FOUND", f"记录 {record_id} 不存在，或不在您的范围内。",
                   f"Record {record_id} does not exist or is outside your unit.")


def visible_record(store: Store, unit: access.Unit, record_id: int) -> StoredRecord:
    """Return a record the unit may read, or raise 404 (never saying that it exists elsewhere)."""
    # SQLite stores integers in 64 bits, so a larger id names no record.
    record = store.get_record(record_id) if 1 <= record_id < 2**63 else None
    if record is None:
        raise _not_found(record_id)
    approved = record.approved_version is not None
    # The school and its departments read the current version; above, only an approved one.
    if unit.level in (access.Level.SCHOOL, access.Level.DEPARTMENT):
        allowed = access.can_see_records(unit, province=record.province, school=record.school,
                                         department=record.department, approved=approved)
    else:
        allowed = approved and access.can_see_records(
            unit, province=record.province, school=record.school,
            department=record.approved_department or record.department, approved=True)
    if not allowed:
        raise _not_found(record_id)
    return record


def edit_record(store: Store, *, actor: access.Unit, actor_name: str, school: School, record: StoredRecord,
                changes: Mapping[str, Any], now: datetime.datetime) -> StoredRecord:
    """Store new content for a record: the cells merged with ``changes``, checked again.

    A key of ``changes`` is a template header; None clears the cell. The new version
    goes through the row checks (not the rules across an upload's rows).
    """
    template = get_template("records")
    headers = {column.header for column in template}
    unknown = sorted(set(changes) - headers)
    if unknown:
        raise Problem("SXPT-VALIDATION", f"没有这些字段：{'、'.join(unknown)}。字段名须与实习数据模板表头一致。",
                      f"Unknown fields: {', '.join(unknown)}. Use the headers of the 实习数据 template.")
    cells = {**record.cells, **changes}
    cells = {header: value for header, value in cells.items() if value is not None and value != ""}
    try:
        transition(status_of(record), Action.EDIT, actor=actor, school=record.school, department=record.department)
    except ReviewError as error:
        raise problem_from_review_error(error, record.id) from error

    context = checks.school_context(store, school, now)
    validation = validate_rows([cells], context, first_row=1)
    number, values = validation.rows[0]
    new_cells = core_records.cells_of(template, values, {
        column.attr: cells.get(column.header) for column in template})
    key = core_records.natural_key(values, new_cells)
    department = values.get("department")
    if key is None or not department:
        raise Problem("SXPT-VALIDATION", "学号、院系、课程代码、实习起止时间和实习单位须完整有效，才能保存修改。",
                      "学号, 院系, 课程代码, the dates and the unit must be complete and valid to save the edit.",
                      extra={"report": [issue.to_dict() for issue in validation.report.issues]})
    if not access.can_upload_records(actor, school=school.code, department=department):
        raise Problem("SXPT-UPLOAD-SCOPE", f"不能把记录改到院系“{department}”：超出了您的范围。",
                      f"The record cannot be moved to department {department!r}: it is outside your unit.")
    if department not in {item.name for item in store.list_departments(school.code)}:
        raise Problem("SXPT-DEPARTMENT-UNKNOWN", f"院系“{department}”未在本校登记。",
                      f"The department {department!r} is not registered for the school.")
    digest = core_records.content_digest(new_cells)
    if digest == record.digest:
        return record
    issues = [core_records.stored_issue(issue) for issue in validation.report.issues if issue.row == number]
    unit = core_records.unit_to_verify(values)
    pair = (str(new_cells.get("实习单位统一社会信用代码", "")), str(new_cells.get("实习单位名称", "")))
    needs_unit = bool(pair[0]) and bool(pair[1]) and pair[0] != core_records.FOREIGN_UNIT_CODE

    with store.transaction(scope=school_scope(record.school)):
        if key != record.natural_key and store.records_by_key(school.code, [key]):
            raise Problem("SXPT-CONFLICT", "已有一条相同的实习记录（学号、课程代码、起止时间和单位相同）。",
                          "Another record has the same student, course, dates and unit.")
        if needs_unit:
            store.ensure_unit_checks([pair], now=now)
        check = store.unit_checks_for([pair]).get(pair) if needs_unit else None
        state = checks.state_of(issues, check, needs_unit, store.exceptions_of(record.id))
        store.write_records([RecordWrite(
            record_id=record.id, province=record.province, school=record.school, department=department,
            natural_key=key, state=state.value, student_id=str(values.get("student_id")),
            course_code=str(values.get("course_code")), unit_code=pair[0], unit_name=pair[1],
            reporting_month=core_records.month_of(values), cells=new_cells, issues=issues, digest=digest,
        )], batch_id=None, actor=actor_name, now=now)
        audit.record(store, "record_edited", target=f"record:{record.id}", unit=_record_unit(record),
                     state=state.value, version=record.current_version + 1, unit_checked=unit is not None)
    updated = store.get_record(record.id)
    assert updated is not None
    return updated


def _record_unit(record: StoredRecord) -> access.Unit:
    return access.Unit.for_department(record.province, record.school, record.department)


def delete_record(store: Store, *, actor: access.Unit, record: StoredRecord, now: datetime.datetime) -> bool:
    """Delete a record, or ask the school to when it has an approved version; True when deleted."""
    try:
        outcome = transition(status_of(record), Action.DELETE, actor=actor, school=record.school,
                             department=record.department)
    except ReviewError as error:
        raise problem_from_review_error(error, record.id) from error
    with store.transaction(scope=school_scope(record.school)):
        if outcome.delete:
            store.delete_record(record.id, now=now)
            audit.record(store, "record_deleted", target=f"record:{record.id}", unit=_record_unit(record))
            return True
        assert outcome.status is not None
        store.set_record_status(record.id, state=outcome.status.state.value, delete_requested=True,
                                approve_current=False, review_reason=record.review_reason, now=now)
        audit.record(store, "record_delete_requested", target=f"record:{record.id}", unit=_record_unit(record))
    return False


def apply_review(store: Store, *, actor: access.Unit, action: Action, record_ids: Sequence[int],
                 reason: str | None, now: datetime.datetime) -> list[StoredRecord]:
    """Approve or return records, or decide deletion requests: all of them, or none.

    Every record is checked first; the first refusal is raised naming its record, and
    nothing is stored.
    """
    if action in (Action.EDIT, Action.DELETE):
        raise ValueError(f"{action} is not a review action")
    # Only a school reviews, and only its own records.
    with store.transaction(scope=school_scope(actor.school) if actor.school else None):
        plans = []
        for record_id in dict.fromkeys(record_ids):
            record = visible_record(store, actor, record_id)
            try:
                outcome = transition(status_of(record), action, actor=actor, school=record.school,
                                     department=record.department, reason=reason)
            except ReviewError as error:
                raise problem_from_review_error(error, record.id) from error
            plans.append((record, outcome))
        for record, outcome in plans:
            if outcome.delete:
                store.delete_record(record.id, now=now)
            else:
                assert outcome.status is not None
                kept_reason = reason if action in (Action.RETURN, Action.REJECT_DELETE) else None
                store.set_record_status(record.id, state=outcome.status.state.value,
                                        delete_requested=outcome.status.delete_requested,
                                        approve_current=outcome.approve_current, review_reason=kept_reason,
                                        now=now)
            audit.record(store, f"record_{action.value}", target=f"record:{record.id}", unit=_record_unit(record),
                         version=record.current_version, reason=reason)
    return [record for record, _ in plans]


def accept_exception(store: Store, *, actor: access.Unit, actor_name: str, record: StoredRecord, code: str,
                     reason: str | None, now: datetime.datetime) -> StoredRecord:
    """Record a reviewer's exception for ``code`` on a record, and set its state again."""
    if not access.can_review(actor, school=record.school):
        raise Problem("SXPT-FORBIDDEN", "只有本校的校级用户可以登记例外。",
                      "Only school-level users of the school accept exceptions.")
    if not can_accept(code):
        raise Problem("SXPT-EXCEPTION-NOT-ALLOWED",
                      f"{code} 不能登记为例外：只有提醒、统一社会信用代码校验位错误和单位校验不通过可以。",
                      f"{code} cannot be accepted: only warnings, a wrong check character of the credit code and a "
                      "failed unit verification can.")
    codes = {issue["code"] for issue in record.issues}
    if code == UNIT_VERIFY_FAILED.code:
        check = store.unit_checks_for([(record.unit_code, record.unit_name)]).get((record.unit_code, record.unit_name))
        if check is not None and check.state == UnitCheckState.FAILED.value:
            codes.add(code)
    if code not in codes:
        raise Problem("SXPT-EXCEPTION-NOT-ALLOWED", f"记录 {record.id} 没有问题 {code}，无需登记例外。",
                      f"Record {record.id} has no issue {code}; there is nothing to accept.")
    if reason is None or not reason.strip() or len(reason) > 500:
        raise Problem("SXPT-REVIEW-REASON-MISSING", "请填写 1 至 500 字的理由，例如“已核对营业执照”。",
                      "Give a reason of 1 to 500 characters, such as 'checked the business licence'.")
    with store.transaction(scope=school_scope(record.school)):
        store.add_exception(record.id, code, reason=reason.strip(), actor=actor_name, now=now)
        audit.record(store, "record_exception", target=f"record:{record.id}", unit=_record_unit(record), code=code,
                     reason=reason.strip())
        if record.state in checks.RECHECK_STATES:
            pair = (record.unit_code, record.unit_name)
            needs_unit = bool(record.unit_code) and record.unit_code != core_records.FOREIGN_UNIT_CODE \
                and bool(record.unit_name)
            check = store.unit_checks_for([pair]).get(pair) if needs_unit else None
            state = checks.state_of(record.issues, check, needs_unit, store.exceptions_of(record.id))
            if state.value != record.state:
                store.set_record_status(record.id, state=state.value, delete_requested=record.delete_requested,
                                        approve_current=False, review_reason=record.review_reason, now=now)
    updated = store.get_record(record.id)
    assert updated is not None
    return updated
