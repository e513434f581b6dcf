"""Validate the example workbook from Python, as an academic-affairs system would.

Run from the repository root::

    python examples/validate_in_python.py
"""

from __future__ import annotations

import datetime
from pathlib import Path

from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.validate import validate_file

HERE = Path(__file__).resolve().parent


def main() -> None:
    school = SchoolSettings(name="东海理工大学", unit_code="12330000MB12345676")
    base = Context(today=datetime.date(2025, 10, 15), divisions=load_divisions(), school=school)

    # The roster and the plan are validated like any other file; only their clean rows are used.
    roster = RosterIndex(validate_file(HERE / "roster.xlsx", base, kind="roster").models())
    plan = PlanIndex(validate_file(HERE / "plan.xlsx", base, kind="plan").models())
    context = Context(today=base.today, divisions=base.divisions, school=school, roster=roster, plan=plan)

    validation = validate_file(HERE / "records.xlsx", context)
    report = validation.report
    print(f"{report.rows} rows, {report.valid_rows} without errors, {report.error_count} errors")
    for issue in report.issues[:5]:
        print(issue.row, issue.column, issue.code, issue.message())

    records = validation.models()  # sxpt_core.models.Record objects of the rows without errors
    print(f"{len(records)} records ready, the first ends on {records[0].end_date}")


if __name__ == "__main__":
    main()
