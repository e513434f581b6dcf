"""Random uploads, edits, deletions and reviews by every account, against a model of each record.

After every step each account lists its records through the API, and the listing must
equal what the model predicts that account may read. Departments read their own department
and schools their own school, in every state. A province reads the approved versions of its
schools, and the ministry every approved version. Rejected requests must leave the model,
and so the listings, unchanged. The machine runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from sxpt_server import create_app
from sxpt_server.store import close_pool
from tests.server.backends import database_setting
from tests.server.records_support import UNIT_CODES, record, upload_json, valid_uscc
from tests.server.support import (
    DEPARTMENTS,
    OTHER_SCHOOL,
    PROVINCE,
    SCHOOL,
    Clock,
    World,
    activate,
    build_world,
    create_account,
    login,
)

# A second province with one school, so that a province's scope is narrower than the ministry's.
PROVINCE_B = "110000"
SCHOOL_B = "4111010003"
SCHOOL_B_USCC = valid_uscc("91110108MA01B2C3D")
OTHER_SCHOOL_DEPARTMENT = "经济管理学院"
SCHOOL_B_DEPARTMENT = "法学院"
UNREGISTERED_DEPARTMENT = "未登记学院"

PAGE_SIZE = 20
UNKNOWN_ID = 1_000_000


@dataclass(frozen=True)
class Scope:
    """The unit of one test account: its level and codes."""

    level: str
    province: str | None = None
    school: str | None = None
    department: str | None = None


SCOPES = {
    "ministry": Scope("ministry"),
    "province": Scope("province", PROVINCE),
    "province_b": Scope("province", PROVINCE_B),
    "school": Scope("school", PROVINCE, SCHOOL),
    "other_school": Scope("school", PROVINCE, OTHER_SCHOOL),
    "school_b": Scope("school", PROVINCE_B, SCHOOL_B),
    "dept0": Scope("department", PROVINCE, SCHOOL, DEPARTMENTS[0]),
    "dept1": Scope("department", PROVINCE, SCHOOL, DEPARTMENTS[1]),
    "other_dept": Scope("department", PROVINCE, OTHER_SCHOOL, OTHER_SCHOOL_DEPARTMENT),
}
ACCOUNTS = sorted(SCOPES)
SCHOOL_DEPARTMENTS = {
    SCHOOL: DEPARTMENTS,
    OTHER_SCHOOL: (OTHER_SCHOOL_DEPARTMENT,),
    SCHOOL_B: (SCHOOL_B_DEPARTMENT,),
}
SCHOOL_PROVINCE = {SCHOOL: PROVINCE, OTHER_SCHOOL: PROVINCE, SCHOOL_B: PROVINCE_B}
# The school-level account of each school, used to find the id of a record that an upload created.
SCHOOL_ACCOUNT = {SCHOOL: "school", OTHER_SCHOOL: "other_school", SCHOOL_B: "school_b"}

# The account that uploads for each department at the start: its own, or the school's where it has none.
DEPARTMENT_UPLOADER = {DEPARTMENTS[0]: "dept0", DEPARTMENTS[1]: "dept1", OTHER_SCHOOL_DEPARTMENT: "other_dept",
                       SCHOOL_B_DEPARTMENT: "school_b"}

# Uploads and edits vary these cells. Every other cell comes from the sample record.
POSTS = ("开发实习生", "测试实习生", "翻译助理", "设备维护")
TUTORS = ("李老师", "周老师")
# 学分 "0" breaks a row rule, so such a version is 校验不通过.
CREDITS = ("2", "2", "3", "0")
REASONS = ("学分与培养方案不符，请核对。", "实习单位名称有误。")
# Mostly school-level accounts, which review, and now and then an account that must be rejected.
REVIEWERS = ("school", "school", "school", "other_school", "school_b", "dept0", "dept1", "province", "ministry")

CHECKING = "待校验"
CHECK_FAILED = "校验不通过"
AWAITING_REVIEW = "待审核"
APPROVED = "审核通过"
RETURNED = "已退回"


@dataclass(frozen=True)
class HostUnit:
    """The host organisation of an internship. A foreign one (code 无, city 990000) needs no verification."""

    code: str
    name: str
    city: str


FOREIGN_UNITS = tuple(HostUnit("无", f"海外合作研究所{index}", "990000") for index in range(3))
DOMESTIC_UNITS = tuple(HostUnit(UNIT_CODES[index], f"杭州示例科技有限公司{index}", "330100") for index in range(2))


@dataclass
class ModelRecord:
    """What one stored record should be, as the test expects it."""

    id: int
    school: str
    province: str
    cells: dict[str, str]
    state: str
    version: int = 1
    delete_requested: bool = False
    review_reason: str | None = None
    approved_cells: dict[str, str] | None = None
    approved_version: int | None = None
    deleted: bool = False

    @property
    def department(self) -> str:
        return self.cells["院系"]

    @property
    def student_id(self) -> str:
        return self.cells["学号"]


def text_cells(cells: dict[str, Any]) -> dict[str, str]:
    """Return cells with every value as text, because the server stores 入学年份 and 实际实习天数 as numbers."""
    return {header: str(value) for header, value in cells.items()}


def checked_state(cells: dict[str, str]) -> str:
    """Return the state the checks give a version: errors first, then an unverified domestic unit."""
    if cells.get("学分") == "0":
        return CHECK_FAILED
    if cells["实习单位统一社会信用代码"] != "无":
        return CHECKING
    return AWAITING_REVIEW


def may_read(scope: Scope, item: ModelRecord) -> bool:
    """Decide whether an account of ``scope`` reads ``item``, in the current or the approved version."""
    if item.deleted:
        return False
    if scope.level == "ministry":
        return item.approved_cells is not None
    if scope.level == "province":
        return item.approved_cells is not None and item.province == scope.province
    if scope.level == "school":
        return item.school == scope.school
    return item.school == scope.school and item.department == scope.department


def may_write(scope: Scope, school: str, department: str) -> bool:
    """Decide whether an account of ``scope`` uploads, edits or deletes records of a department."""
    if scope.level == "school":
        return school == scope.school
    if scope.level == "department":
        return school == scope.school and department == scope.department
    return False


def expected_view(scope: Scope, item: ModelRecord) -> dict[str, Any]:
    """Return the part of the API's record document that the model predicts for ``scope``."""
    if scope.level in ("ministry", "province"):
        assert item.approved_cells is not None
        return {"id": item.id, "school": item.school, "department": item.approved_cells["院系"],
                "version": item.approved_version, "cells": item.approved_cells}
    return {"id": item.id, "school": item.school, "department": item.department, "version": item.version,
            "cells": item.cells, "state": item.state, "delete_requested": item.delete_requested,
            "approved_version": item.approved_version, "review_reason": item.review_reason}


