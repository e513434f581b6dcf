"""GET /api/v1/export: the national 实习数据 workbook and CSV of the records an account may read."""

from __future__ import annotations

import codecs
import csv
import io
import urllib.parse
from typing import Any

import openpyxl
from werkzeug.test import TestResponse

from sxpt_core.io.export import FORMULA_TRIGGERS, QUOTE
from sxpt_core.templates import get_template
from sxpt_server.store import get_store
from sxpt_server.store.stats import StatsFilter
from tests.server.support import OTHER_SCHOOL, SCHOOL, World
from tests.server.test_statistics import (
    FAR_SCHOOL,
    LANGUAGES,
    add_far_school,
    add_mixed_records,
    add_record,
    delete_record,
)

# Every test that uses the app runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True

EXPORT_HEADERS = [column.header for column in get_template("records").columns if column.exported]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export(world: World, who: str, **query: str) -> TestResponse:
    response = world.client(who).get("/api/v1/export", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response


def workbook_rows(response: TestResponse) -> list[dict[str, Any]]:
    assert response.content_type == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header == EXPORT_HEADERS
    return [dict(zip(header, row)) for row in rows]


def csv_rows(response: TestResponse) -> list[dict[str, str]]:
    assert response.content_type.startswith("text/csv")
    assert response.data.startswith(codecs.BOM_UTF8)
    header, *rows = csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    assert header == EXPORT_HEADERS
    return [dict(zip(header, row)) for row in rows]


def student_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["学号"] for row in rows]


def disposition_filename(response: TestResponse) -> str:
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment; ")
    encoded = header.split("filename*=UTF-8''", 1)[1]
    return urllib.parse.unquote(encoded)


# --- what each level exports ------------------------------------------------------------


def test_province_exports_approved_versions(world: World) -> None:
    add_mixed_records(world.app)
    rows = workbook_rows(export(world, "province"))
    assert student_ids(rows) == ["21050101", "21050104", "21050106"]


def test_ministry_exports_approved_versions(world: World) -> None:
    add_mixed_records(world.app)
    rows = workbook_rows(export(world, "ministry", school=OTHER_SCHOOL))
    assert student_ids(rows) == ["21050106"]


def test_school_exports_approved_by_default(world: World) -> None:
    add_mixed_records(world.app)
    rows = workbook_rows(export(world, "school"))
    assert student_ids(rows) == ["21050101", "21050104"]


def test_school_exports_current_versions(world: World) -> None:
    add_mixed_records(world.app)
    rows = workbook_rows(export(world, "school", versions="current"))
    assert student_ids(rows) == ["21050101", "21050102", "21050103", "21050104", "21050105"]


def test_department_exports_own_records(world: World) -> None:
    add_mixed_records(world.app)
    rows = csv_rows(export(world, "dept1", format="csv", versions="current"))
    assert student_ids(rows) == ["21050103", "21050104"]
    assert {row["院系"] for row in rows} == {LANGUAGES}


def test_edited_record_exports_approved_content(world: World) -> None:
    """The province keeps exporting the approved version until the edit is approved."""
    record_id = add_record(world.app, 1, approve=True, 实习岗位="数控编程实习生")
    add_record(world.app, 1, record_id=record_id, 实习岗位="工艺实习生")
    [approved] = workbook_rows(export(world, "province"))
    [current] = workbook_rows(export(world, "school", versions="current"))
    assert approved["实习岗位"] == "数控编程实习生"
    assert current["实习岗位"] == "工艺实习生"


def test_deleted_records_not_exported(world: World) -> None:
    add_record(world.app, 1, approve=True)
    delete_record(world.app, add_record(world.app, 2, approve=True))
    assert student_ids(workbook_rows(export(world, "province"))) == ["21050101"]


def test_month_filter(world: World) -> None:
    add_record(world.app, 1, approve=True, 实习结束时间="2025-08-29")
    add_record(world.app, 2, approve=True)
    rows = csv_rows(export(world, "province", format="csv", **{"from": "2025-10"}))
    assert student_ids(rows) == ["21050102"]


def test_many_records_stream_in_pages(world: World) -> None:
    """More records than one page of the store's iterator all arrive, in id order."""
    for index in range(1, 13):
        add_record(world.app, index, approve=True)
    with world.app.app_context():
        store = get_store()
        paged = [cells["学号"] for cells in store.iter_record_cells(StatsFilter(approved_only=True), page_size=5)]
    assert paged == [f"210501{index:02d}" for index in range(1, 13)]
    assert student_ids(csv_rows(export(world, "province", format="csv"))) == paged


