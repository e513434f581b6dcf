"""``sxpt template``: write an empty template workbook to fill in."""

from __future__ import annotations

from pathlib import Path

import click
from xlsxwriter.exceptions import FileCreateError

from sxpt_core.cli import _lang_option, main
from sxpt_core.errors import SxptError
from sxpt_core.io.config import load_config
from sxpt_core.io.template_writer import instructions_sheet_name, write_template
from sxpt_core.templates import get_template

TEXT = {
    "written": (
        "已写出{title}模板（{version} 版，{count} 列）：{path}。另有“{sheet}”工作表说明每一列的填法。",
        "Wrote the {title} template (version {version}, {count} columns) to {path}; the sheet "
        "'{sheet}' explains each column.",
    ),
    "exists": (
        "{path} 已存在。为免覆盖已填写的数据，请换一个文件名，或加 --force 覆盖。",
        "{path} already exists. To avoid overwriting filled-in data, choose another name or add --force.",
    ),
    "extension": (
        "输出文件 {path} 的扩展名须为 .xlsx，否则 Excel 无法打开。",
        "The output file {path} must end in .xlsx, or Excel will not open it.",
    ),
    "write_failed": ("无法写入 {path}：{error}", "Cannot write {path}: {error}"),
}


def _say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def _error(key: str, **params: object) -> SxptError:
    return SxptError(_say(key, "zh", **params), message_en=_say(key, "en", **params))


@main.command()
@click.argument("kind", type=click.Choice(["records", "plan", "roster"]), default="records")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="输出的 .xlsx 文件；默认为当前文件夹中的“<模板名>模板.xlsx”。Output .xlsx file.")
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件。Overwrite an existing output file.")
@_lang_option
def template(kind: str, output: Path | None, force: bool, lang: str) -> None:
    """写出空白模板工作簿：表头、下拉列表、文本格式的代码列，以及填表说明工作表。

    Write an empty template workbook: header row, drop-down lists, text-formatted code
    columns and a sheet that explains each column. KIND is records (实习数据, the
    default), plan (实习培养方案) or roster (学籍名单). The template version comes from
    sxpt.toml (school.template), 2024 by default.

    Example:

        sxpt template records -o 实习数据模板.xlsx
    """
    chosen = get_template(kind, load_config().school.template_version)
    path = output or Path(f"{chosen.title}模板.xlsx")
    if path.suffix.lower() != ".xlsx":
        raise click.UsageError(_say("extension", lang, path=path))
    if path.exists() and not force:
        raise _error("exists", path=path)
    try:
        write_template(path, chosen, lang=lang)
    except (OSError, FileCreateError) as error:
        # XlsxWriter wraps the OSError of creating the file in FileCreateError.
        cause = error.args[0] if isinstance(error, FileCreateError) and error.args else error
        reason = getattr(cause, "strerror", None) or cause
        raise _error("write_failed", path=path, error=reason) from None
    click.echo(_say("written", lang, title=chosen.title, version=chosen.version, count=len(chosen.columns),
                    path=path, sheet=instructions_sheet_name(lang)))
