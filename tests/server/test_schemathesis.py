"""Schemathesis against the served OpenAPI document, on a real sxpt-server process on 127.0.0.1.

The accounts, records and API key are made in-process on the server's instance folder
before the server starts: the session cookie of a logged-in school user and an API key
of that school are then valid for the server too. The server's clock is set forward by
the time the setup moved the test clock, so the session is not idle-expired.

Two runs cover the document: every operation with the session cookie, and every operation
that accepts API keys with the key. For each operation schemathesis sends the document's
examples, boundary values (its coverage phase) and at most ``MAX_EXAMPLES`` random requests,
and the first failure of an operation ends its run.

Checks: no 5xx (``not_a_server_error``), status codes, content types, response headers
and response bodies as the document declares them (``status_code_conformance``,
``content_type_conformance``, ``response_headers_conformance``,
``response_schema_conformance``), and that a request without its credentials is rejected
(``ignored_auth``). Left out: ``positive_data_acceptance`` and ``negative_data_rejection``,
because the server checks phone numbers, codes and names beyond the document's JSON
Schemas and documents those rejections as 422. Also left out are the stateful checks
(``use_after_free``, ``ensure_resource_availability``), which need the stateful phase.
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import hypothesis
import pytest
from flask.testing import FlaskClient

import sxpt_server
from sxpt_server import create_app
from tests.server.records_support import record, upload_json
from tests.server.support import Clock, build_world

schemathesis = pytest.importorskip("schemathesis")
httpx = pytest.importorskip("httpx")


MAX_EXAMPLES = 20
FUZZ_SEED = 20251015
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "ignored_auth",
)

# Logout ends the session that every other operation of the session run uses, and it takes
# no input to vary, so the run leaves it out.
SESSION_ENDING_PATHS = ("/api/v1/auth/logout",)


@attrs.frozen
class Served:
    """A running server and the credentials of its school user."""

    base_url: str
    session_id: str
    api_key: str
    log_path: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def prepare_instance(folder: Path) -> tuple[str, str]:
    """Build the account tree and a few records in ``folder``, and return the school's session id and API key."""
    clock = Clock()
    clock.now = datetime.datetime.now(datetime.timezone.utc)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "NOW": clock, "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    world = build_world(app, clock, runner)

    uploaded = upload_json(world.client("dept0"), [record(index) for index in range(1, 4)])
    assert uploaded.status_code == 201, uploaded.get_json()
    issued = world.client("school").post("/api/v1/keys", json={"label": "接口测试"})
    assert issued.status_code == 201, issued.get_json()
    cookie = world.client("school").get_cookie("sxpt_session")
    assert cookie is not None

    # The server process reads its clock from config.py: real time plus the time that
    # build_world moved the test clock, so the school's session was last used just now.
    offset = (clock.now - datetime.datetime.now(datetime.timezone.utc)).total_seconds() + 1
    (folder / "config.py").write_text(
        "import datetime\n\n\n"
        "def NOW():\n"
        f"    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={offset:.3f})\n",
        encoding="utf-8",
    )
    return cookie.value, issued.get_json()["key"]


def wait_until_up(process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, log_path.read_text(encoding="utf-8")
        try:
            httpx.get(f"{base_url}/api/v1/health", timeout=1.0)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Start ``python -m sxpt_server serve`` on a free port of 127.0.0.1 and stop it after the module."""
    root = tmp_path_factory.mktemp("schemathesis")
    folder = root / "instance"
    session_id, api_key = prepare_instance(folder)

    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "SXPT_INSTANCE_PATH": str(folder),
        # Rate limits would reject most login requests with 429 before their input is checked.
        "SXPT_RATELIMIT_ENABLED": "false",
        # SMS go to the outbox file and units are checked by their code only, so the server
        # sends nothing anywhere while it is fuzzed.
        "SXPT_SMS_GATEWAY": "dev",
        "SXPT_UNIT_VERIFIER": "code",
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sxpt_server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(process, base_url, log_path)
            yield Served(base_url=base_url, session_id=session_id, api_key=api_key, log_path=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)


def fuzz_config(base_url: str, auth: dict[str, Any]) -> Any:
    """Return the schemathesis settings: the base URL, the credentials per security scheme and the checks."""
    checks: dict[str, Any] = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    return schemathesis.Config.from_dict({
        "base-url": base_url,
        # A fixed seed gives the same requests on every run, so a failure reproduces.
        "seed": FUZZ_SEED,
        "request-timeout": REQUEST_TIMEOUT,
        "generation": {"max-examples": MAX_EXAMPLES},
        "checks": checks,
        "auth": {"openapi": auth},
    })


def accepts_api_key(context: Any) -> bool:
    """Return True for an operation whose security requirements list the API key."""
    security = context.operation.definition.raw.get("security") or []
    return any("apiKey" in requirement for requirement in security)


@pytest.fixture(scope="module")
def session_schema(served: Served) -> Any:
    """The served document, with the school's session cookie for every operation that needs one."""
    config = fuzz_config(served.base_url, {"session": {"api_key": served.session_id}})
    return schemathesis.openapi.from_url(f"{served.base_url}/api/v1/openapi.json", config=config)


@pytest.fixture(scope="module")
def key_schema(served: Served) -> Any:
    """The served document, with the school's API key for every operation that accepts one."""
    config = fuzz_config(served.base_url, {"apiKey": {"bearer": served.api_key}})
    return schemathesis.openapi.from_url(f"{served.base_url}/api/v1/openapi.json", config=config)


FUZZ_SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)

