"""Render the rule catalogue as Markdown: ``docs/rules.md`` (Chinese) and ``docs/rules.en.md``.

Run ``nox -s docs`` (or ``python -m sxpt_core.ruledocs docs``) to rewrite both files;
a test fails when the files and the catalogue differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sxpt_core.catalogue import LAYER_TITLES, LAYERS, Rule, Severity, all_rules

__all__ = ["render_rules", "write_rule_docs"]

TEXT = {
    "title": ("# 校验规则一览", "# Rule reference"),
    "intro": (
        "本页由规则目录自动生成（`nox -s docs`），请勿手工修改。每条规则有稳定的代码；"
        "`SXPT-E-` 开头的是错误，必须修改后才能上传；`SXPT-W-` 开头的是警告，请核实。"
        "校验按层进行，各层分别报告，便于判断是哪一类检查没有通过。",
        "This page is generated from the rule catalogue (`nox -s docs`); do not edit it by hand. "
        "Every rule has a stable code: `SXPT-E-` codes are errors that block the upload, "
        "`SXPT-W-` codes are warnings to check. Layers are reported separately, so the user "
        "knows which kind of check failed.",
    ),
    "other": ("English: [rules.en.md](rules.en.md)", "中文：[rules.md](rules.md)"),
    "count": ("共 {count} 条规则。", "{count} rules."),
    "code": ("代码", "Code"),
    "severity": ("级别", "Severity"),
    "fields": ("字段", "Fields"),
    "source": ("依据", "Source"),
    "message": ("提示信息示例", "Message template"),
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
}


def _text(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return en if lang == "en" else zh


def _rule_section(rule: Rule, lang: str) -> list[str]:
    index = 1 if lang == "en" else 0
    severity = _text("error" if rule.severity is Severity.ERROR else "warning", lang)
    fields = "、".join(rule.fields) if rule.fields else "—"
    lines = [
        f"### `{rule.code}`",
        "",
        rule.statement[index],
        "",
        f"- {_text('severity', lang)}: {severity}",
        f"- {_text('fields', lang)}: {fields}",
        f"- {_text('source', lang)}: {rule.source}",
        f"- {_text('message', lang)}: {rule.message[index]}",
    ]
    if rule.hint[index]:
        lines[-1] += f" — {rule.hint[index]}"
    lines.append("")
    return lines


def render_rules(lang: str = "zh") -> str:
    """Return the Markdown rule reference in ``lang``, grouped by layer."""
    rules = all_rules()
    lines = [_text("title", lang), "", _text("intro", lang), "", _text("other", lang), "",
             _text("count", lang).format(count=len(rules)), ""]
    for layer in LAYERS:
        in_layer = [rule for rule in rules if rule.layer is layer]
        if not in_layer:
            continue
        lines.append(f"## {LAYER_TITLES[layer][1 if lang == 'en' else 0]}")
        lines.append("")
        for rule in in_layer:
            lines.extend(_rule_section(rule, lang))
    return "\n".join(lines).rstrip() + "\n"


def write_rule_docs(folder: Path) -> list[Path]:
    """Write ``rules.md`` and ``rules.en.md`` into ``folder``; return their paths."""
    written = []
    for lang, name in (("zh", "rules.md"), ("en", "rules.en.md")):
        path = folder / name
        path.write_text(render_rules(lang), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_rule_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(path)
