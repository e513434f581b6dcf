"""Tests that keep the rule catalogue complete and consistent."""

from __future__ import annotations

import re
import string

import pytest

from sxpt_core.catalogue import Rule, Severity, all_rules, get_rule
from sxpt_core.templates import get_template

RULES = all_rules()
HEADERS = {column.header for kind in ("records", "plan", "roster") for column in get_template(kind)}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogue_not_empty() -> None:
    """The catalogue lists the rules of every layer that needs no server."""
    layers = {rule.layer.value for rule in RULES}
    assert {"file", "format", "checksum", "code_table", "roster", "plan", "batch", "calendar"} <= layers


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_code_shape(rule: Rule) -> None:
    """Codes read SXPT-E-… for errors and SXPT-W-… for warnings, in capitals."""
    assert re.fullmatch(r"SXPT-[EW]-[A-Z0-9]+(-[A-Z0-9]+)*", rule.code)
    assert (rule.code[5] == "E") == (rule.severity is Severity.ERROR)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_has_both_languages(rule: Rule) -> None:
    """Every statement and message exists in Chinese and English."""
    zh, en = rule.message
    assert zh.strip()
    assert en.strip()
    assert rule.statement[0].strip()
    assert rule.statement[1].strip()
    assert re.search(r"[\u4e00-\u9fff]", rule.statement[0])


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_languages_share_placeholders(rule: Rule) -> None:
    """Chinese and English templates use the same parameters, apart from *_en variants."""
    zh = placeholders(rule.message[0]) | placeholders(rule.hint[0])
    en = placeholders(rule.message[1]) | placeholders(rule.hint[1])
    assert {name.removesuffix("_en") for name in en} <= zh | {name.removesuffix("_en") for name in zh}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_fields_are_template_headers(rule: Rule) -> None:
    """A rule names only fields that a template has."""
    assert set(rule.fields) <= HEADERS


def test_get_rule_by_code() -> None:
    """A rule is found by its code."""
    assert get_rule("SXPT-E-USCC-CHECKSUM").layer.value == "checksum"


def test_duplicate_code_rejected() -> None:
    """Declaring a code twice is a programming error."""
    rule = RULES[0]
    with pytest.raises(ValueError, match="declared twice"):
        Rule(rule.code, rule.severity, rule.layer, (), ("a", "b"), ("a", "b"))
