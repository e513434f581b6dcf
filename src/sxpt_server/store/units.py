"""The store interface of the unit-verification queue.

Each row of ``unit_checks`` is the verification of one distinct (credit code, registered
name) pair, shared by every record that names that unit. A worker claims due rows for a
lease (``claimed_until``), verifies them and stores a result or a failed attempt.

The ``claimed_until`` value that a claim wrote is the claim's token. A result or a failed
attempt is stored only while the row still carries it. So when a worker's lease runs out
and another worker claims the row, the first worker's late result is dropped.
"""

from __future__ import annotations

import datetime
from typing import Protocol

import attrs

from sxpt_server.store.records import UnitCheck

__all__ = ["UnitCheckUse", "UnitQueueStore"]


@attrs.frozen
class UnitCheckUse:
    """A unit check with the number of live records of one school (or department) that name the unit."""

    check: UnitCheck
    records: int


class UnitQueueStore(Protocol):
    """The unit-verification queue: claiming checks, and storing results and retries."""

    def claim_unit_checks(
        self, *, now: datetime.datetime, claimed_until: datetime.datetime, limit: int
    ) -> list[UnitCheck]:
        """Claim up to ``limit`` due checks until ``claimed_until`` and return them, oldest due first.

        A check is due when it is 未校验, its ``next_attempt_at`` is at or before ``now``,
        and it is not claimed or its claim has expired. Claiming runs in one write
        transaction, so two workers never receive the same check while a claim holds.
        """

    def finish_unit_check(
        self,
        check_id: int,
        *,
        claimed_until: datetime.datetime,
        state: str,
        reason: str | None,
        verifier: str,
        now: datetime.datetime,
        reason_en: str | None = None,
    ) -> bool:
        """Store the result of a claimed check and release the claim; ``reason_en`` is the reason in English.

        Returns False, and changes nothing, when the check no longer carries the claim
        ``claimed_until`` (it expired and another worker claimed the check).
        """

    def postpone_unit_check(
        self,
        check_id: int,
        *,
        claimed_until: datetime.datetime,
        error: str,
        next_attempt_at: datetime.datetime,
    ) -> bool:
        """Count a failed attempt of a claimed check, store its error and release the claim.

        The check stays 未校验 and is due again at ``next_attempt_at``. Returns False when
        the check no longer carries the claim ``claimed_until``.
        """

    def release_unit_check(self, check_id: int, *, claimed_until: datetime.datetime) -> bool:
        """Give up a claim without an attempt, so that the check is due again at once.

        Returns False when the check no longer carries the claim ``claimed_until``.
        """

    def get_unit_check(self, check_id: int) -> UnitCheck | None: ...
    def list_unit_checks(
        self, *, state: str | None = None, unit_code: str | None = None, after_id: int | None = None,
        limit: int = 100,
    ) -> list[UnitCheck]:
        """Return every unit check in ascending id order, after ``after_id``, filtered by state and code."""

    def list_school_unit_checks(
        self,
        school: str,
        *,
        department: str | None = None,
        state: str | None = None,
        unit_code: str | None = None,
        after_id: int | None = None,
        limit: int = 100,
    ) -> list[UnitCheckUse]:
        """Return the checks of units that live records of ``school`` name, in ascending id order.

        ``department`` narrows the records to one department's. Each result counts the
        matching records that name its unit.
        """

    def unit_check_used_by(self, check_id: int, *, school: str, department: str | None = None) -> bool:
        """Return whether a live record of ``school`` (and ``department`` when given) names the check's unit."""

    def reset_unit_check(self, check_id: int, *, now: datetime.datetime) -> bool:
        """Put a 校验不通过 check back into the queue as 未校验, due at ``now``.

        The previous result, attempts and errors are cleared. Returns False, and changes
        nothing, when the check is not in state 校验不通过.
        """

    def count_unit_checks(self) -> dict[str, int]:
        """Return the number of checks in each state; every state of ``UnitCheckState`` is present."""
