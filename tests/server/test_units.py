"""Unit verification: the verifiers, the queue, the worker, its command and the unit-check API.

Every unit here is invented: the names are made up and the codes are built from made-up
17-character prefixes with the check character that sxpt_core computes.
"""

from __future__ import annotations

import datetime
import http.server
import json
import logging
import os
import re
import signal
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from sxpt_core.codes import uscc
from sxpt_core.errors import ConfigError
from sxpt_server import create_app, units
from sxpt_server.config import DEFAULTS
from sxpt_server.store import School, Store, get_store, open_store
from sxpt_server.store.records import RecordWrite
from sxpt_server.units import (
    CodeOnlyVerifier,
    DirectoryError,
    DirectoryVerifier,
    HttpVerifier,
    Verdict,
    VerifierUnavailable,
    WorkerSettings,
)
from tests.server.support import CITY, DEPARTMENTS, OTHER_SCHOOL, PROVINCE, SCHOOL, SCHOOL_USCC, Clock, World

# Every test that uses the app runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True

UNCHECKED, PASSED, FAILED = "未校验", "校验通过", "校验不通过"


def make_code(serial: int) -> str:
    """Return a valid, invented credit code: a made-up prefix and its computed check character."""
    prefix = f"913301060000{serial:05d}"
    return prefix + uscc.calc_check_character(prefix)


CODE_A = make_code(1)
CODE_B = make_code(2)
CODE_C = make_code(3)
CODE_ABSENT = make_code(4)
# CODE_A with another check character.
CODE_WRONG = CODE_A[:17] + ("0" if CODE_A[17] != "0" else "1")
NAME_A = "东海示例科技（杭州）有限公司"
NAME_B = "西岭测试机械有限公司"
NAME_C = "南湖样例软件有限公司"

SETTINGS = WorkerSettings(
    claim=datetime.timedelta(minutes=15),
    retry_base=datetime.timedelta(minutes=1),
    retry_max=datetime.timedelta(minutes=10),
    batch=50,
    interval=0.05,
)


