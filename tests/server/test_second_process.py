"""Commands run beside a serving process must not lose its writes (the WAL and its locks stay intact)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.server.test_real_server import environment, free_port, instance, run_command, server_command  # noqa: F401

httpx = pytest.importorskip("httpx")

ROUNDS = 3
FAILED_LOGINS = 4
START_TIMEOUT = 20.0


def start_server(environment: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:  # noqa: F811
    port = free_port()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen([*server_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   env=environment, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, log_path.read_text(encoding="utf-8")
        try:
            httpx.get(f"{base_url}/api/v1/health", timeout=1.0)
            return process, base_url
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.2)


def test_init_db_and_worker_beside_serve(instance: Path, environment: dict[str, str],  # noqa: F811
                                         tmp_path: Path) -> None:
    """Every failed login stays audited although init-db and the worker open the database in between."""
    assert run_command(environment, "init-db").returncode == 0
    process, base_url = start_server(environment, tmp_path / "server.log")
    statuses = []
    try:
        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            for _round in range(ROUNDS):
                for _attempt in range(FAILED_LOGINS):
                    response = client.post("/api/v1/auth/code", json={"account": "sxpt999999001",
                                                                       "password": "Abcdef-12345x"})
                    statuses.append(response.status_code)
                assert run_command(environment, "init-db").returncode == 0
                assert run_command(environment, "worker", "--once").returncode == 0
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert statuses == [401] * (ROUNDS * FAILED_LOGINS)
    with sqlite3.connect(instance / "sxpt.sqlite3") as connection:
        failed = connection.execute("SELECT COUNT(*) FROM audit_log WHERE event = 'login_failed'").fetchone()[0]
    assert failed == ROUNDS * FAILED_LOGINS
