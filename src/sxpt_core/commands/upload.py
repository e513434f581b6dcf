"""``sxpt upload``: check a workbook locally, upload it to an sxpt server, and print the batch.

The server URL comes from ``--server``, ``SXPT_SERVER_URL`` or ``[server] url`` in
``sxpt.toml``. The command authenticates with an API key from ``SXPT_API_KEY`` or from
the file that ``--api-key-file``, ``SXPT_API_KEY_FILE`` or ``[server] api_key_file``
names, which must be readable by its owner only. With ``--account`` it logs in as a user
instead and prompts for the password and the SMS code. Rosters and plans need a login,
because the server takes them from logged-in school users only. The key itself is never
read from ``sxpt.toml``, which schools often commit.

Exit codes: 0 uploaded without errors; 1 the data has errors (locally or on the
server), the server rejected the upload, or it could not be reached; 2 invalid options,
settings or an unreadable file.
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from sxpt_core.cli import EXIT_DATA_ERRORS, _lang_option, build_context, main
from sxpt_core.client import Client
from sxpt_core.client.environment import API_KEY_FILE_ENV, SERVER_URL_ENV, api_key_from_environment, read_api_key_file
from sxpt_core.client.errors import ApiError, TransportError, WaitTimeoutError
from sxpt_core.client.models import UploadResult
from sxpt_core.io.config import load_config
from sxpt_core.summary import format_summary
from sxpt_core.validate import validate_file

__all__ = ["fail", "open_client", "say", "server_options"]

F = TypeVar("F", bound=Callable[..., Any])

TEXT = {
    "no_server": (f"请用 --server 或环境变量 {SERVER_URL_ENV} 给出 sxpt 服务器的地址（以 http:// 或 https:// 开头），"
                  "例如 https://sxpt.example.edu.cn。",
                  f"Give the sxpt server's URL, starting with http:// or https://, with --server or {SERVER_URL_ENV}, "
                  "e.g. https://sxpt.example.edu.cn."),
    "no_credentials": (
        "没有 API 密钥：请设置环境变量 SXPT_API_KEY，或用 --api-key-file 指定只有本人可读的密钥文件，或用 --account 登录。",
        "No API key: set SXPT_API_KEY, give a key file readable by you only with --api-key-file, or log in with --account.",
    ),
    "password": ("账号 {account} 的密码", "Password of {account}"),
    "code": ("已向账号 {account} 绑定的手机发送短信验证码，请输入", "SMS code sent to the phone of {account}"),
    "failed": ("{action}失败：{message}（{code}，请求编号 {request_id}）",
               "{action} failed: {message} ({code}, request {request_id})"),
    "failed_transport": ("{action}失败：{message}", "{action} failed: {message}"),
    "action_upload": ("上传", "Upload"),
    "local_errors": ("本地校验发现 {errors} 个错误，未上传。请改正后重试，或加 --no-local-check 交给服务器校验。",
                     "Local validation found {errors} errors, so nothing was uploaded. Fix them, or add "
                     "--no-local-check to let the server check the file."),
    "local_ok": ("本地校验：{rows} 行，没有错误，警告 {warnings} 个。", "Local validation: {rows} rows, no errors, {warnings} warnings."),
    "uploading": ("上传 {name}", "Uploading {name}"),
    "batch": ("已上传 {name}：第 {id} 批，共 {rows} 行，{valid} 行无错误；错误 {errors} 个，警告 {warnings} 个。",
              "Uploaded {name}: batch {id}, {rows} rows, {valid} without errors; {errors} errors, {warnings} warnings."),
    "stored": ("新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条，未保存 {not_stored} 条。",
               "{created} created, {updated} updated, {unchanged} unchanged, {not_stored} not stored."),
    "replayed": ("（同一幂等键的重复请求：这是第一次上传的结果。）",
                 "(A repeated request with the same idempotency key: this is the first upload's result.)"),
    "reference_stored": ("{title}已启用为当前版本：{count} 条。", "The {title_en} is now the current version: {count} entries."),
    "reference_rejected": ("{title}有 {errors} 个错误，未启用，当前版本不变。", "The {title_en} has {errors} errors and was not "
                           "taken into use; the current version stays."),
    "links": ("校验报告：{report}\n标注工作簿：{annotated}\n待改正工作簿：{errors_only}",
              "Report: {report}\nAnnotated workbook: {annotated}\nErrors-only workbook: {errors_only}"),
    "waiting": ("等待服务器校验（最多 {timeout} 秒）……", "Waiting for the server's checks (at most {timeout} s) …"),
    "checked": ("校验完成。{scope}现有：待审核 {review} 条，校验不通过 {failed} 条。",
                "Checks done. {scope} now has {review} records awaiting review and {failed} that failed a check."),
    "scope_school": ("全校", "The school"),
    "bad_timeout": ("--wait-timeout 须为正数（秒）。", "--wait-timeout must be a positive number of seconds."),
}

KIND_TITLES = {"roster": ("学籍名单", "roster"), "plan": ("实习培养方案", "training plan")}


def say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def server_options(function: F) -> F:
    """Add the options that name the server and the credentials."""
    options = [
        click.option("--server", envvar=SERVER_URL_ENV, metavar="URL",
                     help=f"sxpt 服务器地址（默认取环境变量 {SERVER_URL_ENV}）。Server URL."),
        click.option("--api-key-file", envvar=API_KEY_FILE_ENV, type=click.Path(path_type=Path, dir_okay=False),
                     help="只含 API 密钥的文件，须只有本人可读（chmod 600）；默认用环境变量 SXPT_API_KEY。"
                          "File with the API key, mode 600."),
        click.option("--account", metavar="NAME",
                     help="用账号登录（提示输入密码和短信验证码），不用 API 密钥。Log in as this account instead."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def open_client(server: str | None, api_key_file: Path | None, account: str | None, lang: str) -> Client:
    """Return a client of ``server`` with the API key, or logged in as ``account`` after prompts.

    Raises click.UsageError (exit 2) when the URL or the credentials are missing.
    """
    config = load_config()
    server = server or config.server_url
    if not server or not server.startswith(("http://", "https://")):
        raise click.UsageError(say("no_server", lang))
    if account:
        client = Client(server, lang=lang)
        password = click.prompt(say("password", lang, account=account), hide_input=True, err=True)
        try:
            client.login(account, password, lambda name: str(click.prompt(say("code", lang, account=name), err=True)))
        except BaseException:
            client.close()
            raise
        return client
    key = read_api_key_file(api_key_file) if api_key_file is not None else api_key_from_environment()
    if key is None and config.api_key_file is not None:
        key = read_api_key_file(config.api_key_file)
    if key is None:
        raise click.UsageError(say("no_credentials", lang))
    return Client(server, api_key=key, lang=lang)


def fail(action: str, error: ApiError | TransportError | WaitTimeoutError, lang: str) -> NoReturn:
    """Print one sentence about ``error`` and exit with code 1."""
    if isinstance(error, ApiError):
        click.echo(say("failed", lang, action=action, message=error.text(lang), code=error.code,
                       request_id=error.request_id or "-"), err=True)
    else:
        click.echo(say("failed_transport", lang, action=action, message=error.text(lang)), err=True)
    sys.exit(EXIT_DATA_ERRORS)


def _check_locally(file: Path, kind: str, roster: Path | None, plan: Path | None, lang: str) -> None:
    """Validate ``file`` as ``sxpt validate`` does; print the summary and exit 1 when it has errors."""
    config = load_config()
    context = build_context(config=config, today=datetime.date.today(), school=None, roster=roster, plan=plan,
                            lang=lang)
    report = validate_file(file, context, kind=kind).report
    if report.has_errors:
        click.echo(format_summary(report, source=file.name, lang=lang,
                                  roster_checked=kind != "records" or context.roster is not None,
                                  plan_checked=kind != "records" or context.plan is not None))
        click.echo(say("local_errors", lang, errors=report.error_count), err=True)
        sys.exit(EXIT_DATA_ERRORS)
    click.echo(say("local_ok", lang, rows=report.rows, warnings=report.warning_count), err=True)


def _upload(client: Client, file: Path, kind: str, idempotency_key: str | None, lang: str) -> UploadResult:
    """Upload ``file``, with a progress bar on stderr when stderr is a terminal."""
    content = file.read_bytes()
    if not sys.stderr.isatty():
        return _send(client, content, file.name, kind, idempotency_key, None)
    with click.progressbar(length=len(content), label=say("uploading", lang, name=file.name), file=sys.stderr) as bar:
        reported = 0

        def progress(sent: int, total: int) -> None:
            nonlocal reported
            if sent > reported:  # a retried request starts again from 0, which the bar skips
                bar.update(sent - reported)
                reported = sent

        return _send(client, content, file.name, kind, idempotency_key, progress)


def _send(client: Client, content: bytes, name: str, kind: str, idempotency_key: str | None,
          progress: Callable[[int, int], None] | None) -> UploadResult:
    if kind == "roster":
        return client.upload_roster(content, filename=name, idempotency_key=idempotency_key, progress=progress)
    if kind == "plan":
        return client.upload_plan(content, filename=name, idempotency_key=idempotency_key, progress=progress)
    return client.upload_records(content, filename=name, idempotency_key=idempotency_key, progress=progress)


def describe_result(result: UploadResult, server: str, lang: str) -> tuple[list[str], bool]:
    """Return the lines that describe an upload's batch, and whether it has errors."""
    batch = result.batch
    lines = [say("batch", lang, name=batch.filename or "-", id=batch.id, rows=batch.rows, valid=batch.valid_rows,
                 errors=batch.counts.error, warnings=batch.counts.warning)]
    if result.unchanged and result.message:
        lines.append(result.message_en if lang == "en" and result.message_en else result.message)
    elif result.replayed:
        lines.append(say("replayed", lang))
    if batch.kind in KIND_TITLES:
        title, title_en = KIND_TITLES[batch.kind]
        if batch.status == "stored":
            lines.append(say("reference_stored", lang, title=title, title_en=title_en, count=batch.created))
        else:
            lines.append(say("reference_rejected", lang, title=title, title_en=title_en, errors=batch.counts.error))
    elif not result.unchanged:
        lines.append(say("stored", lang, created=batch.created, updated=batch.updated, unchanged=batch.unchanged,
                         not_stored=batch.not_stored))
    if batch.links is not None:
        base = server.rstrip("/")
        lines.append(say("links", lang, report=base + batch.links.report, annotated=base + batch.links.annotated,
                         errors_only=base + batch.links.errors_only))
    return lines, batch.counts.error > 0 or batch.status == "rejected"


