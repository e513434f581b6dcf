"""Reading ``sxpt.toml``, the school's settings shared by every command.

Example::

    [school]
    name = "东海理工大学"              # registered name, the unit of on-campus internships
    unit_code = "12330000MB0000001X"   # the school's own credit code
    city_code = "330100"
    year_start = "09-01"               # first day of the academic year (month-day)
    template = "2024"

    [files]
    roster = "学籍名单.xlsx"             # used when --roster is not given
    plan = "实习培养方案.xlsx"           # used when --plan is not given

Relative file paths are taken relative to the folder of ``sxpt.toml``.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import attrs

from sxpt_core.codes import uscc
from sxpt_core.codes.divisions import check_city_code, load_divisions
from sxpt_core.context import SchoolSettings
from sxpt_core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["CONFIG_NAME", "Config", "load_config"]

CONFIG_NAME = "sxpt.toml"


@attrs.frozen
class Config:
    """Settings read from ``sxpt.toml``; every field has a default."""

    school: SchoolSettings = attrs.field(factory=SchoolSettings)
    roster: Path | None = None
    plan: Path | None = None
    path: Path | None = None
    # [server]: the sxpt server for ``sxpt upload`` and ``sxpt export``, and a file holding
    # the API key. The key itself never goes into sxpt.toml, which is often shared.
    server_url: str | None = None
    api_key_file: Path | None = None


KNOWN_KEYS = {
    "school": {"name", "unit_code", "city_code", "year_start", "template"},
    "files": {"roster", "plan"},
    "server": {"url", "api_key_file"},
}


def _config_error(path: Path, zh: str, en: str) -> ConfigError:
    return ConfigError(f"配置文件 {path} 有误：{zh}", message_en=f"settings file {path}: {en}")


def _year_start(text: Any, path: Path) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(text).split("-"))
        datetime.date(2024, month, day)  # a leap year, so 02-29 is allowed
    except ValueError:
        raise _config_error(
            path, f"school.year_start 的值 {text!r} 无效，应写作 月-日，例如 \"09-01\"",
            f"school.year_start {text!r} is invalid; write month-day, e.g. \"09-01\"",
        ) from None
    return month, day


def _check_keys(data: dict[str, Any], path: Path) -> None:
    for section, value in data.items():
        if section not in KNOWN_KEYS or not isinstance(value, dict):
            known = "、".join(f"[{name}]" for name in KNOWN_KEYS)
            raise _config_error(path, f"未知的设置 {section}，可用的分节：{known}",
                                f"unknown setting {section}; the sections are {known}")
        for key in value:
            if key not in KNOWN_KEYS[section]:
                known = "、".join(sorted(KNOWN_KEYS[section]))
                raise _config_error(path, f"[{section}] 中没有 {key} 这一项，可用的项：{known}",
                                    f"[{section}] has no key {key}; the keys are {known}")


def _text_setting(data: dict[str, Any], key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _config_error(path, f"school.{key} 应是加引号的文本，例如 {key} = \"…\"",
                            f"school.{key} must be a quoted string")
    return value.strip() if isinstance(value, str) else None


def _checked_unit_code(code: str | None, path: Path) -> str | None:
    if code is None:
        return None
    try:
        return uscc.validate(code)
    except uscc.USCCError as error:
        raise _config_error(path, f"school.unit_code {code} 不是有效的统一社会信用代码（{error}）",
                            f"school.unit_code {code} is not a valid USCC ({error})") from None


def _checked_city_code(code: str | None, path: Path) -> str | None:
    if code is None:
        return None
    check = check_city_code(code.strip(), load_divisions())
    if not check.ok:
        raise _config_error(path, f"school.city_code {code} 不是有效的城市代码（{check.kind}）",
                            f"school.city_code {code} is not a valid city code ({check.kind})")
    return check.code


def load_config(folder: Path | None = None) -> Config:
    """Read ``sxpt.toml`` from ``folder`` (default: the working folder) if it exists.

    Every setting is checked, so a mistake in the file is reported once, here, and not
    as a puzzling issue in every row.
    """
    path = (folder or Path.cwd()) / CONFIG_NAME
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise _config_error(path, "这是一个文件夹，不是文件", "it is a folder, not a file") from None
    except UnicodeDecodeError:
        raise _config_error(path, "不是 UTF-8 编码的文本文件，请用文本编辑器另存为 UTF-8",
                            "it is not UTF-8 text; save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _config_error(path, f"不是有效的 TOML 格式（{error}）", f"invalid TOML ({error})") from None

    _check_keys(data, path)
    school_data = data.get("school", {})
    files = data.get("files", {})
    school = SchoolSettings(
        name=_text_setting(school_data, "name", path),
        unit_code=_checked_unit_code(_text_setting(school_data, "unit_code", path), path),
        city_code=_checked_city_code(_text_setting(school_data, "city_code", path), path),
        year_start=_year_start(school_data.get("year_start", "09-01"), path),
        template_version=str(school_data.get("template", "2024")),
    )
    base = path.parent
    roster = base / files["roster"] if files.get("roster") else None
    plan = base / files["plan"] if files.get("plan") else None
    server = data.get("server", {})
    url = server.get("url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise _config_error(path, "server.url 应是以 http:// 或 https:// 开头的地址，例如 url = \"https://sxpt.example.edu.cn\"",
                            "server.url must be an address starting with http:// or https://")
    key_file = server.get("api_key_file")
    if key_file is not None and not isinstance(key_file, str):
        raise _config_error(path, "server.api_key_file 应是加引号的文件路径", "server.api_key_file must be a quoted path")
    return Config(school=school, roster=roster, plan=plan, path=path, server_url=url,
                  api_key_file=base / key_file if key_file else None)