def write_directory(path: Path, rows: list[tuple[str, str]], *, header: tuple[str, str] = ("统一社会信用代码", "单位名称"),
                    encoding: str = "utf-8-sig") -> Path:
    lines = [",".join(header)] + [f"{code},{name}" for code, name in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def directory(tmp_path: Path) -> DirectoryVerifier:
    path = write_directory(tmp_path / "units.csv", [(CODE_A, NAME_A), (CODE_B, NAME_B), (CODE_C, NAME_C)])
    return DirectoryVerifier.from_file(path)


class FixedVerifier:
    """A verifier that gives the same verdict for every unit and counts its calls."""

    name = "fixed"

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.calls: list[tuple[str, str]] = []

    def verify(self, code: str, name: str) -> Verdict:
        self.calls.append((code, name))
        return self.verdict


class RaisingVerifier:
    """A verifier that raises ``error`` for every unit."""

    name = "raising"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def verify(self, code: str, name: str) -> Verdict:
        self.calls += 1
        raise self.error


def add_school(store: Store, code: str = SCHOOL, uscc_code: str = SCHOOL_USCC) -> None:
    now = datetime.datetime(2025, 10, 1, tzinfo=datetime.timezone.utc)
    if store.get_province(PROVINCE) is None:
        store.add_province(PROVINCE, "浙江省", now=now)
    store.add_school(School(code=code, province=PROVINCE, name=f"东海理工大学{code[-1]}", uscc=uscc_code, city=CITY,
                            created_at=now))


def add_record(store: Store, now: datetime.datetime, *, key: str, code: str, name: str, school: str = SCHOOL,
               department: str = DEPARTMENTS[0]) -> int:
    """Store a record waiting on its unit (待校验) and queue the unit's check; return the record id."""
    write = RecordWrite(
        record_id=None, province=PROVINCE, school=school, department=department, natural_key=key, state="待校验",
        student_id=f"S{key}", course_code="C001", unit_code=code, unit_name=name, reporting_month="2025-10",
        cells={"实习单位统一社会信用代码": code, "实习单位名称": name}, issues=[], digest=f"digest-{key}",
    )
    [record_id] = store.write_records([write], batch_id=None, actor="test", now=now)
    store.ensure_unit_checks([(code, name)], now=now)
    return record_id


def record_state(store: Store, record_id: int) -> str:
    record = store.get_record(record_id)
    assert record is not None
    return record.state


def check_of(store: Store, code: str, name: str) -> Any:
    return store.unit_checks_for([(code, name)])[(code, name)]


# --- CodeOnlyVerifier ---


def test_code_verifier_passes_valid_code() -> None:
    """A well-formed code passes whatever the name."""
    assert CodeOnlyVerifier().verify(CODE_A, "任意名称") == Verdict(True)


def test_code_verifier_accepts_lower_case() -> None:
    """Lower case and spaces are normalised before the check, as the rules do."""
    assert CodeOnlyVerifier().verify(" " + CODE_A.lower(), NAME_A).passed


def test_code_verifier_fails_check_character() -> None:
    """A wrong check character fails with the rule's message in both languages."""
    verdict = CodeOnlyVerifier().verify(CODE_WRONG, NAME_A)
    assert not verdict.passed
    assert verdict.reason is not None and "校验码" in verdict.reason
    assert verdict.reason_en is not None and "check character" in verdict.reason_en


def test_code_verifier_fails_old_identifier() -> None:
    """A 15-digit registration number is not a credit code."""
    verdict = CodeOnlyVerifier().verify("330106000123456", NAME_A)
    assert not verdict.passed
    assert verdict.reason is not None and "工商注册号" in verdict.reason


# --- DirectoryVerifier ---


def test_directory_match(directory: DirectoryVerifier) -> None:
    """A listed code with its registered name passes."""
    assert directory.verify(CODE_B, NAME_B) == Verdict(True)


def test_directory_full_width_brackets(directory: DirectoryVerifier) -> None:
    """Half-width brackets and spaces match the registered full-width form."""
    assert directory.verify(CODE_A, "东海示例科技 (杭州) 有限公司").passed
    assert directory.verify(CODE_A.lower(), "东海示例科技（杭州）有限公司").passed


def test_directory_name_mismatch(directory: DirectoryVerifier) -> None:
    """Another name fails with a reason naming the registered name."""
    verdict = directory.verify(CODE_A, "东海示例科技有限公司")
    assert not verdict.passed
    assert verdict.reason is not None and NAME_A in verdict.reason
    assert verdict.reason_en is not None and NAME_A in verdict.reason_en


def test_directory_absent_code(directory: DirectoryVerifier) -> None:
    """A code that the directory does not list fails."""
    verdict = directory.verify(CODE_ABSENT, NAME_A)
    assert not verdict.passed
    assert verdict.reason is not None and "名录中没有该统一社会信用代码" in verdict.reason


def test_directory_english_headers_gb18030(tmp_path: Path) -> None:
    """A GB18030 file with the headers code and name is read."""
    path = write_directory(tmp_path / "units.csv", [(CODE_C, NAME_C)], header=("Code", "name"), encoding="gb18030")
    assert DirectoryVerifier.from_file(path).verify(CODE_C, NAME_C).passed


def test_directory_utf8_without_bom(tmp_path: Path) -> None:
    """A UTF-8 file without BOM, with extra columns and blank lines, is read."""
    path = tmp_path / "units.csv"
    path.write_text(f"序号,单位名称,统一社会信用代码\n\n1,{NAME_B},{CODE_B}\n", encoding="utf-8")
    assert DirectoryVerifier.from_file(path).entries == {CODE_B: NAME_B}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"统一社会信用代码,单位名称\n{CODE_A},{NAME_A}\n{CODE_WRONG},{NAME_B}\n", "第 3 行"),
        (f"代码,名称\n{CODE_A},{NAME_A}\n", "第 1 行"),
        (f"统一社会信用代码,单位名称\n{CODE_A},\n", "第 2 行：缺少单位名称"),
        (f"统一社会信用代码,单位名称\n{CODE_A},{NAME_A}\n\n{CODE_A},{NAME_B}\n", "第 4 行"),
        ("统一社会信用代码,单位名称\n", "没有任何单位"),
    ],
    ids=["invalid-code", "no-header", "blank-name", "two-names", "empty"],
)
def test_directory_bad_file(tmp_path: Path, content: str, expected: str) -> None:
    """An invalid directory raises an error that names the line."""
    path = tmp_path / "units.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        DirectoryVerifier.from_file(path)
    assert expected in caught.value.message
    assert str(path) in caught.value.message_en