def actual_view(document: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Return the same keys of an API record document, with cells as text."""
    view = {key: document.get(key) for key in expected}
    view["cells"] = text_cells(document["cells"] or {})
    return view


def add_department_account(world: World, client_key: str, school: str, department: str) -> str:
    """Register ``department`` in ``school`` with that school's client and return a new account name for it."""
    client = world.client(client_key)
    response = client.post(f"/api/v1/schools/{school}/departments", json={"name": department})
    assert response.status_code == 201, response.get_json()
    name: str = create_account(client, level="department", department=department)["name"]
    assert activate(world.app, name).status_code == 200
    return name


def build_record_world(folder: Path, database: str = "sxpt.sqlite3") -> World:
    """Build the shared account tree, then a department of the other school and a second province's school."""
    clock = Clock()
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(folder), "NOW": clock, "RATELIMIT_ENABLED": False,
                      "DATABASE": database})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    world = build_world(app, clock, runner)

    world.names["other_dept"] = add_department_account(world, "other_school", OTHER_SCHOOL, OTHER_SCHOOL_DEPARTMENT)
    world.clients["other_dept"] = login(app, clock, world.names["other_dept"])

    ministry = world.client("ministry")
    assert ministry.post("/api/v1/provinces", json={"code": PROVINCE_B}).status_code == 201
    world.names["province_b"] = create_account(ministry, level="province", province=PROVINCE_B)["name"]
    assert activate(app, world.names["province_b"]).status_code == 200
    world.clients["province_b"] = login(app, clock, world.names["province_b"])

    response = world.client("province_b").post("/api/v1/schools", json={
        "code": SCHOOL_B, "name": "北方政法学院", "uscc": SCHOOL_B_USCC, "city": PROVINCE_B})
    assert response.status_code == 201, response.get_json()
    world.names["school_b"] = create_account(world.client("province_b"), level="school", school=SCHOOL_B)["name"]
    assert activate(app, world.names["school_b"]).status_code == 200
    world.clients["school_b"] = login(app, clock, world.names["school_b"])
    response = world.client("school_b").post(f"/api/v1/schools/{SCHOOL_B}/departments",
                                             json={"name": SCHOOL_B_DEPARTMENT})
    assert response.status_code == 201, response.get_json()

    # The logins above moved the clock; touch every session so none is near its idle timeout.
    for key in ACCOUNTS:
        assert world.client(key).get("/api/v1/me").status_code == 200
    return world


