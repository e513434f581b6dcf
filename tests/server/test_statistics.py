"""GET /api/v1/statistics: counts per level, late reports, failed unit checks and plan coverage.

Records are written with the store directly, as an upload would store them, so that
each test sets the state, the approval and the time of the first upload itself.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from flask import Flask

from sxpt_core.calendar import reporting_month
from sxpt_core.models import PlanCourse, RosterEntry, converter
from sxpt_core.records import content_digest
from sxpt_core.stats import china_date, is_late_month
from sxpt_server.store import School, get_store
from sxpt_server.store.records import NewBatch, RecordWrite
from tests.server.backends import run_sql
from tests.server.support import DEPARTMENTS, OTHER_SCHOOL, PROVINCE, SCHOOL, World
from tests.workbooks import RECORD_HEADERS, sample_record

# Every test that uses the app runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True

MECHANICAL, LANGUAGES = DEPARTMENTS
# The world's clock starts on 15 October 2025; internships ending in September are due now.
UPLOADED = datetime.datetime(2025, 10, 15, 1, 0, tzinfo=datetime.timezone.utc)
DUE_END = "2025-09-30"
USCC_FIELD = "实习单位统一社会信用代码"
UNIT_FIELD = "实习单位名称"
OTHER_PROVINCE = "110000"
FAR_SCHOOL = "4111010001"


def record_cells(index: int, **changes: str) -> dict[str, Any]:
    """Return the cells of an invented record; ``changes`` by template header."""
    values = {"实习开始时间": "2025-07-01", "实习结束时间": DUE_END, **changes}
    return dict(zip(RECORD_HEADERS, sample_record(index, **values)))


def add_record(
    app: Flask,
    index: int,
    *,
    department: str = MECHANICAL,
    school: str = SCHOOL,
    province: str = PROVINCE,
    state: str = "待审核",
    approve: bool = False,
    uploaded: datetime.datetime = UPLOADED,
    record_id: int | None = None,
    **changes: str,
) -> int:
    """Store a record (or, with ``record_id``, a new version of one) and return its id.

    ``approve`` marks the version just written as approved, in the state 审核通过.
    """
    cells = record_cells(index, 院系=department, **changes)
    year, month = reporting_month(datetime.date.fromisoformat(cells["实习结束时间"]))
    key = json.dumps([cells["学号"], cells["课程代码"], cells["实习开始时间"], cells["实习结束时间"],
                      cells[USCC_FIELD]], ensure_ascii=False)
    write = RecordWrite(
        record_id=record_id, province=province, school=school, department=department, natural_key=key,
        state="审核通过" if approve else state, student_id=cells["学号"], course_code=cells["课程代码"],
        unit_code=cells[USCC_FIELD], unit_name=cells[UNIT_FIELD], reporting_month=f"{year}-{month:02d}",
        cells=cells, issues=[], digest=content_digest(cells),
    )
    with app.app_context():
        store = get_store()
        [stored_id] = store.write_records([write], batch_id=None, actor="test", now=uploaded)
        if approve:
            store.set_record_status(stored_id, state="审核通过", delete_requested=False, approve_current=True,
                                    review_reason=None, now=uploaded)
    return stored_id


def delete_record(app: Flask, record_id: int) -> None:
    with app.app_context():
        get_store().delete_record(record_id, now=UPLOADED)


def add_far_school(app: Flask) -> None:
    """Register a school in another province, which the world's province may not read."""
    with app.app_context():
        store = get_store()
        store.add_province(OTHER_PROVINCE, "北京市", now=UPLOADED)
        store.add_school(School(FAR_SCHOOL, OTHER_PROVINCE, "北辰理工大学", "91350100M000300Y49", "110000", UPLOADED))


def set_unit_state(app: Flask, unit: tuple[str, str], state: str, reason: str | None = None) -> None:
    """Queue a unit check and give it a result, as the unit worker would."""
    with app.app_context():
        get_store().ensure_unit_checks([unit], now=UPLOADED)
    run_sql(app, "UPDATE unit_checks SET state = ?, reason = ?, checked_at = ? WHERE unit_code = ? AND unit_name = ?",
            (state, reason, UPLOADED.isoformat(), *unit))


