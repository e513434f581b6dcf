"""The ``sxpt-server`` command: set up the database, create the first account, serve.

The instance folder comes from ``SXPT_INSTANCE_PATH`` (default ``./instance``). Each
command is also registered on the application's Flask CLI, so tests run them with
``app.test_cli_runner()``. Later commands (``worker``, ``import-roster``) join ``COMMANDS``.
Errors are printed as one sentence with exit code 1, never as a traceback.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext

from sxpt_core import __version__, access
from sxpt_core.errors import SxptError
from sxpt_core.review import UnitCheckState
from sxpt_server import units
from sxpt_server.accounts import check_contact_name, check_phone, create_account, delete_account, send_activation
from sxpt_server.clock import now
from sxpt_server.organisations import make_unit, register_province, register_school, unit_exists
from sxpt_server.problems import Problem
from sxpt_server.sms import mask_phone
from sxpt_server.store import POSTGRESQL_SCHEMES, DatabaseUnavailable, Store, get_store, safe_url, url_problem

__all__ = ["COMMANDS", "init_app", "main"]

logger = logging.getLogger("sxpt_server")

def _fail(problem: Problem) -> click.ClickException:
    return click.ClickException(f"{problem.detail} / {problem.detail_en}")


def _store() -> Store:
    """Return the application's store, or fail with one sentence when its database is unreachable."""
    try:
        return get_store()
    except DatabaseUnavailable as error:
        raise click.ClickException(f"{error.message} / {error.message_en}") from None