@dataclass
class UploadPlan:
    """What the model expects each row of one upload to do."""

    created: list[dict[str, str]] = field(default_factory=list)
    updated: list[tuple[ModelRecord, dict[str, str]]] = field(default_factory=list)
    unchanged: int = 0
    not_stored: int = 0


class RecordWorkflow(RuleBasedStateMachine):
    """Accounts of three schools in two provinces upload, edit, delete and review records at random."""

    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.resources = ExitStack()
        self.folder = tempfile.TemporaryDirectory(prefix="sxpt-stateful-")
        self.resources.callback(self.folder.cleanup)
        database = self.resources.enter_context(database_setting(self.backend))
        self.world = build_record_world(Path(self.folder.name) / "instance", database)
        self.resources.callback(close_pool, self.world.app)
        self.records: dict[int, ModelRecord] = {}
        # Each student number belongs to one host organisation, so (school, 学号) is a record's natural key.
        self.units: dict[str, HostUnit] = {}
        self.student_numbers = itertools.count(1)

    def teardown(self) -> None:
        self.resources.close()

    # --- helpers ---

    def client(self, account: str) -> FlaskClient:
        return self.world.client(account)

    def live_record(self, school: str, student_id: str) -> ModelRecord | None:
        for item in self.records.values():
            if not item.deleted and item.school == school and item.student_id == student_id:
                return item
        return None

    def draw_id(self, data: st.DataObject, account: str) -> int:
        """Draw a record id, usually one the account reads, else any id ever used or one never used."""
        scope = SCOPES[account]
        readable = sorted(item.id for item in self.records.values() if may_read(scope, item))
        others = [*sorted(self.records), UNKNOWN_ID]
        if readable and data.draw(st.integers(0, 3), label="other id") < 3:
            return data.draw(st.sampled_from(readable), label="record id")
        return data.draw(st.sampled_from(others), label="record id")

    def new_row(self, data: st.DataObject, school: str, department: str) -> dict[str, str]:
        """Draw a row for a new or an existing student of ``school``, or a student number of another school."""
        known = sorted({item.student_id for item in self.records.values()})
        own = sorted({item.student_id for item in self.records.values() if item.school == school})
        choice = data.draw(st.sampled_from(["new", "new", "own", "other"]), label="student")
        if choice == "own" and own:
            student_id = data.draw(st.sampled_from(own), label="student id")
        elif choice == "other" and known:
            student_id = data.draw(st.sampled_from(known), label="student id")
        else:
            student_id = self.new_student_id(data.draw(st.sampled_from(FOREIGN_UNITS * 3 + DOMESTIC_UNITS),
                                                       label="unit"))
        unit = self.units[student_id]
        return record(1, department, **{
            "学号": student_id, "实习单位统一社会信用代码": unit.code, "实习单位名称": unit.name,
            "实习地区及代码": unit.city, "实习岗位": data.draw(st.sampled_from(POSTS), label="post"),
            "校内指导教师": data.draw(st.sampled_from(TUTORS), label="tutor"),
            "学分": data.draw(st.sampled_from(CREDITS), label="credits"),
        })

    def new_student_id(self, unit: HostUnit) -> str:
        """Return a student number never used before, whose internships are all at ``unit``."""
        student_id = f"2300{next(self.student_numbers):04d}"
        self.units[student_id] = unit
        return student_id

    def plan_upload(self, scope: Scope, rows: list[dict[str, str]]) -> UploadPlan:
        """Predict what an accepted upload does to each row, as the store applies them."""
        plan = UploadPlan()
        assert scope.school is not None
        for row in rows:
            existing = self.live_record(scope.school, row["学号"])
            if existing is None:
                plan.created.append(row)
            elif existing.cells == row:
                plan.unchanged += 1
            elif existing.delete_requested or not may_write(scope, existing.school, existing.department):
                plan.not_stored += 1
            else:
                plan.updated.append((existing, row))
        return plan

    def find_id(self, school: str, student_id: str) -> int:
        """Return the id of the live record of ``student_id`` in ``school``, read by the school's account."""
        response = self.client(SCHOOL_ACCOUNT[school]).get("/api/v1/records", query_string={"student_id": student_id})
        assert response.status_code == 200, response.get_json()
        found = response.get_json()["records"]
        assert len(found) == 1, found
        record_id: int = found[0]["id"]
        return record_id

    def store_new_version(self, item: ModelRecord, cells: dict[str, str]) -> None:
        item.cells = dict(cells)
        item.version += 1
        item.state = checked_state(item.cells)
        item.review_reason = None

    def upload(self, account: str, rows: list[dict[str, str]]) -> None:
        """Upload ``rows`` as ``account`` and check the response against the model, then update the model."""
        scope = SCOPES[account]
        response = upload_json(self.client(account), rows)
        body = response.get_json()
        event(f"upload: {response.status_code}")

        if scope.level not in ("school", "department"):
            assert response.status_code == 403, body
            return
        outside = [row for row in rows if not may_write(scope, scope.school or "", row["院系"])]
        if outside:
            assert response.status_code == 403, body
            assert body["code"] == "SXPT-UPLOAD-SCOPE"
            return
        assert scope.school is not None
        unknown = [row for row in rows if row["院系"] not in SCHOOL_DEPARTMENTS[scope.school]]
        if unknown:
            assert response.status_code == 422, body
            assert body["code"] == "SXPT-DEPARTMENT-UNKNOWN"
            return

        plan = self.plan_upload(scope, rows)
        if plan.created or plan.updated:
            assert response.status_code == 201, body
        else:
            assert response.status_code in (200, 201), body
        if response.status_code == 201:
            batch = body["batch"]
            assert batch["created"] == len(plan.created)
            assert batch["updated"] == len(plan.updated)
            assert batch["unchanged"] == plan.unchanged
            assert batch["not_stored"] == plan.not_stored

        for item, cells in plan.updated:
            self.store_new_version(item, cells)
        for row in plan.created:
            record_id = self.find_id(scope.school, row["学号"])
            assert record_id not in self.records
            self.records[record_id] = ModelRecord(
                id=record_id, school=scope.school, province=SCHOOL_PROVINCE[scope.school], cells=dict(row),
                state=checked_state(row))

    # --- rules ---

    @initialize(data=st.data())
    def first_records(self, data: st.DataObject) -> None:
        """Start with a few records in each department of each school, some approved, some with deletion requests.

        Random steps alone seldom reach a pending deletion request, so the start makes a few.
        """
        for school, department in ((SCHOOL, DEPARTMENTS[0]), (SCHOOL, DEPARTMENTS[1]),
                                   (OTHER_SCHOOL, OTHER_SCHOOL_DEPARTMENT), (SCHOOL_B, SCHOOL_B_DEPARTMENT)):
            rows = [self.new_row(data, school, department) for _ in range(3)]
            self.upload(DEPARTMENT_UPLOADER[department], list({row["学号"]: row for row in rows}.values()))

        waiting = sorted(item.id for item in self.records.values() if item.state == AWAITING_REVIEW)
        if waiting:
            for record_id in data.draw(st.lists(st.sampled_from(waiting), unique=True), label="approved ids"):
                self.review(data, SCHOOL_ACCOUNT[self.records[record_id].school], "approve", [record_id])
        approved = sorted(item.id for item in self.records.values() if item.approved_cells is not None)
        if approved:
            for record_id in data.draw(st.lists(st.sampled_from(approved), unique=True), label="deleted ids"):
                self.delete(DEPARTMENT_UPLOADER[self.records[record_id].department], record_id)

    @rule(data=st.data(), account=st.sampled_from(
        ["dept0", "dept0", "dept1", "dept1", "school", "school", "other_school", "other_dept", "school_b",
         "province", "ministry"]))
    def upload_records(self, data: st.DataObject, account: str) -> None:
        """Upload one to three rows. A row may reuse a stored natural key, or lie outside the account's scope."""
        scope = SCOPES[account]
        school = scope.school or SCHOOL
        if scope.department is not None:
            departments = [scope.department]
        else:
            departments = list(SCHOOL_DEPARTMENTS[school])
        # Now and then a row names a department the account may not upload for, or one not registered.
        strays = [name for name in (*DEPARTMENTS, OTHER_SCHOOL_DEPARTMENT, UNREGISTERED_DEPARTMENT)
                  if name not in departments]
        count = data.draw(st.integers(1, 3), label="rows")
        rows: dict[str, dict[str, str]] = {}
        for _ in range(count):
            stray = data.draw(st.integers(0, 14), label="stray") == 0
            department = data.draw(st.sampled_from(strays if stray else departments), label="department")
            row = self.new_row(data, school, department)
            rows.setdefault(row["学号"], row)
        self.upload(account, list(rows.values()))

    @rule(data=st.data(), account=st.sampled_from(ACCOUNTS))
    def edit_record(self, data: st.DataObject, account: str) -> None:
        """Change a cell of a record with PATCH. The new version is checked again and waits for review."""
        scope = SCOPES[account]
        record_id = self.draw_id(data, account)
        item = self.records.get(record_id)
        # A new student number changes the natural key but keeps the record's host organisation.
        new_student_id = self.new_student_id(self.units[item.student_id] if item else FOREIGN_UNITS[0])
        change = data.draw(st.sampled_from([
            {"实习岗位": POSTS[0]}, {"实习岗位": POSTS[2]}, {"实习岗位": None}, {"学分": "0"}, {"学分": "3"},
            {"校内指导教师": TUTORS[1]}, {"院系": DEPARTMENTS[0]}, {"院系": DEPARTMENTS[1]},
            {"院系": UNREGISTERED_DEPARTMENT}, {"学号": new_student_id},
        ]), label="change")
        response = self.client(account).patch(f"/api/v1/records/{record_id}", json={"cells": change})
        body = response.get_json()
        event(f"edit: {response.status_code}")

        if item is None or not may_read(scope, item):
            assert response.status_code == 404, body
            return
        if scope.level in ("ministry", "province"):
            assert response.status_code == 403, body
            return
        if item.delete_requested:
            assert response.status_code == 409, body
            assert body["code"] == "SXPT-REVIEW-DELETE-PENDING"
            return
        cells = {**item.cells, **change}
        cells = {header: value for header, value in cells.items() if value is not None}
        if not may_write(scope, item.school, cells["院系"]):
            assert response.status_code == 403, body
            assert body["code"] == "SXPT-UPLOAD-SCOPE"
            return
        if cells["院系"] not in SCHOOL_DEPARTMENTS[item.school]:
            assert response.status_code == 422, body
            assert body["code"] == "SXPT-DEPARTMENT-UNKNOWN"
            return
        assert response.status_code == 200, body
        if cells != item.cells:
            self.store_new_version(item, cells)
        assert actual_view(body, expected_view(scope, item)) == expected_view(scope, item)
        if item.approved_version is not None and item.approved_version != item.version:
            # The record page shows the department what the province still reads.
            assert text_cells(body["approved_cells"]) == item.approved_cells

    @rule(data=st.data(), account=st.sampled_from(ACCOUNTS))
    def delete_record(self, data: st.DataObject, account: str) -> None:
        """Delete a record: at once when it was never approved, else as a request to the school."""
        self.delete(account, self.draw_id(data, account))

    def delete(self, account: str, record_id: int) -> None:
        """Send DELETE for ``record_id`` as ``account`` and check the response against the model."""
        scope = SCOPES[account]
        response = self.client(account).delete(f"/api/v1/records/{record_id}")
        event(f"delete: {response.status_code}")

        item = self.records.get(record_id)
        if item is None or not may_read(scope, item):
            assert response.status_code == 404, response.get_json()
            return
        if scope.level in ("ministry", "province"):
            assert response.status_code == 403, response.get_json()
            return
        if item.delete_requested:
            assert response.status_code == 409, response.get_json()
            return
        if item.approved_cells is None:
            assert response.status_code == 204, response.get_json()
            item.deleted = True
            return
        assert response.status_code == 202, response.get_json()
        item.delete_requested = True

    @precondition(lambda self: any(item.approved_cells is not None and not item.deleted
                                   for item in self.records.values()))
    @rule(data=st.data())
    def delete_approved_record(self, data: st.DataObject) -> None:
        """Ask to delete an approved record as an account that may write it, or as any account."""
        item = data.draw(st.sampled_from(sorted(
            (item for item in self.records.values() if item.approved_cells is not None and not item.deleted),
            key=lambda item: item.id)), label="approved record")
        writers = [account for account in ACCOUNTS if may_write(SCOPES[account], item.school, item.department)]
        account = data.draw(st.sampled_from([*writers, *ACCOUNTS]), label="account")
        self.delete(account, item.id)

    @rule(data=st.data(), account=st.sampled_from(REVIEWERS))
    def approve_records(self, data: st.DataObject, account: str) -> None:
        self.review(data, account, "approve")

    @rule(data=st.data(), account=st.sampled_from(REVIEWERS))
    def return_records(self, data: st.DataObject, account: str) -> None:
        self.review(data, account, "return")

    @rule(data=st.data(), account=st.sampled_from(REVIEWERS),
          action=st.sampled_from(["approve_delete", "reject_delete"]))
    def decide_deletions(self, data: st.DataObject, account: str, action: str) -> None:
        self.review(data, account, action)

    @precondition(lambda self: any(item.delete_requested for item in self.records.values()))
    @rule(data=st.data(), action=st.sampled_from(["approve_delete", "reject_delete"]))
    def decide_deletion_request(self, data: st.DataObject, action: str) -> None:
        """Decide a pending deletion request, usually as the record's own school."""
        item = data.draw(st.sampled_from(sorted(
            (item for item in self.records.values() if item.delete_requested), key=lambda item: item.id)),
            label="requested record")
        account = SCHOOL_ACCOUNT[item.school]
        if data.draw(st.booleans(), label="other account"):
            account = data.draw(st.sampled_from(REVIEWERS), label="account")
        self.review(data, account, action, [item.id])

    def review(self, data: st.DataObject, account: str, action: str, ids: list[int] | None = None) -> None:
        """Review one to three records with ``action`` as ``account``. All of them change, or none does."""
        scope = SCOPES[account]
        if ids is None:
            ids = self.draw_review_ids(data, account, action)
        reason = data.draw(st.sampled_from([*REASONS, *REASONS, None, "   "]), label="reason")
        payload: dict[str, Any] = {"action": action, "records": ids}
        if reason is not None:
            payload["reason"] = reason
        response = self.client(account).post("/api/v1/review", json=payload)
        body = response.get_json()
        event(f"review {action}: {response.status_code}")

        if scope.level != "school":
            assert response.status_code == 403, body
            return
        expected_status = self.review_error_status(scope, action, list(dict.fromkeys(ids)), reason)
        if expected_status is not None:
            assert response.status_code == expected_status, body
            return
        assert response.status_code == 200, body
        assert body["records"] == list(dict.fromkeys(ids))
        for record_id in dict.fromkeys(ids):
            item = self.records[record_id]
            if action == "approve":
                # sxpt_core.review.transition: approving the pending version also drops a deletion request.
                item.state = APPROVED
                item.approved_cells = dict(item.cells)
                item.approved_version = item.version
                item.delete_requested = False
                item.review_reason = None
            elif action == "return":
                item.state = RETURNED
                item.review_reason = reason
            elif action == "approve_delete":
                item.deleted = True
            else:
                item.delete_requested = False
                item.review_reason = reason

    def draw_review_ids(self, data: st.DataObject, account: str, action: str) -> list[int]:
        """Draw one to three ids, usually all of records whose state allows ``action``."""
        scope = SCOPES[account]
        fitting = sorted(item.id for item in self.records.values()
                         if may_read(scope, item) and self.fits(action, item))
        count = data.draw(st.integers(1, 3), label="records")
        if fitting and data.draw(st.integers(0, 5), label="mixed ids") < 5:
            return [data.draw(st.sampled_from(fitting), label="record id") for _ in range(count)]
        return [self.draw_id(data, account) for _ in range(count)]

    @staticmethod
    def fits(action: str, item: ModelRecord) -> bool:
        """Decide whether the record's state allows ``action``, so that reviews often succeed."""
        if action == "approve":
            return item.state == AWAITING_REVIEW
        if action == "return":
            return item.state in (AWAITING_REVIEW, CHECK_FAILED)
        return item.delete_requested

    def review_error_status(self, scope: Scope, action: str, ids: list[int], reason: str | None) -> int | None:
        """Return the status of the first rejection among ``ids`` in request order, or None when all pass."""
        has_reason = reason is not None and bool(reason.strip())
        for record_id in ids:
            item = self.records.get(record_id)
            if item is None or not may_read(scope, item):
                return 404
            if action == "approve" and item.state != AWAITING_REVIEW:
                return 409
            if action == "return":
                if item.state not in (AWAITING_REVIEW, CHECK_FAILED):
                    return 409
                if not has_reason:
                    return 422
            if action in ("approve_delete", "reject_delete") and not item.delete_requested:
                return 409
            if action == "reject_delete" and not has_reason:
                return 422
        return None

    @rule(data=st.data(), account=st.sampled_from(ACCOUNTS))
    def probe_other_records(self, data: st.DataObject, account: str) -> None:
        """Read, edit and delete records outside the account's scope: each is 404, or 403 when it reads them."""
        scope = SCOPES[account]
        hidden = sorted(item.id for item in self.records.values() if not may_read(scope, item))
        chosen = data.draw(st.lists(st.sampled_from([*hidden, UNKNOWN_ID]), min_size=1, max_size=4, unique=True),
                           label="hidden ids")
        client = self.client(account)
        for record_id in chosen:
            assert client.get(f"/api/v1/records/{record_id}").status_code == 404
            assert client.get(f"/api/v1/records/{record_id}/versions").status_code == 404
            assert client.patch(f"/api/v1/records/{record_id}", json={"cells": {"实习岗位": "越权修改"}}).status_code == 404
            assert client.delete(f"/api/v1/records/{record_id}").status_code == 404

        if scope.level in ("ministry", "province"):
            # Readers above school level see approved versions but never change or list their history.
            readable = sorted(item.id for item in self.records.values() if may_read(scope, item))
            for record_id in readable[:3]:
                detail = client.get(f"/api/v1/records/{record_id}")
                assert detail.status_code == 200
                expected = expected_view(scope, self.records[record_id])
                assert actual_view(detail.get_json(), expected) == expected
                assert client.get(f"/api/v1/records/{record_id}/versions").status_code == 403
                assert client.patch(f"/api/v1/records/{record_id}",
                                    json={"cells": {"实习岗位": "越权修改"}}).status_code == 403
                assert client.delete(f"/api/v1/records/{record_id}").status_code == 403

        if scope.level in ("school", "department"):
            readable = sorted(item.id for item in self.records.values() if may_read(scope, item))
            for record_id in readable[-3:]:
                self.check_versions(account, self.records[record_id])

        # A filter that names another unit is rejected rather than silently narrowed.
        if scope.level == "department":
            other_department = DEPARTMENTS[1] if scope.department == DEPARTMENTS[0] else DEPARTMENTS[0]
            listed = client.get("/api/v1/records", query_string={"department": other_department})
            assert listed.status_code == 403
        if scope.level in ("department", "school"):
            listed = client.get("/api/v1/records", query_string={"school": OTHER_SCHOOL if scope.school == SCHOOL else SCHOOL})
            assert listed.status_code == 403
        if scope.level != "ministry":
            listed = client.get("/api/v1/records", query_string={"province": PROVINCE_B if scope.province == PROVINCE else PROVINCE})
            assert listed.status_code == 403

    def check_versions(self, account: str, item: ModelRecord) -> None:
        """Check a record's version history: one entry per stored version, the approved one marked."""
        response = self.client(account).get(f"/api/v1/records/{item.id}/versions")
        assert response.status_code == 200, response.get_json()
        versions = response.get_json()["versions"]
        assert [version["version"] for version in versions] == list(range(1, item.version + 1))
        approved = [version for version in versions if version["approved"]]
        if item.approved_version is None:
            assert approved == []
        else:
            assert [version["version"] for version in approved] == [item.approved_version]
            assert text_cells(approved[0]["cells"]) == item.approved_cells
        assert text_cells(versions[-1]["cells"]) == item.cells

    # --- invariants ---

    def listing(self, account: str) -> dict[int, dict[str, Any]]:
        """Read every page of GET /records as ``account``."""
        found: dict[int, dict[str, Any]] = {}
        after: int | None = None
        for _ in range(1000):
            query: dict[str, Any] = {"limit": PAGE_SIZE}
            if after is not None:
                query["after"] = after
            response = self.client(account).get("/api/v1/records", query_string=query)
            assert response.status_code == 200, response.get_json()
            page = response.get_json()
            for document in page["records"]:
                assert document["id"] not in found, f"{account} got record {document['id']} twice"
                found[document["id"]] = document
            after = page["next_after"]
            if after is None:
                return found
        raise AssertionError(f"paging of {account}'s records did not end")

    @invariant()
    def every_account_reads_its_scope(self) -> None:
        for account in ACCOUNTS:
            scope = SCOPES[account]
            listed = self.listing(account)
            expected = {item.id: expected_view(scope, item) for item in self.records.values() if may_read(scope, item)}
            assert sorted(listed) == sorted(expected), f"{account} lists the wrong records"
            for record_id, view in expected.items():
                assert actual_view(listed[record_id], view) == view, f"{account} reads record {record_id} wrongly"

    @invariant()
    def counts_match_listings(self) -> None:
        for account in ACCOUNTS:
            scope = SCOPES[account]
            response = self.client(account).get("/api/v1/records/count")
            assert response.status_code == 200, response.get_json()
            expected = sum(1 for item in self.records.values() if may_read(scope, item))
            assert response.get_json()["count"] == expected, f"{account} counts the wrong records"

    @invariant()
    def review_queues_hold_own_school(self) -> None:
        for account in ACCOUNTS:
            scope = SCOPES[account]
            waiting = self.client(account).get("/api/v1/review", query_string={"limit": 500})
            requested = self.client(account).get("/api/v1/review",
                                                 query_string={"delete_requested": "true", "limit": 500})
            if scope.level != "school":
                assert waiting.status_code == 403, f"{account} read the review queue"
                assert requested.status_code == 403, f"{account} read the deletion requests"
                continue
            own = [item for item in self.records.values() if may_read(scope, item)]
            expected_waiting = sorted(item.id for item in own if item.state == AWAITING_REVIEW)
            expected_requested = sorted(item.id for item in own if item.delete_requested)
            assert [document["id"] for document in waiting.get_json()["records"]] == expected_waiting
            assert [document["id"] for document in requested.get_json()["records"]] == expected_requested

    @invariant()
    def model_is_consistent(self) -> None:
        # Guards the model itself, because a wrong model would make the listings check meaningless.
        for item in self.records.values():
            if item.state == APPROVED:
                assert item.approved_cells == item.cells
            if item.delete_requested:
                assert item.approved_cells is not None


