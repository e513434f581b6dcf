"""Faults of a running deployment: killed processes, failing outside services and a full disk.

Each test runs real ``sxpt-server`` processes on a SQLite file under ``tmp_path``. Where
it needs an SMS provider or a unit verification service, it starts a small HTTP service
on 127.0.0.1 and switches it between working and failing. After each fault the test
checks what the database contains, which message the user gets, and that the same
request works once the fault is gone.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sxpt_core.review import UNIT_VERIFY_FAILED
from sxpt_server.problems import storage_problem
from tests.server.process_support import (
    CLOCK_CONFIG,
    PHONE,
    REQUEST_TIMEOUT,
    START_TIMEOUT,
    STOP_TIMEOUT,
    SchoolAccess,
    assert_accepts_in_full,
    batch_rows,
    bootstrap,
    integrity,
    issue_api_key,
    kill,
    log_in_school,
    plain_server,
    run_command,
    running,
    server_command,
    server_environment,
    table_counts,
    upload,
    wait_for,
)
from tests.server.records_support import DEPARTMENT_0, record, upload_json
from tests.server.support import PASSWORD, SCHOOL, World

httpx = pytest.importorskip("httpx")

# Maximum time that the local service keeps a held request open, in seconds.
HOLD_SECONDS = 30.0
# Delay of a slow response of the local service, in seconds: longer than every client timeout below.
SLOW_SECONDS = 3.0
MARKER_TIMEOUT = 60.0
REVIEW_TIMEOUT = 60.0

# The largest review request that the API accepts.
REVIEW_ROWS = 1000
# The stalling launcher stops before this many records of a review have been updated.
STALL_AFTER_UPDATES = 400
REVIEW_KILL_ROUNDS = 3

# batch_rows spreads records over five host organisations; 50 rows give ten records each.
UNIT_COUNT = 5
UNIT_ROWS = 50
CLAIM_SECONDS = 300
RETRY_BASE_SECONDS = 60
VERIFIER_TIMEOUT = 0.5

SMS_TIMEOUT = 1.0
SMS_TEMPLATE = '{"phone": "$phone", "code": "$code", "account": "$account", "purpose": "$purpose"}'
SMS_TOKEN = "provider-token-3f9c1e7a"
DEPARTMENT_PHONE = "13912340088"

# Free space left on the small disk before the upload that does not fit.
FREE_BYTES_LEFT = 256 * 1024
SMALL_DISK_MEGABYTES = 48
# Room for growth of the largest database file under the file size limit, in bytes.
FILE_SIZE_HEADROOM = 128 * 1024
# Records in an upload whose JSON body (about 1.3 KB a record) stays under 512 KiB. Above that
# size waitress buffers a request body in a temporary file instead of in memory (its
# inbuf_overflow setting, 524288 bytes by default in waitress 3.0.2).
IN_MEMORY_ROWS = 300


# --- a local HTTP service that fails on request ---


class LocalService:
    """An HTTP service on 127.0.0.1 that the test switches between working and failing.

    ``fault`` selects the response to each POST: None returns 200 with ``ok_body``,
    "error" returns 500, "garbage" returns 200 with an HTML page, and "slow" returns
    ``ok_body`` after SLOW_SECONDS. From request number ``hold_after`` on (counted from
    0), requests are held open without a response until ``release`` is set.
    ``stop_listening`` closes the listening socket so that connections are refused, and
    ``recover`` listens on the same port again.
    """

    def __init__(self, ok_body: bytes) -> None:
        self.ok_body = ok_body
        self.fault: str | None = None
        self.hold_after: int | None = None
        self.bodies: list[bytes] = []
        self.request_held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def messages(self, first: int = 0) -> list[dict[str, Any]]:
        """Return the JSON bodies received from request number ``first`` on."""
        return [json.loads(body) for body in self.bodies[first:]]

    def stop_listening(self) -> None:
        """Stop listening, so that connections to the port are refused."""
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=STOP_TIMEOUT)
        self._server = None

    def recover(self) -> None:
        """Respond to every request with ``ok_body`` again, listening on the same port if it was closed."""
        self.fault = None
        self.hold_after = None
        if self._server is None:
            self._listen()

    def close(self) -> None:
        self.release.set()
        if self._server is not None:
            self.stop_listening()

    def _listen(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with service._lock:
                    number = len(service.bodies)
                    service.bodies.append(body)
                if service.hold_after is not None and number >= service.hold_after:
                    service.request_held.set()
                    service.release.wait(HOLD_SECONDS)
                    return
                fault = service.fault
                if fault == "slow":
                    time.sleep(SLOW_SECONDS)
                if fault == "error":
                    status, content = 500, b'{"error": "internal"}'
                elif fault == "garbage":
                    status, content = 200, b"<html><body>Service temporarily unavailable</body></html>"
                else:
                    status, content = 200, service.ok_body
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    pass  # the client gave up waiting already

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def verification_service() -> Iterator[LocalService]:
    service = LocalService(b'{"passed": true}')
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def sms_provider() -> Iterator[LocalService]:
    service = LocalService(b'{"result": "queued"}')
    try:
        yield service
    finally:
        service.close()


def break_service(service: LocalService, fault: str) -> None:
    """Make ``service`` fail: "timeout" responds too late, "error" with 500, "garbage" with HTML, "refused" not at all."""
    if fault == "refused":
        service.stop_listening()
    else:
        service.fault = {"timeout": "slow", "error": "error", "garbage": "garbage"}[fault]


# --- the deployment: instance folder, clock and database ---


def make_instance(tmp_path: Path, **settings: Any) -> Path:
    """Create the instance folder with the movable clock of CLOCK_CONFIG and ``settings`` in config.py."""
    folder = tmp_path / "instance"
    folder.mkdir()
    lines = [CLOCK_CONFIG, *(f"{name} = {value!r}" for name, value in settings.items())]
    (folder / "config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def clock_offset(instance: Path) -> float:
    path = instance / "clock_offset"
    return float(path.read_text(encoding="utf-8")) if path.exists() else 0.0


def advance_clock(instance: Path, seconds: float) -> None:
    """Move the clock of every server and worker process on ``instance`` forward."""
    (instance / "clock_offset").write_text(str(clock_offset(instance) + seconds), encoding="utf-8")


def server_time(instance: Path) -> datetime.datetime:
    """Return the time that the processes on ``instance`` read from their clock now."""
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=clock_offset(instance))


def query(database: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one SELECT through a connection of the test's own."""
    connection = sqlite3.connect(database, timeout=5)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def record_states(database: Path) -> dict[str, int]:
    return dict(Counter(state for (state,) in query(database, "SELECT state FROM records")))


