"""``sxpt export``: download the records of a scope from an sxpt server as xlsx or CSV.

The server, the API key and ``--account`` work as for ``sxpt upload``. The server
exports the approved versions unless ``--versions current``; the workbook is the
national 实习数据 template, ready for sx.chsi.com.cn.

Exit codes: 0 written; 1 the server rejected the export or could not be reached;
2 invalid options or settings.
"""

from __future__ import annotations

from pathlib import Path

import click

from sxpt_core.cli import _lang_option, main
from sxpt_core.client.errors import ApiError, TransportError
from sxpt_core.commands.upload import fail, open_client, server_options

__all__: list[str] = []

TEXT = {
    "written": ("已导出到 {path}（{size} 字节；服务器给出的文件名：{filename}）。",
                "Exported to {path} ({size} bytes; the server's file name: {filename})."),
    "action": ("导出", "Export"),
}


def _say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


@main.command()
@server_options
@click.option("--format", "file_format", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True,
              help="xlsx：全国实习数据模板工作簿；csv：UTF-8 带 BOM 的 CSV。File format.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="导出文件的路径。Output file.")
@click.option("--from", "month_from", metavar="YYYY-MM", help="报送月份起（含），如 2025-09。First reporting month.")
@click.option("--to", "month_to", metavar="YYYY-MM", help="报送月份止（含），如 2025-12。Last reporting month.")
@click.option("--province", help="省份代码，如 330000。Province code.")
@click.option("--school", help="10 位学校标识码。School code.")
@click.option("--department", help="院系名称（省级和教育部用户须同时给出 --school）。Department name.")
@click.option("--versions", type=click.Choice(["approved", "current"]),
              help="approved：审核通过的版本（默认）；current：当前版本（仅校级和院系级）。Versions to export.")
@_lang_option
def export(
    server: str | None,
    api_key_file: Path | None,
    account: str | None,
    file_format: str,
    output: Path,
    month_from: str | None,
    month_to: str | None,
    province: str | None,
    school: str | None,
    department: str | None,
    versions: str | None,
    lang: str,
) -> None:
    """从 sxpt 服务器导出本单位可见的实习数据（xlsx 模板工作簿或 CSV）。

    Download the records of a scope from an sxpt server as xlsx or CSV.

    Example:

        SXPT_API_KEY=sxpt_… sxpt export --server https://sxpt.example.edu.cn --format xlsx -o 实习数据-10月.xlsx --from 2025-10 --to 2025-10
    """
    try:
        with open_client(server, api_key_file, account, lang) as client:
            written = client.export(output, file_format=file_format, month_from=month_from, month_to=month_to,
                                    province=province, school=school, department=department, versions=versions)
    except (ApiError, TransportError) as error:
        fail(_say("action", lang), error, lang)
    click.echo(_say("written", lang, path=written.path, size=written.size, filename=written.filename or "-"))
