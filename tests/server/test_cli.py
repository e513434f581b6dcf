"""The sxpt-server command: init-db, create-account and the checks of serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from sxpt_server import create_app
from sxpt_server.store import get_store
from tests.server.support import CITY, SCHOOL, SCHOOL_USCC, new_phone, outbox


def test_init_db_twice(runner: FlaskCliRunner) -> None:
    """init-db on a current database reports that nothing was migrated and succeeds."""
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0
    assert "无需迁移" in result.output


def test_create_ministry_account(app: Flask, runner: FlaskCliRunner) -> None:
    """create-account prints the new account name and sends the activation SMS."""
    phone = new_phone()
    result = runner.invoke(args=["create-account", "--level", "ministry", "--phone", phone])
    sms = outbox(app)[-1]
    assert result.exit_code == 0
    assert "sxpt000000001" in result.output
    assert sms["phone"] == phone
    assert sms["purpose"] == "activation"
    assert sms["code"] not in result.output


def test_create_province_account(app: Flask, runner: FlaskCliRunner) -> None:
    """A province account from the CLI registers its province."""
    result = runner.invoke(args=["create-account", "--level", "province", "--province", "330000", "--phone", new_phone()])
    with app.app_context():
        province = get_store().get_province("330000")
    assert result.exit_code == 0
    assert "sxpt330000001" in result.output
    assert province is not None
    assert province.name == "浙江省"


def test_create_school_account(app: Flask, runner: FlaskCliRunner) -> None:
    """A school account from the CLI registers the province and the school."""
    result = runner.invoke(args=[
        "create-account", "--level", "school", "--province", "330000", "--school", SCHOOL,
        "--school-name", "东海理工大学", "--uscc", SCHOOL_USCC, "--city", CITY, "--phone", new_phone(),
    ])
    with app.app_context():
        school = get_store().get_school(SCHOOL)
    assert result.exit_code == 0, result.output
    assert school is not None
    assert school.city == CITY


def test_school_needs_its_details(runner: FlaskCliRunner) -> None:
    """An unregistered school without name, USCC and city is a usage error naming the options."""
    result = runner.invoke(args=[
        "create-account", "--level", "school", "--province", "330000", "--school", SCHOOL, "--phone", new_phone(),
    ])
    assert result.exit_code == 2
    assert "--school-name" in result.output


def test_invalid_phone_one_sentence(runner: FlaskCliRunner) -> None:
    """An invalid phone is reported as one sentence with exit code 1."""
    result = runner.invoke(args=["create-account", "--level", "ministry", "--phone", "110"])
    assert result.exit_code == 1
    assert "手机号 110 无效" in result.output
    assert "Traceback" not in result.output


def test_invalid_province_one_sentence(runner: FlaskCliRunner) -> None:
    """An invalid province code is reported as one sentence with exit code 1."""
    result = runner.invoke(args=["create-account", "--level", "province", "--province", "330100",
                                 "--phone", new_phone()])
    assert result.exit_code == 1
    assert "330100" in result.output


def test_commands_need_database(tmp_path: Path) -> None:
    """create-account and serve refuse to run before init-db."""
    runner = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)}).test_cli_runner()
    created = runner.invoke(args=["create-account", "--level", "ministry", "--phone", new_phone()])
    served = runner.invoke(args=["serve", "--port", "8000"])
    assert created.exit_code == 1
    assert "init-db" in created.output
    assert served.exit_code == 1
    assert "init-db" in served.output


def test_commands_documented(app: Flask) -> None:
    """Every command has help text with an example."""
    for name in ("init-db", "create-account", "serve"):
        command = app.cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None, name
        assert "Example:" in (command.help or ""), name


@pytest.mark.parametrize(("settings", "fragment"), [
    ({"MAX_CONTENT_LENGTH": "abc"}, "MAX_CONTENT_LENGTH"),
    ({"RATELIMIT_ENABLED": "yes"}, "RATELIMIT_ENABLED"),
    ({"LANGUAGE": "fr"}, "LANGUAGE"),
    ({"API_KEY_DEFAULT_DAYS": 0}, "API_KEY_DEFAULT_DAYS"),
    ({"UNIT_VERIFIER": "directory", "UNIT_DIRECTORY": None}, "UNIT_DIRECTORY"),
])
def test_wrong_setting_named_at_start(tmp_path: Path, settings: dict[str, object], fragment: str) -> None:
    """A setting of the wrong type stops the app at start-up with its name, not at the first request."""
    from sxpt_core.errors import ConfigError
    from sxpt_server import create_app

    with pytest.raises(ConfigError, match=fragment):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), **settings})


def test_config_syntax_error_is_one_sentence(tmp_path: Path) -> None:
    """A syntax error in config.py is reported with the file and line, without a traceback."""
    import os
    import subprocess
    import sys

    import sxpt_server

    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text("API_KEY_MAX_DAYS = (\n", encoding="utf-8")
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-m", "sxpt_server", "init-db"], capture_output=True, text=True,
                            timeout=60, check=False,
                            env={**os.environ, "SXPT_INSTANCE_PATH": str(folder), "PYTHONPATH": source})
    assert result.returncode == 1
    assert "第 1 行有语法错误" in result.stderr
    assert "Traceback" not in result.stderr
