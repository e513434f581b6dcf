"""Running the core checks for a school, and keeping record states in step with them.

Every decision is a call into ``sxpt_core``: ``validate_rows`` and ``validate_table``
for the rules, ``sxpt_core.review.checked_state`` for the state that follows. This module
gathers what those calls need (today's date in China, the school's settings, its current
roster and plan, the unit checks) and stores what they return.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sxpt_core import records as core_records
from sxpt_core.catalogue import Layer
from sxpt_core.codes.divisions import DivisionTable, load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.models import PlanCourse, RosterEntry, converter
from sxpt_core.review import RecordState, UnitCheckState, checked_state
from sxpt_core.validate import validate_rows
from sxpt_server.store import School, Store, school_scope
from sxpt_server.store.records import RecordFilter, StoredRecord, UnitCheck

__all__ = [
    "CHINA",
    "RECHECK_STATES",
    "division_table",
    "recheck_school",
    "refresh_unit_states",
    "school_context",
    "state_of",
    "today_in_china",
]

# China has one time zone and no daylight saving time.
CHINA = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")

# States whose records follow new check results. Approved and returned records wait
# for a person: an edit, or the school's review.
RECHECK_STATES = (RecordState.CHECKING.value, RecordState.CHECK_FAILED.value, RecordState.AWAITING_REVIEW.value)


@functools.cache
def division_table() -> DivisionTable:
    """Return the GB/T 2260 table shipped with sxpt_core, read once per process."""
    return load_divisions()


def today_in_china(moment: datetime.datetime) -> datetime.date:
    """Return the date in China at ``moment``, which decides the reporting month."""
    return moment.astimezone(CHINA).date()


def _entries(store: Store, kind: str, school: str) -> list[dict[str, Any]] | None:
    current = store.current_reference_list(kind, school)
    return current.data if current is not None else None


def school_context(store: Store, school: School, moment: datetime.datetime) -> Context:
    """Return the rules' context for ``school``: its settings, current roster and current plan."""
    roster_rows = _entries(store, "roster", school.code)
    plan_rows = _entries(store, "plan", school.code)
    roster = None
    if roster_rows is not None:
        roster = RosterIndex(converter.structure(row, RosterEntry) for row in roster_rows)
    plan = None
    if plan_rows is not None:
        plan = PlanIndex(converter.structure(row, PlanCourse) for row in plan_rows)
    settings = SchoolSettings(name=school.name, unit_code=school.uscc, city_code=school.city)
    return Context(today=today_in_china(moment), divisions=division_table(), school=settings,
                   roster=roster, plan=plan)


def state_of(issues: Iterable[dict[str, Any]], unit: UnitCheck | None, needs_unit: bool,
             accepted: Iterable[str] = ()) -> RecordState:
    """Return the state that the core gives a version with these stored issues and unit check."""
    errors = [issue["code"] for issue in issues if issue["severity"] == "error"]
    unit_state: UnitCheckState | None = None
    if needs_unit:
        unit_state = UnitCheckState(unit.state) if unit is not None else UnitCheckState.UNCHECKED
    return checked_state(errors, unit_state, frozenset(accepted))


def _needs_unit(record: StoredRecord) -> bool:
    return record.unit_code not in ("", core_records.FOREIGN_UNIT_CODE) and bool(record.unit_name)


def refresh_unit_states(store: Store, units: Iterable[tuple[str, str]], *, now: datetime.datetime) -> int:
    """Set the state of every waiting record that uses one of ``units`` from its unit's check.

    Called by the unit worker after a result. Returns how many records changed state.
    """
    wanted = list(dict.fromkeys(units))
    if not wanted:
        return 0
    changed = 0
    with store.transaction():
        checks = store.unit_checks_for(wanted)
        records = store.records_with_units(wanted, states=RECHECK_STATES)
        accepted = store.exceptions_for(record.id for record in records)
        for record in records:
            check = checks.get((record.unit_code, record.unit_name))
            state = state_of(record.issues, check, _needs_unit(record), accepted.get(record.id, ()))
            if state.value != record.state:
                store.set_record_status(record.id, state=state.value, delete_requested=record.delete_requested,
                                        approve_current=False, review_reason=record.review_reason, now=now)
                changed += 1
    return changed


def recheck_records(store: Store, school: School, records: Sequence[StoredRecord], *,
                    now: datetime.datetime) -> int:
    """Run the row checks again on ``records`` with the school's current roster and plan.

    The rules across rows (duplicates and overlaps within the upload) are not run again:
    their findings from the upload are kept. Returns how many records changed state.
    """
    if not records:
        return 0
    context = school_context(store, school, now)
    validation = validate_rows([record.cells for record in records], context, first_row=1)
    by_row: dict[int, list[dict[str, Any]]] = {}
    for issue in validation.report.issues:
        if issue.row is not None and issue.layer is not Layer.BATCH:
            by_row.setdefault(issue.row, []).append(core_records.stored_issue(issue))
    checks = store.unit_checks_for(
        (record.unit_code, record.unit_name) for record in records if _needs_unit(record))
    accepted = store.exceptions_for(record.id for record in records)
    changed = 0
    with store.transaction(scope=school_scope(school.code)):
        for number, record in enumerate(records, start=1):
            kept = [issue for issue in record.issues if issue.get("layer") == Layer.BATCH.value]
            issues = by_row.get(number, []) + kept
            check = checks.get((record.unit_code, record.unit_name))
            state = state_of(issues, check, _needs_unit(record), accepted.get(record.id, ()))
            if state.value != record.state or issues != record.issues:
                store.set_record_checks(record.id, state=state.value, issues=issues, now=now)
                changed += 1
    return changed


def recheck_school(store: Store, school: School, *, now: datetime.datetime) -> int:
    """Check the school's waiting records again, after its roster or plan changed."""
    changed = 0
    after: int | None = None
    while True:
        page = store.list_records(RecordFilter(school=school.code, states=RECHECK_STATES, after_id=after, limit=5000))
        if not page:
            return changed
        changed += recheck_records(store, school, page, now=now)
        after = page[-1].id
