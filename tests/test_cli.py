"""Tests of the ``sxpt`` command line: output, languages, exit codes, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sxpt_core.cli import main
from tests.workbooks import write_csv, write_xlsx

HEADER = ["学号", "学生姓名", "入学年份", "院系", "班级", "课程名称", "课程代码", "学分", "实习类型", "实习组织形式",
          "实习方式", "学年", "校内指导教师", "实习单位名称", "实习单位统一社会信用代码", "实习地区及代码",
          "是否有实习责任险", "是否有人身意外险", "是否进行实习安全教育和培训", "是否签订实习三方协议",
          "实习单位获取方式", "实习单位是否有安全应急预案", "实习单位是否为校级及以上实习基地",
          "实习单位是否为数智赋能实习基地", "实习单位是否为海外实习基地", "实习开始时间", "实习结束时间", "实际实习天数"]
CLEAN = ["2201010001", "林晓雨", "2022", "机械工程学院", "机械2201班", "生产实习", "0803101", "4", "生产实习",
         "集中实习", "现场实习", "2024-2025", "周明远", "云栖数控设备有限公司", "91110000600037341L", "330100",
         "是", "是", "是", "是", "学校安排", "是", "否", "否", "否", "2025-07-01", "2025-09-30", "80"]


def row_with(**changes: str) -> list[str]:
    row = list(CLEAN)
    for header, value in changes.items():
        row[HEADER.index(header)] = value
    return row


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_clean_file_exits_zero(runner: CliRunner, tmp_path: Path) -> None:
    """A file without errors exits 0 and states that it can be uploaded."""
    path = write_csv(tmp_path / "ok.csv", [HEADER, CLEAN])
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15")
    assert code == 0
    assert "没有错误" in out


def test_errors_exit_one_with_place(runner: CliRunner, tmp_path: Path) -> None:
    """A file with errors exits 1 and names the row, column and field in Chinese."""
    path = write_xlsx(tmp_path / "bad.xlsx", [HEADER, CLEAN, row_with(实习单位统一社会信用代码="91110000600037341M")])
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15")
    assert code == 1
    assert "第 3 行 O 列（实习单位统一社会信用代码）" in out
    assert "校验码不正确" in out


def test_english_output(runner: CliRunner, tmp_path: Path) -> None:
    """--lang en prints the summary and messages in English."""
    path = write_xlsx(tmp_path / "bad.xlsx", [HEADER, row_with(实习单位统一社会信用代码="91110000600037341M")])
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15", "--lang", "en")
    assert code == 1
    assert "Row 2, column O" in out
    assert "check character" in out


def test_json_report_shape(runner: CliRunner, tmp_path: Path) -> None:
    """--format json prints the documented report shape."""
    path = write_xlsx(tmp_path / "bad.xlsx", [HEADER, row_with(学号="2201010001 ")])
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15", "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert set(report) == {"template", "rows", "valid_rows", "counts", "issues", "normalised"}
    assert report["template"] == "实习数据/2024"
    assert report["rows"] == 1
    assert report["counts"]["warning"] == len(report["normalised"]) + sum(
        1 for issue in report["issues"] if issue["severity"] == "warning")


def test_unreadable_file_exits_two(runner: CliRunner, tmp_path: Path) -> None:
    """Random bytes exit 2 with one sentence and no traceback."""
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"\x00\x01not a workbook" * 100)
    code, out, err = run(runner, "validate", str(path))
    assert code == 2
    assert "Traceback" not in out + err
    assert err.strip()


def test_missing_file_exits_two(runner: CliRunner, tmp_path: Path) -> None:
    """A file that does not exist exits 2 with a clear message."""
    code, _, err = run(runner, "validate", str(tmp_path / "none.xlsx"))
    assert code == 2
    assert "none.xlsx" in err


def test_xls_exits_two(runner: CliRunner, tmp_path: Path) -> None:
    """A legacy .xls file is refused with advice to save as .xlsx."""
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    code, _, err = run(runner, "validate", str(path))
    assert code == 2
    assert ".xlsx" in err


def test_bad_today_rejected(runner: CliRunner, tmp_path: Path) -> None:
    """An invalid --today is a usage error naming the expected form."""
    path = write_csv(tmp_path / "ok.csv", [HEADER, CLEAN])
    code, _, err = run(runner, "validate", str(path), "--today", "15/10/2025")
    assert code == 2
    assert "2024-10-15" in err


def test_roster_option_checks_identity(runner: CliRunner, tmp_path: Path) -> None:
    """--roster makes the identity rules run."""
    roster = write_csv(tmp_path / "roster.csv", [["学号", "姓名", "院系", "层次", "学籍状态"],
                                                 ["2201010001", "林小雨", "机械工程学院", "本科", "在籍"]])
    path = write_csv(tmp_path / "ok.csv", [HEADER, CLEAN])
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15", "--roster", str(roster),
                       "--format", "json")
    assert code == 1
    assert [issue["code"] for issue in json.loads(out)["issues"]] == ["SXPT-E-ROSTER-NAME-MISMATCH"]


def test_settings_file_used(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sxpt.toml in the working folder supplies the school and the roster."""
    monkeypatch.chdir(tmp_path)
    Path("sxpt.toml").write_text(
        '[school]\nname = "东海理工大学"\nunit_code = "12330000MB12345676"\n[files]\nroster = "r.csv"\n',
        encoding="utf-8")
    write_csv(Path("r.csv"), [["学号", "姓名"], ["2201010001", "林晓雨"]])
    write_csv(Path("d.csv"), [HEADER, row_with(实习单位名称="本校")])
    code, out, _ = run(runner, "validate", "d.csv", "--today", "2025-10-15", "--format", "json")
    issues = json.loads(out)["issues"]
    assert code == 1
    assert [issue["code"] for issue in issues] == ["SXPT-E-UNIT-ON-CAMPUS-WORD"]
    assert "12330000MB12345676" in issues[0]["hint"]


