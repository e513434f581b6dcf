"""The errors-only workbook: its layout, its values, and the example fixed and validated clean."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from stdnum.cn import uscc

from sxpt_core.cli import main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.io.annotate import SOURCE_ROW_HEADER, write_errors_only
from sxpt_core.io.config import load_config
from sxpt_core.templates import get_template
from sxpt_core.validate import Validation, validate_file
from tests.workbooks import RECORD_HEADERS, sample_record, write_xlsx

TODAY = datetime.date(2025, 10, 15)
UNIT_CODE = "91110000600037341L"
WRONG_UNIT_CODE = "91110000600037341M"
RED, YELLOW = "FFFFC7CE", "FFFFEB9C"
EXPORTED = [column.header for column in get_template("records").columns if column.exported]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def record(index: int, **changes: Any) -> list[Any]:
    """Return a 实习数据 row that validates clean on TODAY, with ``changes`` by header."""
    defaults = {"实习单位统一社会信用代码": UNIT_CODE, "实习开始时间": "2025-08-01",
                "实习结束时间": "2025-09-30", "实际实习天数": "60"}
    row: list[Any] = sample_record(index, **defaults)
    for header, value in changes.items():
        row[RECORD_HEADERS.index(header)] = value
    return row


def context() -> Context:
    return Context(today=TODAY, divisions=load_divisions())


def fill(cell: Any) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def comment(cell: Any) -> str:
    return cell.comment.text if cell.comment is not None else ""


def build_source(path: Path) -> Path:
    """Write a workbook whose rows 4, 6 and 7 have errors and row 5 only a warning.

    A title row sits above the header (row 2); row 6 has a numeric 学号 and 2学分, and
    row 7 is hidden.
    """
    rows = [
        list(RECORD_HEADERS),
        record(1),
        record(2, 实习单位统一社会信用代码=WRONG_UNIT_CODE, 课程代码="0803101"),
        record(3, 学分="2学分"),
        record(4, 学号=21050104, 学分="2学分", 实习开始时间="7/1/2025"),
        record(5, 院系=""),
    ]
    return write_xlsx(path, rows, title_rows=[["实习数据报送表"]], hidden_rows=[7])


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Validation]:
    folder = tmp_path_factory.mktemp("errors-only")
    source = build_source(folder / "records.xlsx")
    validation = validate_file(source, context())
    out = folder / "errors.xlsx"
    write_errors_only(source, validation, out)
    return out, validation


@pytest.fixture(scope="module")
def sheet(written: tuple[Path, Validation]) -> Any:
    return openpyxl.load_workbook(written[0])["实习数据"]


def header(sheet: Any) -> list[Any]:
    return [cell.value for cell in sheet[1]]


def test_header_in_template_order(sheet: Any) -> None:
    """Row 1 is the template's header in national order, then 专业 (present) and 原行号."""
    assert header(sheet) == [*EXPORTED, "专业", SOURCE_ROW_HEADER]