def test_directory_invalid_code_reason(tmp_path: Path) -> None:
    """The invalid-code error names the rule that the code breaks."""
    path = tmp_path / "units.csv"
    path.write_text(f"统一社会信用代码,单位名称\n{CODE_WRONG},{NAME_A}\n", encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        DirectoryVerifier.from_file(path)
    assert "校验码" in caught.value.message


def test_directory_missing_file(tmp_path: Path) -> None:
    """A missing file raises an error that names the file and the setting."""
    with pytest.raises(DirectoryError) as caught:
        DirectoryVerifier.from_file(tmp_path / "absent.csv")
    assert "UNIT_DIRECTORY" in caught.value.message


def test_directory_error_at_start_up(tmp_path: Path) -> None:
    """create_app fails when the configured directory has a bad line."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "units.csv").write_text(f"统一社会信用代码,单位名称\n{CODE_A},{NAME_A}\nXYZ,{NAME_B}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "UNIT_VERIFIER": "directory"})
    assert "第 3 行" in caught.value.message


def test_unknown_verifier_setting(tmp_path: Path) -> None:
    """An unknown UNIT_VERIFIER is rejected at start-up."""
    with pytest.raises(ConfigError):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "UNIT_VERIFIER": "registry"})


def test_http_verifier_needs_url(tmp_path: Path) -> None:
    """The http verifier without UNIT_HTTP_URL is rejected at start-up."""
    with pytest.raises(ConfigError) as caught:
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "UNIT_VERIFIER": "http"})
    assert "UNIT_HTTP_URL" in caught.value.message_en


# --- HttpVerifier against a local server ---


class _ServiceHandler(http.server.BaseHTTPRequestHandler):
    """Respond by path (/pass, /fail, /error, /slow, /malformed, /no-passed) and record every request."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.requests.append({"method": self.command, "path": url.path, "query": urllib.parse.parse_qs(url.query),
                              "body": body, "content_type": self.headers.get("Content-Type")})
        if url.path == "/pass":
            self._answer(200, b'{"passed": true}')
        elif url.path == "/fail":
            answer = {"passed": False, "reason": "单位已注销", "reason_en": "The unit is deregistered"}
            self._answer(200, json.dumps(answer, ensure_ascii=False).encode("utf-8"))
        elif url.path == "/error":
            self._answer(500, b'{"error": "internal"}')
        elif url.path == "/slow":
            time.sleep(1.0)
            try:
                self._answer(200, b'{"passed": true}')
            except OSError:
                pass  # the client gave up already
        elif url.path == "/malformed":
            self._answer(200, b"<html>not json</html>")
        elif url.path == "/no-passed":
            self._answer(200, b'{"result": "ok"}')
        else:
            self._answer(404, b"{}")

    do_GET = _handle
    do_POST = _handle


@pytest.fixture
def service() -> Iterator[str]:
    """Serve _ServiceHandler on 127.0.0.1 and return its base URL."""
    _ServiceHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ServiceHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_pass(service: str) -> None:
    """A passed response passes, and the request is a JSON POST with code and name."""
    verdict = HttpVerifier(service + "/pass", timeout=2).verify(CODE_A, NAME_A)
    sent = _ServiceHandler.requests[-1]
    assert verdict.passed
    assert sent["method"] == "POST"
    assert sent["content_type"].startswith("application/json")
    assert json.loads(sent["body"]) == {"code": CODE_A, "name": NAME_A}


def test_http_get_sends_query(service: str) -> None:
    """With GET, code and name travel as query parameters."""
    HttpVerifier(service + "/pass?key=1", method="get", timeout=2).verify(CODE_A, NAME_A)
    sent = _ServiceHandler.requests[-1]
    assert sent["method"] == "GET"
    assert sent["query"] == {"key": ["1"], "code": [CODE_A], "name": [NAME_A]}


def test_http_fail(service: str) -> None:
    """A failed response fails with the service's reasons."""
    verdict = HttpVerifier(service + "/fail", timeout=2).verify(CODE_A, NAME_A)
    assert verdict == Verdict(False, "单位已注销", "The unit is deregistered")


def test_http_server_error(service: str) -> None:
    """HTTP 500 means the service is unavailable."""
    with pytest.raises(VerifierUnavailable, match="HTTP 500"):
        HttpVerifier(service + "/error", timeout=2).verify(CODE_A, NAME_A)


def test_http_timeout(service: str) -> None:
    """A response slower than the timeout means the service is unavailable."""
    started = time.monotonic()
    with pytest.raises(VerifierUnavailable, match=re.escape("timed out after 0.2 s")):
        HttpVerifier(service + "/slow", timeout=0.2).verify(CODE_A, NAME_A)
    assert time.monotonic() - started < 0.9


def test_http_malformed_json(service: str) -> None:
    """A response that is not JSON is a temporary failure with a clear message."""
    with pytest.raises(VerifierUnavailable, match="not valid JSON"):
        HttpVerifier(service + "/malformed", timeout=2).verify(CODE_A, NAME_A)


