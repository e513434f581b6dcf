"""Rules of the plan file and the roster file, run by ``sxpt validate --kind plan|roster``."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sxpt_core.cli import main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.models import Issue
from sxpt_core.templates import get_template
from sxpt_core.validate import Validation, validate_file
from tests.workbooks import write_csv, write_xlsx

TODAY = datetime.date(2025, 10, 15)
PLAN_HEADERS = [column.header for column in get_template("plan").columns]
LETTERS = {header: chr(ord("A") + index) for index, header in enumerate(PLAN_HEADERS)}


def plan_row(**changes: str) -> list[str]:
    """Return one clean 实习培养方案 row as text; ``changes`` by header."""
    values = {
        "学年": "2024-2025",
        "学期": "第二学期",
        "院系": "机械工程学院",
        "专业代码": "080202",
        "专业名称": "机械设计制造及其自动化",
        "年级": "2022",
        "课程代码": "0803101",
        "课程名称": "生产实习",
        "学分": "4",
        "实习类型": "生产实习",
        "实习组织形式": "集中实习",
        "实习方式": "现场实习",
        "计划实习周数": "4",
        "计划实习人数": "75",
    }
    for header, value in changes.items():
        if header not in values:
            raise KeyError(header)
        values[header] = value
    return [values[header] for header in PLAN_HEADERS]


@pytest.fixture(scope="module")
def context() -> Context:
    return Context(today=TODAY, divisions=load_divisions())


def validate_plan(tmp_path: Path, context: Context, *rows: list[str]) -> Validation:
    path = write_xlsx(tmp_path / "plan.xlsx", [PLAN_HEADERS, *rows], sheet="实习培养方案")
    return validate_file(path, context, kind="plan")


def issues_of(validation: Validation, code: str) -> list[Issue]:
    return [issue for issue in validation.report.issues if issue.code == code]


def all_codes(validation: Validation) -> list[str]:
    return [issue.code for issue in validation.report.issues]


def test_clean_plan_has_no_issues(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(
        tmp_path, context,
        plan_row(),
        plan_row(学期="第三学期", 课程代码="0803102", 课程名称="毕业实习", 学分="6", 实习类型="毕业实习"),
        plan_row(专业代码="080901", 专业名称="计算机科学与技术", 课程代码="JS3201", 课程名称="专业实习",
                 学分="3", 实习类型="专业实习"),
    )
    assert validation.report.issues == ()
    assert validation.report.valid_rows == 3


def test_grade_after_year_rejected(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(年级="2025"), plan_row(课程代码="0803109", 年级="2024"))
    [issue] = issues_of(validation, "SXPT-E-PLAN-GRADE-AFTER-YEAR")
    assert issue.row == 2
    assert issue.column == LETTERS["年级"]
    assert issue.value == "2025"
    assert "2024-2025" in issue.message()
    assert validation.error_rows == frozenset({2})


@pytest.mark.parametrize(("year", "accepted"), [
    ("2013-2014", False),
    ("2014-2015", True),
    ("2026-2027", True),
    ("2027-2028", False),
])
def test_plan_year_range(tmp_path: Path, context: Context, year: str, accepted: bool) -> None:
    """With today 2025-10-15 the plausible years run from 2014-2015 to 2026-2027."""
    validation = validate_plan(tmp_path, context, plan_row(学年=year, 年级="2012"))
    found = issues_of(validation, "SXPT-E-PLAN-YEAR-RANGE")
    assert (not found) is accepted
    if found:
        assert found[0].column == LETTERS["学年"]
        assert "2026-2027" in found[0].message()


def test_year_range_follows_school_year_start(tmp_path: Path) -> None:
    """A school whose year starts on 1 August is already in 2025-2026 on 2025-08-15."""
    from sxpt_core.context import SchoolSettings

    context = Context(datetime.date(2025, 8, 15), load_divisions(), school=SchoolSettings(year_start=(8, 1)))
    validation = validate_plan(tmp_path, context, plan_row(学年="2026-2027", 年级="2025"))
    assert issues_of(validation, "SXPT-E-PLAN-YEAR-RANGE") == []


def test_duplicate_row_names_first(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(), plan_row(学期="第三学期"), plan_row())
    [issue] = issues_of(validation, "SXPT-E-PLAN-DUPLICATE")
    assert issue.row == 4
    assert issue.column == LETTERS["课程代码"]
    assert issue.params["first"] == "2"
    assert "第 2 行" in issue.message()
    assert "row 2" in issue.message("en")


def test_duplicate_in_another_major_allowed(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(),
                               plan_row(专业代码="080201", 专业名称="机械工程"))
    assert issues_of(validation, "SXPT-E-PLAN-DUPLICATE") == []


def test_same_term_two_grades_warned(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(), plan_row(年级="2023"))
    assert issues_of(validation, "SXPT-E-PLAN-DUPLICATE") == []
    [issue] = issues_of(validation, "SXPT-W-PLAN-SAME-TERM-GRADES")
    assert issue.row == 3
    assert issue.column == LETTERS["年级"]
    assert issue.params["first"] == "2"
    assert issue.params["first_grade"] == "2022"
    assert validation.error_rows == frozenset()


def test_duplicate_with_rejected_term_skipped(tmp_path: Path, context: Context) -> None:
    """A row whose 学期 was rejected has its own error and no duplicate finding."""
    validation = validate_plan(tmp_path, context, plan_row(学期="春季"), plan_row(学期="春季"))
    assert "SXPT-E-CHOICE-INVALID" in all_codes(validation)
    assert issues_of(validation, "SXPT-E-PLAN-DUPLICATE") == []


def test_normalised_duplicate_found(tmp_path: Path, context: Context) -> None:
    """Rows equal after normalisation (第2学期, 2学分) are duplicates."""
    validation = validate_plan(tmp_path, context, plan_row(), plan_row(学期="第2学期", 学分="4学分"))
    assert [issue.row for issue in issues_of(validation, "SXPT-E-PLAN-DUPLICATE")] == [3]


@pytest.mark.parametrize(("header", "value", "code"), [
    ("课程名称", "生产实践", "SXPT-W-PLAN-COURSE-NAMES-DIFFER"),
    ("学分", "3", "SXPT-W-PLAN-COURSE-CREDITS-DIFFER"),
    ("实习类型", "专业实习", "SXPT-W-PLAN-COURSE-TYPES-DIFFER"),
])
def test_course_conflict_names_both_rows(
    tmp_path: Path, context: Context, header: str, value: str, code: str
) -> None:
    validation = validate_plan(tmp_path, context, plan_row(), plan_row(学年="2025-2026", **{header: value}))
    [issue] = issues_of(validation, code)
    assert issue.row == 3
    assert issue.column == LETTERS[header]
    assert issue.params["first"] == "2"
    assert "第 2 行" in issue.message()
    assert value in issue.message()
    assert issue.severity.value == "warning"


def test_equal_credits_written_differently_agree(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(), plan_row(学年="2025-2026", 学分="4.0"))
    assert issues_of(validation, "SXPT-W-PLAN-COURSE-CREDITS-DIFFER") == []


def test_major_code_two_names_warned(tmp_path: Path, context: Context) -> None:
    validation = validate_plan(tmp_path, context, plan_row(),
                               plan_row(课程代码="0803102", 专业名称="机械设计制造及自动化"))
    [issue] = issues_of(validation, "SXPT-W-PLAN-MAJOR-NAMES-DIFFER")
    assert issue.row == 3
    assert issue.column == LETTERS["专业名称"]
    assert "080202" in issue.message()
    assert "机械设计制造及其自动化" in issue.message()


def test_plan_csv_same_as_xlsx(tmp_path: Path, context: Context) -> None:
    rows = [PLAN_HEADERS, plan_row(), plan_row(年级="2026"), plan_row()]
    from_csv = validate_file(write_csv(tmp_path / "plan.csv", rows), context, kind="plan")
    from_xlsx = validate_file(write_xlsx(tmp_path / "plan.xlsx", rows), context, kind="plan")
    assert all_codes(from_csv) == all_codes(from_xlsx)
    assert [issue.row for issue in from_csv.report.issues] == [issue.row for issue in from_xlsx.report.issues]


def test_cli_validate_plan(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", [PLAN_HEADERS, plan_row(), plan_row()])
    result = CliRunner().invoke(main, ["validate", "--kind", "plan", str(path), "--today", TODAY.isoformat(),
                                       "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["template"] == "实习培养方案/2024"
    assert [issue["code"] for issue in report["issues"]] == ["SXPT-E-PLAN-DUPLICATE"]
    assert report["issues"][0]["row"] == 3


def test_faulty_plan_row_noted(tmp_path: Path) -> None:
    """validate --plan prints to stderr how many plan rows have errors and were left out."""
    plan = write_xlsx(tmp_path / "plan.xlsx", [PLAN_HEADERS, plan_row(), plan_row(课程代码="0803109", 年级="2030")])
    records = write_csv(tmp_path / "records.csv", [
        ["学号", "课程代码", "课程名称", "学分"], ["2201010001", "0803101", "生产实习", "4"],
    ])
    result = CliRunner().invoke(main, ["validate", str(records), "--plan", str(plan), "--today", TODAY.isoformat()])
    assert "1 行有错误" in result.stderr


# --- the roster file ---------------------------------------------------------------


def test_roster_with_number_and_name_only(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [["学号", "姓名"], ["2201010001", "林晓雨"],
                                                 ["2201010002", "周明远"]])
    result = CliRunner().invoke(main, ["validate", "--kind", "roster", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["template"] == "学籍名单/2024"
    assert report["rows"] == 2
    assert report["valid_rows"] == 2
    assert report["issues"] == []


def test_roster_models_use_defaults(tmp_path: Path, context: Context) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [["学号", "姓名"], ["2201010001", "林晓雨"]])
    [entry] = validate_file(path, context, kind="roster").models()
    assert entry.level == "本科"
    assert entry.status == "在籍"


def test_roster_duplicate_number_names_first(tmp_path: Path, context: Context) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", [
        ["学号", "姓名"], ["2201010001", "林晓雨"], ["2201010002", "周明远"], ["2201010001", "林小雨"],
    ])
    validation = validate_file(path, context, kind="roster")
    [issue] = validation.report.issues
    assert issue.code == "SXPT-E-ROSTER-DUPLICATE-ID"
    assert issue.row == 4
    assert issue.column == "A"
    assert issue.params["first"] == "2"
    assert "林晓雨" in issue.message()
    assert validation.error_rows == frozenset({4})


def test_roster_numbers_equal_after_normalising(tmp_path: Path, context: Context) -> None:
    """A number cell 2201010001 and the text 2201010001 are the same student number."""
    path = write_xlsx(tmp_path / "roster.xlsx", [["学号", "姓名"], ["2201010001", "林晓雨"], [2201010001, "林晓雨"]])
    validation = validate_file(path, context, kind="roster")
    assert [issue.code for issue in validation.report.issues] == ["SXPT-E-ROSTER-DUPLICATE-ID"]