def test_filters_match_approved_version(world: World) -> None:
    """Province and ministry filters by 学号 and unit code match the approved version, not a pending edit."""
    foreign = {"学号": "23001001", "实习单位统一社会信用代码": "无", "实习单位名称": "海外合作研究所0",
               "实习地区及代码": "990000"}
    assert upload_json(world.client("dept0"), [record(1, DEPARTMENTS[0], **foreign)]).status_code == 201
    record_id = world.client("dept0").get("/api/v1/records").get_json()["records"][0]["id"]
    approved = world.client("school").post("/api/v1/review", json={"action": "approve", "records": [record_id]})
    assert approved.status_code == 200, approved.get_json()
    edited = world.client("dept0").patch(f"/api/v1/records/{record_id}", json={"cells": {
        "学号": "23001002", "实习单位统一社会信用代码": UNIT_CODES[0], "实习单位名称": "杭州示例科技有限公司0",
        "实习地区及代码": "330100"}})
    assert edited.status_code == 200, edited.get_json()

    for account in ("province", "ministry"):
        client = world.client(account)
        listed = client.get("/api/v1/records").get_json()["records"]
        assert [document["cells"]["学号"] for document in listed] == ["23001001"]
        assert listed_ids(client, student_id="23001001") == [record_id], f"{account} misses the approved 学号"
        assert listed_ids(client, student_id="23001002") == [], f"{account} finds the record by its pending 学号"
        assert listed_ids(client, unit_code="无") == [record_id], f"{account} misses the approved unit code"
        assert listed_ids(client, unit_code=UNIT_CODES[0]) == [], f"{account} finds the record by its pending code"
        counted = client.get("/api/v1/records/count", query_string={"student_id": "23001002"}).get_json()
        assert counted["count"] == 0, f"{account} counts the record by its pending 学号"


def listed_ids(client: FlaskClient, **query: str) -> list[int]:
    """Return the ids of the first page of GET /records with ``query``."""
    response = client.get("/api/v1/records", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [document["id"] for document in response.get_json()["records"]]


class PostgreSQLRecordWorkflow(RecordWorkflow):
    """The same machine on a PostgreSQL database."""

    backend = "postgresql"


WORKFLOW_SETTINGS = settings(
    max_examples=20, stateful_step_count=20, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRecordWorkflow = RecordWorkflow.TestCase
TestRecordWorkflow.settings = WORKFLOW_SETTINGS
TestRecordWorkflowPostgreSQL = PostgreSQLRecordWorkflow.TestCase
TestRecordWorkflowPostgreSQL.settings = WORKFLOW_SETTINGS