def audit_count(database: Path, event: str) -> int:
    [(count,)] = query(database, "SELECT COUNT(*) FROM audit_log WHERE event = ?", (event,))
    return int(count)


class RequestInBackground:
    """Send one request from a thread, so that the test can kill the server while it runs."""

    def __init__(self, send: Callable[[], Any]) -> None:
        self.response: Any = None
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self.thread.start()

    def _run(self, send: Callable[[], Any]) -> None:
        try:
            self.response = send()
        except httpx.TransportError as error:
            self.error = error

    def join(self) -> None:
        self.thread.join(timeout=REVIEW_TIMEOUT + 10)
        assert not self.thread.is_alive(), "the request did not end"


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Check that ``response`` is a problem document with ``status`` and ``code`` and a Chinese detail; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, Any] = response.json()
    assert document["code"] == code
    assert any("\u4e00" <= character <= "\u9fff" for character in document["detail"]), document
    assert document["detail_en"], document
    assert document["request_id"], document
    return document


# --- a server killed during a review batch ---


# The launcher wraps RecordsMixin.set_record_status, which a review calls once per record
# inside its transaction. Call number SXPT_TEST_STALL_CALL writes the number of records
# updated so far to the marker file and then sleeps until the test kills the process.
REVIEW_LAUNCHER = '''
import os
import sys
import time
from pathlib import Path

from sxpt_server.store import sql_records

MARKER = Path(os.environ["SXPT_TEST_MARKER"])
STALL_CALL = int(os.environ["SXPT_TEST_STALL_CALL"])
original_set_record_status = sql_records.RecordsMixin.set_record_status
calls = 0


def stalling_set_record_status(self, record_id, **changes):
    global calls
    calls += 1
    if calls == STALL_CALL:
        MARKER.write_text(str(calls - 1), encoding="utf-8")
        time.sleep(120)
    return original_set_record_status(self, record_id, **changes)


sql_records.RecordsMixin.set_record_status = stalling_set_record_status

from sxpt_server.cli import main

sys.exit(main(["serve", "--host", "127.0.0.1", "--port", sys.argv[1], "--threads", "2"], prog_name="sxpt-server"))
'''


def review_launcher(tmp_path: Path) -> list[str]:
    """Write the stalling review launcher and return the command that runs it (the port follows)."""
    path = tmp_path / "stalling_review_server.py"
    path.write_text(REVIEW_LAUNCHER, encoding="utf-8")
    return [sys.executable, str(path)]


