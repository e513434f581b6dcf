"""The whole reporting month on a real sxpt-server on 127.0.0.1, over HTTP.

A school imports its roster and plan; two departments upload workbooks with mistakes,
download the errors-only workbooks, fix them and upload again; the unit worker verifies
the units against a local CSV directory; the school returns one record and approves the
rest; the department fixes the returned one; the province sees exactly the approved
records; an edit of an approved record leaves the old version visible to the province
until the school approves the new one.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import sxpt_server
from sxpt_core.cli import build_context
from sxpt_core.io.config import load_config
from sxpt_core.records import cells_of
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_file
from sxpt_server.sms import read_outbox
from tests.server.backends import postgresql_database
from tests.server.support import PASSWORD
from tests.server.test_real_server import CLOCK_CONFIG, free_port, server_command
from tests.workbooks import RECORD_HEADERS, write_xlsx

# The whole workflow runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True

httpx = pytest.importorskip("httpx")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START_TIMEOUT = 20.0
TIMEOUT = 30.0
SCHOOL = "4133010001"
PROVINCE = "330000"
DEPARTMENTS = ("机械工程学院", "外国语学院")
ROWS_PER_DEPARTMENT = 6


def example_rows() -> dict[str, list[dict[str, Any]]]:
    """Return the example workbook's rows without errors, as cells by header, per department."""
    context = build_context(config=load_config(EXAMPLES), today=datetime.date(2025, 10, 15), school=None,
                            roster=EXAMPLES / "roster.xlsx", plan=EXAMPLES / "plan.xlsx", lang="zh")
    validation = validate_file(EXAMPLES / "records.xlsx", context)
    template = get_template("records")
    # Warnings would not block review, but clean rows keep the counts below simple.
    flagged = {issue.row for issue in validation.report.issues} | {entry.row for entry in validation.report.normalised}
    rows: dict[str, list[dict[str, Any]]] = {department: [] for department in DEPARTMENTS}
    for number, values in validation.rows:
        department = values["department"]
        if number in flagged or department not in rows or len(rows[department]) == ROWS_PER_DEPARTMENT:
            continue
        rows[department].append(cells_of(template, values, {}))
    return rows


class Session:
    """One account's HTTP client, logged in through the SMS outbox."""

    def __init__(self, base_url: str, instance: Path) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=TIMEOUT)
        self.instance = instance

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, url: str, expected: int | tuple[int, ...] = 200, **options: Any) -> Any:
        response = self.client.request(method, url, **options)
        allowed = (expected,) if isinstance(expected, int) else expected
        assert response.status_code in allowed, (method, url, response.status_code, response.text[:2000])
        return response

    def json(self, method: str, url: str, expected: int | tuple[int, ...] = 200, **options: Any) -> Any:
        return self.call(method, url, expected, **options).json()


def move_clock(instance: Path, seconds: float) -> None:
    """Move the server's clock forward, past the one-minute SMS interval."""
    offset_file = instance / "clock_offset"
    offset = float(offset_file.read_text()) if offset_file.exists() else 0.0
    offset_file.write_text(str(offset + seconds), encoding="utf-8")


def last_code(instance: Path, account: str, purpose: str) -> str:
    messages = [sms for sms in read_outbox(instance / "outbox.jsonl")
                if sms["account"] == account and sms["purpose"] == purpose]
    assert messages, f"no {purpose} SMS for {account}"
    return messages[-1]["code"]


def log_in(base_url: str, instance: Path, account: str) -> Session:
    """Activate ``account`` if needed and log in with password and SMS code."""
    session = Session(base_url, instance)
    activated = session.client.post("/api/v1/auth/activate", json={
        "account": account, "code": last_code(instance, account, "activation"), "password": PASSWORD})
    assert activated.status_code in (200, 400), activated.text
    move_clock(instance, 120)
    session.call("POST", "/api/v1/auth/code", json={"account": account, "password": PASSWORD})
    session.call("POST", "/api/v1/auth/login", json={
        "account": account, "password": PASSWORD, "code": last_code(instance, account, "login")})
    return session


