"""Load benchmark of the reference server: departments upload while others read and review.

The script starts its own ``sxpt-server serve`` and ``sxpt-server worker`` on 127.0.0.1
with a fresh instance folder, registers a school with ``--departments`` departments, and
then runs these at once:

- each department uploads ``--uploads`` files of ``--rows`` invented records, as xlsx,
  CSV and JSON in turn, each with its own Idempotency-Key;
- ``--readers`` readers page through record lists with the filters users set, as the
  school and as the province;
- the school approves the review queue in batches and returns every tenth record with
  a reason.

When the uploads are done and the queue is empty, it lists every stored record and
counts each uploaded natural key (student, course, dates, unit). It checks that every
review was applied and reports throughput, latencies and the status of every response.
A 429, a 409 or a 5xx response is retried with back-off and counted; the
Idempotency-Key makes a retried upload safe.

Usage::

    python benchmarks/server_load.py [--departments 4] [--uploads 3] [--rows 400] [--readers 2] [--json OUT.json]

``tests/server/test_load.py`` runs a small scenario of this module in the test suite.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime
import io
import itertools
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import xlsxwriter

import sxpt_server
from sxpt_core.templates import get_template
from sxpt_server.sms import read_outbox

__all__ = [
    "LoadResult",
    "LoadSettings",
    "LocalServer",
    "format_table",
    "free_port",
    "run_load",
    "server_command",
]

PROVINCE = "330000"
SCHOOL = "4133010001"
SCHOOL_NAME = "东海理工大学"
SCHOOL_USCC = "12330000MB12345676"
SCHOOL_CITY = "330100"
PASSWORD = "Sxpt-Load-2025"
DEPARTMENT_NAMES = ("机械工程学院", "外国语学院", "计算机科学与技术学院", "经济管理学院", "土木工程学院",
                    "化学与材料学院", "艺术设计学院", "数学与统计学院", "电子信息学院", "法学院")
RETURN_REASON = "实习岗位填写不具体，请补充后重新提交"
CHINA = datetime.timezone(datetime.timedelta(hours=8))

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 120.0
MAX_ATTEMPTS = 6
# Seconds between two polls of the review queue when it is empty.
POLL_INTERVAL = 0.2
# Maximum requests per reader, a bound beside the deadline.
MAX_READS_PER_READER = 20_000

# The server reads its clock from this instance config, so the script can step past the
# one-minute SMS interval between an activation SMS and a login code without waiting.
# The unit worker verifies credit codes by their check character only ("code").
INSTANCE_CONFIG = '''
import datetime
import pathlib

_OFFSET_FILE = pathlib.Path(__file__).with_name("clock_offset")


def NOW():
    offset = float(_OFFSET_FILE.read_text()) if _OFFSET_FILE.exists() else 0.0
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)


UNIT_VERIFIER = "code"
UNIT_WORKER_INTERVAL = 0.5
'''

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, index, 31) for index in range(17)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏"
GIVEN = "子涵欣怡梓轩浩宇雨桐思远俊杰一诺佳琪明轩语嫣晨曦宇航雅静嘉怡博文诗涵天佑若曦泽宇可馨皓轩梦瑶"
CITIES = ("330100", "330200", "320500", "310000", "110000", "440300", "420100", "510100")
HEADERS = tuple(column.header for column in get_template("records"))
KEY_HEADERS = ("学号", "课程代码", "实习开始时间", "实习结束时间", "实习单位统一社会信用代码")


# --- settings and results ---


@dataclass(frozen=True)
class LoadSettings:
    """The size of one load scenario."""

    departments: int = 4
    uploads: int = 3  # uploads per department
    rows: int = 400  # rows per upload
    readers: int = 2
    review_batch: int = 200  # records approved or returned by one review request
    return_every: int = 10  # the school returns records whose id is a multiple of this
    server_threads: int = 4
    servers: int = 1  # sxpt-server serve processes on the one database
    workers: int = 1  # sxpt-server worker processes, at most one beside each server
    database: str | None = None  # the DATABASE setting; None for SQLite in the instance folder
    deadline: float = 600.0  # seconds for the concurrent phase and the drain together
    seed: int = 11


@dataclass
class Latency:
    """Latency figures of one kind of request, in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float