def records_awaiting_review(base_url: str, access: SchoolAccess, environment: dict[str, str], database: Path,
                            first: int) -> list[int]:
    """Upload REVIEW_ROWS records, verify their units with ``worker --once`` and return their ids (all 待审核)."""
    uploaded = upload(base_url, access.key, batch_rows(first, REVIEW_ROWS))
    assert uploaded.status_code == 201, uploaded.text
    verified = run_command(environment, "worker", "--once")
    assert verified.returncode == 0, verified.stderr
    ids = [record_id for (record_id,) in query(database, "SELECT id FROM records WHERE state = '待审核' ORDER BY id")]
    assert len(ids) == REVIEW_ROWS
    return ids


def approve(base_url: str, access: SchoolAccess, ids: list[int]) -> Any:
    """Approve the records ``ids`` in one review request of the logged-in school user."""
    cookie = "; ".join(f"{name}={value}" for name, value in access.cookies.items())
    return httpx.post(f"{base_url}/api/v1/review", json={"action": "approve", "records": ids},
                      headers={"Cookie": cookie}, timeout=REVIEW_TIMEOUT)


def review_snapshot(database: Path, ids: list[int]) -> dict[str, int]:
    """Count the records ``ids`` by state, those whose current version is approved, and their approval audit entries."""
    marks = ", ".join("?" * len(ids))
    snapshot = {f"state {state}": count for state, count in query(
        database, f"SELECT state, COUNT(*) FROM records WHERE id IN ({marks}) GROUP BY state", tuple(ids))}
    [(approved,)] = query(database, f"SELECT COUNT(*) FROM records WHERE id IN ({marks}) "
                                    "AND approved_version = current_version", tuple(ids))
    [(entries,)] = query(database, f"SELECT COUNT(*) FROM audit_log WHERE event = 'record_approve' "
                                   f"AND target IN ({marks})", tuple(f"record:{record_id}" for record_id in ids))
    return {**snapshot, "approved versions": approved, "approval audit entries": entries}


def unreviewed(count: int) -> dict[str, int]:
    return {"state 待审核": count, "approved versions": 0, "approval audit entries": 0}


def approved(count: int) -> dict[str, int]:
    return {"state 审核通过": count, "approved versions": count, "approval audit entries": count}


def assert_already_reviewed(response: Any, first_id: int) -> None:
    """A second approval of approved records is rejected with a Chinese sentence naming the first record."""
    document = assert_problem(response, 409, "SXPT-REVIEW-STATE")
    assert document["detail"].startswith(f"记录 {first_id}：")


def test_review_kill_inside_transaction(tmp_path: Path) -> None:
    """SIGKILL inside a review's transaction changes no record; a new server then accepts the same review."""
    instance = make_instance(tmp_path)
    marker = tmp_path / "stalled"
    environment = server_environment(instance, SXPT_TEST_MARKER=str(marker),
                                     SXPT_TEST_STALL_CALL=str(STALL_AFTER_UPDATES + 1))
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"

    with running(plain_server(), environment, log_path) as (_process, base_url):
        access = log_in_school(base_url, instance)
        ids = records_awaiting_review(base_url, access, environment, database, 1)
    before = review_snapshot(database, ids)
    assert before == unreviewed(REVIEW_ROWS)

    with running(review_launcher(tmp_path), environment, log_path) as (process, base_url):
        request = RequestInBackground(lambda: approve(base_url, access, ids))
        wait_for(marker, MARKER_TIMEOUT)
        assert marker.read_text(encoding="utf-8") == str(STALL_AFTER_UPDATES)
        # The updates so far are inside the open transaction, so another connection does not see them.
        assert review_snapshot(database, ids) == before
        kill(process)
        request.join()
    assert request.response is None, "the review got a response although its server was killed"
    assert isinstance(request.error, httpx.TransportError)

    assert integrity(database) == "ok"
    assert review_snapshot(database, ids) == before

    with running(plain_server(), environment, log_path) as (_process, base_url):
        accepted = approve(base_url, access, ids)
        repeated = approve(base_url, access, ids)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["records"] == ids
    assert review_snapshot(database, ids) == approved(REVIEW_ROWS)
    assert_already_reviewed(repeated, ids[0])
    assert integrity(database) == "ok"


