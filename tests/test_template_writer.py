"""The empty template workbook of ``sxpt template``, read back by sxpt and by openpyxl."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from sxpt_core.cli import main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.io import read_table
from sxpt_core.io.table import is_header_row
from sxpt_core.io.template_writer import template_bytes, write_template
from sxpt_core.templates import Template, get_template
from sxpt_core.validate import validate_file

KINDS = ("records", "plan", "roster")

# Identifier columns that must be text cells, so that Excel keeps leading zeros.
TEXT_COLUMNS = {
    "records": ("学号", "课程代码", "实习单位统一社会信用代码", "实习地区及代码", "企业指导人员电话"),
    "plan": ("专业代码", "课程代码"),
    "roster": ("学号",),
}
DATE_COLUMNS = {
    "records": ("实习开始时间", "实习结束时间"),
    "plan": (),
    "roster": ("入学日期",),
}


def letter_of(template: Template, header: str) -> str:
    return get_column_letter(template.columns.index(template.column(header)) + 1)


def column_style(sheet: Any, template: Template, header: str) -> Any:
    """Return the column dimension covering ``header``'s column.

    XlsxWriter writes adjacent columns of equal width and format as one ``<col>`` range,
    which openpyxl keys by the range's first letter only.
    """
    number = template.columns.index(template.column(header)) + 1
    for dimension in sheet.column_dimensions.values():
        if dimension.min is not None and dimension.min <= number <= dimension.max:
            return dimension
    raise AssertionError(f"no column style for {header}")


@pytest.fixture(scope="module", params=KINDS)
def written(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    template = get_template(request.param)
    path = tmp_path_factory.mktemp("template") / f"{request.param}.xlsx"
    write_template(path, template)
    return template, path


def test_read_back_finds_data_sheet(written: tuple[Template, Path]) -> None:
    template, path = written
    table = read_table(path, template)
    assert table.sheet == template.title
    assert table.header_row == 1
    assert list(table.rows) == []
    assert table.issues == ()
    assert [source.column for source in table.columns] == list(template.columns)


def test_validate_empty_template(written: tuple[Template, Path]) -> None:
    template, path = written
    context = Context(datetime.date(2025, 10, 15), load_divisions())
    report = validate_file(path, context, kind=template.kind).report
    assert report.rows == 0
    assert report.issues == ()


def test_headers_in_template_order(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    assert [cell.value for cell in sheet[1]] == [column.header for column in template]
    assert sheet.freeze_panes == "A2"


def test_drop_down_lists_have_exact_choices(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list":
            lists[str(validation.sqref)] = validation.formula1
    expected = {
        f"{letter_of(template, column.header)}2:{letter_of(template, column.header)}1048576":
            '"' + ",".join(column.choices) + '"'
        for column in template if column.choices
    }
    assert expected
    assert lists == expected


def test_yes_no_columns_have_lists(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    formulas = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    for column in template:
        if column.kind == "yesno":
            assert formulas[f"{letter_of(template, column.header)}2"] == '"是,否"'


def test_identifier_columns_are_text(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    for header in TEXT_COLUMNS[template.kind]:
        assert column_style(sheet, template, header).number_format == "@", header


def test_date_columns_have_date_format(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    for header in DATE_COLUMNS[template.kind]:
        assert column_style(sheet, template, header).number_format == "yyyy-mm-dd", header


def test_free_text_columns_stay_general(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    for column in template:
        if column.kind in ("text", "name"):
            assert column_style(sheet, template, column.header).number_format == "General", column.header


def test_column_widths_fit_headers(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)[template.title]
    for column in template:
        width = column_style(sheet, template, column.header).width
        assert 8 <= width <= 41, column.header


def test_instructions_list_columns_downwards(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)["填表说明"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    headers = [row[1] for row in rows if row[1] in {column.header for column in template}]
    assert headers == [column.header for column in template]
    for row in rows:
        for kind in KINDS:
            assert not is_header_row(row, get_template(kind)), row


def test_instructions_describe_each_column(written: tuple[Template, Path]) -> None:
    template, path = written
    sheet = openpyxl.load_workbook(path)["填表说明"]
    by_header = {row[1]: row for row in sheet.iter_rows(values_only=True) if row[1]}
    for column in template:
        letter, _, required, choices, text_format, example, description = by_header[column.header]
        assert letter == letter_of(template, column.header)
        assert required == ("必填" if column.required else "选填")
        assert (choices or "") == "、".join(column.choices)
        assert text_format
        assert example
        assert description.startswith(column.description[0])


def test_records_instructions_content() -> None:
    template = get_template("records")
    sheet = openpyxl.load_workbook(io.BytesIO(template_bytes(template)))["填表说明"]
    by_header = {row[1]: row for row in sheet.iter_rows(values_only=True) if row[1]}
    assert by_header["实习类型"][3] == "认识实习、专业实习、生产实习、毕业实习"
    assert by_header["课程代码"][5] == "0803101"
    assert "30" in by_header["学号"][4]
    assert "入学年级" in by_header["入学年份"][6]
    assert by_header["实习详细地址"][2] == "选填"


def test_english_instructions() -> None:
    template = get_template("records")
    workbook = openpyxl.load_workbook(io.BytesIO(template_bytes(template, lang="en")))
    assert workbook.sheetnames == ["实习数据", "Instructions"]
    rows = list(workbook["Instructions"].iter_rows(values_only=True))
    by_header = {row[1]: row for row in rows if row[1]}
    assert by_header["Header"][2] == "Required"
    assert by_header["学号"][2] == "required"
    assert by_header["学号"][6].startswith("Student number as in the registry")
    assert by_header["实习开始时间"][4] == "Date, YYYY-MM-DD"
    assert workbook["实习数据"]["A1"].value == "学号"


def test_english_template_reads_back(tmp_path: Path) -> None:
    template = get_template("roster")
    path = tmp_path / "roster.xlsx"
    path.write_bytes(template_bytes(template, lang="en"))
    assert read_table(path, template).sheet == "学籍名单"


def test_filled_template_validates(tmp_path: Path) -> None:
    """Rows typed into the template keep their leading zeros and validate cleanly."""
    template = get_template("plan")
    path = tmp_path / "plan.xlsx"
    write_template(path, template)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[template.title]
    sheet.append(["2024-2025", "第二学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022, "0803101",
                  "生产实习", 4, "生产实习", "集中实习", "现场实习", 4, 75])
    workbook.save(path)
    validation = validate_file(path, Context(datetime.date(2025, 10, 15), load_divisions()), kind="plan")
    assert validation.report.issues == ()
    assert validation.report.normalised == ()
    [course] = validation.models()
    assert course.major_code == "080202"
    assert course.course_code == "0803101"


# --- the command ------------------------------------------------------------------


def test_cli_writes_template(tmp_path: Path) -> None:
    path = tmp_path / "方案.xlsx"
    result = CliRunner().invoke(main, ["template", "plan", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "实习培养方案" in result.stdout
    assert read_table(path, get_template("plan")).sheet == "实习培养方案"


def test_cli_default_name_and_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["template"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "实习数据模板.xlsx").is_file()


def test_cli_keeps_existing_file(tmp_path: Path) -> None:
    """An existing file is kept unless --force is given."""
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"filled in")
    result = CliRunner().invoke(main, ["template", "roster", "-o", str(path)])
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert path.read_bytes() == b"filled in"


def test_cli_force_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"old")
    result = CliRunner().invoke(main, ["template", "roster", "-o", str(path), "--force"])
    assert result.exit_code == 0, result.output
    assert read_table(path, get_template("roster")).sheet == "学籍名单"


def test_cli_rejects_other_extension(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["template", "-o", str(tmp_path / "records.csv")])
    assert result.exit_code == 2
    assert ".xlsx" in result.stderr


def test_cli_unwritable_folder(tmp_path: Path) -> None:
    """A missing output folder is one English sentence with --lang en."""
    result = CliRunner().invoke(main, ["template", "-o", str(tmp_path / "missing" / "t.xlsx"), "--lang", "en"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Cannot write")


def test_docs_list_every_header() -> None:
    """docs/templates.md has a table row for every column of every template."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "templates.md").read_text(encoding="utf-8")
    for kind in KINDS:
        for column in get_template(kind):
            assert f"| {column.header} |" in text, column.header