@dataclass
class LoadResult:
    """Figures of one load scenario and the result of its final count."""

    settings: LoadSettings
    upload_seconds: float = 0.0  # wall time from the first upload to the last response
    total_seconds: float = 0.0  # the concurrent phase and the drain of the review queue
    uploads: int = 0
    rows_uploaded: int = 0
    records_created: int = 0
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> responses
    retried: dict[str, int] = field(default_factory=dict)  # "kind status" -> retries
    retried_without_problem: int = 0  # 409 and 429 responses without a problem details body
    server_errors: int = 0  # 5xx responses
    latencies: dict[str, Latency] = field(default_factory=dict)
    stored: int = 0
    lost: int = 0  # uploaded natural keys with no stored record
    duplicated: int = 0  # natural keys stored more than once
    unexpected: int = 0  # stored records whose key was never uploaded
    approved: int = 0
    returned: int = 0
    review_mismatches: int = 0  # reviewed records whose state is not what the review set
    unreviewed: int = 0  # records left in a state before review
    province_visible: int = 0  # records the province counts, which must equal ``approved``
    errors: list[str] = field(default_factory=list)

    @property
    def uploads_per_minute(self) -> float:
        return self.uploads * 60 / self.upload_seconds if self.upload_seconds else 0.0

    @property
    def records_per_second(self) -> float:
        return self.records_created / self.upload_seconds if self.upload_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["settings"]["database"] = _database_kind(self.settings.database)
        document["uploads_per_minute"] = round(self.uploads_per_minute, 1)
        document["records_per_second"] = round(self.records_per_second, 1)
        return document


