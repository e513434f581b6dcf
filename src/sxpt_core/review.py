"""The life of a stored record: its state after checks, and review by the school.

A record of the national system moves through these states (SPEC §3.8, FAQ):

    待校验 (checks running) → 校验不通过 (a check failed; the department fixes it)
                           → 待审核 (waiting for school review) → 审核通过 or 已退回
    an edit in any state → 待校验 …

Decided here:

- An edit of an approved record makes a new version. The approved version stays what
  the province and the ministry read until the new version is approved.
- Deleting a record that was never approved removes it at once. Deleting one with an
  approved version is a request that a school-level user approves or rejects; while it
  is pending, the record cannot be edited.
- A school-level reviewer may accept a warning, a failed check character of a unit
  code, or a failed unit verification, as an exception with a reason (for example,
  the unit's business licence shows the code). An accepted code no longer counts for
  that record, so nobody is asked about it again.

Every function is pure: the caller passes the record's status, the actor's unit and
the results of the checks.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable

import attrs

from sxpt_core import access
from sxpt_core.catalogue import Layer, Rule, Severity, get_rule
from sxpt_core.errors import SxptError
from sxpt_core.rules.unit import USCC_CHECKSUM

__all__ = [
    "ACCEPTABLE_ERRORS",
    "UNIT_VERIFY_FAILED",
    "Action",
    "RecordState",
    "RecordStatus",
    "ReviewError",
    "Transition",
    "UnitCheckState",
    "can_accept",
    "checked_state",
    "transition",
]

REASON_MAX_LENGTH = 500


class RecordState(str, enum.Enum):
    """The state of a record's current version, named as the national system names it."""

    CHECKING = "待校验"
    CHECK_FAILED = "校验不通过"
    AWAITING_REVIEW = "待审核"
    APPROVED = "审核通过"
    RETURNED = "已退回"


class UnitCheckState(str, enum.Enum):
    """The state of one host organisation's verification (实习单位校验)."""

    UNCHECKED = "未校验"
    PASSED = "校验通过"
    FAILED = "校验不通过"


class Action(str, enum.Enum):
    """An action of a user on a stored record."""

    EDIT = "edit"  # new content, from an upload or the record page
    DELETE = "delete"  # delete, or ask to delete when a version was approved
    APPROVE = "approve"
    RETURN = "return"  # send back to the department, with a reason
    APPROVE_DELETE = "approve_delete"
    REJECT_DELETE = "reject_delete"


UNIT_VERIFY_FAILED = Rule(
    code="SXPT-E-UNIT-VERIFY-FAILED",
    severity=Severity.ERROR,
    layer=Layer.UNIT,
    fields=("实习单位名称", "实习单位统一社会信用代码"),
    statement=(
        "实习单位须通过校验：统一社会信用代码与登记名称须与单位名录一致。",
        "The host organisation must pass verification: its credit code and registered name must match the register.",
    ),
    message=("实习单位校验不通过：{reason}", "The host organisation failed verification: {reason}"),
    hint=(
        "请核对单位营业执照上的名称和统一社会信用代码后修改；确属真实单位的，可由校级用户登记例外并说明理由。",
        "Check the name and credit code on the unit's business licence; if the unit is genuine, a school user can "
        "accept it as an exception with a reason.",
    ),
)

# Errors that a reviewer may accept, because the unit can exist although a check failed.
ACCEPTABLE_ERRORS = frozenset({USCC_CHECKSUM.code, UNIT_VERIFY_FAILED.code})


class ReviewError(SxptError, ValueError):
    """A review action that the record's state or the actor's rights do not allow."""

    code = "SXPT-REVIEW-NOT-ALLOWED"

    def __init__(self, code: str, message: str, *, message_en: str) -> None:
        super().__init__(message, message_en=message_en)
        self.code = code


@attrs.frozen
class RecordStatus:
    """The status of a stored record: the state of its current version and its flags."""

    state: RecordState
    has_approved_version: bool = False
    delete_requested: bool = False


@attrs.frozen
class Transition:
    """The outcome of an action: the new status, and what the store must do.

    ``approve_current`` makes the current version the approved one; ``delete`` removes
    the record; ``recheck`` means the new content must go through the checks, whose
    result ``checked_state`` gives.
    """

    status: RecordStatus | None
    approve_current: bool = False
    delete: bool = False
    recheck: bool = False


def can_accept(code: str) -> bool:
    """Decide whether a reviewer may accept ``code`` as an exception for a record.

    >>> can_accept("SXPT-E-USCC-CHECKSUM")
    True
    >>> can_accept("SXPT-E-ID-NOT-FOUND")
    False
    >>> can_accept("SXPT-W-CAL-LATE")
    True
    """
    try:
        rule = get_rule(code)
    except KeyError:
        return False
    return rule.severity is Severity.WARNING or code in ACCEPTABLE_ERRORS