# Filters go on the lazy schemas: the plugin ignores filters of the schema that a fixture returns.
session_operations = schemathesis.pytest.from_fixture("session_schema").exclude(path=list(SESSION_ENDING_PATHS))
key_operations = schemathesis.pytest.from_fixture("key_schema").include(accepts_api_key)


@session_operations.parametrize()
@FUZZ_SETTINGS
def test_api_with_session(case: Any) -> None:
    """Each operation, called with the school's session, responds as the document specifies and never with a 5xx."""
    case.call_and_validate()


@key_operations.parametrize()
@FUZZ_SETTINGS
def test_api_with_key(case: Any) -> None:
    """Each operation that accepts API keys, called with the school's key, responds as the document specifies."""
    case.call_and_validate()


# --- the failures schemathesis found, as plain requests ------------------------------------------
#
# These run in-process and need no server. Each one repeats a request that made the server
# return 500 or an undocumented status in a schemathesis run, or the same fault on a
# neighbouring route.

# One more than the largest id that SQLite stores as an INTEGER.
BEYOND_INT64 = str(2**63)

LARGE_ID_REQUESTS = [
    ("GET", f"/api/v1/records/{BEYOND_INT64}", None),
    ("PATCH", f"/api/v1/records/{BEYOND_INT64}", {"cells": {"实习岗位": "开发实习生"}}),
    ("DELETE", f"/api/v1/records/{BEYOND_INT64}", None),
    ("GET", f"/api/v1/records/{BEYOND_INT64}/versions", None),
    ("POST", f"/api/v1/records/{BEYOND_INT64}/exceptions", {"code": "SXPT-W-LATE", "reason": "补报"}),
    ("GET", f"/api/v1/batches/{BEYOND_INT64}", None),
    ("GET", f"/api/v1/batches/{BEYOND_INT64}/report", None),
    ("GET", f"/api/v1/batches/{BEYOND_INT64}/annotated.xlsx", None),
    ("GET", f"/api/v1/batches/{BEYOND_INT64}/errors.xlsx", None),
    ("POST", f"/api/v1/unit-checks/{BEYOND_INT64}/retry", None),
    ("POST", "/api/v1/review", {"action": "approve", "records": [2**63]}),
    ("GET", f"/records/{BEYOND_INT64}", None),
    ("GET", f"/records/{BEYOND_INT64}/edit", None),
    ("GET", f"/batches/{BEYOND_INT64}", None),
]

LARGE_CURSOR_REQUESTS = [
    f"/api/v1/audit?before={BEYOND_INT64}",
    f"/api/v1/batches?before={BEYOND_INT64}",
    f"/api/v1/records?after={BEYOND_INT64}",
    f"/api/v1/review?after={BEYOND_INT64}",
    f"/api/v1/unit-checks?after={BEYOND_INT64}",
]


@pytest.fixture(scope="module")
def school_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """A logged-in school user of an in-process app."""
    clock = Clock()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path_factory.mktemp("findings") / "instance"),
                      "NOW": clock, "RATELIMIT_ENABLED": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    return build_world(app, clock, runner).client("school")


@pytest.mark.parametrize(("method", "path", "body"), LARGE_ID_REQUESTS,
                         ids=[f"{method} {path}" for method, path, _body in LARGE_ID_REQUESTS])
def test_id_beyond_64_bits_not_found(school_client: FlaskClient, method: str, path: str, body: Any) -> None:
    """An id too large for SQLite names no record, batch or check: 404, not a 500."""
    response = school_client.open(path, method=method, json=body)
    assert response.status_code == 404


@pytest.mark.parametrize("path", LARGE_CURSOR_REQUESTS)
def test_cursor_beyond_64_bits_not_server_error(school_client: FlaskClient, path: str) -> None:
    """A paging cursor too large for SQLite gives an empty page or a 422, not a 500."""
    response = school_client.get(path)
    assert response.status_code in (200, 422)


@pytest.mark.parametrize("action", [{}, ["approve"], 1], ids=["object", "array", "number"])
def test_review_action_of_wrong_type_rejected(school_client: FlaskClient, action: Any) -> None:
    """A review action that is not a string is a 422 naming the field, not a 500."""
    response = school_client.post("/api/v1/review", json={"action": action, "records": [1]})
    assert response.status_code == 422
    assert response.get_json()["code"] == "SXPT-VALIDATION"


@pytest.mark.parametrize("path", ["/api/v1/provinces", "/api/v1/auth/code", "/api/v1/keys"])
def test_json_null_body_is_validation_error(school_client: FlaskClient, path: str) -> None:
    """A body of JSON null is valid JSON but no object: 422 as documented, not 400 "not valid JSON"."""
    response = school_client.post(path, data="null", content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["code"] == "SXPT-VALIDATION"