def add_reference_lists(app: Flask, roster: list[RosterEntry], plan: list[PlanCourse]) -> None:
    """Make ``roster`` and ``plan`` the school's current lists, as a roster and a plan upload would."""
    with app.app_context():
        store = get_store()
        for kind, entries, model in (("roster", roster, RosterEntry), ("plan", plan, PlanCourse)):
            data = [converter.unstructure(entry, model) for entry in entries]
            batch_id = store.add_batch(NewBatch(
                kind=kind, province=PROVINCE, school=SCHOOL, department="", actor="test", filename=None,
                media_type="application/json", digest=f"{kind}-digest", idempotency_key=None, status="stored",
                created_at=UPLOADED, rows=len(data), valid_rows=len(data), errors=0, warnings=0,
                created=len(data), updated=0, unchanged=0, not_stored=0, report={}, source=None,
            ))
            store.add_reference_list(kind, SCHOOL, batch_id=batch_id, data=data, now=UPLOADED)


def statistics(world: World, who: str, **query: str) -> dict[str, Any]:
    response = world.client(who).get("/api/v1/statistics", query_string=query)
    assert response.status_code == 200, response.get_json()
    document: dict[str, Any] = response.get_json()
    return document


def counts(document: dict[str, Any], section: str, key: str) -> dict[Any, int]:
    return {entry[key]: entry["count"] for entry in document[section]}


def add_mixed_records(app: Flask) -> None:
    """Store five records of the school in three states and one of the other school."""
    add_record(app, 1, approve=True)
    add_record(app, 2, state="待审核")
    add_record(app, 3, state="校验不通过", department=LANGUAGES)
    add_record(app, 4, approve=True, department=LANGUAGES, 实习类型="生产实习")
    add_record(app, 5, state="已退回")
    add_record(app, 6, approve=True, school=OTHER_SCHOOL)


# --- levels ----------------------------------------------------------------------------


def test_school_counts_every_state(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "school")
    assert document["versions"] == "current"
    assert document["scope"]["school"] == SCHOOL
    assert document["total"] == 5
    assert counts(document, "by_state", "state") == {"待校验": 0, "校验不通过": 1, "待审核": 1, "审核通过": 2,
                                                     "已退回": 1}
    assert counts(document, "by_department", "department") == {MECHANICAL: 3, LANGUAGES: 2}
    assert counts(document, "by_school", "school") == {SCHOOL: 5}
    assert counts(document, "by_month", "month") == {"2025-10": 5}


def test_school_counts_types_with_zeros(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "school")
    assert counts(document, "by_type", "type") == {"认识实习": 0, "专业实习": 4, "生产实习": 1, "毕业实习": 0}


def test_province_counts_approved_only(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "province")
    assert document["versions"] == "approved"
    assert document["total"] == 3
    assert document["by_state"] is None
    assert document["coverage"] is None
    assert counts(document, "by_school", "school") == {SCHOOL: 2, OTHER_SCHOOL: 1}
    names = {entry["school"]: entry["name"] for entry in document["by_school"]}
    assert names[SCHOOL] == "东海理工大学1"


def test_ministry_counts_approved_only(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "ministry")
    assert document["versions"] == "approved"
    assert document["total"] == 3
    assert document["scope"]["level"] == "ministry"


def test_department_counts_own_records(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "dept1")
    assert document["scope"]["department"] == LANGUAGES
    assert document["total"] == 2
    assert counts(document, "by_department", "department") == {LANGUAGES: 2}
    assert counts(document, "by_state", "state")["校验不通过"] == 1


def test_other_school_sees_own_records(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "other_school")
    assert document["total"] == 1
    assert counts(document, "by_school", "school") == {OTHER_SCHOOL: 1}


def test_school_may_read_approved_versions(world: World) -> None:
    """With versions=approved a school reads what the province reads."""
    add_mixed_records(world.app)
    document = statistics(world, "school", versions="approved")
    assert document["total"] == 2
    assert document["by_state"] is None


