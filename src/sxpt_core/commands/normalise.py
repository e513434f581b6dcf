"""``sxpt normalise``: write the cleaned workbook in the template's layout, with a change list.

Every normalisation that validation applies (trimmed spaces, 2学分 → 2, 2024/9/1 →
2024-09-01, 集中 → 集中实习, numeric 学号 → text, …) is written into the output. A cell
the normalisers reject keeps the value the user wrote, so validating the output reports
it again. Normalising the output once more changes nothing.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import click

from sxpt_core.cli import _lang_option, main
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context
from sxpt_core.io import read_table
from sxpt_core.io.config import load_config
from sxpt_core.io.xlsx_writer import write_normalised
from sxpt_core.models import Normalisation
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_table

TEXT = {
    "changes": ("{source}：规范了 {count} 处。", "{source}: {count} values normalised."),
    "no_changes": ("{source}：没有需要规范的值。", "{source}: no value needed normalising."),
    "change": ("  第 {row} 行 {column} 列（{field}）：{original} → {normalised}",
               "  Row {row}, column {column} ({field}): {original} → {normalised}"),
    "kept": (
        "有 {count} 个单元格无法自动规范，保留了原值；运行 sxpt validate {source} 可查看原因。",
        "{count} cells could not be normalised and keep their values; run sxpt validate "
        "{source} to see why.",
    ),
}


def _say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def format_changes(changes: tuple[Normalisation, ...], *, source: str, lang: str = "zh") -> str:
    """Return the change list as ``sxpt normalise`` prints it: one line per changed cell."""
    if not changes:
        return _say("no_changes", lang, source=source)
    lines = [_say("changes", lang, source=source, count=len(changes))]
    for entry in changes:
        lines.append(_say("change", lang, row=entry.row, column=entry.column, field=entry.field,
                          original=entry.original, normalised=entry.normalised))
    return "\n".join(lines)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="规范后的工作簿（.xlsx），按模板列顺序写出。Output workbook (.xlsx).")
@click.option("--kind", type=click.Choice(["records", "plan", "roster"]), default="records",
              show_default=True, help="文件类型：实习数据 records、实习培养方案 plan、学籍名单 roster。")
@click.option("--sheet", help="只读取这个工作表（工作簿中有多个数据表时使用）。Sheet to read.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text：改动清单；json：机器可读的改动清单。")
@_lang_option
def normalise(
    file: Path, output: Path, kind: str, sheet: str | None, output_format: str, lang: str
) -> None:
    """把工作簿或 CSV 文件中可以自动规范的值改成规范写法，另存为模板格式的工作簿，并列出每处改动。

    Write the file with every normalisation applied, in the template's layout, and list
    each change.

    Example:

        sxpt normalise 实习数据.xlsx -o 实习数据-规范.xlsx
    """
    config = load_config()
    template = get_template(kind, config.school.template_version)
    # Normalising a cell depends only on the cell and the division table. Today's date,
    # the roster and the plan matter only to the rules, whose findings are not printed.
    context = Context(today=datetime.date.today(), divisions=load_divisions(), school=config.school)
    table = read_table(file, template, sheet=sheet)
    validation = validate_table(table, context, template=template)
    written = write_normalised(table, validation, output, template=template, sources=(file,))
    changes = validation.report.normalised

    if output_format == "json":
        data = {
            "output": str(written.path),
            "rows": written.rows,
            "kept": written.kept_cells,
            "changes": [entry.to_dict() for entry in changes],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(format_changes(changes, source=file.name, lang=lang))
    if written.kept_cells:
        click.echo(_say("kept", lang, count=written.kept_cells, source=file.name))
    click.echo(written.describe(lang))
