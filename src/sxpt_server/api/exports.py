"""API routes: exports of the records an account may read, as the national workbook or CSV.

The scope and its filters are those of ``GET /statistics`` (see ``statistics.read_scope``).
An export reads the approved versions by default, because those are what the national
system receives. A school or a department may request its current versions with
``versions=current``. The file is written to an anonymous temporary file as the rows
stream from the database, so memory does not grow with the export, and is then sent.
"""

from __future__ import annotations

import re
import tempfile
import urllib.parse
from typing import Any

from flask import Blueprint, Response, g, request, send_file

from sxpt_core import access
from sxpt_core.io.export import write_records_csv, write_records_xlsx
from sxpt_core.stats import china_date
from sxpt_server import audit
from sxpt_server.api import spec
from sxpt_server.api.statistics import SCOPE_PARAMETERS, Scope, read_scope, scope_parameters
from sxpt_server.clock import now
from sxpt_server.organisations import field_error, invalid, unit_label
from sxpt_server.sessions import Identity, login_required
from sxpt_server.store import Store, get_store

__all__ = ["PATHS", "bp", "content_disposition"]

bp = Blueprint("exports", __name__)

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    # Flask adds "; charset=utf-8" to text types itself.
    "csv": "text/csv",
}
VERSION_LABELS = {"approved": "审核通过版本", "current": "当前版本"}

# Characters that Windows does not allow in file names, and control characters.
_UNSAFE_NAME_CHARACTERS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


def content_disposition(filename: str, fallback: str) -> str:
    """Return an attachment header with ``filename`` in RFC 5987 form and an ASCII ``fallback``.

    >>> content_disposition("实习数据.csv", "records.csv")
    'attachment; filename="records.csv"; filename*=UTF-8\\'\\'%E5%AE%9E%E4%B9%A0%E6%95%B0%E6%8D%AE.csv'
    """
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


def _filenames(store: Store, scope: Scope, extension: str) -> tuple[str, str]:
    """Return the Chinese file name of an export and its ASCII fallback."""
    day = china_date(now())
    label = unit_label(store, scope.unit).replace(" / ", "-")
    name = _UNSAFE_NAME_CHARACTERS.sub("_", f"实习数据-{label}-{VERSION_LABELS[scope.versions]}-{day:%Y%m%d}")
    fallback = f"sxpt-records-{access.unit_code(scope.unit)}-{scope.versions}-{day:%Y%m%d}"
    return f"{name}.{extension}", f"{fallback}.{extension}"


def _format_argument() -> str:
    value = request.args.get("format", "xlsx").strip().lower()
    if value not in MEDIA_TYPES:
        raise invalid([field_error(
            "format", f"参数 format 须为 xlsx（全国实习数据模板工作簿）或 csv，而不是 {value!r}。",
            f"format must be xlsx (the national 实习数据 workbook) or csv, not {value!r}.")])
    return value


@bp.get("/export")
@login_required(api_key=True)
def export() -> Response:
    """Send the records of the caller's scope as the national 实习数据 workbook or as CSV."""
    scope = read_scope(allowed=(*SCOPE_PARAMETERS, "format"), default_versions="approved")
    extension = _format_argument()
    store = get_store()
    identity: Identity = g.identity

    rows = store.iter_record_cells(scope.query)
    stream = tempfile.TemporaryFile(prefix="sxpt-export-")
    try:
        if extension == "xlsx":
            lang = request.accept_languages.best_match(["zh", "en"], default="zh")
            written = write_records_xlsx(rows, stream, lang=lang)
        else:
            written = write_records_csv(rows, stream)
        size = stream.tell()
        stream.seek(0)
    except BaseException:
        stream.close()
        raise

    query = scope.query
    audit.record(
        store, "records_exported", target=access.unit_code(scope.unit), unit=identity.unit,
        scope=list(scope.unit.key()), format=extension, versions=scope.versions, rows=written,
        month_from=query.month_from, month_to=query.month_to,
    )

    filename, fallback = _filenames(store, scope, extension)
    response = send_file(stream, mimetype=MEDIA_TYPES[extension], as_attachment=True, download_name=fallback,
                         conditional=False, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(filename, fallback)
    response.headers["Cache-Control"] = "no-store"
    response.content_length = size
    return response


PATHS: dict[str, Any] = {
    "/api/v1/export": {
        "get": spec.operation(
            "导出实习数据：全国实习数据模板工作簿（可上传到 sx.chsi.com.cn）或 CSV（UTF-8 带 BOM）",
            tag="exports", auth="key",
            parameters=[
                {"name": "format", "in": "query", "required": False, "description": "xlsx（默认）或 csv",
                 "schema": {"enum": list(MEDIA_TYPES)}},
                *scope_parameters(),
            ],
            responses={"200": {
                "description": "附件；默认只含审核通过的版本，校级和院系级用户可用 versions=current 导出当前版本。"
                               "以 =、+、-、@ 开头的文本前加了单引号 '，以免被电子表格当作公式执行",
                "headers": {"Content-Disposition": {
                    "description": "attachment，中文文件名用 RFC 5987 的 filename*", "schema": {"type": "string"}}},
                "content": {
                    MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                    "text/csv": {"schema": {"type": "string"}},
                },
            }},
            problems=("403", "404", "422"),
        ),
    },
}
