"""Tests of normalise_cell: dispatch by column kind, blank and formula-error cells."""

from __future__ import annotations

import datetime
import importlib
import sys
import types
from decimal import Decimal

import pytest

from sxpt_core import normalise
from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome, normalise_cell
from sxpt_core.templates import Column, get_template

RECORDS = get_template("records")
PLAN = get_template("plan")
ROSTER = get_template("roster")
NORMALISE_MODULES = (
    "sxpt_core.normalise.fields",
    "sxpt_core.normalise.names",
    "sxpt_core.normalise.dates",
    "sxpt_core.normalise.identifiers",
)


def codes(outcome: Outcome) -> list[str]:
    return [finding.code for finding in outcome.findings]


CLEAN_CELLS = [
    (RECORDS, "学号", "21050101", "21050101"),
    (RECORDS, "学生姓名", "张三", "张三"),
    (RECORDS, "入学年份", 2022.0, 2022),
    (RECORDS, "院系", "计算机学院", "计算机学院"),
    (RECORDS, "学分", 1.5, Decimal("1.5")),
    (RECORDS, "实习类型", "专业实习", "专业实习"),
    (RECORDS, "学年", "2024-2025", "2024-2025"),
    (RECORDS, "是否有实习责任险", "是", True),
    (RECORDS, "实习开始时间", datetime.date(2024, 9, 1), datetime.date(2024, 9, 1)),
    (RECORDS, "实际实习天数", 30.0, 30),
    (RECORDS, "实习报酬（元/月）", 3000.0, Decimal("3000")),
    (RECORDS, "企业指导人员电话", "13812345678", "13812345678"),
    (PLAN, "学期", "第一学期", "第一学期"),
    (PLAN, "专业代码", "080901", "080901"),
    (PLAN, "计划实习周数", "2", Decimal("2")),
    (PLAN, "计划实习人数", 45.0, 45),
    (ROSTER, "入学日期", "2022-09-01", datetime.date(2022, 9, 1)),
    (ROSTER, "层次", "本科", "本科"),
]


@pytest.mark.parametrize(("template", "header", "value", "expected"), CLEAN_CELLS)
def test_cell_clean_values(template: object, header: str, value: object, expected: object) -> None:
    """Clean values of every kind are read with the value type of the kind and no change."""
    outcome = normalise_cell(template.column(header), value)  # type: ignore[attr-defined]
    assert outcome.value == expected
    assert type(outcome.value) is type(expected)
    assert outcome.change is None
    assert outcome.findings == ()


def test_cell_identifier_numeric() -> None:
    """A 学号 from a number cell is read as text with SXPT-W-ID-NUMERIC."""
    outcome = normalise_cell(RECORDS.column("学号"), 21050101.0)
    assert outcome.value == "21050101"
    assert outcome.change is not None
    assert outcome.change.code == "SXPT-W-ID-NUMERIC"


def test_cell_passes_max_length() -> None:
    """The column's maximum length reaches the normaliser."""
    outcome = normalise_cell(RECORDS.column("学号"), "1" * 31)
    assert codes(outcome) == ["SXPT-E-ID-TOO-LONG"]


def test_cell_weeks_column_takes_weeks() -> None:
    """计划实习周数 accepts a number of weeks written with 周."""
    outcome = normalise_cell(PLAN.column("计划实习周数"), "2周")
    assert outcome.value == Decimal("2")


def test_cell_credits_column_rejects_weeks() -> None:
    """学分 rejects a number of weeks."""
    assert codes(normalise_cell(RECORDS.column("学分"), "2周")) == ["SXPT-E-CREDITS-UNIT"]


ALL_COLUMNS = [column for template in (RECORDS, PLAN, ROSTER) for column in template]


BLANKS = [None, "", "   ", "\u3000", "\u200b\ufeff", "\n"]


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize(
    "column",
    [column for column in ALL_COLUMNS if column.required],
    ids=lambda column: column.header,
)
def test_cell_blank_required(column: Column, blank: object) -> None:
    """A blank cell of a required column is SXPT-E-FIELD-REQUIRED naming the column."""
    outcome = normalise_cell(column, blank)
    assert outcome.value is None
    assert codes(outcome) == ["SXPT-E-FIELD-REQUIRED"]
    assert outcome.findings[0].params == {"field": column.header}


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize(
    "column",
    [column for column in ALL_COLUMNS if not column.required],
    ids=lambda column: column.header,
)
def test_cell_blank_optional(column: Column, blank: object) -> None:
    """A blank cell of an optional column is the blank outcome, with no finding."""
    assert normalise_cell(column, blank) is BLANK


@pytest.mark.parametrize("column", ALL_COLUMNS, ids=lambda column: f"{column.header}-{column.kind}")
def test_cell_formula_error(column: Column) -> None:
    """A formula error gives no value and no finding, even in a required column."""
    outcome = normalise_cell(column, CellError("#N/A"))
    assert outcome.value is None
    assert outcome.findings == ()


def test_external_kind_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """City cells go to sxpt_core.normalise.city.normalise_city, imported on first use."""
    seen: list[object] = []

    def fake_city(value: object) -> Outcome:
        seen.append(value)
        return Outcome("330100")

    module = types.ModuleType("sxpt_core.normalise.city")
    module.normalise_city = fake_city  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sxpt_core.normalise.city", module)
    monkeypatch.delitem(normalise._HANDLERS, "city", raising=False)
    column = RECORDS.column("实习地区及代码")

    assert normalise_cell(column, "杭州市-330100").value == "330100"
    assert seen == ["杭州市-330100"]