def test_only_error_rows(sheet: Any) -> None:
    """Only the rows with errors are written, each with its original row number."""
    last = len(header(sheet))
    assert [row[last - 1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [4, 6, 7]


def test_raw_values_kept(sheet: Any) -> None:
    """Cells keep the user's raw values, not the normalised ones."""
    assert sheet["H3"].value == "2学分"
    assert sheet["AA3"].value == "7/1/2025"
    assert sheet["A3"].value == 21050104


def test_leading_zero_kept(sheet: Any) -> None:
    """An identifier with a leading zero stays text in a text-formatted column."""
    assert sheet["G2"].value == "0803101"
    assert sheet["G2"].number_format == "@"


def test_identifier_columns_text_format(sheet: Any) -> None:
    """Identifier columns carry the text format on their cells and on the whole column."""
    assert sheet["A2"].number_format == "@"
    assert sheet["O2"].number_format == "@"
    assert sheet.column_dimensions["A"].number_format == "@"


def test_faulty_cells_marked(sheet: Any) -> None:
    """Faulty cells are filled and commented as in the annotated workbook."""
    assert fill(sheet["O2"]) == RED
    assert "SXPT-E-USCC-CHECKSUM" in comment(sheet["O2"])
    assert fill(sheet["AA3"]) == RED
    assert "SXPT-E-DATE-ORDER" in comment(sheet["AA3"])
    assert fill(sheet["H3"]) == YELLOW
    assert "SXPT-W-CREDITS-FORMAT" in comment(sheet["H3"])


def test_row_issue_on_first_cell(sheet: Any) -> None:
    """The hidden row's warning joins the first cell's comment; the row is not hidden here."""
    assert "SXPT-W-FILE-HIDDEN-ROW" in comment(sheet["A4"])
    assert fill(sheet["D4"]) == RED
    assert not sheet.row_dimensions[4].hidden


def test_clean_cells_unmarked(sheet: Any) -> None:
    """Cells without issues have no fill and no comment."""
    assert fill(sheet["B2"]) is None
    assert sheet["B2"].comment is None


def test_source_row_column_skipped(written: tuple[Path, Validation]) -> None:
    """The reader skips 原行号 silently: sxpt wrote it, so it is not the user's mistake."""
    out, _ = written
    report = validate_file(out, context()).report
    unknown = [issue for issue in report.issues if issue.code == "SXPT-W-FILE-UNKNOWN-COLUMN"]
    assert unknown == []
    assert SOURCE_ROW_HEADER not in {issue.field for issue in report.issues}


def test_errors_found_again(written: tuple[Path, Validation]) -> None:
    """Validating the errors-only workbook finds the same errors, on the new rows."""
    out, validation = written

    def errors(report: Any) -> Counter[str]:
        return Counter(issue.code for issue in report.issues if issue.severity.value == "error")

    assert errors(validate_file(out, context()).report) == errors(validation.report)


def test_columns_moved_to_template_places(tmp_path: Path) -> None:
    """A file with its columns in another order is written in template order."""
    headers = ["实习单位统一社会信用代码", *(item for item in RECORD_HEADERS if item != "实习单位统一社会信用代码")]
    wrong = record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE)
    row = [WRONG_UNIT_CODE, *(value for item, value in zip(RECORD_HEADERS, wrong)
                              if item != "实习单位统一社会信用代码")]
    source = write_xlsx(tmp_path / "moved.xlsx", [headers, row])
    validation = validate_file(source, context())
    assert validation.report.issues[0].column == "A"
    out = tmp_path / "errors.xlsx"
    write_errors_only(source, validation, out)
    sheet = openpyxl.load_workbook(out)["实习数据"]
    assert sheet["O2"].value == WRONG_UNIT_CODE
    assert fill(sheet["O2"]) == RED
    assert sheet["A2"].value == "21050101"


def test_without_optional_major(tmp_path: Path) -> None:
    """Without a 专业 column in the file, the layout has only the exported columns."""
    headers = [item for item in RECORD_HEADERS if item != "专业"]
    row = record(1, 实习单位统一社会信用代码=WRONG_UNIT_CODE)[: len(headers)]
    source = write_xlsx(tmp_path / "records.xlsx", [headers, row])
    out = tmp_path / "errors.xlsx"
    write_errors_only(source, validate_file(source, context()), out)
    assert header(openpyxl.load_workbook(out)["实习数据"]) == [*EXPORTED, SOURCE_ROW_HEADER]


def test_clean_file_header_only(tmp_path: Path) -> None:
    """A file without errors gives a workbook with only the header row."""
    source = write_xlsx(tmp_path / "records.xlsx", [list(RECORD_HEADERS), record(1)])
    out = tmp_path / "errors.xlsx"
    result = write_errors_only(source, validate_file(source, context()), out)
    assert result.rows == 0
    assert openpyxl.load_workbook(out)["实习数据"].max_row == 1


def test_cli_errors_only_option(tmp_path: Path) -> None:
    """sxpt validate --errors-only writes the workbook and reports it in English with --lang en."""
    source = build_source(tmp_path / "records.xlsx")
    out = tmp_path / "errors.xlsx"
    result = CliRunner().invoke(main, ["validate", str(source), "--today", TODAY.isoformat(),
                                       "--errors-only", str(out), "--lang", "en"])
    assert result.exit_code == 1
    assert "Wrote the errors-only workbook" in result.stderr
    assert "3 rows" in result.stderr
    assert out.exists()


# --- the example: errors-only workbook, fixed by a script, validates clean -------------


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example's report and errors-only workbook, made in examples/ for its sxpt.toml."""
    folder = tmp_path_factory.mktemp("example")
    out = folder / "errors.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(EXAMPLES)
        result = CliRunner().invoke(main, ["validate", "records.xlsx", "--today", TODAY.isoformat(),
                                           "--format", "json", "--errors-only", str(out)])
    assert result.exit_code == 1, result.output
    return {"report": json.loads(result.stdout), "errors_only": out, "folder": folder}


class ExampleFixer:
    """Fixes each error of the example's report in its errors-only workbook, as a clerk would.

    Facts come from where a clerk would look them up: the roster, the training plan,
    the school's settings, the other rows of the original file (a unit's code and city)
    and the check-character algorithm of GB 32100 (python-stdnum).
    """

    def __init__(self) -> None:
        school_context = Context(today=TODAY, divisions=load_divisions(), school=load_config(EXAMPLES).school)
        self.school = load_config(EXAMPLES).school
        roster = validate_file(EXAMPLES / "roster.xlsx", school_context, kind="roster").models()
        self.name_of = {entry.student_id: entry.student_name for entry in roster}
        self.id_of = {entry.student_name: entry.student_id for entry in roster}
        self.plan = validate_file(EXAMPLES / "plan.xlsx", school_context, kind="plan").models()
        original = validate_file(EXAMPLES / "records.xlsx", school_context)
        self.original_rows = dict(original.rows)
        codes: dict[str, Counter[str]] = {}
        cities: dict[str, Counter[str]] = {}
        names: dict[str, Counter[str]] = {}
        for number, values in original.rows:
            if number in original.error_rows:
                continue
            name, code, city = values["unit_name"], values["unit_code"], values["city_code"]
            codes.setdefault(name, Counter())[code] += 1
            cities.setdefault(name, Counter())[city] += 1
            names.setdefault(code, Counter())[name] += 1
        self.code_of = {name: counter.most_common(1)[0][0] for name, counter in codes.items()}
        self.city_of = {name: counter.most_common(1)[0][0] for name, counter in cities.items()}
        self.unit_name_of = {code: counter.most_common(1)[0][0] for code, counter in names.items()}

    def course(self, code: str) -> Any:
        return next(course for course in self.plan if course.course_code == code)

    def fix(self, row: dict[str, Any], code: str, number: int) -> bool:
        """Fix the error ``code`` in ``row`` (header → value); return False to drop the row."""
        if code in DROPPED:
            return False
        unit = row["实习单位名称"]
        if code == "SXPT-E-USCC-CHECKSUM":
            body = row["实习单位统一社会信用代码"][:17]
            row["实习单位统一社会信用代码"] = body + uscc.calc_check_digit(body)
        elif code == "SXPT-E-USCC-LOOKALIKE":
            row["实习单位统一社会信用代码"] = row["实习单位统一社会信用代码"].replace("O", "0")
        elif code in ("SXPT-E-USCC-OLD", "SXPT-E-UNIT-NONE-MAINLAND"):
            row["实习单位统一社会信用代码"] = self.code_of[unit]
        elif code in ("SXPT-E-CITY-PROVINCE", "SXPT-E-CITY-ABOLISHED"):
            row["实习地区及代码"] = self.city_of[unit]
        elif code == "SXPT-E-ROSTER-NOT-FOUND":
            row["学号"] = self.id_of[row["学生姓名"]]
        elif code in ("SXPT-E-ROSTER-NAME-MISMATCH", "SXPT-E-ROSTER-SWAPPED", "SXPT-E-NAME-QUESTION-MARK"):
            row["学生姓名"] = self.name_of[str(row["学号"])]
        elif code == "SXPT-E-PLAN-NOT-FOUND":
            row["课程代码"] = next(course.course_code for course in self.plan
                               if course.department == row["院系"] and course.course_name == row["课程名称"])
        elif code == "SXPT-E-PLAN-LEADING-ZERO":
            written = str(int(row["课程代码"]))
            row["课程代码"] = next(course.course_code for course in self.plan
                               if course.course_code.lstrip("0") == written)
        elif code in ("SXPT-E-PLAN-CREDITS", "SXPT-E-CREDITS-UNIT"):
            row["学分"] = str(self.course(row["课程代码"]).credits)
        elif code in ("SXPT-E-PLAN-TYPE", "SXPT-E-CHOICE-INVALID"):
            row["实习类型"] = self.course(row["课程代码"]).internship_type
        elif code == "SXPT-E-BATCH-OVERLAP":
            row["实习开始时间"] = (self.other_period_end(number) + datetime.timedelta(days=1)).isoformat()
        elif code == "SXPT-E-DATE-END-BEFORE-START":
            row["实习开始时间"], row["实习结束时间"] = row["实习结束时间"], row["实习开始时间"]
        elif code == "SXPT-E-DATE-ORDER":
            month, day, year = (int(part) for part in row["实习开始时间"].split("/"))
            row["实习开始时间"] = datetime.date(year, month, day).isoformat()
        elif code == "SXPT-E-DATE-TWO-DIGIT-YEAR":
            year, month, day = (int(part) for part in row["实习结束时间"].split("-"))
            row["实习结束时间"] = datetime.date(2000 + year, month, day).isoformat()
        elif code == "SXPT-E-DAYS-EXCEED-SPAN":
            row["实际实习天数"] = self.span(row)
        elif code == "SXPT-E-UNIT-ON-CAMPUS-WORD":
            row["实习单位名称"] = self.school.name
        elif code == "SXPT-E-FIELD-REQUIRED" and unit is None:
            row["实习单位名称"] = self.unit_name_of[row["实习单位统一社会信用代码"]]
        elif code == "SXPT-E-PHONE-INVALID":
            # The number is incomplete and cannot be recovered; the column is optional.
            row["企业指导人员电话"] = None
        else:
            raise AssertionError(f"no fix for {code} on row {number}")
        return True

    def other_period_end(self, number: int) -> datetime.date:
        """Return the last end of the same student's other periods of the same course."""
        values = self.original_rows[number]
        return max(
            other["end_date"] for other_number, other in self.original_rows.items()
            if other_number != number and other["student_id"] == values["student_id"]
            and other["course_code"] == values["course_code"]
        )

    @staticmethod
    def span(row: dict[str, Any]) -> int:
        start, end = (_date(row[header]) for header in ("实习开始时间", "实习结束时间"))
        return (end - start).days + 1


def _date(value: Any) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else datetime.date.fromisoformat(str(value))


# Errors whose fix is to take the row out of this upload, as each rule's hint advises: the
# record need not be reported (专科, 退学, before 专升本), is a repeat, or is not due yet.
DROPPED = {"SXPT-E-ROSTER-ZHUANKE", "SXPT-E-ROSTER-STATUS", "SXPT-E-ROSTER-BEFORE-UPGRADE",
           "SXPT-E-BATCH-DUPLICATE", "SXPT-E-CAL-NOT-ENDED"}


def fix_errors_only(path: Path, report: dict[str, Any], fixed: Path) -> int:
    """Fix every error of ``report`` in the errors-only workbook ``path``; return rows kept."""
    fixer = ExampleFixer()
    book = openpyxl.load_workbook(path)
    sheet = book["实习数据"]
    headers = [cell.value for cell in sheet[1]]
    errors: dict[int, list[str]] = {}
    for issue in report["issues"]:
        if issue["severity"] == "error":
            errors.setdefault(issue["row"], []).append(issue["code"])

    dropped = []
    for row_index in range(2, sheet.max_row + 1):
        cells = {name: sheet.cell(row_index, position + 1) for position, name in enumerate(headers)}
        values = {name: cell.value for name, cell in cells.items()}
        number = values[SOURCE_ROW_HEADER]
        keep = all(fixer.fix(values, code, number) for code in errors.pop(number))
        if not keep:
            dropped.append(row_index)
            continue
        # A date fixed above may leave the days longer than the new period.
        if int(values["实际实习天数"]) > fixer.span(values):
            values["实际实习天数"] = fixer.span(values)
        for name, cell in cells.items():
            cell.value = values[name]
    assert errors == {}, "every row with errors is in the errors-only workbook"
    for row_index in reversed(dropped):
        sheet.delete_rows(row_index)
    book.save(fixed)
    return sheet.max_row - 1


def test_example_errors_only_rows(example: dict[str, Any]) -> None:
    """The example's errors-only workbook has one row per row with errors."""
    report = example["report"]
    error_rows = {issue["row"] for issue in report["issues"] if issue["severity"] == "error"}
    sheet = openpyxl.load_workbook(example["errors_only"])["实习数据"]
    numbers = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == sorted(error_rows)


def test_example_fixed_validates_clean(example: dict[str, Any]) -> None:
    """The example's errors-only workbook, once each error is fixed, validates without errors."""
    fixed = example["folder"] / "fixed.xlsx"
    rows_kept = fix_errors_only(example["errors_only"], example["report"], fixed)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(EXAMPLES)
        result = CliRunner().invoke(main, ["validate", str(fixed), "--today", TODAY.isoformat(),
                                           "--format", "json"])
    report = json.loads(result.stdout)
    errors = [(issue["row"], issue["code"]) for issue in report["issues"] if issue["severity"] == "error"]
    assert errors == []
    assert result.exit_code == 0
    assert report["rows"] == rows_kept
    assert rows_kept == report["valid_rows"]
