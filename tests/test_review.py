"""The review rules of sxpt_core.review and the record helpers of sxpt_core.records."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sxpt_core import access
from sxpt_core import records as core_records
from sxpt_core.catalogue import all_rules
from sxpt_core.review import (
    UNIT_VERIFY_FAILED,
    Action,
    RecordState,
    RecordStatus,
    ReviewError,
    UnitCheckState,
    can_accept,
    checked_state,
    transition,
)
from sxpt_core.rules.unit import USCC_CHECKSUM
from sxpt_core.templates import get_template

SCHOOL = access.Unit.for_school("330000", "4133010001")
OTHER_SCHOOL = access.Unit.for_school("330000", "4133010002")
DEPARTMENT = access.Unit.for_department("330000", "4133010001", "机械工程学院")
OTHER_DEPARTMENT = access.Unit.for_department("330000", "4133010001", "外国语学院")
PROVINCE = access.Unit.for_province("330000")
ACTORS = [SCHOOL, OTHER_SCHOOL, DEPARTMENT, OTHER_DEPARTMENT, PROVINCE, access.Unit.ministry()]

statuses = st.builds(RecordStatus, st.sampled_from(list(RecordState)), st.booleans(), st.booleans())


def apply(status: RecordStatus, action: Action, actor: access.Unit, reason: str | None = "核对有误"):
    return transition(status, action, actor=actor, school="4133010001", department="机械工程学院", reason=reason)


def test_approve_then_edit_keeps_the_approved_version() -> None:
    """An edit of an approved record goes back to checking and keeps its approved version."""
    approved = apply(RecordStatus(RecordState.AWAITING_REVIEW), Action.APPROVE, SCHOOL)
    assert approved.approve_current
    assert approved.status == RecordStatus(RecordState.APPROVED, True, False)
    assert approved.status is not None
    edited = apply(approved.status, Action.EDIT, DEPARTMENT)
    assert edited.recheck
    assert edited.status == RecordStatus(RecordState.CHECKING, True, False)


def test_return_needs_a_reason() -> None:
    """Returning a record without a reason is refused with its own code."""
    with pytest.raises(ReviewError) as caught:
        apply(RecordStatus(RecordState.AWAITING_REVIEW), Action.RETURN, SCHOOL, reason="  ")
    assert caught.value.code == "SXPT-REVIEW-REASON-MISSING"


def test_delete_of_an_approved_record_is_a_request() -> None:
    """Deleting a record with an approved version files a request, which the school then decides."""
    requested = apply(RecordStatus(RecordState.APPROVED, True), Action.DELETE, DEPARTMENT)
    assert not requested.delete
    assert requested.status == RecordStatus(RecordState.APPROVED, True, True)
    assert requested.status is not None
    with pytest.raises(ReviewError) as caught:
        apply(requested.status, Action.EDIT, DEPARTMENT)
    assert caught.value.code == "SXPT-REVIEW-DELETE-PENDING"
    assert apply(requested.status, Action.APPROVE_DELETE, SCHOOL).delete
    kept = apply(requested.status, Action.REJECT_DELETE, SCHOOL)
    assert kept.status == RecordStatus(RecordState.APPROVED, True, False)


def test_delete_of_a_never_approved_record_is_immediate() -> None:
    """A record that was never approved is deleted at once."""
    assert apply(RecordStatus(RecordState.RETURNED), Action.DELETE, DEPARTMENT).delete


@given(statuses, st.sampled_from(list(Action)), st.sampled_from(ACTORS))
def test_review_and_edit_rights(status: RecordStatus, action: Action,
                                                         actor: access.Unit) -> None:
    """No actor outside the record's department and school ever gets a transition."""
    try:
        outcome = apply(status, action, actor)
    except ReviewError:
        return
    if action in (Action.EDIT, Action.DELETE):
        assert actor in (SCHOOL, DEPARTMENT)
    else:
        assert actor == SCHOOL
    if outcome.status is not None:
        # Only an approval makes or keeps a version approved; nothing takes it away.
        assert outcome.status.has_approved_version == (status.has_approved_version or outcome.approve_current)


@given(statuses)
def test_approval_needs_the_waiting_state(status: RecordStatus) -> None:
    """Approval is allowed exactly from 待审核."""
    try:
        apply(status, Action.APPROVE, SCHOOL)
    except ReviewError as error:
        assert status.state is not RecordState.AWAITING_REVIEW
        assert error.code == "SXPT-REVIEW-STATE"
    else:
        assert status.state is RecordState.AWAITING_REVIEW


@given(st.lists(st.sampled_from([rule.code for rule in all_rules() if rule.severity.value == "error"]), max_size=3),
       st.sampled_from([None, *UnitCheckState]))
def test_checked_state_follows_errors_and_the_unit(errors: list[str], unit: UnitCheckState | None) -> None:
    """Errors or a failed unit fail the record; an unchecked unit keeps it checking; else it waits for review."""
    state = checked_state(errors, unit)
    if errors or unit is UnitCheckState.FAILED:
        assert state is RecordState.CHECK_FAILED
    elif unit is UnitCheckState.UNCHECKED:
        assert state is RecordState.CHECKING
    else:
        assert state is RecordState.AWAITING_REVIEW


def test_accepted_exceptions_release_the_record() -> None:
    """An accepted checksum failure and unit failure let the record wait for review."""
    accepted = {USCC_CHECKSUM.code, UNIT_VERIFY_FAILED.code}
    assert checked_state([USCC_CHECKSUM.code], UnitCheckState.FAILED, accepted) is RecordState.AWAITING_REVIEW
    assert checked_state([USCC_CHECKSUM.code, "SXPT-E-ID-NOT-FOUND"], UnitCheckState.PASSED, accepted) \
        is RecordState.CHECK_FAILED


def test_what_a_reviewer_may_accept() -> None:
    """Warnings and the two unit errors may be accepted; other errors and unknown codes may not."""
    assert can_accept("SXPT-E-UNIT-VERIFY-FAILED")
    assert not can_accept("SXPT-E-FIELD-REQUIRED")
    assert not can_accept("SXPT-E-NO-SUCH-RULE")


def test_cells_and_key_of_a_row() -> None:
    """Cells keep normalised values by header; the key needs every part; foreign units need no check."""
    template = get_template("records")
    values = {"student_id": "21050101", "course_code": "SX101", "start_date": datetime.date(2025, 7, 1),
              "end_date": datetime.date(2025, 8, 31), "unit_code": "无", "unit_name": "Nordlicht GmbH",
              "has_accident_insurance": True, "actual_days": 40}
    cells = core_records.cells_of(template, values, {})
    assert cells["是否有人身意外险"] == "是"
    assert cells["实际实习天数"] == 40
    assert core_records.natural_key(values) == '["21050101","SX101","2025-07-01","2025-08-31","Nordlicht GmbH"]'
    assert core_records.unit_to_verify(values) is None
    assert core_records.month_of(values) == "2025-09"
    assert core_records.natural_key({**values, "course_code": None}) is None


def test_unit_verification_failure_message() -> None:
    """The unit rule's message carries the verifier's reason in both languages."""
    finding = UNIT_VERIFY_FAILED(reason="名录中没有该统一社会信用代码")
    assert finding.rule.code == "SXPT-E-UNIT-VERIFY-FAILED"
    assert finding.rule.render_message(finding.params) == "实习单位校验不通过：名录中没有该统一社会信用代码"
    assert finding.rule.render_message({"reason": "not listed"}, "en").endswith("verification: not listed")
