"""The client SDK against the real Flask app (httpx.WSGITransport) and a real server process.

One tour drives every operation of the server's OpenAPI document through SDK methods
and fails when an operation was not exercised, so a new route needs an SDK method.
Further tests run ``sxpt upload`` and ``sxpt export`` against the app, and the example
scripts and the code blocks of docs/sdk.md and docs/sdk.en.md against a server process
on 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask

import sxpt_server
from sxpt_core.cli import main
from sxpt_core.client import AsyncClient, Client, errors
from sxpt_core.client import _http as client_http
from sxpt_core.client.models import StoredRecord
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.commands import upload as upload_command
from sxpt_core.context import Context, SchoolSettings
from sxpt_core.models import Record
from sxpt_core.stats import china_date
from sxpt_core.validate import validate_rows
from sxpt_server.api.meta import document
from sxpt_server.problems import PROBLEM_TYPES
from sxpt_server.sms import read_outbox
from tests.server.records_support import DEPARTMENT_0, DEPARTMENT_1, record, valid_uscc, xlsx_of
from tests.server.support import CITY, PASSWORD, SCHOOL, SCHOOL_NAME, SCHOOL_USCC, Clock, World, last_sms, new_phone
from tests.server.test_real_server import CLOCK_CONFIG, free_port, server_command

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://sxpt.test"
REGISTERED_NAME = f"{SCHOOL_NAME}{SCHOOL[-1]}"

ROSTER_CSV = "学校名称,学号,姓名,院系,专业,层次,学籍状态,入学日期\n" + "".join(
    f"{REGISTERED_NAME},210501{index:02d},张三,{DEPARTMENT_0},计算机科学与技术,本科,在籍,2021-09-01\n"
    for index in range(1, 9))
PLAN_CSV = (
    "学年,学期,院系,专业代码,专业名称,年级,课程代码,课程名称,学分,实习类型,实习组织形式,实习方式,计划实习周数,计划实习人数\n"
    f"2024-2025,第二学期,{DEPARTMENT_0},080901,计算机科学与技术,2021,CS3001,专业实习,2,专业实习,集中实习,现场实习,8,30\n"
)


class RecordingTransport(httpx.BaseTransport):
    """A WSGI transport into the app that records the method and path of every request."""

    def __init__(self, app: Flask, seen: set[tuple[str, str]]) -> None:
        self._inner = httpx.WSGITransport(app=app)
        self._seen = seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._seen.add((request.method, request.url.path))
        return self._inner.handle_request(request)


class AsyncWSGITransport(httpx.AsyncBaseTransport):
    """Run the sync WSGI transport for an AsyncClient, for tests only."""

    def __init__(self, app: Flask) -> None:
        self._inner = httpx.WSGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = self._inner.handle_request(sync_request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())


def operations() -> set[tuple[str, str]]:
    """Return every (METHOD, path template) of the server's OpenAPI document."""
    return {(method.upper(), path) for path, item in document()["paths"].items() for method in item}


def operation_of(method: str, path: str, known: set[tuple[str, str]]) -> tuple[str, str] | None:
    """Return the operation whose path template matches a concrete request path; literal paths win."""
    if (method, path) in known:
        return method, path
    for operation_method, template in known:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if operation_method == method and re.match(pattern, path):
            return operation_method, template
    return None


def login_code(app: Flask, account: str) -> str:
    return last_sms(app, account=account, purpose="login")["code"]


def sdk_login(world: World, role: str, transport: httpx.BaseTransport) -> Client:
    """Log in as ``role`` (a key of world.names) through the SDK, reading the SMS code from the outbox."""
    client = Client(BASE, transport=transport)
    world.clock.advance(seconds=61)
    client.login(world.names[role], PASSWORD, functools.partial(login_code, world.app))
    return client


