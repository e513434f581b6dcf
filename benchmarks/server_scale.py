"""Scale benchmark of the reference server: record lists at 1,000,000 records and a 100,000-row upload.

(a) Seeds a database with ``--records`` invented records through the store interface
    (``sxpt_server.store.open_store`` and its write methods, no SQL of its own). The
    data has 4 provinces, 40 schools of 15 departments, 24 reporting months and 3,000
    host units. Its review states are those a real year leaves behind: old months
    mostly approved, the last three months mostly waiting. The seeded database file is
    kept under ``benchmarks/out/`` and reused by later runs.
(b) Times the record lists that users request, through the Flask test client on that
    database: the first page and a later cursor page, with each filter of the record
    list, as a school, a department and a province, and the review queue. Each figure
    is the median and the 95th percentile of ``--repeat`` requests after one warm-up
    request. Target: the 95th percentile under 50 ms.
(c) Uploads a generated 100,000-row workbook (``benchmarks/generate.py``) to a fresh
    ``sxpt-server serve`` on 127.0.0.1 and compares the time until the batch is stored
    and checked with ``sxpt validate --format json`` of the same file in a fresh
    process. Target: at most 3 × the validate time. Peak memory is the high-water mark
    of the server process's resident set (``VmHWM``) beside that of the validate
    process. The same is measured for a 20,000-row workbook, so that growth with the
    file size shows. Target: the server's peak at most 1.5 × validate's peak on the same
    file. ``--upload-database URL`` runs these uploads on a new schema of a PostgreSQL
    database instead of a SQLite file.

``--database`` is passed to the app as its ``DATABASE`` setting. A file path is seeded
into ``NAME.partial`` and renamed when complete, so an interrupted seed is never reused.

Usage::

    python benchmarks/server_scale.py [--records 1000000] [--repeat 20] [--parts seed,queries,upload]
                                      [--profile DIR] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from flask import Flask
from flask.testing import FlaskClient
from server_load import LocalServer, percentile, write_instance_config

from sxpt_core import records as core_records
from sxpt_core.templates import get_template
from sxpt_server import create_app
from sxpt_server.sms import read_outbox
from sxpt_server.store import School, Store, open_store
from sxpt_server.store.records import NewBatch, RecordFilter, RecordWrite

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
# Part of the cached database's file name: change it when the seeded data changes.
SEED_VERSION = 1
PASSWORD = "Sxpt-Scale-2025"
QUERY_TARGET_MS = 50.0
UPLOAD_TARGET_RATIO = 3.0
# The server checks the file with the same core rules as sxpt validate, which keep every
# row for the rules across rows, then stores it in chunks. Its peak may exceed validate's
# by the stored batch, the report and the server itself, at most this factor.
MEMORY_VALIDATE_TARGET = 1.5
UPLOAD_TIMEOUT = 1800.0

PROVINCES = {"330000": "浙江省", "320000": "江苏省", "440000": "广东省", "420000": "湖北省"}
SCHOOLS_PER_PROVINCE = 10
DEPARTMENTS = ("机械工程学院", "外国语学院", "计算机科学与技术学院", "经济管理学院", "土木工程学院",
               "化学与材料学院", "艺术设计学院", "数学与统计学院", "电子信息学院", "法学院", "医学院",
               "建筑学院", "新闻传播学院", "农学院", "体育学院")
# Departments differ in size: the first is about five times the last.
DEPARTMENT_WEIGHTS = [5 - 4 * index / (len(DEPARTMENTS) - 1) for index in range(len(DEPARTMENTS))]
UNITS = 3000
STUDENTS_PER_SCHOOL = 8000
MONTHS = 24
LAST_MONTH = (2026, 11)  # the newest reporting month of the seeded data
HEADERS = tuple(column.header for column in get_template("records"))
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, index, 31) for index in range(17)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏"
GIVEN = "子涵欣怡梓轩浩宇雨桐思远俊杰一诺佳琪明轩语嫣晨曦宇航雅静嘉怡博文诗涵天佑若曦泽宇可馨皓轩梦瑶"
CITIES = ("330100", "330200", "320500", "310000", "110000", "440300", "420100", "510100", "440100", "320100")
RETURN_REASON = "实习岗位填写不具体，请补充"
CHECKSUM_ISSUE = {"code": "SXPT-E-USCC-CHECKSUM", "severity": "error", "layer": "checksum", "column": "O",
                  "field": "实习单位统一社会信用代码", "value": "", "params": {"expected": "X"}}

# The fate of a seeded record: (state it ends in, share in months older than three, share in the last three).
FATES = (
    ("approved", 0.88, 0.30),
    ("returned", 0.04, 0.06),
    ("failed", 0.03, 0.09),
    ("edited", 0.03, 0.02),  # approved, then edited: the new version waits for review
    ("awaiting", 0.02, 0.35),
    ("checking", 0.00, 0.18),
)


# --- (a) seeding ---


def _uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    total = sum(ALPHABET.index(character) * weight for character, weight in zip(body, WEIGHTS))
    return body + ALPHABET[-total % 31]


def _reporting_months() -> list[tuple[int, int]]:
    """Return the seeded reporting months, oldest first."""
    year, month = LAST_MONTH
    months = []
    for _ in range(MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _schools() -> list[School]:
    schools = []
    created = datetime.datetime(2024, 9, 1, tzinfo=datetime.timezone.utc)
    rng = random.Random(5)
    for province_index, province in enumerate(PROVINCES):
        for index in range(SCHOOLS_PER_PROVINCE):
            code = f"41{province[:2]}01{province_index}{index:03d}"
            schools.append(School(code=code, province=province, name=f"示例第{province_index * 10 + index + 1}大学",
                                  uscc=_uscc(rng, province[:2] + "0100"), city=province[:2] + "0100",
                                  created_at=created))
    return schools


def _units() -> list[tuple[str, str, str]]:
    rng = random.Random(3)
    units = []
    for index in range(UNITS):
        city = CITIES[index % len(CITIES)]
        units.append((f"示例{index:04d}科技有限公司", _uscc(rng, city), city))
    return units


@dataclass(frozen=True)
class SeedRow:
    write: RecordWrite
    fate: str


def _seed_rows(school: School, school_index: int, month: tuple[int, int], recent: bool, count: int,
               rng: random.Random, units: Sequence[tuple[str, str, str]]) -> list[SeedRow]:
    """Return ``count`` invented records of one school whose internships ended the month before ``month``."""
    year, number = month
    end_year, end_month = (year, number - 1) if number > 1 else (year - 1, 12)
    fates = [fate for fate, _old, _new in FATES]
    shares = [new if recent else old for _fate, old, new in FATES]
    keys: set[str] = set()
    rows: list[SeedRow] = []
    while len(rows) < count:
        unit_name, unit_code, city = rng.choice(units)
        end = datetime.date(end_year, end_month, rng.randrange(1, 29))
        start = end - datetime.timedelta(days=rng.randrange(20, 60))
        student = f"2{school_index:02d}{rng.randrange(STUDENTS_PER_SCHOOL):05d}"
        course = rng.randrange(40)
        values = {"student_id": student, "course_code": f"SX{course:04d}", "start_date": start, "end_date": end,
                  "unit_code": unit_code, "unit_name": unit_name}
        key = core_records.natural_key(values)
        assert key is not None
        if key in keys:
            continue
        keys.add(key)
        department = rng.choices(DEPARTMENTS, DEPARTMENT_WEIGHTS)[0]
        first_year = start.year if start.month >= 9 else start.year - 1
        cells = {
            "学号": student, "学生姓名": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
            "入学年份": str(first_year - 2), "院系": department, "班级": f"班级{rng.randrange(40)}",
            "课程名称": f"专业实习{course}", "课程代码": f"SX{course:04d}", "学分": rng.choice(["2", "3", "4"]),
            "实习类型": rng.choice(["认识实习", "专业实习", "生产实习", "毕业实习"]), "实习组织形式": "集中实习",
            "实习方式": "现场实习", "学年": f"{first_year}-{first_year + 1}", "校内指导教师": "周明远",
            "实习单位名称": unit_name, "实习单位统一社会信用代码": unit_code, "实习地区及代码": city,
            "实习详细地址": f"科技园{rng.randrange(500)}号", "是否有实习责任险": "是", "是否有人身意外险": "是",
            "是否进行实习安全教育和培训": "是", "是否签订实习三方协议": "是", "实习单位获取方式": "学校安排",
            "实习单位是否有安全应急预案": "是", "实习单位是否为校级及以上实习基地": "否",
            "实习单位是否为数智赋能实习基地": "否", "实习单位是否为海外实习基地": "否",
            "实习开始时间": start.isoformat(), "实习结束时间": end.isoformat(),
            "实际实习天数": str((end - start).days - rng.randrange(0, 5)), "实习岗位": "技术员",
            "实习报酬（元/月）": "3000", "企业指导人员姓名": "王经理", "企业指导人员电话": f"136{rng.randrange(10**8):08d}",
        }
        fate = rng.choices(fates, shares)[0]
        issues = [dict(CHECKSUM_ISSUE, value=unit_code)] if fate == "failed" else []
        state = {"failed": "校验不通过", "checking": "待校验"}.get(fate, "待审核")
        rows.append(SeedRow(RecordWrite(
            record_id=None, province=school.province, school=school.code, department=department, natural_key=key,
            state=state, student_id=student, course_code=f"SX{course:04d}", unit_code=unit_code, unit_name=unit_name,
            reporting_month=f"{year}-{number:02d}", cells=cells, issues=issues,
            digest=core_records.content_digest(cells)), fate))
    return rows


def _finish_reviews(store: Store, rows: Sequence[SeedRow], ids: Sequence[int], moment: datetime.datetime) -> None:
    """Apply the review outcome of each seeded record, and the later edit of the ``edited`` ones."""
    edits = []
    for row, record_id in zip(rows, ids):
        if row.fate in ("approved", "edited"):
            store.set_record_status(record_id, state="审核通过", delete_requested=False, approve_current=True,
                                    review_reason=None, now=moment)
        elif row.fate == "returned":
            store.set_record_status(record_id, state="已退回", delete_requested=False, approve_current=False,
                                    review_reason=RETURN_REASON, now=moment)
        if row.fate == "edited":
            cells = {**row.write.cells, "实习岗位": "技术员（已补充岗位职责）"}
            edits.append(RecordWrite(
                record_id=record_id, province=row.write.province, school=row.write.school,
                department=row.write.department, natural_key=row.write.natural_key, state="待审核",
                student_id=row.write.student_id, course_code=row.write.course_code, unit_code=row.write.unit_code,
                unit_name=row.write.unit_name, reporting_month=row.write.reporting_month, cells=cells, issues=[],
                digest=core_records.content_digest(cells)))
    if edits:
        store.write_records(edits, batch_id=None, actor="seed", now=moment + datetime.timedelta(days=5))


def _verify_units(store: Store, units: Sequence[tuple[str, str, str]], now: datetime.datetime) -> None:
    """Queue a check for every unit and store a verdict: about 3 % fail."""
    store.ensure_unit_checks(((code, name) for name, code, _city in units), now=now)
    claimed_until = now + datetime.timedelta(hours=1)
    while True:
        claimed = store.claim_unit_checks(now=now, claimed_until=claimed_until, limit=500)
        if not claimed:
            return
        with store.transaction():
            for check in claimed:
                failed = check.id % 33 == 0
                store.finish_unit_check(check.id, claimed_until=claimed_until,
                                        state="校验不通过" if failed else "校验通过",
                                        reason="单位名称与登记名称不一致" if failed else None, verifier="seed", now=now)


def seed(location: str, records: int, progress: Callable[[str], None]) -> None:
    """Write ``records`` invented records and their organisations to the database at ``location``."""
    with _app_store(location) as store:
        store.migrate()
        start = datetime.datetime(2024, 9, 1, tzinfo=datetime.timezone.utc)
        for code, name in PROVINCES.items():
            store.add_province(code, name, now=start)
        schools = _schools()
        for school in schools:
            store.add_school(school)
            for department in DEPARTMENTS:
                store.add_department(school.code, department, now=start)
        units = _units()
        _verify_units(store, units, start)

        months = _reporting_months()
        batches = len(months) * len(schools)
        rng = random.Random(17)
        written = 0
        began = time.perf_counter()
        for month_index, month in enumerate(months):
            moment = datetime.datetime(month[0], month[1], 5, 2, 0, tzinfo=datetime.timezone.utc)
            recent = month_index >= len(months) - 3
            for school_index, school in enumerate(schools):
                batch_number = month_index * len(schools) + school_index
                count = records * (batch_number + 1) // batches - records * batch_number // batches
                rows = _seed_rows(school, school_index, month, recent, count, rng, units)
                with store.transaction():
                    batch_id = store.add_batch(_seed_batch(school, len(rows), moment))
                    ids = store.write_records([row.write for row in rows], batch_id=batch_id, actor="seed",
                                              now=moment)
                    _finish_reviews(store, rows, ids, moment)
                written += len(rows)
            progress(f"seeded {written} of {records} records ({time.perf_counter() - began:.0f} s)")


def _seed_batch(school: School, rows: int, moment: datetime.datetime) -> NewBatch:
    report = {"template": "实习数据/2024", "rows": rows, "valid_rows": rows, "issues": [], "normalised": [],
              "not_stored": []}
    return NewBatch(kind="records", province=school.province, school=school.code, department="", actor="seed",
                    filename="实习数据.xlsx", media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    digest=f"seed-{school.code}-{moment.date().isoformat()}", idempotency_key=None, status="stored",
                    created_at=moment, rows=rows, valid_rows=rows, errors=0, warnings=0, created=rows, updated=0,
                    unchanged=0, not_stored=0, report=report, source=None)


@contextmanager
def _app_store(location: str) -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="sxpt-scale-") as folder:
        app = create_app({"INSTANCE_PATH": folder, "DATABASE": location})
        store = open_store(app)
        try:
            yield store
        finally:
            store.close()


def _count(location: str) -> int:
    with _app_store(location) as store:
        if store.pending_migrations():
            return 0
        return store.count_records(RecordFilter())


def prepare_database(database: str, records: int, progress: Callable[[str], None]) -> float:
    """Seed the database unless a complete seed of it exists; return the seconds that seeding took (0 if cached)."""
    began = time.perf_counter()
    if "://" in database:
        # A database server is used as is when it contains the full seed, and seeded when it is empty.
        existing = _count(database)
        if existing == records:
            return 0.0
        if existing:
            raise SystemExit(f"{database} contains {existing} records, not {records}; empty it or pass another --database")
        seed(database, records, progress)
        return time.perf_counter() - began
    path = Path(database)
    if path.exists():
        return 0.0
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    seed(str(partial), records, progress)
    # Closing the last connection checkpoints the WAL into the file, so the file alone is complete.
    if Path(f"{partial}-wal").exists():
        raise SystemExit(f"{partial}-wal was left after seeding; remove {partial} and run again")
    partial.rename(path)
    return time.perf_counter() - began


# --- (b) record list queries ---


class Clock:
    """The app's clock, moved by hand past the one-minute SMS interval."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.timezone.utc)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