class LoadError(Exception):
    """A request that failed for good, or a scenario that could not finish."""


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Recorder:
    """Collects the status and latency of every response, from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, list[float]] = collections.defaultdict(list)
        self.statuses: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.retried: collections.Counter[str] = collections.Counter()
        self.retried_without_problem = 0

    def add(self, kind: str, status: str, seconds: float) -> None:
        with self._lock:
            self.seconds[kind].append(seconds)
            self.statuses[kind][status] += 1

    def retry(self, kind: str, status: str, has_problem: bool) -> None:
        with self._lock:
            self.retried[f"{kind} {status}"] += 1
            if not has_problem and status in ("409", "429"):
                self.retried_without_problem += 1


# --- the server processes ---


def server_command() -> list[str]:
    """Return the sxpt-server console script of this Python, or ``python -m sxpt_server`` without one."""
    script = Path(sys.executable).with_name("sxpt-server")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "sxpt_server"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process this script started: SIGTERM, then SIGKILL after STOP_TIMEOUT seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


class LocalServer:
    """A ``sxpt-server serve`` process on 127.0.0.1, and optionally its unit worker, on one instance folder."""

    def __init__(self, instance: Path, *, threads: int = 4, worker: bool = True,
                 settings: dict[str, str] | None = None) -> None:
        self.instance = instance
        self.threads = threads
        self.worker = worker
        source = str(Path(sxpt_server.__file__).resolve().parent.parent)
        self.environment = {**os.environ, "SXPT_INSTANCE_PATH": str(instance),
                            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
                            **(settings or {})}
        self.port = 0
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The process id of the HTTP server."""
        return self.processes[0].pid

    def command(self, *args: str) -> str:
        """Run one ``sxpt-server`` command on the instance and return its output; raise when it fails."""
        result = subprocess.run([*server_command(), *args], env=self.environment, capture_output=True, text=True,
                                timeout=120, check=False)
        if result.returncode != 0:
            raise LoadError(f"sxpt-server {' '.join(args)} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout

    def start(self) -> None:
        self.command("init-db")
        self.port = free_port()
        log = (self.instance / "server.log").open("ab")
        self.processes.append(subprocess.Popen(
            [*server_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--threads", str(self.threads)], env=self.environment, stdout=log, stderr=subprocess.STDOUT))
        if self.worker:
            worker_log = (self.instance / "worker.log").open("ab")
            self.processes.append(subprocess.Popen([*server_command(), "worker"], env=self.environment,
                                                   stdout=worker_log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.processes[0].poll() is not None:
                raise LoadError(f"sxpt-server serve exited with {self.processes[0].returncode}; see "
                                f"{self.instance / 'server.log'}")
            try:
                httpx.get(f"{self.base_url}/api/v1/health", timeout=1.0)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise LoadError(f"sxpt-server did not respond within {START_TIMEOUT} s") from None
                time.sleep(0.2)

    def stop(self) -> None:
        for process in reversed(self.processes):
            _stop(process)

    def __enter__(self) -> LocalServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exception: object) -> None:
        self.stop()

    def move_clock(self, seconds: float) -> None:
        """Move the server's clock forward (the instance config reads the offset on every call)."""
        offset_file = self.instance / "clock_offset"
        offset = float(offset_file.read_text()) if offset_file.exists() else 0.0
        offset_file.write_text(str(offset + seconds), encoding="utf-8")

    def last_code(self, account: str, purpose: str) -> str:
        messages = [sms for sms in read_outbox(self.instance / "outbox.jsonl")
                    if sms["account"] == account and sms["purpose"] == purpose]
        if not messages:
            raise LoadError(f"no {purpose} SMS for {account} in the outbox")
        return messages[-1]["code"]


def write_instance_config(instance: Path) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(INSTANCE_CONFIG, encoding="utf-8")


# --- accounts and HTTP ---


class Account:
    """One logged-in account; each ``connection()`` is another device on the same session."""

    def __init__(self, server: LocalServer, name: str, recorder: Recorder) -> None:
        self.server = server
        self.name = name
        self.recorder = recorder
        self.client = httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT)
        self._extra: list[httpx.Client] = []

    def connection(self) -> httpx.Client:
        client = httpx.Client(base_url=self.server.base_url, timeout=REQUEST_TIMEOUT, cookies=self.client.cookies)
        self._extra.append(client)
        return client

    def close(self) -> None:
        for client in (self.client, *self._extra):
            client.close()

    def request(self, kind: str, method: str, url: str, *, expected: tuple[int, ...] = (200,),
                client: httpx.Client | None = None, deadline: float | None = None, **options: Any) -> httpx.Response:
        """Send a request, retrying 429, 409, 5xx and transport errors with back-off; record every response."""
        client = client or self.client
        for attempt in range(MAX_ATTEMPTS):
            start = time.perf_counter()
            try:
                response = client.request(method, url, **options)
            except httpx.TransportError as error:
                self.recorder.add(kind, "transport", time.perf_counter() - start)
                self.recorder.retry(kind, type(error).__name__, has_problem=False)
                _back_off(attempt, None, deadline)
                continue
            self.recorder.add(kind, str(response.status_code), time.perf_counter() - start)
            if response.status_code in expected:
                return response
            if response.status_code in (409, 429) or response.status_code >= 500:
                has_problem = response.headers.get("content-type", "").startswith("application/problem+json")
                self.recorder.retry(kind, str(response.status_code), has_problem)
                _back_off(attempt, response.headers.get("Retry-After"), deadline)
                continue
            raise LoadError(f"{method} {url} returned {response.status_code}: {response.text[:1000]}")
        raise LoadError(f"{method} {url} failed {MAX_ATTEMPTS} times; see the retried responses")


def _back_off(attempt: int, retry_after: str | None, deadline: float | None) -> None:
    delay = min(0.25 * 2**attempt, 8.0)
    if retry_after and retry_after.isdigit():
        delay = max(delay, min(float(retry_after), 60.0))
    if deadline is not None and time.monotonic() + delay > deadline:
        raise LoadError("the deadline passed while waiting to retry")
    time.sleep(delay)


def log_in(server: LocalServer, name: str, recorder: Recorder) -> Account:
    """Activate ``name`` with the code of its activation SMS and log in with password and SMS code.

    The caller moves the server's clock past the SMS interval between the activation SMS and this call.
    """
    account = Account(server, name, recorder)
    account.request("setup", "POST", "/api/v1/auth/activate", json={
        "account": name, "code": server.last_code(name, "activation"), "password": PASSWORD})
    account.request("setup", "POST", "/api/v1/auth/code", json={"account": name, "password": PASSWORD})
    account.request("setup", "POST", "/api/v1/auth/login", json={
        "account": name, "password": PASSWORD, "code": server.last_code(name, "login")})
    return account


def _account_name(output: str) -> str:
    """Return the account name that ``sxpt-server create-account`` printed."""
    for word in output.replace("。", " ").split():
        if word.startswith("sxpt"):
            return word
    raise LoadError(f"no account name in the output of create-account: {output}")


def department_names(count: int) -> list[str]:
    """Return ``count`` invented department names."""
    names = list(DEPARTMENT_NAMES[:count])
    names.extend(f"第{index}学院" for index in range(len(names) + 1, count + 1))
    return names


def set_up_accounts(servers: Sequence[LocalServer], departments: Sequence[str], recorder: Recorder
                    ) -> tuple[Account, Account, list[Account]]:
    """Register the province and the school with its departments; log in the school, the province and each department.

    The school talks to the first server, the province to the last, and the departments
    to each server in turn. Sessions live in the database, so each is valid on any server.
    """
    server = servers[0]
    phones = (f"1390001{number:04d}" for number in itertools.count(1))
    province_name = _account_name(server.command("create-account", "--level", "province", "--province", PROVINCE,
                                                 "--phone", next(phones)))
    school_name = _account_name(server.command(
        "create-account", "--level", "school", "--province", PROVINCE, "--school", SCHOOL, "--school-name",
        SCHOOL_NAME, "--uscc", SCHOOL_USCC, "--city", SCHOOL_CITY, "--phone", next(phones)))
    server.move_clock(120)
    school = log_in(server, school_name, recorder)
    province = log_in(servers[-1], province_name, recorder)

    names = []
    for department in departments:
        school.request("setup", "POST", f"/api/v1/schools/{SCHOOL}/departments", expected=(201,),
                       json={"name": department})
        created = school.request("setup", "POST", "/api/v1/accounts", expected=(201,), json={
            "level": "department", "department": department, "phone": next(phones)})
        names.append(created.json()["name"])
    server.move_clock(120)
    return school, province, [log_in(servers[index % len(servers)], name, recorder)
                              for index, name in enumerate(names)]


# --- invented records and upload files ---


def _uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    total = sum(ALPHABET.index(character) * weight for character, weight in zip(body, WEIGHTS))
    return body + ALPHABET[-total % 31]


def _academic_year(start: datetime.date) -> str:
    first = start.year if start.month >= 9 else start.year - 1
    return f"{first}-{first + 1}"


def make_rows(department: str, department_index: int, upload_index: int, count: int, rng: random.Random,
              today: datetime.date) -> list[dict[str, str]]:
    """Return ``count`` invented records of one department's upload, keyed by template header, without errors."""
    units = [(f"示例{index:03d}科技有限公司", _uscc(random.Random(index), city), city)
             for index, city in ((index, CITIES[index % len(CITIES)]) for index in range(150))]
    rows = []
    for number in range(count):
        unit_name, unit_code, city = rng.choice(units)
        course = rng.randrange(12)
        end = today - datetime.timedelta(days=rng.randrange(1, 150))
        start = end - datetime.timedelta(days=rng.randrange(20, 60))
        values = {
            "学号": f"23{department_index:02d}{upload_index:02d}{number:04d}",
            "学生姓名": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
            "入学年份": "2023", "院系": department, "班级": f"班级{number % 30}",
            "课程名称": f"专业实习{course}", "课程代码": f"SX{course:04d}", "学分": rng.choice(["2", "3", "4"]),
            "实习类型": "专业实习", "实习组织形式": "集中实习", "实习方式": "现场实习", "学年": _academic_year(start),
            "校内指导教师": "周明远", "实习单位名称": unit_name, "实习单位统一社会信用代码": unit_code,
            "实习地区及代码": city, "实习详细地址": f"科技园{number % 500}号",
            "是否有实习责任险": "是", "是否有人身意外险": "是", "是否进行实习安全教育和培训": "是",
            "是否签订实习三方协议": "是", "实习单位获取方式": "学校安排", "实习单位是否有安全应急预案": "是",
            "实习单位是否为校级及以上实习基地": "否", "实习单位是否为数智赋能实习基地": "否",
            "实习单位是否为海外实习基地": "否", "实习开始时间": start.isoformat(), "实习结束时间": end.isoformat(),
            "实际实习天数": str((end - start).days + 1 - rng.randrange(0, 5)), "实习岗位": "技术员",
            "实习报酬（元/月）": "3000", "企业指导人员姓名": "王经理",
            "企业指导人员电话": f"137{rng.randrange(10**8):08d}",
            "专业": "机械设计制造及其自动化",
        }
        rows.append({header: values[header] for header in HEADERS})
    return rows


def natural_key(cells: dict[str, Any]) -> tuple[str, ...]:
    """Return the parts of a record's natural key within one school, from its cells."""
    return tuple(str(cells.get(header, "")) for header in KEY_HEADERS)


def xlsx_bytes(rows: Sequence[dict[str, str]]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("实习数据")
    sheet.write_row(0, 0, HEADERS)
    for index, row in enumerate(rows, start=1):
        sheet.write_row(index, 0, [row[header] for header in HEADERS])
    workbook.close()
    return buffer.getvalue()


def csv_bytes(rows: Sequence[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows([row[header] for header in HEADERS] for row in rows)
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class PlannedUpload:
    """One upload of the scenario, ready to send."""

    department: int
    key: str  # the Idempotency-Key
    rows: int
    files: dict[str, tuple[str, bytes, str]] | None
    body: dict[str, Any] | None


def plan_uploads(settings: LoadSettings, departments: Sequence[str]) -> tuple[list[list[PlannedUpload]], set[tuple[str, ...]]]:
    """Build every department's upload files, rotating xlsx, CSV and JSON; return them and the natural keys."""
    rng = random.Random(settings.seed)
    today = datetime.datetime.now(CHINA).date()
    keys: set[tuple[str, ...]] = set()
    planned: list[list[PlannedUpload]] = []
    for index, department in enumerate(departments):
        uploads = []
        for number in range(settings.uploads):
            rows = make_rows(department, index, number, settings.rows, rng, today)
            keys.update(natural_key(row) for row in rows)
            form = (index + number) % 3
            files = body = None
            if form == 0:
                files = {"file": (f"实习数据-{department}-{number}.xlsx", xlsx_bytes(rows),
                                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
            elif form == 1:
                files = {"file": (f"实习数据-{department}-{number}.csv", csv_bytes(rows), "text/csv")}
            else:
                body = {"records": rows}
            uploads.append(PlannedUpload(index, f"load-{index}-{number}", len(rows), files, body))
        planned.append(uploads)
    return planned, keys


# --- the concurrent phase ---


@dataclass
class ReviewLog:
    """The ids the school approved and returned."""

    approved: set[int] = field(default_factory=set)
    returned: set[int] = field(default_factory=set)


def _upload_all(account: Account, uploads: Sequence[PlannedUpload], created: list[int], deadline: float) -> None:
    for upload in uploads:
        response = account.request("upload", "POST", "/api/v1/batches", expected=(200, 201),
                                   headers={"Idempotency-Key": upload.key}, files=upload.files, json=upload.body,
                                   deadline=deadline)
        created.append(int(response.json()["batch"]["created"]))


def _read_until(account: Account, client: httpx.Client, queries: Sequence[str], stop: threading.Event,
                deadline: float) -> None:
    """Page through record lists with the given filters until ``stop`` is set."""
    for reads, query in enumerate(itertools.cycle(queries)):
        if stop.is_set() or reads >= MAX_READS_PER_READER or time.monotonic() > deadline:
            return
        page = account.request("list", "GET", f"/api/v1/records?limit=100{query}", client=client,
                               deadline=deadline).json()
        if page["next_after"] is not None and not stop.is_set():
            account.request("list", "GET", f"/api/v1/records?limit=100{query}&after={page['next_after']}",
                            client=client, deadline=deadline)


def _review_until_empty(school: Account, client: httpx.Client, settings: LoadSettings, uploads_done: threading.Event,
                        log: ReviewLog, deadline: float) -> None:
    """Approve the review queue in batches, returning every ``return_every``-th id, until nothing is left."""
    while time.monotonic() < deadline:
        queue = school.request("review_queue", "GET", f"/api/v1/review?limit={settings.review_batch}",
                               client=client, deadline=deadline).json()
        ids = [item["id"] for item in queue["records"]]
        if not ids:
            if uploads_done.is_set() and _checking(school, client, deadline) == 0:
                return
            time.sleep(POLL_INTERVAL)
            continue
        to_return = [record_id for record_id in ids if record_id % settings.return_every == 0]
        to_approve = [record_id for record_id in ids if record_id % settings.return_every != 0]
        if to_approve:
            school.request("review", "POST", "/api/v1/review", client=client, deadline=deadline,
                           json={"action": "approve", "records": to_approve})
            log.approved.update(to_approve)
        if to_return:
            school.request("review", "POST", "/api/v1/review", client=client, deadline=deadline,
                           json={"action": "return", "records": to_return, "reason": RETURN_REASON})
            log.returned.update(to_return)
    raise LoadError("the review queue was not empty at the deadline")


def _checking(school: Account, client: httpx.Client, deadline: float) -> int:
    """Count the records that still wait for their unit check."""
    response = school.request("count", "GET", "/api/v1/records/count?state=待校验", client=client, deadline=deadline)
    count: int = response.json()["count"]
    return count


def _reader_queries(departments: Sequence[str], keys: set[tuple[str, ...]], index: int) -> list[str]:
    """Return the filters that reader ``index`` cycles through, as query string suffixes."""
    sample = sorted(keys)[index % len(keys)]
    month = datetime.datetime.now(CHINA).date().replace(day=1).isoformat()[:7]
    department = departments[index % len(departments)]
    return ["", f"&department={department}", "&state=待审核", "&state=审核通过", f"&month={month}",
            f"&student_id={sample[0]}", f"&unit_code={sample[4]}", f"&department={department}&state=已退回"]


def _run_threads(tasks: Sequence[tuple[str, Callable[[], None]]]) -> dict[str, BaseException]:
    """Run each task in its own thread; return the exception of each task that raised one."""
    failures: dict[str, BaseException] = {}

    def wrap(name: str, task: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                task()
            except BaseException as error:  # reported by the caller with the task's name
                failures[name] = error
        return run

    threads = [threading.Thread(target=wrap(name, task), name=name, daemon=True) for name, task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _list_all(account: Account) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        suffix = f"&after={after}" if after is not None else ""
        page = account.request("final_count", "GET", f"/api/v1/records?limit=500{suffix}").json()
        records.extend(page["records"])
        after = page["next_after"]
        if after is None:
            return records


def _reconcile(result: LoadResult, school: Account, province: Account, keys: set[tuple[str, ...]],
               log: ReviewLog) -> None:
    """Count the stored records against the uploaded keys and the applied reviews."""
    records = _list_all(school)
    stored = collections.Counter(natural_key(record["cells"]) for record in records)
    result.stored = len(records)
    result.lost = len(keys - set(stored))
    result.duplicated = sum(1 for count in stored.values() if count > 1)
    result.unexpected = len(set(stored) - keys)
    result.approved = len(log.approved)
    result.returned = len(log.returned)
    for record in records:
        if record["id"] in log.approved:
            result.review_mismatches += record["state"] != "审核通过"
        elif record["id"] in log.returned:
            result.review_mismatches += record["state"] != "已退回"
        else:
            result.unreviewed += 1
    counted = province.request("final_count", "GET", "/api/v1/records/count").json()
    result.province_visible = int(counted["count"])


def _summarise(result: LoadResult, recorder: Recorder) -> None:
    result.statuses = {kind: dict(counter) for kind, counter in recorder.statuses.items()}
    result.retried = dict(recorder.retried)
    result.retried_without_problem = recorder.retried_without_problem
    result.server_errors = sum(count for counter in recorder.statuses.values()
                               for status, count in counter.items() if status.isdigit() and int(status) >= 500)
    result.latencies = {
        kind: Latency(len(values), round(percentile(values, 0.5) * 1000, 1), round(percentile(values, 0.95) * 1000, 1),
                      round(max(values) * 1000, 1))
        for kind, values in recorder.seconds.items() if kind not in ("setup", "final_count")
    }


def run_load(settings: LoadSettings, instance: Path) -> LoadResult:
    """Run one load scenario on a fresh server in ``instance`` (an empty or missing folder) and return the figures."""
    write_instance_config(instance)
    recorder = Recorder()
    result = LoadResult(settings)
    departments = department_names(settings.departments)
    planned, keys = plan_uploads(settings, departments)
    result.uploads = sum(len(uploads) for uploads in planned)
    result.rows_uploaded = sum(upload.rows for uploads in planned for upload in uploads)

    environment = {"SXPT_DATABASE": settings.database} if settings.database else {}
    with ExitStack() as stack:
        servers = [stack.enter_context(LocalServer(instance, threads=settings.server_threads,
                                                   worker=index < settings.workers, settings=environment))
                   for index in range(settings.servers)]
        school, province, department_accounts = set_up_accounts(servers, departments, recorder)
        try:
            _run_scenario(settings, result, recorder, school, province, department_accounts, planned, departments,
                          keys)
        finally:
            for account in (school, province, *department_accounts):
                account.close()
    _summarise(result, recorder)
    return result


def _run_scenario(settings: LoadSettings, result: LoadResult, recorder: Recorder, school: Account,
                  province: Account, department_accounts: Sequence[Account], planned: Sequence[Sequence[PlannedUpload]],
                  departments: Sequence[str], keys: set[tuple[str, ...]]) -> None:
    deadline = time.monotonic() + settings.deadline
    uploads_done = threading.Event()
    reviews_done = threading.Event()
    log = ReviewLog()
    created: list[int] = []
    start = time.perf_counter()

    def uploaders() -> None:
        failures = _run_threads([
            (f"upload-{index}", lambda account=account, uploads=uploads: _upload_all(account, uploads, created, deadline))
            for index, (account, uploads) in enumerate(zip(department_accounts, planned))])
        result.upload_seconds = time.perf_counter() - start
        uploads_done.set()
        if failures:
            raise LoadError("; ".join(f"{name}: {error}" for name, error in failures.items()))

    def reviewer() -> None:
        try:
            _review_until_empty(school, school.connection(), settings, uploads_done, log, deadline)
        finally:
            reviews_done.set()

    readers = []
    for index in range(settings.readers):
        # Even readers are the school, odd readers the province reading approved versions.
        account = school if index % 2 == 0 else province
        queries = _reader_queries(departments, keys, index) if account is school else ["", "&month="
                                                                                         + _this_month()]
        client = account.connection()
        readers.append((f"reader-{index}", lambda account=account, client=client, queries=queries:
                        _read_until(account, client, queries, reviews_done, deadline)))

    failures = _run_threads([("uploads", uploaders), ("review", reviewer), *readers])
    result.total_seconds = time.perf_counter() - start
    result.records_created = sum(created)
    result.errors.extend(f"{name}: {error}" for name, error in failures.items())
    _reconcile(result, school, province, keys, log)


def _this_month() -> str:
    return datetime.datetime.now(CHINA).date().isoformat()[:7]


# --- output ---


def format_table(result: LoadResult) -> str:
    """Return the figures of a load scenario as a plain-text table."""
    settings = result.settings
    lines = [
        f"departments {settings.departments}, uploads each {settings.uploads}, rows each {settings.rows}, "
        f"readers {settings.readers}, server threads {settings.server_threads}, server processes "
        f"{settings.servers}, unit workers {settings.workers}, database {_database_kind(settings.database)}",
        f"uploads: {result.uploads} in {result.upload_seconds:.1f} s = {result.uploads_per_minute:.1f} per minute; "
        f"records created: {result.records_created} = {result.records_per_second:.0f} per second",
        f"whole phase with the review drain: {result.total_seconds:.1f} s",
        "",
        f"{'request':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}",
    ]
    for kind, latency in sorted(result.latencies.items()):
        lines.append(f"{kind:<14}{latency.count:>8}{latency.p50_ms:>10.1f}{latency.p95_ms:>10.1f}{latency.max_ms:>10.1f}")
    lines += [
        "",
        f"5xx responses: {result.server_errors}; retried: {result.retried or 'none'}; "
        f"retried without a problem body: {result.retried_without_problem}",
        f"statuses: {result.statuses}",
        f"stored {result.stored} of {result.rows_uploaded} uploaded keys: lost {result.lost}, duplicated "
        f"{result.duplicated}, unexpected {result.unexpected}",
        f"reviews: approved {result.approved}, returned {result.returned}, not applied {result.review_mismatches}, "
        f"records left unreviewed {result.unreviewed}; the province sees {result.province_visible}",
    ]
    if result.errors:
        lines.append("errors: " + "; ".join(result.errors))
    return "\n".join(lines)


def _database_kind(database: str | None) -> str:
    """Name the database without its credentials."""
    return "PostgreSQL" if database and "://" in database else "SQLite"


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value
    return parse


@contextmanager
def _instance_folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        if keep.exists():
            shutil.rmtree(keep)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="sxpt-load-") as folder:
        yield Path(folder) / "instance"


def main() -> None:
    parser = argparse.ArgumentParser(description="Load benchmark of sxpt-server on 127.0.0.1.")
    parser.add_argument("--departments", type=_bounded(1, 20), default=4, help="departments that upload at once")
    parser.add_argument("--uploads", type=_bounded(1, 50), default=3, help="uploads per department")
    parser.add_argument("--rows", type=_bounded(1, 5000), default=400, help="records per upload")
    parser.add_argument("--readers", type=_bounded(0, 16), default=2, help="threads that list records meanwhile")
    parser.add_argument("--threads", type=_bounded(1, 64), default=4, help="request threads of the server")
    parser.add_argument("--servers", type=_bounded(1, 8), default=1, help="server processes on the one database")
    parser.add_argument("--workers", type=_bounded(0, 8), default=1, help="unit worker processes (at most --servers)")
    parser.add_argument("--database", help="the DATABASE setting, such as a postgresql:// URL of an empty database "
                                           "on 127.0.0.1 (default: SQLite in the instance folder)")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds the whole scenario may take")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", type=Path, help="run in this instance folder (emptied first) and keep it")
    options = parser.parse_args()

    settings = LoadSettings(departments=options.departments, uploads=options.uploads, rows=options.rows,
                            readers=options.readers, server_threads=options.threads, servers=options.servers,
                            workers=min(options.workers, options.servers), database=options.database,
                            deadline=options.deadline)
    with _instance_folder(options.keep) as instance:
        result = run_load(settings, instance)
    print(format_table(result))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    failed = result.server_errors or result.lost or result.duplicated or result.unexpected or \
        result.review_mismatches or result.unreviewed or result.errors or result.province_visible != result.approved
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