def test_http_response_without_passed(service: str) -> None:
    """JSON without a boolean passed is a temporary failure."""
    with pytest.raises(VerifierUnavailable, match='"passed"'):
        HttpVerifier(service + "/no-passed", timeout=2).verify(CODE_A, NAME_A)


def test_http_connection_refused() -> None:
    """A port where nothing listens means the service is unavailable."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(VerifierUnavailable, match="could not be reached"):
        HttpVerifier(f"http://127.0.0.1:{port}/check", timeout=2).verify(CODE_A, NAME_A)


def test_http_url_must_be_http() -> None:
    """A URL without http:// or https:// is rejected."""
    with pytest.raises(ConfigError):
        HttpVerifier("ftp://127.0.0.1/check")


def test_http_malformed_sets_last_error(app: Flask, clock: Clock, service: str) -> None:
    """The worker stores a malformed response as the check's last error and keeps it unchecked."""
    with app.app_context():
        store = get_store()
        add_school(store)
        add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        finished = units.run_once(store, HttpVerifier(service + "/malformed", timeout=2), clock.now, settings=SETTINGS)
        check = check_of(store, CODE_A, NAME_A)
    assert finished == 0
    assert check.state == UNCHECKED
    assert check.attempts == 1
    assert "not valid JSON" in check.last_error


# --- back-off ---


def test_retry_delay_doubles_and_caps() -> None:
    """The delay doubles from the base and stops at the maximum."""
    base, maximum = datetime.timedelta(seconds=30), datetime.timedelta(minutes=5)
    delays = [units.retry_delay(attempt, base, maximum).total_seconds() for attempt in range(1, 8)]
    assert delays == [30, 60, 120, 240, 300, 300, 300]
    assert units.retry_delay(10_000, base, maximum) == maximum


def test_worker_backs_off(app: Flask, clock: Clock) -> None:
    """Each unavailable attempt postpones the check further, up to the maximum delay."""
    verifier = RaisingVerifier(VerifierUnavailable("the verification service returned HTTP 503"))
    gaps = []
    with app.app_context():
        store = get_store()
        add_school(store)
        add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        moment = clock.now
        for _attempt in range(6):
            assert units.run_once(store, verifier, moment, settings=SETTINGS) == 0
            check = check_of(store, CODE_A, NAME_A)
            gaps.append((check.next_attempt_at - moment).total_seconds())
            # Not due again before the delay has passed.
            assert units.process_batch(store, verifier, check.next_attempt_at - datetime.timedelta(seconds=1),
                                       SETTINGS).claimed == 0
            moment = check.next_attempt_at
        check = check_of(store, CODE_A, NAME_A)
    assert gaps == [60, 120, 240, 480, 600, 600]
    assert check.attempts == 6
    assert check.state == UNCHECKED
    assert check.last_error == "the verification service returned HTTP 503"
    assert verifier.calls == 6


def test_worker_settings_rejected() -> None:
    """A zero retry delay would make the queue spin, so it is rejected."""
    with pytest.raises(ConfigError):
        WorkerSettings.from_config({**DEFAULTS, "UNIT_RETRY_BASE_SECONDS": 0})
    with pytest.raises(ConfigError):
        WorkerSettings.from_config({**DEFAULTS, "UNIT_RETRY_MAX_SECONDS": 1, "UNIT_RETRY_BASE_SECONDS": 2})


# --- claims ---


def _queue_units(app: Flask, clock: Clock, count: int) -> None:
    with app.app_context():
        store = get_store()
        add_school(store)
        for index in range(count):
            add_record(store, clock.now, key=str(index), code=make_code(100 + index), name=f"示例单位{index}有限公司")


def test_two_claims_disjoint(app: Flask, clock: Clock) -> None:
    """Two stores claiming at the same moment never get the same check."""
    _queue_units(app, clock, 6)
    first, second = open_store(app), open_store(app)
    until = clock.now + datetime.timedelta(minutes=5)
    try:
        claimed_first = first.claim_unit_checks(now=clock.now, claimed_until=until, limit=4)
        claimed_second = second.claim_unit_checks(now=clock.now, claimed_until=until, limit=4)
        claimed_third = first.claim_unit_checks(now=clock.now, claimed_until=until, limit=4)
    finally:
        first.close()
        second.close()
    ids_first = {check.id for check in claimed_first}
    ids_second = {check.id for check in claimed_second}
    assert len(ids_first) == 4
    assert len(ids_second) == 2
    assert ids_first.isdisjoint(ids_second)
    assert claimed_third == []