def _last_code(app: Flask, account: str, purpose: str) -> str:
    messages = [sms for sms in read_outbox(Path(app.instance_path) / "outbox.jsonl")
                if sms["account"] == account and sms["purpose"] == purpose]
    if not messages:
        raise SystemExit(f"no {purpose} SMS for {account} in the outbox")
    return messages[-1]["code"]


def _checked(response: Any, expected: int = 200) -> Any:
    if response.status_code != expected:
        raise SystemExit(f"{response.request.method} {response.request.path} returned {response.status_code}: "
                         f"{response.get_data(as_text=True)[:1000]}")
    return response


def _log_in(app: Flask, clock: Clock, name: str) -> FlaskClient:
    client = app.test_client()
    clock.advance(120)
    _checked(client.post("/api/v1/auth/activate", json={
        "account": name, "code": _last_code(app, name, "activation"), "password": PASSWORD}))
    _checked(client.post("/api/v1/auth/code", json={"account": name, "password": PASSWORD}))
    _checked(client.post("/api/v1/auth/login", json={
        "account": name, "password": PASSWORD, "code": _last_code(app, name, "login")}))
    return client


def _cli_account(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["create-account", *args])
    if result.exit_code != 0:
        raise SystemExit(f"create-account failed: {result.output}")
    for word in result.output.replace("。", " ").split():
        if word.startswith("sxpt"):
            return word
    raise SystemExit(f"no account name in: {result.output}")


