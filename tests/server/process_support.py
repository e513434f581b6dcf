"""Helpers for tests that run real ``sxpt-server`` processes on 127.0.0.1 and kill them.

A test bootstraps a database with the command line, starts ``sxpt-server serve`` (or a
launcher script that wraps it) on a free port, sends it requests over HTTP, and kills it with
SIGKILL. The helpers below then read the SQLite file through a connection of the test's
own, to check what the killed process left behind.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest

import sxpt_server
from sxpt_server.sms import read_outbox
from tests.server.records_support import DEPARTMENT_0, UNIT_CODES, record
from tests.server.support import CITY, PASSWORD, PROVINCE, SCHOOL, SCHOOL_NAME, SCHOOL_USCC
from tests.server.test_real_server import CLOCK_CONFIG, free_port, run_command, server_command

httpx = pytest.importorskip("httpx")

START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 10.0
UPLOAD_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0
PHONE = "13912340077"
BATCH_ROWS = 3000
TABLES = ("batches", "records", "record_versions", "audit_log", "unit_checks")

__all__ = [
    "BATCH_ROWS",
    "CLOCK_CONFIG",
    "PHONE",
    "REQUEST_TIMEOUT",
    "START_TIMEOUT",
    "STOP_TIMEOUT",
    "TABLES",
    "UPLOAD_TIMEOUT",
    "SchoolAccess",
    "UploadInBackground",
    "assert_accepts_in_full",
    "batch_rows",
    "bootstrap",
    "integrity",
    "issue_api_key",
    "kill",
    "log_in_school",
    "plain_server",
    "run_command",
    "running",
    "server_command",
    "server_environment",
    "table_counts",
    "upload",
    "wait_for",
]


def server_environment(instance: Path, **settings: str) -> dict[str, str]:
    """Return the environment of a server process on ``instance``, with ``settings`` added as variables."""
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    return {
        **os.environ,
        "SXPT_INSTANCE_PATH": str(instance),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        **settings,
    }


def plain_server() -> list[str]:
    """Return the ``sxpt-server serve`` command without a wrapper; ``running`` appends the port."""
    return [*server_command(), "serve", "--host", "127.0.0.1", "--threads", "2", "--port"]


@contextmanager
def running(command: list[str], environment: dict[str, str], log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``command`` with a free port appended, wait for /health, and kill the process afterwards."""
    port = free_port()
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen([*command, str(port)], env=environment, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, log_path.read_text(encoding="utf-8")
            try:
                httpx.get(f"{base_url}/api/v1/health", timeout=1.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"the server did not answer within {START_TIMEOUT} s"
                time.sleep(0.2)
        yield process, base_url
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the server with SIGKILL, so no cleanup code of it runs, and wait until it is gone."""
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=STOP_TIMEOUT) == -signal.SIGKILL


def table_counts(database: Path) -> dict[str, int]:
    """Count the rows of the tables an upload writes, through a connection of the test's own."""
    connection = sqlite3.connect(database, timeout=5)
    try:
        return {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
    finally:
        connection.close()


def integrity(database: Path) -> str:
    """Return "ok" when SQLite finds the file sound and no record row or version lacks its parent row."""
    connection = sqlite3.connect(database, timeout=5)
    try:
        result: str = connection.execute("PRAGMA integrity_check").fetchone()[0]
        orphans = connection.execute(
            "SELECT (SELECT COUNT(*) FROM record_versions WHERE batch_id IS NOT NULL "
            "        AND batch_id NOT IN (SELECT id FROM batches)) "
            "     + (SELECT COUNT(*) FROM record_versions WHERE record_id NOT IN (SELECT id FROM records)) "
            "     + (SELECT COUNT(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_versions v "
            "        WHERE v.record_id = r.id AND v.version = r.current_version))"
        ).fetchone()[0]
        return result if orphans == 0 else f"{orphans} rows without their batch, record or current version"
    finally:
        connection.close()


def bootstrap(environment: dict[str, str]) -> None:
    """Create the database and a school account, as a new deployment does from the command line."""
    initialised = run_command(environment, "init-db")
    assert initialised.returncode == 0, initialised.stderr
    created = run_command(environment, "create-account", "--level", "school", "--province", PROVINCE,
                          "--school", SCHOOL, "--school-name", SCHOOL_NAME, "--uscc", SCHOOL_USCC, "--city", CITY,
                          "--phone", PHONE)
    assert created.returncode == 0, created.stderr


@attrs.frozen
class SchoolAccess:
    """An API key of the school account and the session cookie of its logged-in user."""

    key: str
    cookies: dict[str, str]


def log_in_school(base_url: str, instance: Path) -> SchoolAccess:
    """Activate the school account, log in with its SMS code, register a department and issue an API key.

    The codes come from the development gateway's outbox. The session lives in the
    database, so its cookie stays valid for a server started again on the same database.
    """
    outbox = instance / "outbox.jsonl"
    activation = read_outbox(outbox)[-1]
    name = activation["account"]
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        activated = client.post("/api/v1/auth/activate",
                                json={"account": name, "code": activation["code"], "password": PASSWORD})
        assert activated.status_code == 200, activated.text
        # Move the server's clock (CLOCK_CONFIG reads this offset) past the one-minute interval between two SMS.
        (instance / "clock_offset").write_text("120", encoding="utf-8")
        sent = client.post("/api/v1/auth/code", json={"account": name, "password": PASSWORD})
        assert sent.status_code == 200, sent.text
        code = read_outbox(outbox)[-1]["code"]
        logged_in = client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})
        assert logged_in.status_code == 200, logged_in.text
        department = client.post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": DEPARTMENT_0})
        assert department.status_code == 201, department.text
        issued = client.post("/api/v1/keys", json={"label": "教务系统夜间上传"})
        assert issued.status_code == 201, issued.text
        return SchoolAccess(key=issued.json()["key"], cookies=dict(client.cookies))


def issue_api_key(base_url: str, instance: Path) -> str:
    """Activate the school account, log in with its SMS code, register a department and issue an API key."""
    return log_in_school(base_url, instance).key


def batch_rows(first: int, count: int = BATCH_ROWS) -> list[dict[str, str]]:
    """Return ``count`` records of distinct students, starting at student number ``first``.

    The host organisations are domestic, so the upload also adds unit-check rows in its transaction.
    """
    return [
        record(1, DEPARTMENT_0, **{"学号": f"24{number:06d}", "实习单位统一社会信用代码": UNIT_CODES[number % 5],
                                   "实习单位名称": f"杭州示例科技有限公司{number % 5}"})
        for number in range(first, first + count)
    ]


def upload(base_url: str, key: str, rows: list[dict[str, str]]) -> Any:
    body = json.dumps({"records": rows}, ensure_ascii=False).encode("utf-8")
    return httpx.post(f"{base_url}/api/v1/batches", content=body, timeout=UPLOAD_TIMEOUT,
                      headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


class UploadInBackground:
    """Send one upload from a thread, so that the test can kill the server while it runs."""

    def __init__(self, base_url: str, key: str, rows: list[dict[str, str]]) -> None:
        self.response: Any = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(base_url, key, rows), daemon=True)
        self.thread.start()

    def _run(self, base_url: str, key: str, rows: list[dict[str, str]]) -> None:
        try:
            self.response = upload(base_url, key, rows)
        except httpx.TransportError as error:
            self.error = error

    def join(self) -> None:
        self.thread.join(timeout=UPLOAD_TIMEOUT + 10)
        assert not self.thread.is_alive(), "the upload request did not end"


def wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear within {timeout} s"
        time.sleep(0.05)


def assert_accepts_in_full(base_url: str, key: str, rows: list[dict[str, str]], database: Path) -> None:
    """Upload ``rows`` and check that every one of them was stored as a new record in one new batch."""
    before = table_counts(database)
    response = upload(base_url, key, rows)
    assert response.status_code == 201, response.text
    batch = response.json()["batch"]
    assert batch["created"] == len(rows)
    assert batch["not_stored"] == 0
    after = table_counts(database)
    assert after["batches"] == before["batches"] + 1
    assert after["records"] == before["records"] + len(rows)
    assert after["record_versions"] == before["record_versions"] + len(rows)
