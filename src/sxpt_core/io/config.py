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

import sys
from pathlib import Path
from typing import Any

import attrs

from sxpt_core.context import SchoolSettings
from sxpt_core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["CONFIG_NAME", "Config", "load_config"]

CONFIG_NAME = "sxpt.toml"


@attrs.frozen
class Config:
    """Settings read from ``sxpt.toml``; every field has a default."""

    school: SchoolSettings = attrs.field(factory=SchoolSettings)
    roster: Path | None = None
    plan: Path | None = None
    path: Path | None = None


def _year_start(text: Any, path: Path) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(text).split("-"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError(text)
    except ValueError:
        raise ConfigError(
            f"{path} 中 school.year_start 的值 {text!r} 无效，应写作 月-日，例如 \"09-01\"",
            message_en=f"school.year_start {text!r} in {path} is invalid; write month-day, e.g. \"09-01\"",
        ) from None
    return month, day


def load_config(folder: Path | None = None) -> Config:
    """Read ``sxpt.toml`` from ``folder`` (default: the working folder) if it exists."""
    path = (folder or Path.cwd()) / CONFIG_NAME
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"无法读取配置文件 {path}：{error}",
            message_en=f"cannot read the settings file {path}: {error}",
        ) from None

    school_data = data.get("school", {})
    files = data.get("files", {})
    school = SchoolSettings(
        name=school_data.get("name"),
        unit_code=school_data.get("unit_code"),
        city_code=school_data.get("city_code"),
        year_start=_year_start(school_data.get("year_start", "09-01"), path),
        template_version=str(school_data.get("template", "2024")),
    )
    base = path.parent
    roster = base / files["roster"] if files.get("roster") else None
    plan = base / files["plan"] if files.get("plan") else None
    return Config(school=school, roster=roster, plan=plan, path=path)