def test_edited_record_counts_approved_version(world: World) -> None:
    """After an edit of an approved record, the province counts the approved version's content."""
    record_id = add_record(world.app, 1, approve=True)
    add_record(world.app, 1, record_id=record_id, state="待审核", 实习类型="毕业实习", 实习结束时间="2025-08-29")
    province = statistics(world, "province")
    school = statistics(world, "school")
    assert counts(province, "by_type", "type")["专业实习"] == 1
    assert counts(province, "by_month", "month") == {"2025-10": 1}
    assert counts(school, "by_type", "type")["毕业实习"] == 1
    assert counts(school, "by_month", "month") == {"2025-09": 1}


def test_deleted_records_not_counted(world: World) -> None:
    add_record(world.app, 1, approve=True)
    deleted = add_record(world.app, 2, approve=True)
    delete_record(world.app, deleted)
    assert statistics(world, "school")["total"] == 1
    assert statistics(world, "province")["total"] == 1


def test_nothing_stored(world: World) -> None:
    document = statistics(world, "province")
    assert document["total"] == 0
    assert document["by_month"] == []
    assert document["late"] == {"total": 0, "by_month": []}
    assert document["failed_units"] == {"units": 0, "records": 0, "items": []}


def test_titles_chinese_and_english(world: World) -> None:
    titles = statistics(world, "school")["titles"]
    assert titles["late"]["zh"].startswith("补报")
    assert titles["late"]["en"].startswith("Late reports")


# --- filters --------------------------------------------------------------------------


def test_month_range_filter(world: World) -> None:
    add_record(world.app, 1, 实习结束时间="2025-07-31")
    add_record(world.app, 2, 实习结束时间="2025-08-31")
    add_record(world.app, 3, 实习结束时间="2025-09-30")
    document = statistics(world, "school", **{"from": "2025-09", "to": "2025-09"})
    assert document["total"] == 1
    assert document["from"] == "2025-09"
    assert counts(statistics(world, "school", **{"from": "2025-09"}), "by_month", "month") == {
        "2025-09": 1, "2025-10": 1}
    assert statistics(world, "school", to="2025-08")["total"] == 1


def test_school_filter_for_province(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "province", school=OTHER_SCHOOL)
    assert document["total"] == 1
    assert document["scope"]["school"] == OTHER_SCHOOL


def test_department_filter_for_school(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "school", department=LANGUAGES)
    assert document["total"] == 2
    assert document["scope"]["level"] == "department"


def test_department_filter_for_ministry(world: World) -> None:
    add_mixed_records(world.app)
    document = statistics(world, "ministry", school=SCHOOL, department=LANGUAGES)
    assert document["total"] == 1


def test_own_province_filter_narrows_to_school(world: World) -> None:
    """A school naming its own province reads its own school, not the province."""
    add_mixed_records(world.app)
    document = statistics(world, "school", province=PROVINCE)
    assert document["scope"]["level"] == "school"
    assert document["total"] == 5


# --- refused queries --------------------------------------------------------------------


def problem(world: World, who: str, status: int, **query: str) -> dict[str, Any]:
    response = world.client(who).get("/api/v1/statistics", query_string=query)
    assert response.status_code == status, response.get_json()
    document: dict[str, Any] = response.get_json()
    assert response.content_type == "application/problem+json"
    return document


def test_province_other_province_school_forbidden(world: World) -> None:
    add_far_school(world.app)
    document = problem(world, "province", 403, school=FAR_SCHOOL)
    assert document["code"] == "SXPT-FORBIDDEN"
    assert "无权" in document["detail"]


def test_province_other_province_forbidden(world: World) -> None:
    problem(world, "province", 403, province=OTHER_PROVINCE)


def test_school_other_school_forbidden(world: World) -> None:
    problem(world, "school", 403, school=OTHER_SCHOOL)


def test_department_other_department_forbidden(world: World) -> None:
    problem(world, "dept0", 403, department=LANGUAGES)


def test_province_current_versions_forbidden(world: World) -> None:
    document = problem(world, "province", 403, versions="current")
    assert "versions=current" in document["detail"]


def test_ministry_current_versions_forbidden(world: World) -> None:
    problem(world, "ministry", 403, school=SCHOOL, versions="current")


def test_unknown_school_not_found(world: World) -> None:
    problem(world, "ministry", 404, school="4199999999")


