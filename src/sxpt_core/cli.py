"""The ``sxpt`` command line.

Exit codes: 0 when the file has no errors, 1 when the data has errors (or a command
failed on bad input it could explain), 2 when the input cannot be read at all.
Errors are printed as one clear sentence, never as a traceback; set ``SXPT_DEBUG=1``
to see the traceback of an unexpected failure.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.errors import SxptError
from sxpt_core.io.config import Config, load_config
from sxpt_core.summary import format_summary
from sxpt_core.validate import Validation, validate_file

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_DATA_ERRORS, EXIT_UNREADABLE = 0, 1, 2

TEXT = {
    "reference_errors": (
        "注意：{title} {path} 中有 {count} 行有错误，这些行未用于核对。请先运行 sxpt validate --kind {kind} {path} 查看。",
        "Note: {count} rows of the {title_en} {path} have errors and were not used; run "
        "sxpt validate --kind {kind} {path} to see them.",
    ),
    "bad_today": ("--today 的值 {value} 无效，请写作 2024-10-15", "--today {value} is invalid; write it as 2024-10-15"),
    "bad_lang": ("--lang 只能是 zh 或 en", "--lang must be zh or en"),
    "period": ("实习 {start} 至 {end}：报送月份 {month}。{status}", "Internship {start} to {end}: reported in {month}. {status}"),
    "status_due": ("应在本月报送。", "Due this month."),
    "status_late": ("已过报送月份，现为补报（晚 {months} 个月）。", "Its month has passed: a late report ({months} months late)."),
    "status_early": ("本月刚结束，应在下个月报送（现在上传也可以）。", "Ended this month: due next month (uploading now is allowed)."),
    "status_not_ended": ("实习尚未结束，不能报送。", "Not ended yet: cannot be reported."),
    "end_before_start": ("结束日期 {end} 早于开始日期 {start}", "end date {end} is before start date {start}"),
    "bad_date": ("日期 {value} 无效，请写作 2024-09-01", "date {value} is invalid; write it as 2024-09-01"),
    "internal": (
        "内部错误：{error}。这是 sxpt 的缺陷，请把命令和文件类型报告给维护者（设置 SXPT_DEBUG=1 可查看详情）。",
        "Internal error: {error}. This is a defect in sxpt; please report the command and file type "
        "(set SXPT_DEBUG=1 for details).",
    ),
}


def _say(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def _lang_from_argv() -> str:
    argv = sys.argv[1:]
    for index, argument in enumerate(argv):
        if argument == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--lang="):
            return argument.split("=", 1)[1]
    return os.environ.get("SXPT_LANG", "zh")


def _parse_today(value: str | None, lang: str) -> datetime.date:
    if value is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise click.UsageError(_say("bad_today", lang, value=value)) from None


def _load_reference(
    kind: str, path: Path, context: Context, lang: str
) -> tuple[list[Any], Validation]:
    validation = validate_file(path, context, kind=kind)
    bad = len(validation.error_rows)
    if bad:
        titles = {"roster": ("学籍名单", "roster"), "plan": ("实习培养方案", "training plan")}
        title, title_en = titles[kind]
        click.echo(_say("reference_errors", lang, title=title, title_en=title_en, path=path,
                        count=bad, kind=kind), err=True)
    return validation.models(), validation


def build_context(
    *,
    config: Config,
    today: datetime.date,
    school: str | None,
    roster: Path | None,
    plan: Path | None,
    lang: str,
) -> Context:
    """Build the rules' context from ``sxpt.toml`` and the command's options."""
    settings: SchoolSettings = config.school
    if school:
        settings = SchoolSettings(
            name=school,
            unit_code=settings.unit_code,
            city_code=settings.city_code,
            year_start=settings.year_start,
            template_version=settings.template_version,
        )
    context = Context(today=today, divisions=load_divisions(), school=settings)
    roster_path = roster or config.roster
    plan_path = plan or config.plan
    roster_index = plan_index = None
    if roster_path is not None:
        entries, _ = _load_reference("roster", roster_path, context, lang)
        roster_index = RosterIndex(entries)
    if plan_path is not None:
        courses, _ = _load_reference("plan", plan_path, context, lang)
        plan_index = PlanIndex(courses)
    return Context(today=today, divisions=context.divisions, school=settings, roster=roster_index,
                   plan=plan_index)


class SxptGroup(click.Group):
    """A click group that turns sxpt's exceptions into one sentence and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SxptError as error:
            lang = _current_lang(ctx)
            if ctx.meta.get(JSON_ERRORS):
                click.echo(json.dumps({"error": {"code": error.code, "message": error.text(lang)}},
                                      ensure_ascii=False))
            click.echo(error.text(lang), err=True)
            # Unreadable input and invalid settings stop the check before any data is
            # judged, so they share exit code 2; 1 means the data has errors.
            ctx.exit(EXIT_UNREADABLE)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # the last guard: never show a traceback to a user
            if os.environ.get("SXPT_DEBUG"):
                raise
            lang = _current_lang(ctx)
            click.echo(_say("internal", lang, error=f"{type(error).__name__}: {error}"), err=True)
            ctx.exit(EXIT_UNREADABLE)


# Keys of click's ctx.meta, which is shared by a command and its group.
LANG = "sxpt.lang"
JSON_ERRORS = "sxpt.json_errors"


def _current_lang(ctx: click.Context) -> str:
    """Return the --lang of the running command, or the language from argv and SXPT_LANG."""
    lang = ctx.meta.get(LANG)
    return lang if isinstance(lang, str) else _lang_from_argv()