# Cells of a record that identify a person.
PERSONAL_FIELDS = ("学号", "学生姓名", "企业指导人员姓名", "企业指导人员电话")


def assert_no_personal_data(logs: str, rows: dict[str, list[dict[str, Any]]],
                            messages: list[dict[str, str]]) -> None:
    """Fail naming each student detail, phone or password found in ``logs``."""
    sensitive = {PASSWORD} | {message["phone"] for message in messages}
    sensitive |= {str(row[name]) for department_rows in rows.values() for row in department_rows
                  for name in PERSONAL_FIELDS if row.get(name)}
    assert len(sensitive) > 20
    found = sorted(value for value in sensitive if value in logs)
    assert found == [], f"personal data in the logs: {found}"


def create_account(session: Session, **fields: str) -> str:
    phone = f"139{time.monotonic_ns() % 100_000_000:08d}"
    document = session.json("POST", "/api/v1/accounts", 201, json={"phone": phone, **fields})
    name: str = document["name"]
    return name


def run_server_command(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*server_command(), *args], env=environment, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@contextmanager
def serving(environment: dict[str, str], log_path: Path) -> Iterator[str]:
    """Run ``sxpt-server serve`` with ``environment`` on a free port of 127.0.0.1; yield its URL."""
    port = free_port()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen([*server_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                assert process.poll() is None, log_path.read_text(encoding="utf-8")
                try:
                    httpx.get(f"{base_url}/api/v1/health", timeout=1.0)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the server did not answer in time"
                    time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path, environment: dict[str, str]) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """Start a real server on the instance folder; yield its URL, the folder and the environment."""
    instance = Path(environment["SXPT_INSTANCE_PATH"])
    run_server_command(environment, "init-db")
    with serving(environment, tmp_path / "server.log") as base_url:
        yield base_url, instance, environment


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text(
        CLOCK_CONFIG + '\nUNIT_VERIFIER = "directory"\nUNIT_DIRECTORY = "units.csv"\n', encoding="utf-8")
    # The local directory of known units: every unit the clean example rows use, with its name.
    units = {(row["实习单位统一社会信用代码"], row["实习单位名称"]) for rows in example_rows().values() for row in rows}
    with (folder / "units.csv").open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["统一社会信用代码", "单位名称"])
        writer.writerows(sorted(units))
    return folder


@pytest.fixture
def environment(instance: Path, database: str) -> dict[str, str]:
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    return {**os.environ, "SXPT_INSTANCE_PATH": str(instance), "SXPT_DATABASE": database,
            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}


def workbook_bytes(rows: list[dict[str, Any]], path: Path) -> bytes:
    write_xlsx(path, [list(RECORD_HEADERS), *([row.get(header) for header in RECORD_HEADERS] for row in rows)])
    return path.read_bytes()


def upload(session: Session, content: bytes, name: str, url: str = "/api/v1/batches") -> dict[str, Any]:
    document: dict[str, Any] = session.json("POST", url, (200, 201), files={"file": (name, content)})
    return document


def fix_errors_only(content: bytes, fixes: dict[str, dict[str, str]]) -> tuple[bytes, int]:
    """Fix the errors-only workbook as a department officer would: change cells, drop the 原行号 column."""
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert header[-1] == "原行号"
    fixed = []
    for row in rows[1:]:
        cells = dict(zip(header[:-1], row[:-1], strict=True))
        cells.update(fixes.get(str(cells["学号"]), {}))
        fixed.append(cells)
    out = io.BytesIO()
    book = openpyxl.Workbook()
    target = book.active
    assert target is not None
    target.append(list(header[:-1]))
    for cells in fixed:
        target.append([cells[name] for name in header[:-1]])
    book.save(out)
    return out.getvalue(), len(fixed)


def all_records(session: Session) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after = None
    while True:
        query = "/api/v1/records?limit=50" + (f"&after={after}" if after else "")
        page = session.json("GET", query)
        records.extend(page["records"])
        after = page["next_after"]
        if after is None:
            return records


def all_audit(session: Session) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    before = None
    while True:
        page = session.json("GET", "/api/v1/audit?limit=200" + (f"&before={before}" if before else ""))
        entries.extend(page["entries"])
        before = page["next_before"]
        if before is None:
            return entries