def test_external_kind_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blank and formula-error cells never reach the external normaliser."""

    def fail(value: object) -> Outcome:
        raise AssertionError(f"called with {value!r}")

    module = types.ModuleType("sxpt_core.rules.unit")
    module.normalise_unit_code = fail  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sxpt_core.rules.unit", module)
    monkeypatch.delitem(normalise._HANDLERS, "uscc", raising=False)
    column = RECORDS.column("实习单位统一社会信用代码")

    assert codes(normalise_cell(column, "\u3000")) == ["SXPT-E-FIELD-REQUIRED"]
    assert normalise_cell(column, CellError("#N/A")) is UNREADABLE


# --- The rules of these modules in the catalogue -------------------------------------


def declared_rules() -> list[Rule]:
    """Return the rules declared by the normaliser modules, each once."""
    rules: dict[str, Rule] = {}
    for module_name in NORMALISE_MODULES:
        for value in vars(importlib.import_module(module_name)).values():
            if isinstance(value, Rule):
                rules[value.code] = value
    return sorted(rules.values(), key=lambda rule: rule.code)


OWN_RULES = declared_rules()


def test_own_rules_declared() -> None:
    """The normalisers declare at least the rules their tests rely on."""
    declared = {rule.code for rule in OWN_RULES}
    assert {
        "SXPT-E-FIELD-REQUIRED",
        "SXPT-W-ID-NUMERIC",
        "SXPT-E-ID-DATE",
        "SXPT-E-ID-PRECISION",
        "SXPT-W-NAME-SPACE",
        "SXPT-W-NAME-DOT",
        "SXPT-E-NAME-QUESTION-MARK",
        "SXPT-W-DATE-FORMAT",
        "SXPT-E-DATE-INVALID",
        "SXPT-E-DATE-TWO-DIGIT-YEAR",
        "SXPT-E-CHOICE-INVALID",
        "SXPT-W-CHOICE-ALIAS",
    } <= declared


@pytest.mark.parametrize("rule", OWN_RULES, ids=lambda rule: rule.code)
def test_own_rules_are_format_layer(rule: Rule) -> None:
    """Every rule of the normalisers belongs to the format layer."""
    assert rule.layer is Layer.FORMAT


REJECTED_CELLS = [
    (RECORDS, "学号", 2105.5),
    (RECORDS, "学号", 1e16),
    (RECORDS, "学号", datetime.date(2024, 1, 1)),
    (RECORDS, "学号", "1" * 40),
    (RECORDS, "学号", True),
    (RECORDS, "学生姓名", "张?2（男）"),
    (RECORDS, "学生姓名", "张" * 60),
    (RECORDS, "入学年份", "22级"),
    (RECORDS, "院系", "院" * 60),
    (RECORDS, "院系", datetime.date(2024, 3, 1)),
    (RECORDS, "学分", "2周"),
    (RECORDS, "学分", "0"),
    (RECORDS, "学分", "1.25"),
    (RECORDS, "学分", "两"),
    (RECORDS, "实习类型", "实习"),
    (RECORDS, "学年", "2024-2026"),
    (RECORDS, "学年", "2024"),
    (RECORDS, "是否有实习责任险", "也许"),
    (RECORDS, "实习开始时间", "24-9-1"),
    (RECORDS, "实习开始时间", "9/1/2024"),
    (RECORDS, "实习开始时间", "2024-02-30"),
    (RECORDS, "实习开始时间", "2024-09"),
    (RECORDS, "实习开始时间", "明天"),
    (RECORDS, "实际实习天数", "0"),
    (RECORDS, "实习报酬（元/月）", "面议"),
    (RECORDS, "企业指导人员电话", "8888"),
    (RECORDS, "企业指导人员姓名", "王□"),
    (PLAN, "专业代码", 80901),
    (PLAN, "计划实习人数", "0"),
    (PLAN, "计划实习周数", "2学分"),
    (PLAN, "学期", "第四学期"),
    (RECORDS, "学生姓名", "123"),
]


@pytest.mark.parametrize(("template", "header", "value"), REJECTED_CELLS)
def test_findings_render_fully(template: object, header: str, value: object) -> None:
    """Messages and hints of every finding are filled: no placeholder is left unset."""
    outcome = normalise_cell(template.column(header), value)  # type: ignore[attr-defined]
    assert outcome.rejected
    for finding in outcome.findings:
        for lang in ("zh", "en"):
            assert "{" not in finding.rule.render_message(finding.params, lang)
            assert "{" not in finding.rule.render_hint(finding.params, lang)


@pytest.mark.parametrize(
    "rule",
    [rule for rule in OWN_RULES if rule.severity is Severity.WARNING],
    ids=lambda rule: rule.code,
)
def test_change_messages_render(rule: Rule) -> None:
    """Messages of change rules are filled by the parameters value and text."""
    finding = Finding(rule, {"value": " 张三", "text": "张三"})
    for lang in ("zh", "en"):
        assert "{" not in finding.rule.render_message(finding.params, lang)
        assert "{" not in finding.rule.render_hint(finding.params, lang)


@pytest.mark.parametrize("module_name", NORMALISE_MODULES)
def test_modules_listed_in_catalogue(module_name: str) -> None:
    """Every normaliser module is imported by the catalogue."""
    from sxpt_core.catalogue import RULE_MODULES

    assert module_name in RULE_MODULES
