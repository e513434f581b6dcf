"""A real sxpt-server process on 127.0.0.1, driven over HTTP: activation and login with password and SMS code."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import sxpt_server
from sxpt_server.sms import read_outbox
from tests.server.support import PASSWORD

httpx = pytest.importorskip("httpx")

START_TIMEOUT = 20.0
REQUEST_TIMEOUT = 10.0
PHONE = "13912345678"

# The server reads its clock from this instance config, so the test can move it past the
# one-minute SMS interval between the activation SMS and the login code without sleeping.
CLOCK_CONFIG = '''
import datetime
import pathlib

_OFFSET_FILE = pathlib.Path(__file__).with_name("clock_offset")


def NOW():
    offset = float(_OFFSET_FILE.read_text()) if _OFFSET_FILE.exists() else 0.0
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
'''


def server_command() -> list[str]:
    """Return the sxpt-server console script of this Python, or ``python -m sxpt_server`` without one."""
    script = Path(sys.executable).with_name("sxpt-server")
    if script.exists():
        return [str(script)]
    found = shutil.which("sxpt-server")
    if found and Path(found).parent == Path(sys.executable).parent:
        return [found]
    return [sys.executable, "-m", "sxpt_server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text(CLOCK_CONFIG, encoding="utf-8")
    return folder


@pytest.fixture
def environment(instance: Path) -> dict[str, str]:
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    return {
        **os.environ,
        "SXPT_INSTANCE_PATH": str(instance),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }


def run_command(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*server_command(), *args], env=environment, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.fixture
def server(environment: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Start ``sxpt-server serve`` on a free port, wait until it responds, and stop it afterwards."""
    assert run_command(environment, "init-db").returncode == 0
    created = run_command(environment, "create-account", "--level", "ministry", "--phone", PHONE)
    assert created.returncode == 0, created.stderr

    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*server_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
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
            yield base_url, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_login_over_http(server: tuple[str, Path], instance: Path) -> None:
    """Over real HTTP: anonymous /me is a Chinese 401, then activation, SMS code and login give a session."""
    base_url, _log_path = server
    outbox = instance / "outbox.jsonl"
    activation = read_outbox(outbox)[-1]
    name = activation["account"]

    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        anonymous = client.get("/api/v1/me")
        activated = client.post("/api/v1/auth/activate",
                                json={"account": name, "code": activation["code"], "password": PASSWORD})
        (instance / "clock_offset").write_text("120", encoding="utf-8")
        sent = client.post("/api/v1/auth/code", json={"account": name, "password": PASSWORD})
        code = read_outbox(outbox)[-1]["code"]
        logged_in = client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD, "code": code})
        me = client.get("/api/v1/me")

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert "请先登录".encode() in anonymous.content
    assert activated.status_code == 200
    assert sent.status_code == 200
    assert logged_in.status_code == 200
    assert "HttpOnly" in logged_in.headers["set-cookie"]
    assert me.status_code == 200
    assert me.json()["account"]["name"] == name


def test_server_logs(server: tuple[str, Path], instance: Path) -> None:
    """The server logs its start and one line per request, without the phone number."""
    base_url, log_path = server
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        client.get("/api/v1/me")
    time.sleep(0.2)
    log = log_path.read_text(encoding="utf-8")
    assert "listening on http://127.0.0.1:" in log
    assert "GET /api/v1/me 401" in log
    assert PHONE not in log
