"""A server process killed with SIGKILL in the middle of an upload leaves the database as before the upload.

The tests start real ``sxpt-server serve`` processes on 127.0.0.1. One goes through a
launcher script, written here, that makes ``write_records`` stop inside the upload's
transaction after a few hundred rows, so the kill lands in the middle of the write for
certain. Another kills a plain server at random points of an upload. After each kill
the database must hold all of the batch or none of it, and a server started again on
the same database must accept the same upload in full.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

import sxpt_server
from tests.server.process_support import (
    BATCH_ROWS,
    CLOCK_CONFIG,
    UploadInBackground,
    assert_accepts_in_full,
    batch_rows,
    bootstrap,
    integrity,
    issue_api_key,
    kill,
    plain_server,
    running,
    table_counts,
    upload,
    wait_for,
)

MARKER_TIMEOUT = 120.0
STALL_AFTER_ROWS = 300
KILL_ROUNDS = 5

# The launcher wraps RecordsMixin.write_records. A write of more than SXPT_TEST_STALL_ROWS
# rows stores that many rows inside the caller's open transaction, writes their count to
# the marker file and then sleeps until the test kills the process. Smaller writes pass through.
LAUNCHER = '''
import os
import sys
import time
from pathlib import Path

from sxpt_server.store import sql_records

MARKER = Path(os.environ["SXPT_TEST_MARKER"])
STALL_ROWS = int(os.environ["SXPT_TEST_STALL_ROWS"])
original_write_records = sql_records.RecordsMixin.write_records


def stalling_write_records(self, writes, *, batch_id, actor, now):
    if len(writes) <= STALL_ROWS:
        return original_write_records(self, writes, batch_id=batch_id, actor=actor, now=now)
    with self.transaction():
        ids = original_write_records(self, writes[:STALL_ROWS], batch_id=batch_id, actor=actor, now=now)
        MARKER.write_text(str(len(ids)), encoding="utf-8")
        time.sleep(600)
        ids += original_write_records(self, writes[STALL_ROWS:], batch_id=batch_id, actor=actor, now=now)
    return ids


sql_records.RecordsMixin.write_records = stalling_write_records

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