# --- safe cells -------------------------------------------------------------------------


FORMULA_CELLS = {
    "实习岗位": "=HYPERLINK(\"http://example.com/\",\"点击\")",
    "企业指导人员姓名": "@SUM(A1:A2)",
    "实习详细地址": " +1+2",
    "校内指导教师": "-2+3",
}


def test_xlsx_neutralises_and_keeps_zeros(world: World) -> None:
    add_record(world.app, 1, approve=True, 学号="0210501", **FORMULA_CELLS)
    response = export(world, "province")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    [row] = workbook_rows(response)
    assert row["学号"] == "0210501"
    for header, value in FORMULA_CELLS.items():
        assert row[header] == QUOTE + value, header


def test_csv_neutralises_and_keeps_zeros(world: World) -> None:
    add_record(world.app, 1, approve=True, 学号="0210501", **FORMULA_CELLS)
    [row] = csv_rows(export(world, "province", format="csv"))
    assert row["学号"] == "0210501"
    for header, value in FORMULA_CELLS.items():
        assert row[header] == QUOTE + value, header
    for value in row.values():
        assert value.lstrip()[:1] not in FORMULA_TRIGGERS, value


# --- the response -----------------------------------------------------------------------


def test_chinese_filename(world: World) -> None:
    add_record(world.app, 1, approve=True)
    response = export(world, "school")
    assert disposition_filename(response) == "实习数据-浙江省-东海理工大学1-审核通过版本-20251015.xlsx"
    assert f'filename="sxpt-records-{SCHOOL}-approved-20251015.xlsx"' in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert int(response.headers["Content-Length"]) == len(response.data)


def test_csv_filename_for_department(world: World) -> None:
    response = export(world, "dept0", format="csv", versions="current")
    assert disposition_filename(response).endswith("-机械工程学院-当前版本-20251015.csv")


def test_empty_export_has_header(world: World) -> None:
    assert workbook_rows(export(world, "ministry")) == []


def test_export_recorded_in_audit(world: World) -> None:
    add_record(world.app, 1, approve=True)
    export(world, "school", format="csv")
    entries = world.client("school").get("/api/v1/audit").get_json()["entries"]
    exported = [entry for entry in entries if entry["event"] == "records_exported"]
    assert len(exported) == 1
    assert exported[0]["detail"]["rows"] == 1
    assert exported[0]["detail"]["format"] == "csv"


def test_api_key_exports(world: World) -> None:
    add_mixed_records(world.app)
    issued = world.client("school").post("/api/v1/keys", json={"label": "教务系统"})
    assert issued.status_code == 201, issued.get_json()
    response = world.app.test_client().get(
        "/api/v1/export", query_string={"format": "csv", "versions": "current"},
        headers={"Authorization": f"Bearer {issued.get_json()['key']}"})
    assert response.status_code == 200, response.get_json()
    assert len(csv_rows(response)) == 5


# --- refused exports --------------------------------------------------------------------


def refused(world: World, who: str, status: int, **query: str) -> dict[str, Any]:
    response = world.client(who).get("/api/v1/export", query_string=query)
    assert response.status_code == status, response.get_json()
    document: dict[str, Any] = response.get_json()
    return document


def test_province_current_versions_forbidden(world: World) -> None:
    assert refused(world, "province", 403, versions="current")["code"] == "SXPT-FORBIDDEN"


def test_province_other_province_forbidden(world: World) -> None:
    add_far_school(world.app)
    assert refused(world, "province", 403, school=FAR_SCHOOL)["code"] == "SXPT-FORBIDDEN"


def test_school_other_school_forbidden(world: World) -> None:
    refused(world, "school", 403, school=OTHER_SCHOOL)


def test_department_other_department_forbidden(world: World) -> None:
    refused(world, "dept0", 403, department=LANGUAGES, versions="current")


def test_invalid_format(world: World) -> None:
    document = refused(world, "school", 422, format="pdf")
    assert document["errors"][0]["field"] == "format"


def test_statistics_parameter_not_accepted(world: World) -> None:
    document = refused(world, "school", 422, missing_limit="5")
    assert document["errors"][0]["field"] == "missing_limit"


def test_export_login_required(world: World) -> None:
    assert world.app.test_client().get("/api/v1/export").status_code == 401