def _require_schema(store: Store) -> None:
    if store.pending_migrations():
        raise click.ClickException(
            "数据库尚未初始化或不是最新版本，请先运行 sxpt-server init-db。 / "
            "The database is not initialised or not up to date; run sxpt-server init-db first."
        )


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database in the instance folder, or apply pending migrations.

    Safe to run again: migrations that ran already are skipped, and no data is deleted.

    Example:

        sxpt-server init-db
    """
    store = _store()
    applied = store.migrate()
    if applied:
        names = ", ".join(applied)
        click.echo(f"数据库已更新，执行了迁移 {names}。 / Database migrated: {names}.")
    else:
        click.echo("数据库已是最新，无需迁移。 / Database already up to date.")


def _bootstrap_unit(
    store: Store, level: str, province: str | None, school: str | None, school_fields: dict[str, str | None]
) -> access.Unit:
    """Build the unit of the first account and register its organisations when missing."""
    if level == "ministry":
        return make_unit(level, None, None, None)
    required = {"province": province, "school": school} if level == "school" else {"province": province}
    missing_codes = [f"--{option}" for option, value in required.items() if not value]
    if missing_codes:
        raise click.UsageError(
            f"{level} 级账号须给出 {', '.join(missing_codes)}。 / A {level} account needs {', '.join(missing_codes)}."
        )
    unit = make_unit(level, province, school if level == "school" else None, None)

    if not unit_exists(store, access.Unit.for_province(unit.province or "")):
        register_province(store, unit.province or "")
    if level == "school" and not unit_exists(store, unit):
        missing = [option for option, value in school_fields.items() if not value]
        if missing:
            raise click.UsageError(
                f"学校 {school} 尚未创建，请同时给出 {', '.join('--' + name for name in missing)}。"
                f" / School {school} is not registered; also pass {', '.join('--' + name for name in missing)}."
            )
        register_school(
            store, code=unit.school or "", province=unit.province or "", name=school_fields["school-name"] or "",
            uscc=school_fields["uscc"] or "", city=school_fields["city"] or "",
        )
    return unit


@click.command("create-account")
@click.option("--level", required=True, type=click.Choice(["ministry", "province", "school"]),
              help="Level of the account: ministry, province or school.")
@click.option("--province", help="GB/T 2260 province code, such as 330000 (province and school accounts).")
@click.option("--school", help="10-digit school code (school accounts).")
@click.option("--school-name", help="Name of the school, when the school is not registered yet.")
@click.option("--uscc", help="USCC (统一社会信用代码) of the school, when it is not registered yet.")
@click.option("--city", help="City code of the school, such as 330100, when it is not registered yet.")
@click.option("--phone", required=True, help="Mobile number that receives the activation SMS.")
@click.option("--contact-name", help="Name of the person who uses the account.")
@with_appcontext
def create_account_command(
    level: str,
    province: str | None,
    school: str | None,
    school_name: str | None,
    uscc: str | None,
    city: str | None,
    phone: str,
    contact_name: str | None,
) -> None:
    """Create a first ministry, province or school account and send its activation SMS.

    Registers the province and the school when they are missing. The account name is
    printed; the activation code goes by SMS through the configured gateway (the
    development gateway writes it to instance/outbox.jsonl). Further accounts are
    created through the API by their superiors.

    Example:

        sxpt-server create-account --level ministry --phone 13800138000
    """
    store = _store()
    _require_schema(store)

    try:
        unit = _bootstrap_unit(store, level, province, school, {"school-name": school_name, "uscc": uscc, "city": city})
        account = create_account(
            store, unit, phone=check_phone(phone), contact_name=check_contact_name(contact_name), created_by="cli"
        )
    except Problem as problem:
        raise _fail(problem) from None

    activation = send_activation(store, account)
    if not activation["sent"]:
        # Without its SMS the account is useless; remove it so that the command can be run again.
        delete_account(store, account)
        raise click.ClickException(
            f"激活短信未发出，账号未创建：{activation['detail']} / "
            f"The activation SMS was not sent, so no account was created: {activation['detail_en']}"
        )

    gateway = current_app.config["SMS_GATEWAY"]
    click.echo(f"已创建账号 {account.name}。 / Created account {account.name}.")
    click.echo(f"激活短信已发送到 {mask_phone(account.phone)}，激活码 72 小时内有效。"
               f" / Activation SMS sent to {mask_phone(account.phone)}; the code is valid for 72 hours.")
    if gateway == "dev":
        click.echo("开发网关：短信内容见实例目录下的 outbox.jsonl。 / Development gateway: see outbox.jsonl in the "
                   "instance folder.")


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _stop_on_sigterm(_signal: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Number of worker threads that handle requests.")
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the application with waitress until interrupted.

    In production, run it behind a reverse proxy that terminates HTTPS, and set
    SXPT_SESSION_COOKIE_SECURE=true and SXPT_PROXY_COUNT=1.

    Example:

        sxpt-server serve --host 127.0.0.1 --port 8000
    """
    import waitress  # type: ignore[import-untyped]

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    _require_schema(_store())
    _configure_logging()

    server: Any = waitress.create_server(app, host=host, port=port, threads=threads, ident="sxpt-server")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    logger.info("sxpt-server listening on http://%s:%d with %d threads (instance %s)", host, port, threads,
                app.instance_path)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        logger.info("sxpt-server stopped")