def checked_state(
    error_codes: Iterable[str], unit: UnitCheckState | None, accepted: Collection[str] = ()
) -> RecordState:
    """Return the state of a version after its checks.

    ``error_codes`` are the codes of the version's errors; ``unit`` is the state of its
    host organisation's verification, or None when the unit needs none (a foreign unit,
    code 无). Codes in ``accepted`` are exceptions a reviewer granted.

    >>> checked_state([], UnitCheckState.PASSED)
    <RecordState.AWAITING_REVIEW: '待审核'>
    >>> checked_state([], UnitCheckState.UNCHECKED)
    <RecordState.CHECKING: '待校验'>
    >>> checked_state(["SXPT-E-USCC-CHECKSUM"], UnitCheckState.FAILED)
    <RecordState.CHECK_FAILED: '校验不通过'>
    >>> checked_state(["SXPT-E-USCC-CHECKSUM"], UnitCheckState.FAILED,
    ...               accepted={"SXPT-E-USCC-CHECKSUM", "SXPT-E-UNIT-VERIFY-FAILED"})
    <RecordState.AWAITING_REVIEW: '待审核'>
    """
    if any(code not in accepted for code in error_codes):
        return RecordState.CHECK_FAILED
    if unit is UnitCheckState.FAILED and UNIT_VERIFY_FAILED.code not in accepted:
        return RecordState.CHECK_FAILED
    if unit is UnitCheckState.UNCHECKED:
        return RecordState.CHECKING
    return RecordState.AWAITING_REVIEW


def _refuse(code: str, zh: str, en: str) -> ReviewError:
    return ReviewError(code, zh, message_en=en)


def _forbidden_review() -> ReviewError:
    return _refuse("SXPT-FORBIDDEN", "只有本校的校级用户可以审核记录。", "Only school-level users of the school review records.")


def _check_reason(reason: str | None) -> None:
    if reason is None or not reason.strip():
        raise _refuse("SXPT-REVIEW-REASON-MISSING", "请填写理由，院系会看到它。",
                      "Give a reason; the department will see it.")
    if len(reason) > REASON_MAX_LENGTH:
        raise _refuse("SXPT-REVIEW-REASON-MISSING", f"理由不能超过 {REASON_MAX_LENGTH} 个字符。",
                      f"The reason must not be longer than {REASON_MAX_LENGTH} characters.")


def transition(
    status: RecordStatus,
    action: Action,
    *,
    actor: access.Unit,
    school: str,
    department: str,
    reason: str | None = None,
) -> Transition:
    """Apply ``action`` by an account of ``actor`` to a record of ``school`` and ``department``.

    Raises :class:`ReviewError` when the actor may not take the action, or the record's
    status does not allow it. Its ``code`` names the reason.

    >>> school = access.Unit.for_school("330000", "4133010001")
    >>> waiting = RecordStatus(RecordState.AWAITING_REVIEW)
    >>> transition(waiting, Action.APPROVE, actor=school, school="4133010001", department="外国语学院").status.state
    <RecordState.APPROVED: '审核通过'>
    >>> transition(RecordStatus(RecordState.CHECKING), Action.APPROVE, actor=school, school="4133010001",
    ...            department="外国语学院")
    Traceback (most recent call last):
    ...
    sxpt_core.review.ReviewError: 只有待审核的记录可以审核通过，这条记录现在是“待校验”。
    """
    if action in (Action.EDIT, Action.DELETE):
        if not access.can_upload_records(actor, school=school, department=department):
            raise _refuse("SXPT-FORBIDDEN", "只能修改或删除本单位范围内的记录。",
                          "You may only edit or delete records within your own unit.")
        if status.delete_requested:
            raise _refuse("SXPT-REVIEW-DELETE-PENDING", "这条记录已申请删除，等待学校审核，暂不能修改或再次删除。",
                          "Deletion of this record is waiting for the school's review; it cannot be changed now.")
        if action is Action.EDIT:
            return Transition(attrs.evolve(status, state=RecordState.CHECKING), recheck=True)
        if not status.has_approved_version:
            return Transition(None, delete=True)
        return Transition(attrs.evolve(status, delete_requested=True))

    if not access.can_review(actor, school=school):
        raise _forbidden_review()

    if action is Action.APPROVE:
        if status.state is not RecordState.AWAITING_REVIEW:
            raise _refuse("SXPT-REVIEW-STATE", f"只有待审核的记录可以审核通过，这条记录现在是“{status.state.value}”。",
                          f"Only records waiting for review can be approved; this one is {status.state.value}.")
        # A pending deletion request stays: the school decides it separately, with a reason.
        return Transition(attrs.evolve(status, state=RecordState.APPROVED, has_approved_version=True),
                          approve_current=True)

    if action is Action.RETURN:
        if status.state not in (RecordState.AWAITING_REVIEW, RecordState.CHECK_FAILED):
            raise _refuse("SXPT-REVIEW-STATE",
                          f"只有待审核或校验不通过的记录可以退回，这条记录现在是“{status.state.value}”。",
                          f"Only records waiting for review or failing checks can be returned; this one is "
                          f"{status.state.value}.")
        _check_reason(reason)
        return Transition(attrs.evolve(status, state=RecordState.RETURNED))

    if not status.delete_requested:
        raise _refuse("SXPT-REVIEW-STATE", "这条记录没有待审核的删除申请。",
                      "This record has no deletion request waiting for review.")
    if action is Action.APPROVE_DELETE:
        return Transition(None, delete=True)
    _check_reason(reason)
    return Transition(attrs.evolve(status, delete_requested=False))
