"""``sxpt schema``: print or write a template as a Table Schema or a JSON Schema."""

from __future__ import annotations

from pathlib import Path

import click

from sxpt_core.cli import _lang_option, main
from sxpt_core.errors import SxptError
from sxpt_core.io.config import load_config
from sxpt_core.schema import FORMATS, dumps, schema_for
from sxpt_core.templates import get_template

TEXT = {
    "written": ("已写出{title}模板（{version} 版）的 {format}：{path}", "Wrote the {format} of the {title} template (version {version}) to {path}"),
    "write_failed": ("无法写入 {path}：{error}", "Cannot write {path}: {error}"),
}


def _say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


@main.command()
@click.argument("kind", type=click.Choice(["records", "plan", "roster"]), default="records")
@click.option("--format", "schema_format", type=click.Choice(FORMATS), default="json-schema", show_default=True,
              help="table-schema：Frictionless Table Schema；json-schema：JSON Schema (draft 2020-12)。")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="写入这个文件（UTF-8）；默认输出到终端。Output file; standard output by default.")
@_lang_option
def schema(kind: str, schema_format: str, output: Path | None, lang: str) -> None:
    """把模板导出为 Table Schema 或 JSON Schema（字段名为中文表头，含代码表和格式）。

    Export a template as a Table Schema or a JSON Schema: the Chinese headers as field
    names, with code lists, patterns and required fields. KIND is records (the
    default), plan or roster. --lang sets the language of the descriptions.

    Example:

        sxpt schema records --format json-schema -o 实习数据.schema.json
    """
    chosen = get_template(kind, load_config().school.template_version)
    text = dumps(schema_for(chosen, schema_format, lang=lang))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        params = {"path": output, "error": error.strerror or error}
        raise SxptError(_say("write_failed", "zh", **params), message_en=_say("write_failed", "en", **params)) from None
    click.echo(_say("written", lang, title=chosen.title, version=chosen.version, format=schema_format, path=output))