@click.command("worker")
@click.option("--once", is_flag=True, help="Process the unit checks that are due now, print a summary and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Verify host organisations (实习单位) from the queue with the verifier that UNIT_VERIFIER names.

    Without --once the worker polls the queue every UNIT_WORKER_INTERVAL seconds until
    it receives SIGTERM or Ctrl-C, then finishes the check in progress and exits.

    Example:

        sxpt-server worker --once
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    store = _store()
    _require_schema(store)
    verifier = units.verifier_for(app)

    if once:
        result = units.run_due(store, verifier, now())
        waiting = store.count_unit_checks()[UnitCheckState.UNCHECKED.value]
        click.echo(
            f"已校验 {result.finished} 个实习单位（通过 {result.passed}，不通过 {result.failed}），"
            f"{result.postponed} 个暂时无法校验、稍后重试；共有 {waiting} 个待校验。 / "
            f"Verified {result.finished} units ({result.passed} passed, {result.failed} failed); "
            f"{result.postponed} could not be verified now and will be retried; {waiting} unchecked in all."
        )
        return

    _configure_logging()
    stop = threading.Event()

    def _request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, _request_stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        units.run_worker(app, verifier, stop=stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@click.command("migrate-to-postgresql")
@click.argument("sqlite_file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("database_url", required=False)
def migrate_to_postgresql_command(sqlite_file: Path, database_url: str | None) -> None:
    """Copy a SQLite database, audit log included, into an empty PostgreSQL database.

    Stop the server first, so that nothing is written during the copy. The copy runs in
    one transaction and checks each table's row count on both sides; on any difference
    nothing is kept. Without DATABASE_URL the target is the DATABASE setting (SXPT_DATABASE
    or config.py in the instance folder), which keeps the password off the command line.

    Example, after setting DATABASE = "postgresql://sxpt:…@db:5432/sxpt" in config.py:

        sxpt-server migrate-to-postgresql /srv/sxpt/old/sxpt.sqlite3
    """
    if database_url is None:
        database_url = str(_create_app().config["DATABASE"])
    if not database_url.startswith(POSTGRESQL_SCHEMES):
        raise click.UsageError(
            f"DATABASE_URL 须以 postgresql:// 开头，而不是 {database_url.split(':', 1)[0]}:。 / "
            "DATABASE_URL must start with postgresql://.")
    problem = url_problem(database_url)
    if problem is not None:
        raise click.UsageError(f"{problem[0]} / {problem[1]}")
    try:
        from sxpt_server.store.transfer import TransferError, copy_to_postgresql
    except ImportError as error:
        raise click.ClickException(
            f"缺少 PostgreSQL 驱动，请安装：pip install 'sxpt[postgresql]'（{error.name}） / "
            f"The PostgreSQL driver is missing; install it with pip install 'sxpt[postgresql]' ({error.name}).") from None

    def show(table: str, rows: int) -> None:
        click.echo(f"正在复制 {table}（{rows} 行） / copying {table} ({rows} rows)", err=True)

    try:
        counts = copy_to_postgresql(sqlite_file, database_url, progress=show)
    except TransferError as error:
        raise click.ClickException(f"{error.message} / {error.message_en}") from None
    except Exception as error:  # the driver's errors: connection refused, permission denied
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise click.ClickException(
            f"复制到 PostgreSQL 数据库 {safe_url(database_url)} 失败（{reason}）。请检查地址、数据库是否已建立、用户名、密码"
            f"和写权限。 / Copying into the PostgreSQL database {safe_url(database_url)} failed ({reason}). Check the "
            "URL, that the database exists, the user name, the password and the write permission.") from None
    click.echo("表 / table\t源 / source\t目标 / target")
    for count in counts:
        click.echo(f"{count.table}\t{count.source}\t{count.target}")
    total = sum(count.source for count in counts)
    click.echo(f"已复制 {len(counts)} 张表共 {total} 行，两边行数一致。 / "
               f"Copied {total} rows in {len(counts)} tables; the counts match on both sides.")


COMMANDS = (init_db_command, create_account_command, serve_command, worker_command, migrate_to_postgresql_command)


def init_app(app: Flask) -> None:
    """Register the commands on the application's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from sxpt_server import create_app

    try:
        return create_app()
    except SxptError as error:
        raise click.ClickException(
            f"服务器设置无效：{error.message} / Invalid server settings: {error.message_en or error.message}") from None
    except SyntaxError as error:
        raise click.ClickException(
            f"设置文件 {error.filename} 第 {error.lineno} 行有语法错误：{error.msg}。请按 Python 的写法改正，"
            f"如 API_KEY_MAX_DAYS = 90。 / The settings file {error.filename} has a syntax error on line "
            f"{error.lineno}: {error.msg}.") from None
    except (ValueError, RuntimeError, OSError) as error:
        raise click.ClickException(f"服务器设置无效：{error} / Invalid server settings: {error}") from None


@click.group()
@click.version_option(__version__, prog_name="sxpt-server")
@click.pass_context
def main(context: click.Context) -> None:
    """Run the sxpt reference server.

    Settings come from the instance folder (SXPT_INSTANCE_PATH, default ./instance) and
    from SXPT_* environment variables.
    """
    # with_appcontext builds the app through this ScriptInfo when a command runs.
    context.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