def _remember_lang(ctx: click.Context, _: click.Parameter, value: str) -> str:
    ctx.meta[LANG] = value
    return value


@click.group(cls=SxptGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sxpt")
def main() -> None:
    """sxpt：全国大学生实习公共服务系统的数据规则（实习数据校验、模板、报送月份）。

    Rules of China's national undergraduate internship reporting system.
    """


def _lang_option(function: F) -> F:
    return click.option(
        "--lang", type=click.Choice(["zh", "en"]), default=lambda: os.environ.get("SXPT_LANG", "zh"),
        show_default="zh", help="输出语言 / language of the output: zh or en.",
        callback=_remember_lang, is_eager=True,
    )(function)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice(["records", "plan", "roster"]), default="records",
              show_default=True, help="文件类型：实习数据 records、实习培养方案 plan、学籍名单 roster。")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False),
              help="学籍名单（.xlsx 或 .csv），用于核对学号和姓名。Student roster file.")
@click.option("--plan", type=click.Path(path_type=Path, dir_okay=False),
              help="实习培养方案（.xlsx 或 .csv），用于核对课程、学分和学年。Training plan file.")
@click.option("--school", help="学校全称，覆盖 sxpt.toml 中的 school.name。School name.")
@click.option("--sheet", help="只读取这个工作表（工作簿中有多个数据表时使用）。Sheet to read.")
@click.option("--today", help="按这一天判断报送月份，写作 2024-10-15；默认今天。Date used as today.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text：中文摘要；json：机器可读的报告。")
@click.option("--annotate", "annotated_path", type=click.Path(path_type=Path, dir_okay=False),
              help="另存一份标注工作簿（.xlsx）：错误标红、警告标黄并加批注，另附问题清单。"
                   "Write the annotated workbook to this .xlsx file.")
@click.option("--errors-only", "errors_only_path", type=click.Path(path_type=Path, dir_okay=False),
              help="另存只含错误行的工作簿（.xlsx，模板列顺序，末列为原行号），改正后可单独重新校验。"
                   "Write the rows with errors to this .xlsx file.")
@_lang_option
def validate(
    file: Path,
    kind: str,
    roster: Path | None,
    plan: Path | None,
    school: str | None,
    sheet: str | None,
    today: str | None,
    output_format: str,
    annotated_path: Path | None,
    errors_only_path: Path | None,
    lang: str,
) -> None:
    """校验实习数据工作簿或 CSV 文件，一次列出全部错误（行、列和修改方法）。

    Validate an internship workbook or CSV file and list every issue at once.

    Example:

        sxpt validate 实习数据.xlsx --roster 学籍名单.xlsx --plan 实习培养方案.xlsx
    """
    click.get_current_context().meta[JSON_ERRORS] = output_format == "json"
    day = _parse_today(today, lang)
    config = load_config()
    context = build_context(config=config, today=day, school=school, roster=roster, plan=plan, lang=lang)
    validation = validate_file(file, context, kind=kind, sheet=sheet)
    report = validation.report

    if output_format == "json":
        click.echo(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2))
    else:
        records = kind == "records"
        click.echo(format_summary(report, source=file.name, lang=lang,
                                  roster_checked=not records or context.roster is not None,
                                  plan_checked=not records or context.plan is not None))
    if annotated_path is not None:
        from sxpt_core.io.annotate import write_annotated

        written = write_annotated(file, report, annotated_path, sheet=sheet, lang=lang)
        click.echo(written.describe(lang), err=True)
    if errors_only_path is not None:
        from sxpt_core.io.annotate import write_errors_only

        written = write_errors_only(file, validation, errors_only_path, sheet=sheet, lang=lang)
        click.echo(written.describe(lang), err=True)
    sys.exit(EXIT_DATA_ERRORS if report.has_errors else EXIT_OK)


def _parse_date(value: str, lang: str) -> datetime.date:
    from sxpt_core.normalise.dates import normalise_date

    outcome = normalise_date(value)
    if outcome.value is None:
        raise click.UsageError(_say("bad_date", lang, value=value))
    day: datetime.date = outcome.value
    return day


@main.command()
@click.argument("start")
@click.argument("end")
@click.option("--today", help="按这一天判断是否逾期，写作 2024-10-15；默认今天。Date used as today.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text：一句话说明；json：机器可读。")
@_lang_option
def period(start: str, end: str, today: str | None, output_format: str, lang: str) -> None:
    """计算一段实习的报送月份，以及是否已逾期（补报）或尚未到期。

    Show the reporting month of an internship and whether it is late or not due yet.

    Example:

        sxpt period 2024-07-01 2024-08-21 --today 2024-10-15
    """
    from sxpt_core.calendar import classify_period

    first, last = _parse_date(start, lang), _parse_date(end, lang)
    if last < first:
        raise click.UsageError(_say("end_before_start", lang, start=first, end=last))
    result = classify_period(first, last, today=_parse_today(today, lang))
    if output_format == "json":
        data = {"start": first.isoformat(), "end": last.isoformat(), "month": result.month_text,
                "status": result.status.value, "months_late": result.months_late}
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    status = _say(f"status_{result.status.value}", lang, months=result.months_late)
    click.echo(_say("period", lang, start=first, end=last, month=result.month_text, status=status))


# Register the commands defined in sxpt_core.commands on ``main``.
from sxpt_core import commands  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    # Run as a script, this module is __main__, a copy distinct from sxpt_core.cli on
    # which the commands registered; run that one.
    from sxpt_core.cli import main as registered_main

    registered_main()
