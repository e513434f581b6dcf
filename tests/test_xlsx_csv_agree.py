"""The same rows as xlsx and as CSV give the same report."""

from __future__ import annotations

import datetime
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.models import PlanCourse, RosterEntry
from sxpt_core.validate import validate_file
from tests.strategies import RECORD_CELL_CHOICES, record_rows
from tests.workbooks import write_csv, write_xlsx

HEADERS = list(RECORD_CELL_CHOICES)
CONTEXT = Context(
    today=datetime.date(2025, 10, 15),
    divisions=load_divisions(),
    school=SchoolSettings(name="东海理工大学", unit_code="12330000MB12345676"),
    roster=RosterIndex([RosterEntry("2201010001", "林晓雨"), RosterEntry("2201010002", "周明远"),
                        RosterEntry("2201010003", "阿依古丽·买买提", level="专科")]),
    plan=PlanIndex([PlanCourse("2024-2025", "第三学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022,
                               "0803101", "生产实习", Decimal("4"), "生产实习", "集中实习", "现场实习")]),
)


def without_sheet(report: dict[str, Any]) -> dict[str, Any]:
    issues = [{key: value for key, value in issue.items() if key != "sheet"} for issue in report["issues"]]
    return {**report, "issues": issues}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=record_rows(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
       title=st.booleans())
def test_xlsx_and_csv_reports_equal(rows: list[list[str]], encoding: str, title: bool) -> None:
    """Text cells in a workbook and the same text in a CSV file give one report."""
    if encoding == "gb18030":
        rows = [[cell.replace("𠀀", "佳") for cell in row] for row in rows]
    title_rows = [["东海理工大学实习数据"]] if title else []
    with tempfile.TemporaryDirectory() as folder:
        xlsx = write_xlsx(Path(folder) / "data.xlsx", [HEADERS, *rows], title_rows=title_rows)
        csv = write_csv(Path(folder) / "data.csv", [HEADERS, *rows], encoding, title_rows=title_rows)
        from_xlsx = validate_file(xlsx, CONTEXT).report.to_dict()
        from_csv = validate_file(csv, CONTEXT).report.to_dict()
    assert without_sheet(from_xlsx) == without_sheet(from_csv)
    assert from_xlsx["rows"] == len(rows)
