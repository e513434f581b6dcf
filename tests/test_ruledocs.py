"""The generated rule reference in docs/ must match the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from sxpt_core.catalogue import all_rules
from sxpt_core.ruledocs import render_rules

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize(("lang", "name"), [("zh", "rules.md"), ("en", "rules.en.md")])
def test_rule_docs_current(lang: str, name: str) -> None:
    """docs/rules*.md equal what the catalogue renders; run `nox -s docs` after changing a rule."""
    assert (DOCS / name).read_text(encoding="utf-8") == render_rules(lang)


def test_rule_docs_list_every_code() -> None:
    """Every rule code appears in the Chinese reference."""
    text = render_rules("zh")
    for rule in all_rules():
        assert f"`{rule.code}`" in text
