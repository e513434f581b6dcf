"""The text summary of a report, as ``sxpt validate`` prints it, in Chinese or English.

Issues are grouped by layer (format, check character, code tables, roster, plan,
batch, calendar) so the user sees which kind of check failed; within a layer they are
listed in the order the user reads the sheet, by row and then column.
"""

from __future__ import annotations

from collections import defaultdict

from sxpt_core.catalogue import LAYER_TITLES, LAYERS, Layer, Severity
from sxpt_core.models import Issue, Report

__all__ = ["format_summary"]

TEXT = {
    "header": ("{template} · {source}", "{template} · {source}"),
    "totals": (
        "共 {rows} 行数据，{valid} 行无错误；错误 {errors} 个，警告 {warnings} 个（含自动规范 {changes} 处）",
        "{rows} data rows, {valid} without errors; {errors} errors, {warnings} warnings "
        "(including {changes} normalised values)",
    ),
    "layer": ("【{title}】错误 {errors} 个，警告 {warnings} 个", "[{title}] {errors} errors, {warnings} warnings"),
    "place_cell": ("第 {row} 行 {column} 列（{field}）", "Row {row}, column {column} ({field})"),
    "place_cell_unnamed": ("第 {row} 行 {column} 列", "Row {row}, column {column}"),
    "place_row": ("第 {row} 行", "Row {row}"),
    "place_field": ("表头（{field}）", "Header ({field})"),
    "place_file": ("文件", "File"),
    "error": ("错误", "error"),
    "warning": ("警告", "warning"),
    "value": ("值", "value"),
    "hint": ("提示", "hint"),
    "normalised": ("【自动规范】{count} 处（已按规范值读取，请在表格中一并改正）",
                   "[Normalised] {count} values (read as shown; please correct them in the workbook)"),
    "change": ("第 {row} 行 {column} 列（{field}）：{original} → {normalised}",
               "Row {row}, column {column} ({field}): {original} → {normalised}"),
    "more_warnings": ("……另有 {count} 条同类警告（{code}），完整列表请用 --format json 查看",
                      "… and {count} more warnings of {code}; use --format json for all"),
    "more": ("……另有 {count} 处，完整列表请用 --format json 查看", "… and {count} more; use --format json for all"),
    "no_roster": ("未提供学籍名单（--roster），没有核对学号和姓名。",
                  "No roster given (--roster): student numbers and names were not checked."),
    "no_plan": ("未提供实习培养方案（--plan），没有核对课程、学分和学年。",
                "No training plan given (--plan): courses, credits and years were not checked."),
    "no_rows": ("文件中没有数据行。", "The file has no data rows."),
    "ok": ("结论：没有错误，可以上传。", "Result: no errors; the file can be uploaded."),
    "failed": ("结论：有 {errors} 个错误，请修改后重新校验。", "Result: {errors} errors; fix them and validate again."),
}


def _text(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def _one_line(text: str) -> str:
    """Show line breaks inside a cell as ↵, so that each issue stays on its own line."""
    return text.replace("\r\n", "↵").replace("\n", "↵").replace("\r", "↵")


def _place(issue: Issue, lang: str) -> str:
    if issue.row is not None and issue.column and issue.field:
        return _text("place_cell", lang, row=issue.row, column=issue.column, field=_one_line(issue.field))
    if issue.row is not None and issue.column:
        return _text("place_cell_unnamed", lang, row=issue.row, column=issue.column)
    if issue.row is not None:
        return _text("place_row", lang, row=issue.row)
    if issue.field:
        return _text("place_field", lang, field=issue.field)
    return _text("place_file", lang)


def _issue_lines(issue: Issue, lang: str) -> list[str]:
    severity = _text("error" if issue.severity is Severity.ERROR else "warning", lang)
    separator = ": " if lang == "en" else "："
    lines = [f"  {_place(issue, lang)} {severity} {issue.code}{separator}{_one_line(issue.message(lang))}"]
    hint = issue.hint(lang)
    if hint:
        lines.append(f"      {_text('hint', lang)}{separator}{hint}")
    return lines


def format_summary(
    report: Report,
    *,
    source: str,
    lang: str = "zh",
    max_warnings: int = 10,
    max_changes: int = 50,
    roster_checked: bool = True,
    plan_checked: bool = True,
) -> str:
    """Return the text summary of ``report`` for the file called ``source``.

    Every error is listed. Warnings are listed up to ``max_warnings`` per rule and
    normalisations up to ``max_changes``, because they are often the same remark
    repeated in every row. The JSON report lists them all. ``roster_checked`` and
    ``plan_checked`` False add a note that those checks did not run.
    """
    lines = [
        _text("header", lang, template=report.template, source=source),
        _text("totals", lang, rows=report.rows, valid=report.valid_rows, errors=report.error_count,
              warnings=report.warning_count, changes=len(report.normalised)),
    ]

    by_layer: dict[Layer, list[Issue]] = defaultdict(list)
    for issue in report.issues:
        by_layer[issue.layer].append(issue)
    for layer in LAYERS:
        issues = by_layer.get(layer)
        if not issues:
            continue
        errors = sum(1 for issue in issues if issue.severity is Severity.ERROR)
        title = LAYER_TITLES[layer][1 if lang == "en" else 0]
        lines.append("")
        lines.append(_text("layer", lang, title=title, errors=errors, warnings=len(issues) - errors))
        shown: dict[str, int] = defaultdict(int)
        for issue in issues:
            if issue.severity is Severity.WARNING:
                shown[issue.code] += 1
                if shown[issue.code] > max_warnings:
                    continue
            lines.extend(_issue_lines(issue, lang))
        for code, count in shown.items():
            if count > max_warnings:
                lines.append("  " + _text("more_warnings", lang, count=count - max_warnings, code=code))

    if report.normalised:
        lines.append("")
        lines.append(_text("normalised", lang, count=len(report.normalised)))
        for entry in report.normalised[:max_changes]:
            lines.append("  " + _text("change", lang, row=entry.row, column=entry.column, field=entry.field,
                                      original=_one_line(entry.original), normalised=entry.normalised))
        hidden = len(report.normalised) - max_changes
        if hidden > 0:
            lines.append("  " + _text("more", lang, count=hidden))

    lines.append("")
    if report.rows == 0:
        lines.append(_text("no_rows", lang))
    if not roster_checked:
        lines.append(_text("no_roster", lang))
    if not plan_checked:
        lines.append(_text("no_plan", lang))
    if report.has_errors:
        lines.append(_text("failed", lang, errors=report.error_count))
    else:
        lines.append(_text("ok", lang))
    return "\n".join(lines)
