"""The templates as JSON Schema and Table Schema (``sxpt schema``)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from sxpt_core.cli import build_context, main
from sxpt_core.io.config import load_config
from sxpt_core.models import converter
from sxpt_core.normalise.identifiers import normalise_major_code, normalise_phone
from sxpt_core.schema import (
    CITY_PATTERN,
    MAJOR_CODE_PATTERN,
    NATURAL_KEYS,
    PHONE_PATTERN,
    USCC_PATTERN,
    json_schema,
    table_schema,
)
from sxpt_core.templates import get_template

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KINDS = ("records", "plan", "roster")


@pytest.fixture(scope="module")
def records_validator() -> jsonschema.protocols.Validator:
    schema = json_schema(get_template("records"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def example_rows() -> list[dict[str, Any]]:
    """The rows of examples/records.xlsx that sxpt finds without errors, in JSON form."""
    from sxpt_core.validate import validate_file

    config = load_config(EXAMPLES)
    context = build_context(config=config, today=datetime.date(2025, 10, 15), school=None, roster=None,
                            plan=None, lang="zh")
    validation = validate_file(EXAMPLES / "records.xlsx", context)
    return [converter.unstructure(record) for record in validation.models()]


def good_row(example_rows: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(example_rows[0])


@pytest.mark.parametrize("kind", KINDS)
def test_json_schema_is_valid_2020_12(kind: str) -> None:
    schema = json_schema(get_template(kind))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == [column.header for column in get_template(kind)]


def test_example_rows_match_schema(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]]
) -> None:
    assert len(example_rows) > 200
    for row in example_rows:
        errors = [error.message for error in records_validator.iter_errors(row)]
        assert errors == [], row


def test_example_rows_include_optional_blanks(example_rows: list[dict[str, Any]]) -> None:
    """The example exercises null optional values and the 无 unit code."""
    assert any(row["专业"] is None for row in example_rows)
    assert any(row["实习单位统一社会信用代码"] == "无" for row in example_rows)


@pytest.mark.parametrize(("header", "value"), [
    ("实习单位统一社会信用代码", "91110000600037341"),
    ("实习单位统一社会信用代码", "91110000600O37341L"),
    ("实习单位统一社会信用代码", "01110000600037341L"),
    ("实习单位统一社会信用代码", "/"),
    ("实习地区及代码", "33010"),
    ("实习地区及代码", "杭州"),
    ("实习开始时间", "2025/7/1"),
    ("实习开始时间", "2025-13-01"),
    ("学年", "2024-25"),
    ("学年", "2024年"),
    ("学分", "0"),
    ("学分", "2.55"),
    ("学分", "2学分"),
    ("学分", 0),
    ("实习类型", "实习"),
    ("是否有实习责任险", "Y"),
    ("实际实习天数", 0),
    ("实际实习天数", "0"),
    ("入学年份", 1999),
    ("入学年份", "22"),
    ("企业指导人员电话", "88888888"),
    ("实习报酬（元/月）", "-1"),
    ("实习报酬（元/月）", "3000元"),
    ("学号", ""),
    ("学号", "   "),
    ("学生姓名", None),
    ("实习单位名称", "单" * 101),
])
def test_bad_value_fails_schema(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]], header: str, value: Any
) -> None:
    row = good_row(example_rows)
    row[header] = value
    assert not records_validator.is_valid(row)


@pytest.mark.parametrize(("header", "value"), [
    ("实习单位统一社会信用代码", "无"),
    ("实习地区及代码", "杭州市-330100"),
    ("实习地区及代码", "浙江省杭州市(330100)"),
    ("学分", 2.5),
    ("学分", "0.5"),
    ("是否有实习责任险", "是"),
    ("是否有实习责任险", False),
    ("实际实习天数", "60"),
    ("入学年份", "2022"),
    ("企业指导人员电话", "0571-88888888"),
    ("企业指导人员电话", None),
    ("企业指导人员电话", ""),
    ("实习报酬（元/月）", 0),
    ("实习报酬（元/月）", "3000.50"),
])
def test_other_accepted_forms_pass(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]], header: str, value: Any
) -> None:
    row = good_row(example_rows)
    row[header] = value
    assert records_validator.is_valid(row), list(records_validator.iter_errors(row))


def test_missing_required_field_fails(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]]
) -> None:
    row = good_row(example_rows)
    del row["学号"]
    assert not records_validator.is_valid(row)


def test_missing_optional_field_passes(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]]
) -> None:
    row = good_row(example_rows)
    del row["实习岗位"]
    assert records_validator.is_valid(row)


def test_unknown_key_fails(
    records_validator: jsonschema.protocols.Validator, example_rows: list[dict[str, Any]]
) -> None:
    """A header sxpt does not read, such as ASCII brackets, is rejected rather than ignored."""
    row = good_row(example_rows)
    row["实习报酬(元/月)"] = row.pop("实习报酬（元/月）")
    assert not records_validator.is_valid(row)


def test_plan_and_roster_rows_match() -> None:
    from sxpt_core.validate import validate_file

    context = build_context(config=load_config(EXAMPLES), today=datetime.date(2025, 10, 15), school=None,
                            roster=None, plan=None, lang="zh")
    for kind, name in (("plan", "plan.xlsx"), ("roster", "roster.xlsx")):
        validator = jsonschema.Draft202012Validator(json_schema(get_template(kind)))
        models = validate_file(EXAMPLES / name, context, kind=kind).models()
        assert models
        for model in models:
            row = converter.unstructure(model)
            assert validator.is_valid(row), (kind, row)


@pytest.mark.parametrize(("value", "valid"), [
    ("91110000600037341L", True),
    ("Y1110000600037341L", True),
    ("无", True),
    ("91110000600037341I", False),
    ("9111000060003734", False),
    ("91110000600037341l", False),
])
def test_uscc_pattern(value: str, valid: bool) -> None:
    assert (re.fullmatch(USCC_PATTERN, value) is not None) is valid


@pytest.mark.parametrize("value", ["13812345678", "0571-88888888", "057188888888", "010-12345678-123",
                                   "88888888", "23812345678", "0571-888888", "(0571)88888888"])
def test_phone_pattern_agrees_with_normaliser(value: str) -> None:
    """The pattern accepts exactly the phones sxpt takes as written."""
    outcome = normalise_phone(value)
    taken_as_written = outcome.value == value and outcome.change is None
    assert (re.fullmatch(PHONE_PATTERN, value) is not None) is taken_as_written


@pytest.mark.parametrize("value", ["080901", "080910T", "100901K", "120201TK", "80901", "080901X", "080901t"])
def test_major_code_pattern_agrees_with_normaliser(value: str) -> None:
    outcome = normalise_major_code(value)
    taken_as_written = outcome.value == value and outcome.change is None
    assert (re.fullmatch(MAJOR_CODE_PATTERN, value) is not None) is taken_as_written


@pytest.mark.parametrize(("value", "valid"), [
    ("330100", True), ("杭州市-330100", True), ("浙江省杭州市（330100）", True), ("3301", False), ("hz-330100", False),
])
def test_city_pattern(value: str, valid: bool) -> None:
    assert (re.fullmatch(CITY_PATTERN, value) is not None) is valid


# --- Table Schema ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_table_schema_fields_in_template_order(kind: str) -> None:
    template = get_template(kind)
    schema = json.loads(json.dumps(table_schema(template), ensure_ascii=False))
    assert [field["name"] for field in schema["fields"]] == [column.header for column in template]
    assert schema["missingValues"] == [""]
    assert schema["primaryKey"] == list(NATURAL_KEYS[kind])
    for field, column in zip(schema["fields"], template.columns, strict=True):
        assert field.get("constraints", {}).get("required", False) is column.required, column.header


def test_table_schema_types_and_constraints() -> None:
    fields = {field["name"]: field for field in table_schema(get_template("records"))["fields"]}
    assert fields["实习类型"]["constraints"]["enum"] == ["认识实习", "专业实习", "生产实习", "毕业实习"]
    assert fields["是否有实习责任险"]["type"] == "boolean"
    assert fields["是否有实习责任险"]["trueValues"] == ["是"]
    assert fields["是否有实习责任险"]["falseValues"] == ["否"]
    assert fields["实习开始时间"]["type"] == "date"
    assert fields["学分"]["type"] == "number"
    assert fields["学分"]["constraints"]["minimum"] == 0.1
    assert fields["实际实习天数"]["type"] == "integer"
    assert fields["实际实习天数"]["constraints"]["minimum"] == 1
    assert fields["学号"]["type"] == "string"
    assert fields["学号"]["constraints"]["maxLength"] == 30
    assert fields["实习单位统一社会信用代码"]["constraints"]["pattern"] == USCC_PATTERN
    assert fields["学号"]["description"].startswith("学生学号")


def test_table_schema_patterns_compile() -> None:
    for kind in KINDS:
        for field in table_schema(get_template(kind))["fields"]:
            pattern = field.get("constraints", {}).get("pattern")
            if pattern is not None:
                re.compile(f"^{pattern}$")
                assert "(?" not in pattern, "XML Schema regexes have no (?: groups"


# --- the command ------------------------------------------------------------------


def test_cli_prints_json_schema() -> None:
    result = CliRunner().invoke(main, ["schema", "roster"])
    assert result.exit_code == 0, result.output
    assert "学号" in result.stdout
    assert json.loads(result.stdout) == json_schema(get_template("roster"))


def test_cli_writes_table_schema(tmp_path: Path) -> None:
    path = tmp_path / "records.schema.json"
    result = CliRunner().invoke(main, ["schema", "records", "--format", "table-schema", "-o", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert "\\u" not in text
    assert json.loads(text) == table_schema(get_template("records"))


def test_cli_english_descriptions() -> None:
    result = CliRunner().invoke(main, ["schema", "plan", "--lang", "en"])
    schema = json.loads(result.stdout)
    assert schema["properties"]["学年"]["description"] == "Academic year, e.g. 2024-2025."
    assert schema["description"].startswith("One row of the 实习培养方案/2024 template")