def test_invalid_settings_file(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken sxpt.toml is one clear sentence, exit 2."""
    monkeypatch.chdir(tmp_path)
    Path("sxpt.toml").write_text("[school\n", encoding="utf-8")
    write_csv(Path("d.csv"), [HEADER, CLEAN])
    code, _, err = run(runner, "validate", "d.csv")
    assert code == 2
    assert "sxpt.toml" in err


def test_json_error_on_stdout(runner: CliRunner, tmp_path: Path) -> None:
    """With --format json an unreadable file also gives a JSON error document on stdout."""
    path = tmp_path / "junk.xlsx"
    path.write_bytes(b"not a workbook")
    code, out, err = run(runner, "validate", str(path), "--format", "json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "SXPT-INPUT"
    assert err.strip()


def test_error_language_follows_option(runner: CliRunner, tmp_path: Path) -> None:
    """--lang en gives the input error in English."""
    code, _, err = run(runner, "validate", str(tmp_path / "none.xlsx"), "--lang", "en")
    assert code == 2
    assert "not" in err.lower()
    assert not any("\u4e00" <= character <= "\u9fff" for character in err.replace("none.xlsx", ""))


def test_folder_as_file(runner: CliRunner, tmp_path: Path) -> None:
    """A folder given as FILE gets a Chinese message, not click's English one."""
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    code, _, err = run(runner, "validate", str(folder))
    assert code == 2
    assert "Invalid value" not in err


def test_skipped_checks_noted(runner: CliRunner, tmp_path: Path) -> None:
    """Without a roster and a plan the summary notes that those checks did not run."""
    path = write_csv(tmp_path / "ok.csv", [HEADER, CLEAN])
    _, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15")
    assert "未提供学籍名单" in out
    assert "未提供实习培养方案" in out


def test_sheet_option_picks_sheet(runner: CliRunner, tmp_path: Path) -> None:
    """--sheet reads the named sheet when two sheets look like data."""
    path = write_xlsx(tmp_path / "two.xlsx", [HEADER, CLEAN],
                      extra_sheets={"副本": [HEADER, row_with(学号="2201010002")]})
    code, _, err = run(runner, "validate", str(path), "--today", "2025-10-15")
    assert code == 2
    assert "副本" in err
    code, out, _ = run(runner, "validate", str(path), "--today", "2025-10-15", "--sheet", "副本",
                       "--format", "json")
    assert code == 0
    assert json.loads(out)["rows"] == 1


def test_period_command(runner: CliRunner) -> None:
    """sxpt period names the reporting month and a late report."""
    code, out, _ = run(runner, "period", "2024-07-01", "2024-08-21", "--today", "2024-10-15")
    assert code == 0
    assert "2024-09" in out
    assert "补报" in out


def test_period_json(runner: CliRunner) -> None:
    """sxpt period --format json gives month and status."""
    code, out, _ = run(runner, "period", "2024/7/1", "2024年9月30日", "--today", "2024-10-15", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"start": "2024-07-01", "end": "2024-09-30", "month": "2024-10",
                               "status": "due", "months_late": 0}


def test_period_rejects_reversed_dates(runner: CliRunner) -> None:
    """An end before the start is a usage error."""
    code, _, err = run(runner, "period", "2024-09-01", "2024-07-01")
    assert code == 2
    assert "早于" in err