def test_invalid_queries(world: World) -> None:
    cases: list[dict[str, str]] = [
        {"from": "2025-13"},
        {"from": "2025-9"},
        {"from": "2025-10", "to": "2025-09"},
        {"school": "41330"},
        {"province": "330100"},
        {"versions": "all"},
        {"missing_limit": "-1"},
        {"missing_limit": "5000"},
        {"month": "2025-10"},
    ]
    for query in cases:
        document = problem(world, "school", 422, **query)
        assert document["code"] == "SXPT-VALIDATION", query
        assert document["errors"], query


def test_department_without_school_for_province(world: World) -> None:
    document = problem(world, "province", 422, department=MECHANICAL)
    assert document["errors"][0]["field"] == "department"


def test_school_of_other_province_contradicts(world: World) -> None:
    add_far_school(world.app)
    document = problem(world, "ministry", 422, school=FAR_SCHOOL, province=PROVINCE)
    assert document["errors"][0]["field"] == "province"


def test_login_required(world: World) -> None:
    response = world.app.test_client().get("/api/v1/statistics")
    assert response.status_code == 401


def test_api_key_reads_statistics(world: World) -> None:
    add_mixed_records(world.app)
    issued = world.client("school").post("/api/v1/keys", json={"label": "教务系统", "department": LANGUAGES})
    assert issued.status_code == 201, issued.get_json()
    client = world.app.test_client()
    response = client.get("/api/v1/statistics", headers={"Authorization": f"Bearer {issued.get_json()['key']}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["total"] == 2


# --- late reports ------------------------------------------------------------------------


def test_late_reports(world: World) -> None:
    app = world.app
    add_record(app, 1, 实习结束时间="2025-08-29")  # reporting month 2025-09, uploaded in October: late
    add_record(app, 2)  # reporting month 2025-10: due
    add_record(app, 3, 实习结束时间="2025-10-10")  # reporting month 2025-11: early
    document = statistics(world, "school")
    assert document["late"] == {"total": 1, "by_month": [{"month": "2025-09", "count": 1}]}


def test_late_report_uses_china_time(world: World) -> None:
    """23:30 on 31 October in Beijing is still October; 00:30 on 1 November is not."""
    app = world.app
    before = datetime.datetime(2025, 10, 31, 15, 30, tzinfo=datetime.timezone.utc)
    after = datetime.datetime(2025, 10, 31, 16, 30, tzinfo=datetime.timezone.utc)
    add_record(app, 1, uploaded=before)
    add_record(app, 2, uploaded=after)
    assert statistics(world, "school")["late"]["total"] == 1
    assert not is_late_month("2025-10", china_date(before))
    assert is_late_month("2025-10", china_date(after))


def test_late_report_counts_first_upload(world: World) -> None:
    """A new version uploaded later does not make an on-time record late."""
    record_id = add_record(world.app, 1)
    later = datetime.datetime(2025, 12, 1, 2, 0, tzinfo=datetime.timezone.utc)
    add_record(world.app, 1, record_id=record_id, uploaded=later, 实习岗位="测试工程师")
    assert statistics(world, "school")["late"]["total"] == 0


def test_late_reports_province_approved(world: World) -> None:
    add_record(world.app, 1, 实习结束时间="2025-08-29", approve=True)
    add_record(world.app, 2, 实习结束时间="2025-08-29")
    assert statistics(world, "province")["late"]["total"] == 1
    assert statistics(world, "school")["late"]["total"] == 2


# --- failed unit checks ------------------------------------------------------------------


FAILED_UNIT = ("91330100MA2B3C4D5E", "杭州示例科技有限公司")
PASSED_UNIT = ("91330100MA2B3C4D6F", "杭州样例软件有限公司")


def test_failed_unit_checks(world: World) -> None:
    app = world.app
    add_record(app, 1, approve=True)
    add_record(app, 2)
    add_record(app, 3, **{USCC_FIELD: PASSED_UNIT[0], UNIT_FIELD: PASSED_UNIT[1]})
    set_unit_state(app, FAILED_UNIT, "校验不通过", "名称与登记不符")
    set_unit_state(app, PASSED_UNIT, "校验通过")

    school = statistics(world, "school")["failed_units"]
    assert school["units"] == 1
    assert school["records"] == 2
    [item] = school["items"]
    assert (item["unit_code"], item["unit_name"]) == FAILED_UNIT
    assert item["reason"] == "名称与登记不符"
    assert item["records"] == 2
    assert item["checked_at"].startswith("2025-10-15")

    province = statistics(world, "province")["failed_units"]
    assert (province["units"], province["records"]) == (1, 1)


def test_failed_unit_of_approved_version(world: World) -> None:
    """The province reads the approved version's failed unit after the record moved to another unit."""
    app = world.app
    record_id = add_record(app, 1, approve=True)
    add_record(app, 1, record_id=record_id, **{USCC_FIELD: PASSED_UNIT[0], UNIT_FIELD: PASSED_UNIT[1]})
    set_unit_state(app, FAILED_UNIT, "校验不通过", "已注销")
    assert statistics(world, "province")["failed_units"]["records"] == 1
    assert statistics(world, "school")["failed_units"]["records"] == 0


# --- coverage of the training plan --------------------------------------------------------


MAJOR = "计算机科学与技术"


def plan_course(code: str, department: str, major: str, grade: int = 2021) -> PlanCourse:
    return PlanCourse("2024-2025", "第二学期", department, "080901", major, grade, code, "专业实习",
                      Decimal(2), "专业实习", "集中实习", "现场实习")


def roster_student(number: str, department: str, major: str) -> RosterEntry:
    return RosterEntry(number, f"学生{number[-2:]}", school="东海理工大学1", department=department, major=major,
                       enrolment_date=datetime.date(2021, 9, 1))


def add_coverage_world(app: Flask) -> None:
    roster = [roster_student(f"210501{n:02d}", MECHANICAL, MAJOR) for n in range(1, 5)]
    roster += [roster_student(f"210502{n:02d}", LANGUAGES, "英语") for n in range(1, 3)]
    plan = [plan_course("CS3001", MECHANICAL, MAJOR), plan_course("EN3001", LANGUAGES, "英语")]
    add_reference_lists(app, roster, plan)
    add_record(app, 1)  # 21050101, CS3001
    add_record(app, 2, state="校验不通过")  # 21050102, CS3001
    add_record(app, 3, 课程代码="CS9999")  # a course outside the plan


def test_coverage_for_school(world: World) -> None:
    add_coverage_world(world.app)
    coverage = statistics(world, "school")["coverage"]
    assert coverage["roster"] is True
    assert coverage["plan"] is True
    by_code = {course["course_code"]: course for course in coverage["courses"]}
    assert by_code["CS3001"]["students"] == 4
    assert by_code["CS3001"]["reported"] == 2
    assert by_code["CS3001"]["share"] == 0.5
    assert by_code["CS3001"]["missing"] == ["21050103", "21050104"]
    assert by_code["EN3001"]["reported"] == 0
    assert by_code["EN3001"]["missing_count"] == 2


def test_coverage_missing_limit(world: World) -> None:
    add_coverage_world(world.app)
    coverage = statistics(world, "school", missing_limit="1")["coverage"]
    by_code = {course["course_code"]: course for course in coverage["courses"]}
    assert by_code["CS3001"]["missing"] == ["21050103"]
    assert by_code["CS3001"]["missing_count"] == 2


def test_coverage_for_department(world: World) -> None:
    add_coverage_world(world.app)
    coverage = statistics(world, "dept1")["coverage"]
    assert [course["course_code"] for course in coverage["courses"]] == ["EN3001"]


def test_coverage_without_roster(world: World) -> None:
    add_record(world.app, 1)
    coverage = statistics(world, "school")["coverage"]
    assert coverage == {"roster": False, "plan": False, "courses": []}


def test_coverage_hidden_from_province(world: World) -> None:
    add_coverage_world(world.app)
    assert statistics(world, "province", school=SCHOOL)["coverage"] is None


def test_openapi_describes_statistics(world: World) -> None:
    paths = world.client("school").get("/api/v1/openapi.json").get_json()["paths"]
    operation = paths["/api/v1/statistics"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"from", "to", "province", "school", "department", "versions", "missing_limit"} <= names