def check_moved_to_postgresql(environment: dict[str, str], tmp_path: Path, sessions: list[Session]) -> None:
    """Move the SQLite database to PostgreSQL, serve it, and compare every account's view on both servers."""
    instance = Path(environment["SXPT_INSTANCE_PATH"])
    with postgresql_database() as url:
        moved = run_server_command(environment, "migrate-to-postgresql", str(instance / "sxpt.sqlite3"), url)
        assert "两边行数一致" in moved.stdout
        assert "record_versions" in moved.stdout
        with serving({**environment, "SXPT_DATABASE": url}, tmp_path / "moved.log") as moved_url:
            for session in sessions:
                # The sessions moved too, so the same cookies log in on the new server.
                other = Session(moved_url, instance)
                other.client.cookies = session.client.cookies
                try:
                    assert all_records(other) == all_records(session)
                    assert other.json("GET", "/api/v1/me") == session.json("GET", "/api/v1/me")
                    assert all_audit(other) == all_audit(session)
                finally:
                    other.close()
        # The migration refuses a second copy into a database that now has data.
        again = subprocess.run([*server_command(), "migrate-to-postgresql", str(instance / "sxpt.sqlite3"), url],
                               env=environment, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 1
        assert "已有数据" in again.stderr


def test_reporting_month_end_to_end(served: tuple[str, Path, dict[str, str]], tmp_path: Path, backend: str) -> None:
    """Roster, plan, uploads with mistakes, fixes, unit worker, review, province view, edit of an approved record."""
    base_url, instance, environment = served
    rows = example_rows()
    assert all(len(department_rows) == ROWS_PER_DEPARTMENT for department_rows in rows.values())

    # The ministry bootstraps the province, the province the school, the school its departments.
    run_server_command(environment, "create-account", "--level", "ministry", "--phone", "13912340001")
    ministry_name = read_outbox(instance / "outbox.jsonl")[-1]["account"]
    sessions: list[Session] = []
    try:
        ministry = log_in(base_url, instance, ministry_name)
        sessions.append(ministry)
        ministry.call("POST", "/api/v1/provinces", 201, json={"code": PROVINCE})
        province = log_in(base_url, instance, create_account(ministry, level="province", province=PROVINCE))
        sessions.append(province)
        province.call("POST", "/api/v1/schools", 201, json={
            "code": SCHOOL, "name": "东海理工大学", "uscc": "12330000MB12345676", "city": "330100"})
        school = log_in(base_url, instance, create_account(province, level="school", school=SCHOOL))
        sessions.append(school)
        departments = []
        for name in (*DEPARTMENTS, "计算机科学与技术学院", "经济管理学院"):
            school.call("POST", f"/api/v1/schools/{SCHOOL}/departments", 201, json={"name": name})
        for name in DEPARTMENTS:
            departments.append(log_in(base_url, instance, create_account(school, level="department", department=name)))
        sessions.extend(departments)

        # The school imports its roster and its plan.
        for kind in ("roster", "plan"):
            result = upload(school, (EXAMPLES / f"{kind}.xlsx").read_bytes(), f"{kind}.xlsx", f"/api/v1/{kind}")
            assert result["batch"]["status"] == "stored", result

        # Each department uploads a workbook with two mistakes: a wrong student number and zero days.
        fixes: dict[str, dict[str, str]] = {}
        for index, (department, session) in enumerate(zip(DEPARTMENTS, departments, strict=True)):
            planted = [dict(row) for row in rows[department]]
            good_number = planted[0]["学号"]
            planted[0]["学号"] = good_number[:-1] + ("9" if good_number[-1] != "9" else "8")
            fixes[planted[0]["学号"]] = {"学号": good_number}
            good_days = planted[1]["实际实习天数"]
            planted[1]["实际实习天数"] = 0
            fixes[planted[1]["学号"]] = {"实际实习天数": good_days}
            first = upload(session, workbook_bytes(planted, tmp_path / f"d{index}.xlsx"), f"实习数据-{department}.xlsx")
            assert first["batch"]["counts"]["error"] >= 2
            errors_only = session.call("GET", first["batch"]["links"]["errors_only"]).content
            fixed, count = fix_errors_only(errors_only, fixes)
            assert count == 2
            second = upload(session, fixed, f"实习数据-{department}-改正.xlsx")
            assert second["batch"]["counts"]["error"] == 0, session.json("GET", second["batch"]["links"]["report"])

        # The wrong student number was stored with its error; the department deletes that record.
        for session in departments:
            for item in all_records(session):
                if item["state"] == "校验不通过":
                    session.call("DELETE", f"/api/v1/records/{item['id']}", 204)
        stored = all_records(school)
        assert len(stored) == 2 * ROWS_PER_DEPARTMENT
        assert {item["state"] for item in stored} == {"待校验"}

        # The unit worker verifies every unit against the local directory.
        worker = run_server_command(environment, "worker", "--once")
        queue = school.json("GET", "/api/v1/review?limit=100")
        assert queue["total"] == 2 * ROWS_PER_DEPARTMENT, [item["state"] for item in all_records(school)]

        # The school returns one record and approves the rest.
        ids = sorted(item["id"] for item in queue["records"])
        returned_id = next(item["id"] for item in queue["records"] if item["department"] == DEPARTMENTS[1])
        school.call("POST", "/api/v1/review", json={"action": "return", "records": [returned_id],
                                                    "reason": "实习岗位填写不具体，请补充"})
        approved_ids = [record_id for record_id in ids if record_id != returned_id]
        school.call("POST", "/api/v1/review", json={"action": "approve", "records": approved_ids})

        seen = {item["id"]: item for item in all_records(province)}
        assert sorted(seen) == approved_ids
        assert all_records(ministry)
        assert sorted(item["id"] for item in all_records(ministry)) == approved_ids

        # The department reads the reason, fixes the returned record, and the school approves it.
        returned = departments[1].json("GET", f"/api/v1/records/{returned_id}")
        assert returned["state"] == "已退回"
        assert returned["review_reason"] == "实习岗位填写不具体，请补充"
        fixed_record = departments[1].json("PATCH", f"/api/v1/records/{returned_id}",
                                           json={"cells": {"实习岗位": "翻译助理（商务文件笔译）"}})
        assert fixed_record["state"] == "待审核", fixed_record
        school.call("POST", "/api/v1/review", json={"action": "approve", "records": [returned_id]})
        assert sorted(item["id"] for item in all_records(province)) == ids

        # An edit of an approved record: the province keeps the approved version until the new one is approved.
        edited_id = approved_ids[0]
        before = province.json("GET", f"/api/v1/records/{edited_id}")
        departments[0].call("PATCH", f"/api/v1/records/{edited_id}", json={"cells": {"实习岗位": "工艺实习生（夜班）"}})
        during = province.json("GET", f"/api/v1/records/{edited_id}")
        assert during["cells"] == before["cells"]
        assert during["version"] == before["version"]
        assert school.json("GET", f"/api/v1/records/{edited_id}")["cells"]["实习岗位"] == "工艺实习生（夜班）"
        school.call("POST", "/api/v1/review", json={"action": "approve", "records": [edited_id]})
        after = province.json("GET", f"/api/v1/records/{edited_id}")
        assert after["cells"]["实习岗位"] == "工艺实习生（夜班）"
        assert after["version"] == before["version"] + 1

        # Another province's filter is rejected, and every approved record is in the province's export.
        assert province.call("GET", "/api/v1/records?province=110000", 403)
        exported = province.call("GET", "/api/v1/export?format=csv").content.decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(exported)))) == 1 + len(ids)

        # No log line of the server or the worker names a student, a phone or the password.
        logs = (tmp_path / "server.log").read_text(encoding="utf-8") + worker.stdout + worker.stderr
        assert "POST /api/v1/review 200" in logs
        assert_no_personal_data(logs, rows, read_outbox(instance / "outbox.jsonl"))

        if backend == "sqlite":
            check_moved_to_postgresql(environment, tmp_path, [ministry, province, school, *departments])
    finally:
        for session in sessions:
            session.close()