def run_worker(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output


def local_context(clock: Clock, *, lists: bool = False) -> Context:
    """The rules' context that the server uses for the school: registered settings, today in China.

    ``lists`` adds the roster and plan of ROSTER_CSV and PLAN_CSV, for a server that has them.
    """
    from sxpt_core.context import PlanIndex, RosterIndex
    from sxpt_core.validate import validate_file

    settings = SchoolSettings(name=REGISTERED_NAME, unit_code=SCHOOL_USCC, city_code=CITY)
    base = Context(today=china_date(clock()), divisions=load_divisions(), school=settings)
    if not lists:
        return base
    roster = RosterIndex(validate_file(ROSTER_CSV.encode(), base, kind="roster", filename="r.csv").models())
    plan = PlanIndex(validate_file(PLAN_CSV.encode(), base, kind="plan", filename="p.csv").models())
    return Context(today=base.today, divisions=base.divisions, school=settings, roster=roster, plan=plan)


@pytest.fixture
def seen() -> set[tuple[str, str]]:
    return set()


@pytest.fixture
def transport(world: World, seen: set[tuple[str, str]]) -> RecordingTransport:
    return RecordingTransport(world.app, seen)


@pytest.fixture
def school_key(world: World, transport: RecordingTransport) -> str:
    """An API key of the whole school, issued through the SDK."""
    with sdk_login(world, "school", transport) as school:
        return school.issue_api_key("教务系统夜间上传").key


def test_every_problem_code_has_class() -> None:
    """Every problem code of the server raises its own SDK class; an unknown one raises ApiError."""
    classes = {code: errors.PROBLEM_CLASSES.get(code) for code in PROBLEM_TYPES}
    missing = sorted(code for code, cls in classes.items() if cls is None)
    assert missing == []
    assert len(set(classes.values())) == len(classes)
    for code, cls in classes.items():
        assert cls is not None
        assert cls.code == code
        assert issubclass(cls, errors.ApiError)
        assert cls is not errors.ApiError
    response = httpx.Response(400, json={"code": "SXPT-NOT-A-CODE", "detail": "未知"},
                              headers={"Content-Type": "application/problem+json"})
    assert type(errors.error_from_response(response)) is errors.ApiError


def test_sdk_covers_every_operation(world: World, transport: RecordingTransport, seen: set[tuple[str, str]],
                                    tmp_path: Path) -> None:
    """A tour through the API with SDK methods only; every operation of the OpenAPI document is exercised."""
    app, clock = world.app, world.clock
    anonymous = Client(BASE, transport=transport)

    # Meta routes.
    assert anonymous.health() is True
    assert anonymous.openapi()["openapi"] == "3.1.0"
    assert anonymous.problem_type("SXPT-NOT-FOUND").status == 404
    with pytest.raises(errors.AuthRequiredError):
        anonymous.me()

    # The ministry registers a province and manages an account of it.
    ministry = sdk_login(world, "ministry", transport)
    assert ministry.me().unit.level == "ministry"
    assert ministry.create_province("110000").code == "110000"
    assert {province.code for province in ministry.provinces()} >= {"110000", "330000"}
    created = ministry.create_account(level="province", province="110000", phone=new_phone(), contact_name="赵老师")
    assert created.activation is not None
    assert created.activation.sent
    assert ministry.account(created.name).unit.province == "110000"
    assert ministry.edit_account(created.name, contact_name="钱老师").contact_name == "钱老师"
    clock.advance(seconds=61)
    assert ministry.resend_activation(created.name).sent
    moved = ministry.set_account_phone(created.name, new_phone())
    assert moved.activation is not None
    anonymous.activate(created.name, last_sms(app, account=created.name, purpose="activation")["code"], PASSWORD)
    assert created.name in {account.name for account in ministry.accounts()}
    ministry.delete_account(created.name)
    with pytest.raises(errors.NotFoundError):
        ministry.account(created.name)

    # The province registers a school; the school a department and an API key.
    province = sdk_login(world, "province", transport)
    new_school = province.create_school(code="4133010003", name="东海理工大学3", uscc=valid_uscc("91350100M000300Y4"),
                                        city=CITY)
    assert province.school(new_school.code).name == "东海理工大学3"
    assert SCHOOL in {school.code for school in province.schools(province="330000")}
    school = sdk_login(world, "school", transport)
    assert school.create_department(SCHOOL, "经济管理学院").name == "经济管理学院"
    assert {department.name for department in province.departments(SCHOOL)} >= {DEPARTMENT_0, "经济管理学院"}
    issued = school.issue_api_key("教务系统夜间上传", expires_in_days=30)
    spare = school.issue_api_key("临时", department=DEPARTMENT_0)
    school.revoke_api_key(spare.prefix)
    assert {key.prefix for key in school.api_keys()} >= {issued.prefix, spare.prefix}
    assert any(entry.event == "key_created" for entry in school.audit(page_size=5))

    # Roster and plan come from a logged-in school user.
    assert school.current_roster() is None
    assert school.upload_roster(ROSTER_CSV.encode(), filename="学籍名单.csv").batch.status == "stored"
    assert school.upload_plan(PLAN_CSV.encode(), filename="实习培养方案.csv").batch.status == "stored"
    roster = school.current_roster()
    plan = school.current_plan()
    assert roster is not None
    assert roster.entries == 8
    assert plan is not None
    assert plan.entries == 1

    # The academic system uploads with the key; the worker checks the units.
    keyed = Client(BASE, api_key=issued.key, transport=transport)
    rows = [record(1), record(2), record(3, DEPARTMENT_1, **{"学号": "21050103"}),
            record(4, **{"实习单位统一社会信用代码": "91330100MA2B3C4000"})]
    result = keyed.upload_records(rows, idempotency_key="tour-1")
    batch = result.batch
    assert (batch.created, batch.not_stored) == (4, 0)
    assert keyed.upload_records(rows, idempotency_key="tour-1").replayed
    assert [item.id for item in keyed.batches(kind="records")] == [batch.id]
    assert keyed.batch(batch.id).rows == 4
    report = keyed.batch_report(batch.id)
    assert "SXPT-E-USCC-CHECKSUM" in {issue.code for issue in report.errors}
    annotated = keyed.download_annotated(batch.id, tmp_path / "annotated.xlsx")
    errors_only = keyed.download_errors_only(batch.id, tmp_path / "errors.xlsx")
    assert annotated.size > 0
    assert annotated.path.read_bytes()[:2] == b"PK"
    assert errors_only.size > 0
    with pytest.raises(errors.WaitTimeoutError):
        keyed.wait_for_checks(result, timeout=0)
    run_worker(app)
    keyed.wait_for_checks(result, timeout=5, poll=0.01)

    stored = {item.cells["学号"] if item.cells else "": item for item in keyed.records()}
    assert keyed.count_records() == 4
    assert keyed.count_records(state="校验不通过") == 1
    first = keyed.record(stored["21050101"].id)
    assert first.state == "待审核"
    assert isinstance(first.record, Record)
    broken = stored["21050104"]
    assert broken.state == "校验不通过"
    assert broken.record is None
    checks = list(keyed.unit_checks(state="校验不通过"))
    assert len(checks) == 1
    assert school.retry_unit_check(checks[0].id).requeued is True

    # Review: accept a warning, approve two, return one; the department fixes it.
    assert school.accept_exception(first.id, "SXPT-W-CAL-LATE", "已核对，补报原因已说明").exceptions == {
        "SXPT-W-CAL-LATE": "已核对，补报原因已说明"}
    assert school.review_total() == 3
    waiting = [item.id for item in school.review_queue(page_size=2)]
    assert sorted(waiting) == sorted(stored[number].id for number in ("21050101", "21050102", "21050103"))
    assert school.approve([stored["21050101"].id, stored["21050102"].id]).records == (
        stored["21050101"].id, stored["21050102"].id)
    returned_id = stored["21050103"].id
    school.return_records([returned_id], "实习岗位填写不具体，请补充")
    assert keyed.record(returned_id).review_reason == "实习岗位填写不具体，请补充"
    edited = keyed.edit_record(returned_id, {"实习岗位": "翻译助理（商务文件笔译）"})
    assert edited.version == 2
    assert [version.version for version in keyed.record_versions(returned_id)] == [1, 2]

    # Deletion: at once for a record never approved, as a request for an approved one.
    assert keyed.delete_record(broken.id).deleted is True
    requested = keyed.delete_record(stored["21050102"].id)
    assert (requested.deleted, requested.delete_requested) == (False, True)
    assert [item.id for item in school.review_queue(delete_requested=True)] == [stored["21050102"].id]
    school.approve_deletion([stored["21050102"].id])
    keyed.delete_record(stored["21050101"].id)
    school.reject_deletion([stored["21050101"].id], reason="仍需上报")

    # The province reads approved versions only; statistics and export.
    seen_by_province = list(province.records())
    assert [item.id for item in seen_by_province] == [stored["21050101"].id]
    assert seen_by_province[0].state is None
    assert seen_by_province[0].record == first.record
    statistics = keyed.statistics(versions="current")
    assert statistics.by_state is not None
    assert statistics.by_state["审核通过"] == 1
    exported = keyed.export(tmp_path / "export.csv", file_format="csv", versions="current")
    assert exported.filename is not None
    assert exported.filename.endswith(".csv")
    assert exported.path.read_text(encoding="utf-8-sig").count("\n") == 3

    # The own account: password, phone, logout.
    department = sdk_login(world, "dept1", transport)
    assert department.change_password(PASSWORD, PASSWORD + "-新") == 2  # the world's session and this one
    with pytest.raises(errors.AuthRequiredError):
        department.me()
    department.close()
    department = Client(BASE, transport=transport)
    clock.advance(seconds=61)
    department.login(world.names["dept1"], PASSWORD + "-新", functools.partial(login_code, app))
    phone = new_phone()
    assert department.send_phone_code(phone).sent
    code = last_sms(app, account=world.names["dept1"], purpose="phone_change")["code"]
    assert department.change_phone(phone, code, PASSWORD + "-新").sessions_ended == 1
    department = sdk_login(world, "dept0", transport)
    department.logout()
    with pytest.raises(errors.AuthRequiredError):
        department.me()

    known = operations()
    exercised = {operation_of(method, path, known) for method, path in seen}
    missing = sorted(known - exercised)
    assert missing == [], f"operations without an SDK call in this tour: {missing}"


def test_record_read_back_equals_local(world: World, transport: RecordingTransport, school_key: str) -> None:
    """A record read back from the server is the same Record that local validation makes of its row."""
    rows = [record(1), record(2, DEPARTMENT_1, **{"学号": "21050102"})]
    local = validate_rows(rows, local_context(world.clock), first_row=2).models()
    with Client(BASE, api_key=school_key, transport=transport) as client:
        client.upload_records(rows)
        read_back = [item.record for item in client.records()]
    assert len(local) == 2
    assert read_back == local


def test_upload_of_record_objects(world: World, transport: RecordingTransport, school_key: str) -> None:
    """Records uploaded as Record objects are stored without a normalisation, and read back equal."""
    context = local_context(world.clock)
    models = validate_rows([record(1), record(5)], context, first_row=2).models()
    with Client(BASE, api_key=school_key, transport=transport) as client:
        result = client.upload_records(models)
        report = client.batch_report(result.batch.id)
        read_back = [item.record for item in client.records()]
    assert report.normalised == ()
    assert read_back == models


def test_errors_of_the_real_app(world: World, transport: RecordingTransport, school_key: str) -> None:
    """The app's problem documents arrive as the SDK's classes with Chinese details and request ids."""
    with Client(BASE, api_key=school_key, transport=transport) as keyed:
        with pytest.raises(errors.ApiKeyNotAllowedError) as not_allowed:
            keyed.api_keys()
        with pytest.raises(errors.NotFoundError):
            keyed.record(999)
        with pytest.raises(errors.RequestValidationError):
            keyed.upload_records([])
        with pytest.raises(errors.DepartmentUnknownError):
            keyed.upload_records([record(1, "不存在的学院")])
    with Client(BASE, api_key="sxpt_unknownprefix_0000000000", transport=transport) as wrong, \
            pytest.raises(errors.ApiKeyInvalidError):
        wrong.me()
    assert "API 密钥" in not_allowed.value.detail
    assert not_allowed.value.request_id
    assert not_allowed.value.status == 403


def test_async_client_against_app(world: World, school_key: str) -> None:
    """The async client uploads, waits and pages through the same app."""
    import asyncio

    async def scenario() -> tuple[list[StoredRecord], int]:
        async with AsyncClient(BASE, api_key=school_key, transport=AsyncWSGITransport(world.app)) as client:
            result = await client.upload_records([record(1), record(2), record(3)])
            run_worker(world.app)
            await client.wait_for_checks(result.batch.id, timeout=5, poll=0.01)
            listed = [item async for item in client.records(page_size=2)]
            return listed, await client.count_records(state="待审核")

    listed, waiting = asyncio.run(scenario())
    assert len(listed) == 3
    assert waiting == 3
    assert all(item.record is not None for item in listed)


@pytest.fixture
def cli_app(world: World, school_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[World]:
    """Point the CLI at the app, with the key in the environment; waiting between polls runs the worker."""
    def client_into_app(*args: Any, **options: Any) -> Client:
        return Client(*args, transport=httpx.WSGITransport(app=world.app), **options)

    monkeypatch.setattr(upload_command, "Client", client_into_app)
    monkeypatch.setattr(client_http, "_sleep", lambda seconds: run_worker(world.app))
    monkeypatch.setenv("SXPT_API_KEY", school_key)
    monkeypatch.setenv("SXPT_SERVER_URL", BASE)
    monkeypatch.chdir(tmp_path)
    yield world


def test_cli_upload_wait_and_export(cli_app: World, tmp_path: Path) -> None:
    """sxpt upload --wait stores the workbook and reports the states; sxpt export writes the records."""
    workbook = tmp_path / "实习数据.xlsx"
    xlsx_of([record(1), record(2)], workbook)
    runner = CliRunner()
    uploaded = runner.invoke(main, ["upload", str(workbook), "--wait", "--wait-timeout", "30"])
    exported = runner.invoke(main, ["export", "--format", "csv", "-o", str(tmp_path / "导出.csv"),
                                    "--versions", "current"])
    rejected = runner.invoke(main, ["upload", str(workbook), "--kind", "roster", "--no-local-check"])
    assert uploaded.exit_code == 0, uploaded.output
    assert "新增 2 条" in uploaded.stdout
    assert "待审核 2 条，校验不通过 0 条" in uploaded.stdout
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "导出.csv").read_text(encoding="utf-8-sig").count("\n") == 3
    assert rejected.exit_code == 1
    assert "SXPT-API-KEY-NOT-ALLOWED" in rejected.stderr


# --- a real server on 127.0.0.1 ---

START_TIMEOUT = 20.0
SCRIPT_TIMEOUT = 120


def move_clock(instance: Path, seconds: float) -> None:
    """Move the server's clock forward, past the one-minute SMS interval."""
    offset_file = instance / "clock_offset"
    offset = float(offset_file.read_text()) if offset_file.exists() else 0.0
    offset_file.write_text(str(offset + seconds), encoding="utf-8")


def outbox_code(instance: Path, account: str, purpose: str) -> str:
    messages = [sms for sms in read_outbox(instance / "outbox.jsonl")
                if sms["account"] == account and sms["purpose"] == purpose]
    assert messages, f"no {purpose} SMS for {account}"
    return messages[-1]["code"]


def activated_login(base_url: str, instance: Path, account: str) -> Client:
    """Activate ``account`` and log in with the SMS code from the outbox."""
    client = Client(base_url, timeout=30)
    client.activate(account, outbox_code(instance, account, "activation"), PASSWORD)
    move_clock(instance, 120)
    client.login(account, PASSWORD, lambda name: outbox_code(instance, name, "login"))
    return client


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server process with a ministry, a province, the school, two departments and a school API key."""
    folder = tmp_path_factory.mktemp("live")
    instance = folder / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        CLOCK_CONFIG + "\nUNIT_WORKER_THREAD = True\nUNIT_WORKER_INTERVAL = 0.2\n", encoding="utf-8")
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    environment = {**os.environ, "SXPT_INSTANCE_PATH": str(instance),
                   "PYTHONPATH": os.pathsep.join(filter(None, [source, str(ROOT), os.environ.get("PYTHONPATH")]))}

    def command(*args: str) -> None:
        result = subprocess.run([*server_command(), *args], env=environment, capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, result.stdout + result.stderr

    command("init-db")
    command("create-account", "--level", "ministry", "--phone", "13912340001")
    port = free_port()
    log_path = folder / "server.log"
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
            yield _bootstrap(base_url, instance, environment)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _bootstrap(base_url: str, instance: Path, environment: dict[str, str]) -> dict[str, Any]:
    ministry_name = read_outbox(instance / "outbox.jsonl")[-1]["account"]
    with activated_login(base_url, instance, ministry_name) as ministry:
        ministry.create_province("330000")
        province_name = ministry.create_account(level="province", province="330000", phone="13912340002").name
    with activated_login(base_url, instance, province_name) as province:
        province.create_school(code=SCHOOL, name=REGISTERED_NAME, uscc=SCHOOL_USCC, city=CITY)
        school_name = province.create_account(level="school", school=SCHOOL, phone="13912340003").name
    with activated_login(base_url, instance, school_name) as school:
        for name in (DEPARTMENT_0, DEPARTMENT_1):
            school.create_department(SCHOOL, name)
        key = school.issue_api_key("夜间上传（测试）").key
    return {"url": base_url, "instance": instance, "environment": environment, "key": key, "school": school_name}


def run_example(live: dict[str, Any], script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**live["environment"], "SXPT_SERVER_URL": live["url"], "SXPT_API_KEY": live["key"]}
    return subprocess.run([sys.executable, str(ROOT / "examples" / script), *args], env=environment, cwd=cwd,
                          capture_output=True, text=True, timeout=SCRIPT_TIMEOUT, check=False)


def test_nightly_upload_example(live: dict[str, Any], tmp_path: Path) -> None:
    """examples/nightly_upload.py uploads, waits for the worker and prints the summary; a rerun replays."""
    workbook = tmp_path / "实习数据.xlsx"
    xlsx_of([record(11), record(12), record(13, **{"实习单位统一社会信用代码": "91330100MA2B3C4000"})], workbook)
    first = run_example(live, "nightly_upload.py", str(workbook), "--poll", "0.3", "--wait-timeout", "60", cwd=tmp_path)
    again = run_example(live, "nightly_upload.py", str(workbook), "--poll", "0.3", "--wait-timeout", "60", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert "共 3 行，新增 3 条" in first.stdout
    assert "校验完成" in first.stdout
    assert "实习单位统一社会信用代码" in first.stdout
    assert "今晚已上传过同样的文件" in again.stdout
    assert live["key"] not in first.stderr + first.stdout
    assert "GET /api/v1/records 200" in first.stderr


def test_pull_review_results_example(live: dict[str, Any], tmp_path: Path) -> None:
    """examples/pull_review_results.py writes the failed and returned records with reasons."""
    with Client(live["url"], api_key=live["key"]) as keyed:
        result = keyed.upload_records([record(21, DEPARTMENT_1), record(22, DEPARTMENT_1)])
        keyed.wait_for_checks(result, timeout=30, poll=0.3)
        ids = [item.id for item in keyed.records(department=DEPARTMENT_1, state="待审核")]
    move_clock(live["instance"], 120)
    with Client(live["url"]) as school:
        school.login(live["school"], PASSWORD, lambda name: outbox_code(live["instance"], name, "login"))
        school.return_records(ids[:1], "缺少实习三方协议扫描件")
    result = run_example(live, "pull_review_results.py", "待处理.csv", "--department", DEPARTMENT_1, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "待处理.csv").read_text(encoding="utf-8-sig")
    assert "缺少实习三方协议扫描件" in text
    assert "已退回 1 条" in result.stdout


PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("name", ["sdk.md", "sdk.en.md"])
def test_docs_code_blocks_run(live: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              name: str) -> None:
    """Every python block of the SDK guide runs, in order, against the live server."""
    blocks = PYTHON_BLOCK.findall((ROOT / "docs" / name).read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    # The third record's vague 实习岗位 makes the review block return it.
    xlsx_of([record(31), record(32), record(33, **{"实习岗位": "实习"})], tmp_path / "实习数据.xlsx")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SXPT_SERVER_URL", live["url"])
    monkeypatch.setenv("SXPT_API_KEY", live["key"])
    monkeypatch.setenv("SXPT_ACCOUNT", live["school"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)

    def typed_code(prompt: str = "") -> str:
        return outbox_code(live["instance"], live["school"], "login")

    monkeypatch.setattr("builtins.input", typed_code)
    move_clock(live["instance"], 120)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for index, block in enumerate(blocks):
        try:
            exec(compile(block, f"{name} block {index + 1}", "exec"), namespace)
        except Exception as error:  # name the block that failed
            raise AssertionError(f"{name}, python block {index + 1} failed: {error!r}\n{block}") from error


class RejectingVerifier:
    """A unit directory that lists no unit, so every verification fails."""

    name = "directory"

    def verify(self, code: str, name: str) -> Any:
        from sxpt_server.units import Verdict

        return Verdict.failed("名录中没有该统一社会信用代码", "The code is not in the directory")


def test_cli_upload_wait_fails_on_failed_units(cli_app: World, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """sxpt upload --wait exits 1 when the server's unit checks fail records that passed locally."""
    from sxpt_server.units import EXTENSION

    monkeypatch.setattr(cli_app.app.extensions[EXTENSION], "verifier", RejectingVerifier())
    workbook = tmp_path / "实习数据.xlsx"
    xlsx_of([record(5), record(6)], workbook)
    uploaded = CliRunner().invoke(main, ["upload", str(workbook), "--wait", "--wait-timeout", "30"])
    assert uploaded.exit_code == 1, (uploaded.stdout, uploaded.stderr, uploaded.exception)
    assert "校验不通过 2 条" in uploaded.stdout