def test_review_random_kill_all_or_nothing(tmp_path: Path) -> None:
    """SIGKILL at random moments of a review leaves all of its transitions or none; the retry then gets a clear response."""
    instance = make_instance(tmp_path)
    environment = server_environment(instance)
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"
    seed = random.randrange(2**32)
    chooser = random.Random(seed)

    # The first review measures how long one takes on this machine, so the kills land inside one.
    with running(plain_server(), environment, log_path) as (_process, base_url):
        access = log_in_school(base_url, instance)
        ids = records_awaiting_review(base_url, access, environment, database, 1)
        started = time.monotonic()
        measured = approve(base_url, access, ids)
        duration = time.monotonic() - started
    assert measured.status_code == 200, measured.text

    for round_number in range(REVIEW_KILL_ROUNDS):
        delay = chooser.uniform(0.2, 1.1) * duration
        with running(plain_server(), environment, log_path) as (process, base_url):
            ids = records_awaiting_review(base_url, access, environment, database, (round_number + 1) * REVIEW_ROWS + 1)
            request = RequestInBackground(lambda: approve(base_url, access, ids))  # noqa: B023 (joined in this round)
            time.sleep(delay)
            kill(process)
            request.join()
        after = review_snapshot(database, ids)
        context = f"seed {seed}, round {round_number}, kill after {delay:.2f} s of a {duration:.2f} s review"
        assert integrity(database) == "ok", context
        assert after in (unreviewed(REVIEW_ROWS), approved(REVIEW_ROWS)), context
        if after == unreviewed(REVIEW_ROWS):
            assert request.response is None, context

        with running(plain_server(), environment, log_path) as (_process, base_url):
            retried = approve(base_url, access, ids)
        if after == unreviewed(REVIEW_ROWS):
            assert retried.status_code == 200, f"{context}: {retried.text}"
        else:
            assert_already_reviewed(retried, ids[0])
        assert review_snapshot(database, ids) == approved(REVIEW_ROWS), context


# --- the unit worker killed, and verifiers that fail ---


def unit_settings(url: str, **settings: Any) -> dict[str, Any]:
    """Return the settings of the HTTP verifier at ``url``, with ``settings`` overriding the defaults here."""
    return {"UNIT_VERIFIER": "http", "UNIT_HTTP_URL": url, "UNIT_CLAIM_SECONDS": CLAIM_SECONDS,
            "UNIT_RETRY_BASE_SECONDS": RETRY_BASE_SECONDS, "UNIT_RETRY_MAX_SECONDS": 16 * RETRY_BASE_SECONDS,
            "UNIT_WORKER_INTERVAL": 0.2, **settings}