def test_concurrent_claims_disjoint(app: Flask, clock: Clock) -> None:
    """Threads with their own connections claiming one at a time share the queue without overlap."""
    _queue_units(app, clock, 40)
    until = clock.now + datetime.timedelta(minutes=5)
    claimed_ids: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def claim_all(slot: int) -> None:
        store = open_store(app)
        try:
            start.wait()
            while claimed := store.claim_unit_checks(now=clock.now, claimed_until=until, limit=1):
                claimed_ids[slot].extend(check.id for check in claimed)
        finally:
            store.close()

    threads = [threading.Thread(target=claim_all, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [check_id for ids in claimed_ids for check_id in ids]
    assert len(every) == 40
    assert len(set(every)) == 40


def test_expired_claim_taken_over(app: Flask, clock: Clock) -> None:
    """After its lease a check is claimed again, and the first worker's late result is dropped."""
    _queue_units(app, clock, 1)
    with app.app_context():
        store = get_store()
        first_until = clock.now + datetime.timedelta(minutes=5)
        [check] = store.claim_unit_checks(now=clock.now, claimed_until=first_until, limit=10)
        assert store.claim_unit_checks(now=first_until - datetime.timedelta(seconds=1),
                                       claimed_until=first_until, limit=10) == []
        second_until = first_until + datetime.timedelta(minutes=5)
        [again] = store.claim_unit_checks(now=first_until, claimed_until=second_until, limit=10)
        late = store.finish_unit_check(check.id, claimed_until=first_until, state=FAILED, reason="x", verifier="a",
                                       now=first_until)
        current = store.finish_unit_check(check.id, claimed_until=second_until, state=PASSED, reason=None,
                                          verifier="b", now=first_until)
        stored = store.get_unit_check(check.id)
    assert again.id == check.id
    assert late is False
    assert current is True
    assert stored is not None
    assert stored.state == PASSED
    assert stored.verifier == "b"


def test_reset_only_failed(app: Flask, clock: Clock) -> None:
    """reset_unit_check puts a failed check back into the queue and leaves others alone."""
    _queue_units(app, clock, 1)
    with app.app_context():
        store = get_store()
        [check] = store.list_unit_checks()
        assert store.reset_unit_check(check.id, now=clock.now) is False
        units.run_once(store, FixedVerifier(Verdict.failed("不通过", "failed")), clock.now, settings=SETTINGS)
        assert store.count_unit_checks() == {UNCHECKED: 0, PASSED: 0, FAILED: 1}
        later = clock.now + datetime.timedelta(hours=1)
        assert store.reset_unit_check(check.id, now=later) is True
        reset = store.get_unit_check(check.id)
        counts = store.count_unit_checks()
    assert reset is not None
    assert reset.state == UNCHECKED
    assert reset.reason is None
    assert reset.next_attempt_at == later
    assert counts == {UNCHECKED: 1, PASSED: 0, FAILED: 0}


# --- the worker and the records ---


def test_worker_pass_moves_record_to_review(app: Flask, clock: Clock, directory: DirectoryVerifier) -> None:
    """A passed unit moves its waiting records to 待审核 and writes one audit entry."""
    with app.app_context():
        store = get_store()
        add_school(store)
        first = add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        second = add_record(store, clock.now, key="2", code=CODE_A, name=NAME_A, department=DEPARTMENTS[1])
        assert record_state(store, first) == "待校验"
        finished = units.run_once(app, directory, clock.now)
        check = check_of(store, CODE_A, NAME_A)
        entries = [entry for entry in store.iter_audit() if entry.event == "unit_checked"]
        states = (record_state(store, first), record_state(store, second))
    assert finished == 1
    assert check.state == PASSED
    assert check.verifier == "directory"
    assert check.checked_at == clock.now
    assert states == ("待审核", "待审核")
    assert len(entries) == 1
    assert entries[0].actor == "worker"
    assert entries[0].target == CODE_A
    assert entries[0].detail == {"check": check.id, "code": CODE_A, "state": PASSED, "verifier": "directory"}


def test_worker_failure_moves_record_to_failed(app: Flask, clock: Clock, directory: DirectoryVerifier) -> None:
    """A unit missing from the directory fails, and its records become 校验不通过 with the reason stored."""
    with app.app_context():
        store = get_store()
        add_school(store)
        record_id = add_record(store, clock.now, key="1", code=CODE_ABSENT, name=NAME_A)
        finished = units.run_once(app, directory, clock.now)
        check = check_of(store, CODE_ABSENT, NAME_A)
        state = record_state(store, record_id)
    assert finished == 1
    assert check.state == FAILED
    assert "名录中没有该统一社会信用代码" in check.reason
    assert state == "校验不通过"


def test_run_once_without_app(app: Flask, clock: Clock) -> None:
    """run_once on a bare store, outside any application, stores the result and its audit entry."""
    with app.app_context():
        store = get_store()
        add_school(store)
        add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
    store = open_store(app)
    try:
        finished = units.run_once(store, CodeOnlyVerifier(), clock.now)
        check = check_of(store, CODE_A, NAME_A)
        [entry] = [entry for entry in store.iter_audit() if entry.event == "unit_checked"]
    finally:
        store.close()
    assert finished == 1
    assert check.state == PASSED
    assert check.verifier == "code"
    assert entry.at == clock.now
    assert entry.actor == "worker"


def test_worker_survives_unexpected_error(app: Flask, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    """A verifier that raises a bug is a temporary failure, logged once without the unit's name."""
    with app.app_context():
        store = get_store()
        add_school(store)
        add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        add_record(store, clock.now, key="2", code=CODE_B, name=NAME_B)
        verifier = RaisingVerifier(KeyError(NAME_A))
        with caplog.at_level(logging.WARNING, logger="sxpt_server.units"):
            result = units.process_batch(store, verifier, clock.now, SETTINGS)
        check = check_of(store, CODE_A, NAME_A)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert result.claimed == 2
    assert result.postponed == 2
    assert verifier.calls == 2
    assert check.state == UNCHECKED
    assert check.last_error.startswith("the verifier raised KeyError")
    assert len(errors) == 1
    assert NAME_A not in caplog.text
    assert NAME_B not in caplog.text


def test_worker_loop_stops(app: Flask, clock: Clock) -> None:
    """run_worker processes due checks and returns once the stop event is set."""
    with app.app_context():
        store = get_store()
        add_school(store)
        record_id = add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
    app.config["UNIT_WORKER_INTERVAL"] = 0.05
    stop = threading.Event()
    thread = threading.Thread(target=units.run_worker, args=(app, CodeOnlyVerifier()), kwargs={"stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        state = "待校验"
        while state == "待校验" and time.monotonic() < deadline:
            time.sleep(0.05)
            with app.app_context():
                state = record_state(get_store(), record_id)
    finally:
        stop.set()
        thread.join(5)
    assert state == "待审核"
    assert not thread.is_alive()


def test_development_thread(tmp_path: Path, clock: Clock) -> None:
    """UNIT_WORKER_THREAD starts a daemon thread that waits for the schema and then verifies units."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "NOW": clock,
                      "UNIT_WORKER_THREAD": True, "UNIT_WORKER_INTERVAL": 0.05})
    try:
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        with app.app_context():
            store = get_store()
            add_school(store)
            record_id = add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        deadline = time.monotonic() + 10
        state = "待校验"
        while state == "待校验" and time.monotonic() < deadline:
            time.sleep(0.05)
            with app.app_context():
                state = record_state(get_store(), record_id)
    finally:
        units.stop_worker_thread(app, timeout=5)
    thread = app.extensions[units.EXTENSION].thread
    assert state == "待审核"
    assert thread.daemon
    assert not thread.is_alive()


# --- the worker command ---


def test_worker_once_command(app: Flask, clock: Clock, runner: FlaskCliRunner) -> None:
    """worker --once verifies what is due and prints the summary in Chinese and English."""
    with app.app_context():
        store = get_store()
        add_school(store)
        passing = add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
        failing = add_record(store, clock.now, key="2", code=CODE_WRONG, name=NAME_B)
    result = runner.invoke(args=["worker", "--once"])
    with app.app_context():
        states = (record_state(get_store(), passing), record_state(get_store(), failing))
    assert result.exit_code == 0, result.output
    assert "已校验 2 个实习单位（通过 1，不通过 1）" in result.output
    assert "Verified 2 units (1 passed, 1 failed)" in result.output
    assert states == ("待审核", "校验不通过")


def test_worker_once_postponed(tmp_path: Path, clock: Clock) -> None:
    """worker --once counts checks whose verifier is unavailable and exits."""
    verifier = RaisingVerifier(VerifierUnavailable("the verification service returned HTTP 502"))
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "NOW": clock,
                      "UNIT_VERIFIER": verifier})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        store = get_store()
        add_school(store)
        add_record(store, clock.now, key="1", code=CODE_A, name=NAME_A)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 个暂时无法校验" in result.output
    assert "共有 1 个待校验" in result.output
    assert verifier.calls == 1


def test_worker_needs_database(tmp_path: Path) -> None:
    """worker on a database without the schema names init-db as the next step."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 1
    assert "init-db" in result.output


def test_worker_command_stops_on_sigterm(app: Flask, runner: FlaskCliRunner) -> None:
    """The worker loop exits cleanly on SIGTERM."""
    app.config["UNIT_WORKER_INTERVAL"] = 0.05
    default = signal.getsignal(signal.SIGTERM)
    sent = threading.Event()

    def send_when_installed() -> None:
        # Send only once the worker's handler is installed, so the test process never gets the default action.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            handler = signal.getsignal(signal.SIGTERM)
            if callable(handler) and getattr(handler, "__name__", "") == "_request_stop":
                os.kill(os.getpid(), signal.SIGTERM)
                sent.set()
                return
            time.sleep(0.02)

    sender = threading.Thread(target=send_when_installed, daemon=True)
    sender.start()
    result = runner.invoke(args=["worker"])
    sender.join(5)
    assert sent.is_set()
    assert result.exit_code == 0, result.output
    assert signal.getsignal(signal.SIGTERM) is default


# --- the API ---


def _world_units(world: World) -> dict[str, int]:
    """Store records of both schools and verify them with a directory that lacks CODE_B's name."""
    app, clock = world.app, world.clock
    with app.app_context():
        store = get_store()
        records = {
            "a0": add_record(store, clock.now, key="a0", code=CODE_A, name=NAME_A, department=DEPARTMENTS[0]),
            "b1": add_record(store, clock.now, key="b1", code=CODE_B, name=NAME_B, department=DEPARTMENTS[1]),
            "b1bis": add_record(store, clock.now, key="b1bis", code=CODE_B, name=NAME_B, department=DEPARTMENTS[1]),
            "c": add_record(store, clock.now, key="c", code=CODE_C, name=NAME_C, school=OTHER_SCHOOL),
        }
        directory = DirectoryVerifier({CODE_A: NAME_A, CODE_C: NAME_C})
        assert units.run_once(store, directory, clock.now, settings=SETTINGS) == 3
        ids = {code: check.id for (code, _name), check in store.unit_checks_for(
            [(CODE_A, NAME_A), (CODE_B, NAME_B), (CODE_C, NAME_C)]).items()}
    return {**records, **{f"check_{code}": check_id for code, check_id in ids.items()}}


def _codes(response: Any) -> list[str]:
    return [check["unit_code"] for check in response.get_json()["checks"]]


def test_api_school_lists_own_units(world: World) -> None:
    """A school user sees the units of its own records, with their record counts."""
    _world_units(world)
    response = world.client("school").get("/api/v1/unit-checks")
    checks = {check["unit_code"]: check for check in response.get_json()["checks"]}
    assert response.status_code == 200
    assert sorted(checks) == sorted([CODE_A, CODE_B])
    assert checks[CODE_B]["records"] == 2
    assert checks[CODE_B]["state"] == FAILED
    assert "名录中没有该统一社会信用代码" in checks[CODE_B]["reason"]
    assert checks[CODE_A]["state"] == PASSED


def test_api_department_sees_own_department(world: World) -> None:
    """A department user sees only the units of its department's records."""
    _world_units(world)
    assert _codes(world.client("dept0").get("/api/v1/unit-checks")) == [CODE_A]
    assert _codes(world.client("dept1").get("/api/v1/unit-checks")) == [CODE_B]
    assert _codes(world.client("other_school").get("/api/v1/unit-checks")) == [CODE_C]


def test_api_filters_and_paging(world: World) -> None:
    """state and code filter the list; limit and after page through it."""
    _world_units(world)
    school = world.client("school")
    first = school.get("/api/v1/unit-checks?limit=1").get_json()
    second = school.get(f"/api/v1/unit-checks?limit=1&after={first['next_after']}").get_json()
    assert _codes(school.get("/api/v1/unit-checks", query_string={"state": FAILED})) == [CODE_B]
    assert _codes(school.get("/api/v1/unit-checks", query_string={"code": CODE_A.lower()})) == [CODE_A]
    assert len(first["checks"]) == 1
    assert first["next_after"] == first["checks"][0]["id"]
    assert len(second["checks"]) == 1
    assert second["checks"][0]["id"] > first["next_after"]


@pytest.mark.parametrize("query", ["state=done", "limit=0", "limit=501", "after=-1"])
def test_api_invalid_query(world: World, query: str) -> None:
    """Invalid query parameters give a 422 problem."""
    response = world.client("school").get(f"/api/v1/unit-checks?{query}")
    assert response.status_code == 422
    assert response.get_json()["code"] == "SXPT-VALIDATION"


@pytest.mark.parametrize("who", ["province", "ministry"])
def test_api_list_forbidden_above_school(world: World, who: str) -> None:
    """Province and ministry users get 403 on the list."""
    response = world.client(who).get("/api/v1/unit-checks")
    assert response.status_code == 403
    assert response.get_json()["code"] == "SXPT-FORBIDDEN"


def test_api_list_with_api_key(world: World) -> None:
    """A school API key may list the checks but not ask for a retry."""
    ids = _world_units(world)
    issued = world.client("school").post("/api/v1/keys", json={"label": "教务系统"})
    key = issued.get_json()["key"]
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    listed = client.get("/api/v1/unit-checks", headers=headers)
    retried = client.post(f"/api/v1/unit-checks/{ids['check_' + CODE_B]}/retry", headers=headers)
    assert listed.status_code == 200
    assert sorted(_codes(listed)) == sorted([CODE_A, CODE_B])
    assert retried.status_code == 403
    assert retried.get_json()["code"] == "SXPT-API-KEY-NOT-ALLOWED"


def test_api_retry_requeues_failed(world: World) -> None:
    """A school user's retry puts a failed check back in the queue and its records back to 待校验."""
    ids = _world_units(world)
    check_id = ids["check_" + CODE_B]
    response = world.client("school").post(f"/api/v1/unit-checks/{check_id}/retry")
    document = response.get_json()
    with world.app.app_context():
        store = get_store()
        states = (record_state(store, ids["b1"]), record_state(store, ids["b1bis"]))
        entries = [entry for entry in store.iter_audit() if entry.event == "unit_check_retried"]
        directory = DirectoryVerifier({CODE_B: NAME_B})
        assert units.run_once(store, directory, world.clock.now, settings=SETTINGS) == 1
        after_worker = record_state(store, ids["b1"])
    assert response.status_code == 200
    assert document["requeued"] is True
    assert document["state"] == UNCHECKED
    assert document["reason"] is None
    assert states == ("待校验", "待校验")
    assert len(entries) == 1
    assert entries[0].actor == world.names["school"]
    assert entries[0].detail == {"check": check_id, "code": CODE_B, "previous_state": FAILED}
    assert after_worker == "待审核"


def test_api_retry_unchecked_is_noop(world: World) -> None:
    """Asking again for a check that is already queued changes nothing."""
    ids = _world_units(world)
    client = world.client("school")
    check_id = ids["check_" + CODE_B]
    client.post(f"/api/v1/unit-checks/{check_id}/retry")
    response = client.post(f"/api/v1/unit-checks/{check_id}/retry")
    assert response.status_code == 200
    assert response.get_json()["requeued"] is False


def test_api_retry_passed_conflict(world: World) -> None:
    """A passed check cannot be retried."""
    ids = _world_units(world)
    response = world.client("school").post(f"/api/v1/unit-checks/{ids['check_' + CODE_A]}/retry")
    assert response.status_code == 409
    assert response.get_json()["code"] == "SXPT-STATE-CONFLICT"


def test_api_retry_other_school_not_found(world: World) -> None:
    """A check that no record of the school uses, or that does not exist, is not found."""
    ids = _world_units(world)
    school = world.client("school")
    other = school.post(f"/api/v1/unit-checks/{ids['check_' + CODE_C]}/retry")
    missing = school.post("/api/v1/unit-checks/999999/retry")
    assert other.status_code == 404
    assert missing.status_code == 404


@pytest.mark.parametrize("who", ["dept1", "province", "ministry"])
def test_api_retry_forbidden(world: World, who: str) -> None:
    """Only school-level users may ask for a retry."""
    ids = _world_units(world)
    response = world.client(who).post(f"/api/v1/unit-checks/{ids['check_' + CODE_B]}/retry")
    with world.app.app_context():
        check = get_store().get_unit_check(ids["check_" + CODE_B])
    assert response.status_code == 403
    assert check is not None
    assert check.state == FAILED


def test_api_routes_in_openapi(client: Any) -> None:
    """Both routes are described in the OpenAPI document."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/unit-checks"]
    assert "post" in paths["/api/v1/unit-checks/{check_id}/retry"]