def _wait(client: Client, result: UploadResult, timeout: float, lang: str) -> int:
    """Wait for the server's checks, print the counts, and return how many records failed a check."""
    click.echo(say("waiting", lang, timeout=f"{timeout:g}"), err=True)
    client.wait_for_checks(result, timeout=timeout)
    department = result.batch.department
    review = client.count_records(state="待审核", department=department)
    failed = client.count_records(state="校验不通过", department=department)
    click.echo(say("checked", lang, scope=department or say("scope_school", lang), review=review, failed=failed))
    return int(failed)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@server_options
@click.option("--kind", type=click.Choice(["records", "roster", "plan"]), default="records", show_default=True,
              help="文件类型：实习数据 records、学籍名单 roster、实习培养方案 plan。")
@click.option("--no-local-check", is_flag=True,
              help="不在本地校验，直接上传，由服务器校验。Skip the local validation.")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False),
              help="本地校验用的学籍名单，覆盖 sxpt.toml 中的设置。Roster for the local check.")
@click.option("--plan", type=click.Path(path_type=Path, dir_okay=False),
              help="本地校验用的实习培养方案，覆盖 sxpt.toml 中的设置。Plan for the local check.")
@click.option("--idempotency-key", metavar="KEY",
              help="幂等键（1 至 100 个字符）：重复执行时服务器返回第一次的结果，不会重复保存。默认每次生成新键。"
                   "Idempotency key of the upload.")
