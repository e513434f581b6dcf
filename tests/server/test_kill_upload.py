"""A server process killed with SIGKILL in the middle of an upload leaves the database as before the upload.

The tests start real ``sxpt-server serve`` processes on 127.0.0.1. One goes through a
launcher script, written here, that makes ``write_records`` stop inside the upload's
transaction after a few hundred rows, so the kill lands in the middle of the write for
certain. Another kills a plain server at random points of an upload. After each kill
the database must hold all of the batch or none of it, and a server started again on
the same database must accept the same upload in full.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
MARKER_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0
PHONE = "13912340077"
BATCH_ROWS = 3000
STALL_AFTER_ROWS = 300
KILL_ROUNDS = 5
TABLES = ("batches", "records", "record_versions", "audit_log", "unit_checks")

# The launcher wraps RecordsMixin.write_records. A write of more than SXPT_TEST_STALL_ROWS
# rows stores that many rows inside the caller's open transaction, writes their count to
# the marker file and then sleeps until the test kills the process. Smaller writes pass through.
LAUNCHER = '''
import os
import sys
import time
from pathlib import Path

from sxpt_server.store import sqlite_records

MARKER = Path(os.environ["SXPT_TEST_MARKER"])
STALL_ROWS = int(os.environ["SXPT_TEST_STALL_ROWS"])
original_write_records = sqlite_records.RecordsMixin.write_records


def stalling_write_records(self, writes, *, batch_id, actor, now):
    if len(writes) <= STALL_ROWS:
        return original_write_records(self, writes, batch_id=batch_id, actor=actor, now=now)
    with self.transaction():
        ids = original_write_records(self, writes[:STALL_ROWS], batch_id=batch_id, actor=actor, now=now)
        MARKER.write_text(str(len(ids)), encoding="utf-8")
        time.sleep(600)
        ids += original_write_records(self, writes[STALL_ROWS:], batch_id=batch_id, actor=actor, now=now)
    return ids


sqlite_records.RecordsMixin.write_records = stalling_write_records

from sxpt_server.cli import main

sys.exit(main(["serve", "--host", "127.0.0.1", "--port", sys.argv[1], "--threads", "2"], prog_name="sxpt-server"))
'''


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text(CLOCK_CONFIG, encoding="utf-8")
    return folder


@pytest.fixture
def environment(instance: Path, tmp_path: Path) -> dict[str, str]:
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    return {
        **os.environ,
        "SXPT_INSTANCE_PATH": str(instance),
        "SXPT_TEST_MARKER": str(tmp_path / "stalled"),
        "SXPT_TEST_STALL_ROWS": str(STALL_AFTER_ROWS),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }


@pytest.fixture
def launcher(tmp_path: Path) -> list[str]:
    """Write the stalling launcher and return the command that runs it (the port follows)."""
    path = tmp_path / "stalling_server.py"
    path.write_text(LAUNCHER, encoding="utf-8")
    return [sys.executable, str(path)]


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


def issue_api_key(base_url: str, instance: Path) -> str:
    """Activate the school account, log in with its SMS code, register a department and issue an API key."""
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
        key: str = issued.json()["key"]
        return key


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


def test_kill_inside_write_leaves_database(environment: dict[str, str], instance: Path, launcher: list[str],
                                           tmp_path: Path) -> None:
    """SIGKILL while write_records is inside the upload's transaction leaves no batch, record, version or audit row."""
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    marker = Path(environment["SXPT_TEST_MARKER"])
    log_path = tmp_path / "server.log"
    rows = batch_rows(1)

    with running(launcher, environment, log_path) as (process, base_url):
        key = issue_api_key(base_url, instance)
        before = table_counts(database)
        request = UploadInBackground(base_url, key, rows)
        wait_for(marker, MARKER_TIMEOUT)
        assert marker.read_text(encoding="utf-8") == str(STALL_AFTER_ROWS)
        # The rows written so far are inside an open transaction, so another connection does not see them.
        assert table_counts(database) == before
        kill(process)
        request.join()
    assert request.response is None, "the upload answered although its server was killed"
    assert request.error is not None

    assert integrity(database) == "ok"
    assert table_counts(database) == before

    with running(plain_server(), environment, log_path) as (_process, base_url):
        assert_accepts_in_full(base_url, key, rows, database)
    assert integrity(database) == "ok"


def test_random_kill_all_or_nothing(environment: dict[str, str], instance: Path, tmp_path: Path) -> None:
    """SIGKILL at random moments of plain uploads leaves each batch stored in full or not at all."""
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"
    seed = random.randrange(2**32)
    chooser = random.Random(seed)

    # The first upload measures how long one takes on this machine, so the kills land inside one.
    with running(plain_server(), environment, log_path) as (_process, base_url):
        key = issue_api_key(base_url, instance)
        started = time.monotonic()
        assert_accepts_in_full(base_url, key, batch_rows(100_000), database)
        duration = time.monotonic() - started

    for round_number in range(KILL_ROUNDS):
        rows = batch_rows(200_000 + round_number * BATCH_ROWS)
        delay = chooser.uniform(0.2, 1.1) * duration
        with running(plain_server(), environment, log_path) as (process, base_url):
            before = table_counts(database)
            request = UploadInBackground(base_url, key, rows)
            time.sleep(delay)
            kill(process)
            request.join()
        after = table_counts(database)
        context = f"seed {seed}, round {round_number}, kill after {delay:.2f} s of a {duration:.2f} s upload"
        assert integrity(database) == "ok", context
        if after["batches"] == before["batches"]:
            assert after == before, context
            assert request.response is None, context
        else:
            assert after["batches"] == before["batches"] + 1, context
            assert after["records"] == before["records"] + len(rows), context
            assert after["record_versions"] == before["record_versions"] + len(rows), context
            assert after["audit_log"] > before["audit_log"], context

        # Either way the same upload is then complete: in full now, or already in full before.
        with running(plain_server(), environment, log_path) as (_process, base_url):
            if after["batches"] == before["batches"]:
                assert_accepts_in_full(base_url, key, rows, database)
            else:
                again = upload(base_url, key, rows)
                assert again.status_code == 200, again.text
                assert again.json()["unchanged"] is True
        assert integrity(database) == "ok"