def _phones() -> Iterator[str]:
    # Every run adds its accounts to the cached database, so each run takes new numbers.
    base = int(time.time()) % 10**7 * 10
    for offset in range(10):
        yield f"135{base + offset:08d}"


@dataclass
class Users:
    school: FlaskClient
    department: FlaskClient
    province: FlaskClient


def log_in_users(app: Flask, clock: Clock, school: School, department: str) -> Users:
    """Create a school, a department and a province account of ``school`` and log each in."""
    phones = _phones()
    school_name = _cli_account(app, "--level", "school", "--province", school.province, "--school", school.code,
                               "--phone", next(phones))
    province_name = _cli_account(app, "--level", "province", "--province", school.province, "--phone", next(phones))
    school_client = _log_in(app, clock, school_name)
    created = _checked(school_client.post("/api/v1/accounts", json={
        "level": "department", "department": department, "phone": next(phones)}), 201).get_json()
    return Users(school_client, _log_in(app, clock, created["name"]), _log_in(app, clock, province_name))


@dataclass
class QueryFigure:
    name: str
    median_ms: float
    p95_ms: float
    records: int
    target: bool  # whether the 50 ms target applies

    @property
    def passed(self) -> bool:
        return self.p95_ms < QUERY_TARGET_MS


def _time_get(client: FlaskClient, url: str, repeat: int) -> tuple[list[float], int]:
    _checked(client.get(url))  # warm-up, not counted
    seconds = []
    returned = 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = _checked(client.get(url))
        seconds.append(time.perf_counter() - start)
        document = response.get_json()
        returned = len(document.get("records", [])) if isinstance(document, dict) else 0
    return seconds, returned