@click.option("--wait", is_flag=True,
              help="上传实习数据后等待服务器校验完成（实习单位校验）。Wait for the server's checks (records only).")
@click.option("--wait-timeout", type=float, default=600.0, show_default=True, metavar="SECONDS",
              help="--wait 最多等待的秒数。Seconds to wait at most.")
@_lang_option
def upload(
    file: Path,
    server: str | None,
    api_key_file: Path | None,
    account: str | None,
    kind: str,
    no_local_check: bool,
    roster: Path | None,
    plan: Path | None,
    idempotency_key: str | None,
    wait: bool,
    wait_timeout: float,
    lang: str,
) -> None:
    """先在本地校验，再把实习数据（或学籍名单、实习培养方案）上传到 sxpt 服务器，并显示这一批的结果。

    Validate a file locally, upload it to an sxpt server and print the batch.

    Example:

        SXPT_API_KEY=sxpt_… sxpt upload 实习数据.xlsx --server https://sxpt.example.edu.cn --wait
    """
    if wait_timeout <= 0:
        raise click.UsageError(say("bad_timeout", lang))
    if not no_local_check:
        _check_locally(file, kind, roster, plan, lang)
    try:
        with open_client(server, api_key_file, account, lang) as client:
            result = _upload(client, file, kind, idempotency_key, lang)
            lines, has_errors = describe_result(result, client.base_url, lang)
            click.echo("\n".join(lines))
            if wait and kind == "records" and _wait(client, result, wait_timeout, lang):
                # A unit that failed verification is an error in the data, as a local one is.
                has_errors = True
    except (ApiError, TransportError, WaitTimeoutError) as error:
        fail(say("action_upload", lang), error, lang)
    sys.exit(EXIT_DATA_ERRORS if has_errors else 0)