def run_worker_once(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = run_command(environment, "worker", "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def worker_summary(finished: int, passed: int, failed: int, postponed: int, waiting: int) -> str:
    """Return the Chinese summary line that ``worker --once`` prints."""
    return (f"已校验 {finished} 个实习单位（通过 {passed}，不通过 {failed}），"
            f"{postponed} 个暂时无法校验、稍后重试；共有 {waiting} 个待校验。")


def api_get(base_url: str, key: str, path: str) -> Any:
    response = httpx.get(f"{base_url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def test_worker_kill_mid_run(tmp_path: Path, verification_service: LocalService) -> None:
    """SIGKILL of a worker waiting on the verifier loses no check: after the claim lease another run finishes them."""
    verification_service.hold_after = 2
    instance = make_instance(tmp_path, **unit_settings(verification_service.url, UNIT_HTTP_TIMEOUT=HOLD_SECONDS))
    environment = server_environment(instance)
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"
    with running(plain_server(), environment, log_path) as (_process, base_url):
        access = log_in_school(base_url, instance)
        uploaded = upload(base_url, access.key, batch_rows(1, UNIT_ROWS))
    assert uploaded.status_code == 201, uploaded.text
    assert record_states(database) == {"待校验": UNIT_ROWS}

    # The worker verifies two units, then waits on the service for the third until it is killed.
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w", encoding="utf-8") as log:
        worker = subprocess.Popen([*server_command(), "worker"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert verification_service.request_held.wait(START_TIMEOUT), worker_log.read_text(encoding="utf-8")
        kill(worker)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=STOP_TIMEOUT)
        verification_service.release.set()

    checks = query(database, "SELECT state, attempts, claimed_until FROM unit_checks")
    unfinished = [(attempts, claimed_until) for state, attempts, claimed_until in checks if state == "未校验"]
    assert Counter(state for state, _, _ in checks) == {"校验通过": 2, "未校验": UNIT_COUNT - 2}
    assert all(attempts == 0 for attempts, _ in unfinished)
    assert all(datetime.datetime.fromisoformat(until) > server_time(instance) for _, until in unfinished)
    assert record_states(database) == {"待审核": 2 * UNIT_ROWS // UNIT_COUNT, "待校验": 3 * UNIT_ROWS // UNIT_COUNT}
    assert audit_count(database, "unit_checked") == 2
    assert integrity(database) == "ok"

    # While the killed worker's claim lasts, another run leaves its checks alone and reports them as waiting.
    verification_service.recover()
    during_lease = run_worker_once(environment)
    assert worker_summary(0, 0, 0, 0, UNIT_COUNT - 2) in during_lease.stdout
    assert len(verification_service.bodies) == 3

    advance_clock(instance, CLAIM_SECONDS + 1)
    after_lease = run_worker_once(environment)
    assert worker_summary(UNIT_COUNT - 2, UNIT_COUNT - 2, 0, 0, 0) in after_lease.stdout
    assert len(verification_service.bodies) == 3 + UNIT_COUNT - 2
    assert record_states(database) == {"待审核": UNIT_ROWS}
    assert audit_count(database, "unit_checked") == UNIT_COUNT
    assert query(database, "SELECT COUNT(*) FROM unit_checks WHERE claimed_until IS NOT NULL") == [(0,)]
    assert integrity(database) == "ok"


VERIFIER_FAULTS = {
    "timeout": f"the verification service timed out after {VERIFIER_TIMEOUT:g} s",
    "error": "the verification service returned HTTP 500",
    "garbage": "the verification service's response is not valid JSON",
    "refused": "the verification service could not be reached",
}


@pytest.mark.parametrize("fault", sorted(VERIFIER_FAULTS))
def test_verifier_fault_retried(tmp_path: Path, verification_service: LocalService, fault: str) -> None:
    """A verifier that times out, returns 500 or garbage, or refuses connections is retried with back-off, and records keep waiting."""
    instance = make_instance(tmp_path, **unit_settings(verification_service.url, UNIT_HTTP_TIMEOUT=VERIFIER_TIMEOUT))
    environment = server_environment(instance)
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"
    rows = 2 * UNIT_COUNT

    with running(plain_server(), environment, log_path) as (_process, base_url):
        access = log_in_school(base_url, instance)
        uploaded = upload(base_url, access.key, batch_rows(1, rows))
        assert uploaded.status_code == 201, uploaded.text
        break_service(verification_service, fault)

        for attempt in (1, 2):
            delay = datetime.timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (attempt - 1))
            started = server_time(instance)
            failed = run_worker_once(environment)
            finished = server_time(instance)
            assert worker_summary(0, 0, 0, UNIT_COUNT, UNIT_COUNT) in failed.stdout
            # The worker's log names the failure and the check ids, never a unit name.
            assert VERIFIER_FAULTS[fault] in failed.stderr
            assert "杭州示例科技有限公司" not in failed.stderr

            checks = api_get(base_url, access.key, "/api/v1/unit-checks")["checks"]
            assert len(checks) == UNIT_COUNT
            for check in checks:
                assert check["state"] == "未校验"
                assert check["reason"] is None
                assert check["attempts"] == attempt
                assert check["last_error"].startswith(VERIFIER_FAULTS[fault])
                next_attempt = datetime.datetime.fromisoformat(check["next_attempt_at"])
                assert started + delay <= next_attempt <= finished + delay
            records = api_get(base_url, access.key, f"/api/v1/records?limit={rows}")["records"]
            assert [record["state"] for record in records] == ["待校验"] * rows
            assert all(record["unit_check"]["state"] == "未校验" for record in records)
            assert not [issue for record in records for issue in record["issues"]
                        if issue["code"] == UNIT_VERIFY_FAILED.code]

            # Before the delay has passed, no check is due, so another run does not try again.
            early = run_worker_once(environment)
            assert worker_summary(0, 0, 0, 0, UNIT_COUNT) in early.stdout
            advance_clock(instance, delay.total_seconds() + 1)

        verification_service.recover()
        recovered = run_worker_once(environment)
        checks = api_get(base_url, access.key, "/api/v1/unit-checks")["checks"]
        records = api_get(base_url, access.key, f"/api/v1/records?limit={rows}")["records"]
    assert worker_summary(UNIT_COUNT, UNIT_COUNT, 0, 0, 0) in recovered.stdout
    assert [check["state"] for check in checks] == ["校验通过"] * UNIT_COUNT
    assert [check["last_error"] for check in checks] == [None] * UNIT_COUNT
    assert [record["state"] for record in records] == ["待审核"] * rows
    assert audit_count(database, "unit_checked") == UNIT_COUNT
    assert integrity(database) == "ok"


# --- the SMS gateway failing ---


def assert_sms_failed(response: Any) -> None:
    document = assert_problem(response, 502, "SXPT-SMS-FAILED")
    assert document["detail"].startswith("短信发送失败")


def assert_code_missing(response: Any, detail: str) -> None:
    document = assert_problem(response, 400, "SXPT-AUTH-CODE-MISSING")
    assert document["detail"] == detail


@pytest.mark.parametrize("fault", ["error", "timeout", "refused"])
def test_sms_gateway_fault(tmp_path: Path, sms_provider: LocalService, fault: str) -> None:
    """A failing SMS provider gives a Chinese 502, leaves no code that works, logs no secret, and the retry works.

    When the provider times out it may still deliver the SMS later. The server has
    already returned 502 and deleted that code, so a code that arrives late is rejected
    with "请先获取短信验证码", and the user requests a new one.
    """
    instance = make_instance(tmp_path, SMS_GATEWAY="http", SMS_HTTP_URL=sms_provider.url,
                             SMS_HTTP_TEMPLATE=SMS_TEMPLATE, SMS_HTTP_TIMEOUT=SMS_TIMEOUT,
                             SMS_HTTP_HEADERS={"Authorization": f"Bearer {SMS_TOKEN}"})
    environment = server_environment(instance)
    bootstrap(environment)
    [activation] = sms_provider.messages()
    school = activation["account"]
    database = instance / "sxpt.sqlite3"
    log_path = tmp_path / "server.log"
    login = {"account": school, "password": PASSWORD}

    with running(plain_server(), environment, log_path) as (_process, base_url), \
            httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        activated = client.post("/api/v1/auth/activate", json={**login, "code": activation["code"]})
        assert activated.status_code == 200, activated.text
        advance_clock(instance, 61)
        assert client.post("/api/v1/auth/code", json=login).status_code == 200
        logged_in = client.post("/api/v1/auth/login", json={**login, "code": sms_provider.messages()[-1]["code"]})
        assert logged_in.status_code == 200, logged_in.text
        added = client.post(f"/api/v1/schools/{SCHOOL}/departments", json={"name": DEPARTMENT_0})
        assert added.status_code == 201, added.text
        advance_clock(instance, 61)

        # A login code that cannot be sent: a clear 502 in bounded time, and the code the provider saw does not work.
        break_service(sms_provider, fault)
        received = len(sms_provider.bodies)
        started = time.monotonic()
        failed_login_code = httpx.post(f"{base_url}/api/v1/auth/code", json=login, timeout=REQUEST_TIMEOUT)
        assert time.monotonic() - started < SMS_TIMEOUT + 5
        assert_sms_failed(failed_login_code)
        unsent = [message["code"] for message in sms_provider.messages(received)] or ["000000"]
        for code in unsent:
            rejected = httpx.post(f"{base_url}/api/v1/auth/login", json={**login, "code": code}, timeout=REQUEST_TIMEOUT)
            assert_code_missing(rejected, "请先获取短信验证码。")

        # A new account whose activation SMS cannot be sent is created, and the response reports the failed SMS.
        received = len(sms_provider.bodies)
        created = client.post("/api/v1/accounts",
                              json={"level": "department", "department": DEPARTMENT_0, "phone": DEPARTMENT_PHONE})
        assert created.status_code == 201, created.text
        department = created.json()["name"]
        outcome = created.json()["activation"]
        assert outcome["sent"] is False
        assert outcome["code"] == "SXPT-SMS-FAILED"
        assert outcome["detail"].startswith("短信发送失败")
        resent = client.post(f"/api/v1/accounts/{department}/activation")
        assert_sms_failed(resent)
        unsent = [message["code"] for message in sms_provider.messages(received)] or ["000000"]
        for code in unsent:
            rejected = httpx.post(f"{base_url}/api/v1/auth/activate", timeout=REQUEST_TIMEOUT,
                                  json={"account": department, "code": code, "password": PASSWORD})
            assert_code_missing(rejected, "该账号没有待使用的激活码，请联系上级用户重新发送激活短信。")

        # Once the provider works again, the same requests succeed at once: failed sends use up no send interval.
        sms_provider.recover()
        resent = client.post(f"/api/v1/accounts/{department}/activation")
        assert resent.status_code == 200, resent.text
        department_code = sms_provider.messages()[-1]["code"]
        activated = httpx.post(f"{base_url}/api/v1/auth/activate", timeout=REQUEST_TIMEOUT,
                               json={"account": department, "code": department_code, "password": PASSWORD})
        assert activated.status_code == 200, activated.text
        sent = httpx.post(f"{base_url}/api/v1/auth/code", json=login, timeout=REQUEST_TIMEOUT)
        assert sent.status_code == 200, sent.text
        logged_in = httpx.post(f"{base_url}/api/v1/auth/login", timeout=REQUEST_TIMEOUT,
                               json={**login, "code": sms_provider.messages()[-1]["code"]})
        assert logged_in.status_code == 200, logged_in.text

    log = log_path.read_text(encoding="utf-8")
    audit_text = json.dumps(query(database, "SELECT * FROM audit_log"), ensure_ascii=False)
    codes = [message["code"] for message in sms_provider.messages()]
    assert "SMS gateway failed for 139****0077 (login" in log
    assert "SMS gateway failed for 139****0088 (activation" in log
    assert audit_count(database, "sms_failed") == 3
    for secret in (SMS_TOKEN, PASSWORD, PHONE, DEPARTMENT_PHONE, *codes):
        assert secret not in log
        assert secret not in audit_text


# --- a full disk ---


def assert_storage_full(response: Any) -> None:
    """Check that the response to a write that does not fit states that the storage is full and nothing was saved."""
    document = assert_problem(response, 500, "SXPT-INTERNAL")
    assert "存储空间" in document["detail"]
    assert "没有保存" in document["detail"]
    assert "storage" in document["detail_en"]


def test_storage_problem_follows_context(app: Flask) -> None:
    """A failed ROLLBACK raised while handling a full disk gives the storage problem; other errors give none."""
    # SQLite rolls back by itself after SQLITE_FULL, so the store's own ROLLBACK raises while handling it.
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.OperationalError as error:
        rollback_error = error
    with app.test_request_context():
        full = storage_problem(rollback_error)
        no_space = storage_problem(OSError(errno.ENOSPC, "No space left on device"))
        input_output = storage_problem(sqlite3.OperationalError("disk I/O error"))
        unrelated = storage_problem(sqlite3.OperationalError("no such table: records"))
    assert full is not None
    assert full.detail.startswith("服务器存储空间已满")
    assert no_space is not None
    assert no_space.detail == full.detail
    assert input_output is not None
    assert input_output.detail.startswith("服务器写入存储时出错")
    assert unrelated is None


def fill_disk(path: Path, *, keep: int) -> None:
    """Write a file at ``path`` that leaves about ``keep`` bytes free on its file system."""
    status = os.statvfs(path.parent)
    remaining = status.f_bavail * status.f_frsize - keep
    chunk = b"\0" * (1024 * 1024)
    with path.open("wb") as file:
        try:
            while remaining > 0:
                written = file.write(chunk[:remaining])
                remaining -= written
                file.flush()
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a tmpfs of SMALL_DISK_MEGABYTES under ``tmp_path``; skip where this process may not mount one."""
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_MEGABYTES}m,mode=0700", "tmpfs", str(mountpoint)],
            capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        pytest.skip("the mount command is not installed")
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs failed: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        unmounted = subprocess.run(["umount", str(mountpoint)], capture_output=True, text=True, timeout=30,
                                   check=False)
        assert unmounted.returncode == 0, unmounted.stderr


def test_upload_disk_full(tmp_path: Path, small_disk: Path) -> None:
    """An upload that does not fit on a full disk gets a clear error and stores nothing; after space is freed it works."""
    instance = make_instance(tmp_path)
    database = small_disk / "sxpt.sqlite3"
    environment = server_environment(instance, SXPT_DATABASE=str(database))
    bootstrap(environment)
    log_path = tmp_path / "server.log"
    rows = batch_rows(1)

    with running(plain_server(), environment, log_path) as (_process, base_url):
        key = issue_api_key(base_url, instance)
        filler = small_disk / "filler"
        fill_disk(filler, keep=FREE_BYTES_LEFT)
        before = table_counts(database)

        started = time.monotonic()
        rejected = upload(base_url, key, rows)
        assert time.monotonic() - started < REVIEW_TIMEOUT
        assert_storage_full(rejected)
        assert integrity(database) == "ok"
        assert table_counts(database) == before
        # Reading works on the full disk.
        assert api_get(base_url, key, "/api/v1/batches")["batches"] == []

        filler.unlink()
        assert_accepts_in_full(base_url, key, rows, database)
    assert integrity(database) == "ok"
    log = log_path.read_text(encoding="utf-8")
    assert "Traceback" not in log


# The launcher limits the size of every file that the server writes to SXPT_TEST_FILE_SIZE_LIMIT
# bytes. SIGXFSZ is ignored, so a write past the limit fails with EFBIG instead of killing the process.
LIMITED_LAUNCHER = '''
import os
import resource
import signal
import sys

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(os.environ["SXPT_TEST_FILE_SIZE_LIMIT"])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

from sxpt_server.cli import main

sys.exit(main(["serve", "--host", "127.0.0.1", "--port", sys.argv[1], "--threads", "2"], prog_name="sxpt-server"))
'''


def start_limited_server(tmp_path: Path, environment: dict[str, str], limit: int,
                         log_path: Path) -> Any:
    """Return the context of a server whose files may not grow past ``limit`` bytes."""
    launcher = tmp_path / "limited_server.py"
    launcher.write_text(LIMITED_LAUNCHER, encoding="utf-8")
    return running([sys.executable, str(launcher)], {**environment, "SXPT_TEST_FILE_SIZE_LIMIT": str(limit)},
                   log_path)


def test_upload_file_size_limit(tmp_path: Path) -> None:
    """An upload that would grow the database past the file size limit gets a clear error and stores nothing."""
    instance = make_instance(tmp_path)
    environment = server_environment(instance)
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    rows = batch_rows(1, IN_MEMORY_ROWS)
    with running(plain_server(), environment, tmp_path / "server.log") as (_process, base_url):
        key = issue_api_key(base_url, instance)

    largest = max(path.stat().st_size for path in instance.glob("sxpt.sqlite3*"))
    limited_log = tmp_path / "limited.log"
    with start_limited_server(tmp_path, environment, largest + FILE_SIZE_HEADROOM, limited_log) as (_process,
                                                                                                    base_url):
        before = table_counts(database)
        rejected = upload(base_url, key, rows)
        assert_storage_full(rejected)
        assert integrity(database) == "ok"
        assert table_counts(database) == before
        assert api_get(base_url, key, "/api/v1/batches")["batches"] == []
    assert "Traceback" not in limited_log.read_text(encoding="utf-8")

    with running(plain_server(), environment, tmp_path / "server.log") as (_process, base_url):
        assert_accepts_in_full(base_url, key, rows, database)
    assert integrity(database) == "ok"


@pytest.mark.xfail(strict=True, raises=httpx.TransportError,
                   reason="waitress writes a request body over 512 KiB to a temporary file before the app runs; "
                          "when that write fails it closes the connection without any response")
def test_upload_body_over_file_size_limit(tmp_path: Path) -> None:
    """An upload whose body cannot be buffered on a full disk gets a clear error, not a closed connection."""
    instance = make_instance(tmp_path)
    environment = server_environment(instance)
    bootstrap(environment)
    database = instance / "sxpt.sqlite3"
    with running(plain_server(), environment, tmp_path / "server.log") as (_process, base_url):
        key = issue_api_key(base_url, instance)

    largest = max(path.stat().st_size for path in instance.glob("sxpt.sqlite3*"))
    with start_limited_server(tmp_path, environment, largest + FILE_SIZE_HEADROOM, tmp_path / "limited.log") as (
            _process, base_url):
        before = table_counts(database)
        rejected = upload(base_url, key, batch_rows(1))
        assert_storage_full(rejected)
        assert table_counts(database) == before


def test_upload_while_database_locked(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that waits out the busy timeout gets 503 SXPT-BUSY with Retry-After, and stores nothing."""
    from sxpt_server.store import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 200)
    locker = sqlite3.connect(Path(world.app.instance_path) / "sxpt.sqlite3", isolation_level=None)
    client = world.client("dept0")
    try:
        locker.execute("BEGIN IMMEDIATE")
        busy = upload_json(client, [record(1)])
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    document = busy.get_json()
    assert busy.status_code == 503
    assert document["code"] == "SXPT-BUSY"
    assert "秒后重试" in document["detail"]
    assert busy.headers["Retry-After"] == str(document["retry_after"])
    assert client.get("/api/v1/records").get_json()["records"] == []
    assert upload_json(client, [record(1)]).status_code == 201


def test_page_while_database_locked(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose request cannot write returns 503 with the busy message, not the generic error."""
    from sxpt_server.store import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 200)
    locker = sqlite3.connect(Path(world.app.instance_path) / "sxpt.sqlite3", isolation_level=None)
    client = world.client("dept0")
    try:
        locker.execute("BEGIN IMMEDIATE")
        busy = client.get("/", headers={"Accept": "text/html"})
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert busy.status_code == 503
    assert "秒后重试" in busy.get_data(as_text=True)