def _month_text(month: tuple[int, int]) -> str:
    return f"{month[0]}-{month[1]:02d}"


def _query_plan(store: Store, school: School, department: str) -> dict[str, str]:
    """Pick the values a user filters by: a middle cursor, a student, a unit and two months of ``school``."""
    count = store.count_records(RecordFilter(school=school.code))
    middle = store.list_records(RecordFilter(school=school.code, limit=count // 2))[-1].id
    province_middle = store.list_records(RecordFilter(province=school.province, approved_only=True,
                                                      after_id=middle - 1, limit=1))[0].id
    sample = store.list_records(RecordFilter(school=school.code, after_id=middle, limit=1))[0]
    months = _reporting_months()
    return {"middle": str(middle), "province_middle": str(province_middle), "student": sample.cells["学号"],
            "unit": sample.unit_code, "month": _month_text(months[-2]), "old_month": _month_text(months[3]),
            "department": department, "school": school.code}


def _profile_request(client: FlaskClient, url: str, out: Path, name: str) -> str:
    """Profile one request with cProfile; write the stats and return the functions with the most own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    _checked(client.get(url))
    profiler.disable()
    out.mkdir(parents=True, exist_ok=True)
    stats_path = out / ("query-" + "".join(character if character.isalnum() else "-" for character in name) + ".pstats")
    profiler.dump_stats(str(stats_path))
    buffer = io.StringIO()
    pstats.Stats(str(stats_path), stream=buffer).sort_stats("tottime").print_stats(8)
    return f"profile of {name} ({url}), written to {stats_path}\n{buffer.getvalue()}"


def time_queries(location: str, repeat: int, progress: Callable[[str], None],
                 profile: Path | None = None) -> tuple[list[QueryFigure], list[str]]:
    """Time the record lists of a school, a department and a province on the seeded database.

    With ``profile``, each request that misses its target is profiled once more; the
    summaries are returned beside the figures.
    """
    with tempfile.TemporaryDirectory(prefix="sxpt-scale-") as folder:
        clock = Clock()
        app = create_app({"INSTANCE_PATH": folder, "DATABASE": location, "NOW": clock, "RATELIMIT_ENABLED": False})
        school = _schools()[0]
        department = DEPARTMENTS[3]
        store = open_store(app)
        try:
            plan = _query_plan(store, school, department)
        finally:
            store.close()
        users = log_in_users(app, clock, school, department)
        list_queries = [
            ("school: first page", users.school, "/api/v1/records"),
            ("school: page at the middle", users.school, "/api/v1/records?after={middle}"),
            ("school: department", users.school, "/api/v1/records?department={department}"),
            ("school: state 待审核", users.school, "/api/v1/records?state=待审核"),
            ("school: state 已退回", users.school, "/api/v1/records?state=已退回"),
            ("school: recent month", users.school, "/api/v1/records?month={month}"),
            ("school: old month", users.school, "/api/v1/records?month={old_month}"),
            ("school: student id", users.school, "/api/v1/records?student_id={student}"),
            ("school: unit code", users.school, "/api/v1/records?unit_code={unit}"),
            ("school: department+state+month", users.school,
             "/api/v1/records?department={department}&state=待审核&month={month}"),
            ("department: first page", users.department, "/api/v1/records"),
            ("department: page at the middle", users.department, "/api/v1/records?after={middle}"),
            ("department: state 校验不通过", users.department, "/api/v1/records?state=校验不通过"),
            ("department: recent month", users.department, "/api/v1/records?month={month}"),
            ("province: approved, first page", users.province, "/api/v1/records"),
            ("province: approved, page at the middle", users.province, "/api/v1/records?after={province_middle}"),
            ("province: approved, one school", users.province, "/api/v1/records?school={school}"),
            ("province: approved, old month", users.province, "/api/v1/records?month={old_month}"),
            ("review queue: first page", users.school, "/api/v1/review"),
            ("review queue: department", users.school, "/api/v1/review?department={department}"),
            ("school: count by state", users.school, "/api/v1/records/count?state=待审核"),
        ]
        figures = []
        profiles = []
        for name, client, url in list_queries:
            seconds, returned = _time_get(client, url.format(**plan), repeat)
            figures.append(QueryFigure(name, _ms(statistics.median(seconds)), _ms(percentile(seconds, 0.95)),
                                       returned, target=True))
            progress(f"{name}: median {figures[-1].median_ms} ms")
            if profile is not None and not figures[-1].passed:
                profiles.append(_profile_request(client, url.format(**plan), profile, name))
        # Statistics aggregate a whole scope; they are timed with fewer repeats and no target.
        for name, client, url in [("statistics: department", users.department, "/api/v1/statistics"),
                                  ("statistics: school", users.school, "/api/v1/statistics"),
                                  ("statistics: province", users.province, "/api/v1/statistics")]:
            seconds, _returned = _time_get(client, url, max(1, repeat // 10))
            figures.append(QueryFigure(name, _ms(statistics.median(seconds)), _ms(percentile(seconds, 0.95)), 0,
                                       target=False))
            progress(f"{name}: median {figures[-1].median_ms} ms")
        return figures, profiles


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- (c) the 100,000-row upload against sxpt validate ---


def workbook(rows: int) -> Path:
    """Return the generated workbook of ``rows`` rows under benchmarks/out, generating it when missing."""
    path = OUT / f"records-{rows}.xlsx"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(path), "--rows", str(rows)], check=True)
    return path


def _peak_kib(pid: int) -> int:
    """Return the resident-set high-water mark of a running process, in KiB (Linux ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmHWM in /proc/{pid}/status")


def time_validate(path: Path, today: str) -> tuple[float, int]:
    """Run ``sxpt validate --format json`` in a fresh process; return its wall time and peak RSS in KiB."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "sxpt_core", "validate", str(path), "--format", "json",
                                "--today", today], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"sxpt validate failed ({process.returncode}): {process.stderr.read()[-2000:] if process.stderr else ''}")
    return elapsed, usage.ru_maxrss  # Linux reports ru_maxrss in KiB


@dataclass
class UploadFigure:
    rows: int
    validate_seconds: float
    validate_peak_mib: float
    upload_seconds: float
    server_idle_mib: float  # the server's peak before the upload
    server_peak_mib: float
    created: int
    not_stored: int

    @property
    def ratio(self) -> float:
        return self.upload_seconds / self.validate_seconds


def _school_departments() -> list[str]:
    # The departments of benchmarks/generate.py.
    return [f"第{index}学院" for index in range(12)]


@contextmanager
def fresh_database(url: str | None) -> Iterator[dict[str, str]]:
    """Yield the server settings of an empty database: SQLite in the instance folder, or a new schema at ``url``."""
    if url is None:
        yield {}
        return
    import psycopg

    schema = f"upload_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        yield {"SXPT_DATABASE": f"{url}{separator}options=-csearch_path%3D{schema}"}
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


def time_upload(path: Path, rows: int, today: str, database: str | None = None) -> UploadFigure:
    """Upload ``path`` as a school user to a fresh server; time it and read the server's peak memory."""
    validate_seconds, validate_peak = time_validate(path, today)
    content = path.read_bytes()
    with tempfile.TemporaryDirectory(prefix="sxpt-upload-") as folder, fresh_database(database) as settings:
        instance = Path(folder) / "instance"
        write_instance_config(instance)
        with LocalServer(instance, threads=4, worker=False, settings=settings) as server:
            school = _server_school(server)
            idle = _peak_kib(server.pid)
            start = time.perf_counter()
            response = school.post("/api/v1/batches", files={"file": (path.name, content)}, timeout=UPLOAD_TIMEOUT)
            upload_seconds = time.perf_counter() - start
            if response.status_code != 201:
                raise SystemExit(f"the upload returned {response.status_code}: {response.text[:2000]}")
            batch = response.json()["batch"]
            peak = _peak_kib(server.pid)
            school.close()
    return UploadFigure(rows, round(validate_seconds, 2), round(validate_peak / 1024, 1), round(upload_seconds, 2),
                        round(idle / 1024, 1), round(peak / 1024, 1), batch["created"], batch["not_stored"])


def _server_school(server: LocalServer) -> httpx.Client:
    """Register a school with the departments of the generated workbook and log its account in over HTTP."""
    output = server.command("create-account", "--level", "school", "--province", "330000", "--school", "4133010001",
                            "--school-name", "东海理工大学", "--uscc", "12330000MB12345676", "--city", "330100",
                            "--phone", "13900020001")
    name = next(word for word in output.replace("。", " ").split() if word.startswith("sxpt"))
    server.move_clock(120)
    client = httpx.Client(base_url=server.base_url, timeout=60.0)
    for url, body in (("/api/v1/auth/activate", {"account": name, "code": server.last_code(name, "activation"),
                                                 "password": PASSWORD}),
                      ("/api/v1/auth/code", {"account": name, "password": PASSWORD})):
        client.post(url, json=body).raise_for_status()
    client.post("/api/v1/auth/login", json={"account": name, "password": PASSWORD,
                                            "code": server.last_code(name, "login")}).raise_for_status()
    for department in _school_departments():
        client.post("/api/v1/schools/4133010001/departments", json={"name": department}).raise_for_status()
    return client


def profile_upload(path: Path, out: Path, progress: Callable[[str], None]) -> str:
    """Upload ``path`` through the Flask test client under cProfile; write the stats and return the top lines."""
    with tempfile.TemporaryDirectory(prefix="sxpt-profile-") as folder:
        clock = Clock()
        app = create_app({"INSTANCE_PATH": folder, "NOW": clock, "RATELIMIT_ENABLED": False})
        result = app.test_cli_runner().invoke(args=["init-db"])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        name = _cli_account(app, "--level", "school", "--province", "330000", "--school", "4133010001",
                            "--school-name", "东海理工大学", "--uscc", "12330000MB12345676", "--city", "330100",
                            "--phone", "13900030001")
        client = _log_in(app, clock, name)
        for department in _school_departments():
            _checked(client.post("/api/v1/schools/4133010001/departments", json={"name": department}), 201)
        content = path.read_bytes()
        profiler = cProfile.Profile()
        progress(f"profiling the upload of {path.name}")
        profiler.enable()
        response = client.post("/api/v1/batches", data={"file": (io.BytesIO(content), path.name)},
                               content_type="multipart/form-data")
        profiler.disable()
        _checked(response, 201)
    out.mkdir(parents=True, exist_ok=True)
    stats_path = out / f"upload-{path.stem}.pstats"
    profiler.dump_stats(str(stats_path))
    buffer = io.StringIO()
    pstats.Stats(str(stats_path), stream=buffer).sort_stats("cumulative").print_stats(40)
    return f"profile written to {stats_path}\n{buffer.getvalue()}"


# --- output ---


def verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def format_report(result: dict[str, Any]) -> str:
    """Return the figures as Markdown tables, each figure with its verdict."""
    lines = [f"machine: {result['machine']}"]
    if "seed_seconds" in result:
        seeded = f"seeded in {result['seed_seconds']:.0f} s" if result["seed_seconds"] else "cached"
        lines.append(f"database: {result['database']} with {result['records']} records ({seeded})")
    if "queries" in result:
        lines += ["", f"| request ({result['repeat']} repeats) | records | median ms | p95 ms | "
                      f"p95 < {QUERY_TARGET_MS:.0f} ms |", "|---|---|---|---|---|"]
        for figure in result["queries"]:
            judged = verdict(figure["passed"]) if figure["target"] else "no target"
            lines.append(f"| {figure['name']} | {figure['records']} | {figure['median_ms']:.1f} | "
                         f"{figure['p95_ms']:.1f} | {judged} |")
    if "uploads" in result:
        lines += ["", "| rows | validate s | upload s | ratio | validate peak MiB | server idle MiB | "
                      "server peak MiB | created |", "|---|---|---|---|---|---|---|---|"]
        for figure in result["uploads"]:
            lines.append(f"| {figure['rows']} | {figure['validate_seconds']:.2f} | {figure['upload_seconds']:.2f} | "
                         f"{figure['ratio']:.2f} | {figure['validate_peak_mib']:.1f} | {figure['server_idle_mib']:.1f} | "
                         f"{figure['server_peak_mib']:.1f} | {figure['created']} |")
        largest = result["uploads"][-1]
        lines.append(f"upload ≤ {UPLOAD_TARGET_RATIO:.0f} × validate at {largest['rows']} rows: "
                     f"{largest['ratio']:.2f} × {verdict(largest['ratio'] <= UPLOAD_TARGET_RATIO)}")
        memory = largest["server_peak_mib"] / largest["validate_peak_mib"]
        lines.append(f"server peak ≤ {MEMORY_VALIDATE_TARGET} × validate's peak at {largest['rows']} rows: "
                     f"{memory:.2f} × {verdict(memory <= MEMORY_VALIDATE_TARGET)}")
        if "memory_growth" in result:
            lines.append(f"server peak at {largest['rows']} rows / its peak at {result['uploads'][0]['rows']} rows: "
                         f"{result['memory_growth']:.2f} × (no target: reading and checking keep the whole file)")
    for summary in result.get("query_profiles", []):
        lines += ["", summary]
    if "profile" in result:
        lines += ["", result["profile"]]
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Scale benchmark of sxpt-server: 1,000,000 records and a "
                                                 "100,000-row upload.")
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the seeded database")
    parser.add_argument("--database", help="the DATABASE setting: a file path (default "
                                           "benchmarks/out/scale-RECORDS-vN.sqlite3) or a database URL")
    parser.add_argument("--upload-database", help="a postgresql:// URL of an empty database on 127.0.0.1 for the "
                                                  "uploads (default: a SQLite file per upload)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per record list query")
    parser.add_argument("--upload-rows", type=int, nargs="+", default=[20_000, 100_000],
                        help="rows of the uploaded workbooks; the last is judged against the targets")
    parser.add_argument("--parts", default="seed,queries,upload",
                        help="comma-separated parts to run: seed, queries, upload")
    parser.add_argument("--profile", type=Path, help="also profile, into this folder, each record list that misses "
                                                     "its target and the largest upload (in-process)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    options = parser.parse_args()
    if not 1 <= options.repeat <= 1000 or not 960 <= options.records <= 5_000_000:
        parser.error("--repeat must be 1 to 1000 and --records 960 to 5,000,000")
    parts = set(options.parts.split(","))

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    database = options.database or str(OUT / f"scale-{options.records}-v{SEED_VERSION}.sqlite3")
    result: dict[str, Any] = {"machine": machine(), "date": datetime.date.today().isoformat()}
    if parts & {"seed", "queries"}:
        result.update(database=database, records=options.records,
                      seed_seconds=round(prepare_database(database, options.records, progress), 1))
    if "queries" in parts:
        figures, profiles = time_queries(database, options.repeat, progress, options.profile)
        result["repeat"] = options.repeat
        result["queries"] = [{**figure.__dict__, "passed": figure.passed} for figure in figures]
        if profiles:
            result["query_profiles"] = profiles
    if "upload" in parts:
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
        uploads = []
        for rows in options.upload_rows:
            progress(f"uploading {rows} rows")
            figure = time_upload(workbook(rows), rows, today, options.upload_database)
            uploads.append({**figure.__dict__, "ratio": round(figure.ratio, 2)})
        result["uploads"] = uploads
        if len(uploads) > 1:
            result["memory_growth"] = round(uploads[-1]["server_peak_mib"] / uploads[0]["server_peak_mib"], 2)
        if options.profile:
            result["profile"] = profile_upload(workbook(options.upload_rows[-1]), options.profile, progress)
    print(format_report(result))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
