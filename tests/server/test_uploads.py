"""Uploads of records, rosters and plans through the API: checks, atomicity, reports and workbooks."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl

from tests.server.backends import run_sql
from tests.server.records_support import (
    DEPARTMENT_0,
    DEPARTMENT_1,
    record,
    upload_file,
    upload_json,
    xlsx_of,
)
from tests.server.support import World
from tests.workbooks import RECORD_HEADERS, csv_bytes, write_xlsx

# Every test that uses the app runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True


def table_counts(world: World) -> dict[str, int]:
    return {table: run_sql(world.app, f"SELECT COUNT(*) FROM {table}")[0][0]
            for table in ("batches", "records", "record_versions", "unit_checks")}


def all_records(client: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/records?limit=500")
    assert response.status_code == 200, response.get_json()
    records: list[dict[str, Any]] = response.get_json()["records"]
    return records


def test_department_uploads_a_workbook(world: World, tmp_path: Path) -> None:
    """An xlsx upload stores every keyed row with its issues and reports the rest as not stored."""
    rows = [record(1), record(2, 实习结束时间="2024-13-40"), record(3, 学号="")]
    response = upload_file(world.client("dept0"), xlsx_of(rows, tmp_path / "in.xlsx"))
    assert response.status_code == 201, response.get_json()
    batch = response.get_json()["batch"]
    assert (batch["rows"], batch["created"], batch["not_stored"], batch["filename"]) == (3, 1, 2, "实习数据.xlsx")

    stored = all_records(world.client("dept0"))
    assert [item["cells"]["学号"] for item in stored] == ["21050101"]
    assert stored[0]["state"] == "待校验"  # the unit check has not run yet
    assert stored[0]["department"] == DEPARTMENT_0

    report = world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report").get_json()
    assert [entry["row"] for entry in report["not_stored"]] == [3, 4]
    date_issue = next(issue for issue in report["issues"] if issue["row"] == 3 and issue["field"] == "实习结束时间")
    assert date_issue["column"] == "AB"
    assert date_issue["severity"] == "error"
    english = world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report?lang=en").get_json()
    assert english["issues"][0]["message"] != report["issues"][0]["message"]


def test_annotated_and_errors_only_workbooks(world: World, tmp_path: Path) -> None:
    """The kept workbooks mark the faulty cell, and the errors-only one contains the failing rows only."""
    rows = [record(1), record(2, 实际实习天数="0")]
    batch = upload_file(world.client("dept0"), xlsx_of(rows, tmp_path / "in.xlsx")).get_json()["batch"]

    annotated = world.client("dept0").get(batch["links"]["annotated"])
    assert annotated.status_code == 200
    assert "filename*=UTF-8''" in annotated.headers["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(annotated.data))
    sheet = workbook.worksheets[0]
    days_column = RECORD_HEADERS.index("实际实习天数") + 1
    comment = sheet.cell(row=3, column=days_column).comment
    assert comment is not None
    assert "SXPT-E-" in comment.text

    errors = world.client("dept0").get(batch["links"]["errors_only"])
    rows_back = list(openpyxl.load_workbook(io.BytesIO(errors.data)).worksheets[0].iter_rows(values_only=True))
    assert len(rows_back) == 2
    assert rows_back[0][-1] == "原行号"
    assert rows_back[1][-1] == 3


def test_csv_in_gb18030(world: World) -> None:
    """A CSV saved by Excel in GB18030 is read like a workbook."""
    content = csv_bytes([list(RECORD_HEADERS), [record(4)[header] for header in RECORD_HEADERS]], "gb18030")
    response = upload_file(world.client("school"), content, "实习数据.csv")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["batch"]["created"] == 1


def test_same_content_twice_changes_nothing(world: World, tmp_path: Path) -> None:
    """The second upload of the same file stores nothing and names the first batch."""
    content = xlsx_of([record(1), record(2)], tmp_path / "in.xlsx")
    first = upload_file(world.client("dept0"), content).get_json()["batch"]
    before = table_counts(world)
    again = upload_file(world.client("dept0"), content)
    assert again.status_code == 200
    assert again.get_json()["unchanged"] is True
    assert again.get_json()["batch"]["id"] == first["id"]
    assert "未作任何更改" in again.get_json()["message"]
    assert table_counts(world) == before


def test_stored_key_updated_not_duplicated(world: World) -> None:
    """Uploading a stored natural key with new content adds a version to the same record."""
    upload_json(world.client("dept0"), [record(1), record(2)])
    response = upload_json(world.client("dept0"), [record(1, 实习岗位="测试实习生"), record(2)])
    batch = response.get_json()["batch"]
    assert (batch["created"], batch["updated"], batch["unchanged"]) == (0, 1, 1)
    stored = all_records(world.client("dept0"))
    assert len(stored) == 2
    changed = next(item for item in stored if item["cells"]["学号"] == "21050101")
    assert changed["version"] == 2
    assert changed["cells"]["实习岗位"] == "测试实习生"
    versions = world.client("dept0").get(f"/api/v1/records/{changed['id']}/versions").get_json()["versions"]
    assert [version["cells"]["实习岗位"] for version in versions] == ["开发实习生", "测试实习生"]


def test_duplicate_row_in_one_file(world: World) -> None:
    """A second row with the same key is reported as a duplicate and not stored."""
    response = upload_json(world.client("dept0"), [record(1), record(1, 实习岗位="另一个岗位")])
    batch = response.get_json()["batch"]
    assert (batch["created"], batch["not_stored"]) == (1, 1)
    report = world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report").get_json()
    assert report["not_stored"][0]["row"] == 3
    assert "第 2 行" in report["not_stored"][0]["reason"]
    assert any(issue["code"].startswith("SXPT-E-BATCH") and issue["row"] == 3 for issue in report["issues"])


def test_idempotency_key_replays_the_first_batch(world: World) -> None:
    """A retried request with the same Idempotency-Key returns the first batch and stores nothing."""
    first = upload_json(world.client("dept0"), [record(1)], **{"Idempotency-Key": "nightly-2025-10-15"})
    before = table_counts(world)
    again = upload_json(world.client("dept0"), [record(1, 实习岗位="改过")], **{"Idempotency-Key": "nightly-2025-10-15"})
    assert again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["batch"]["id"] == first.get_json()["batch"]["id"]
    assert table_counts(world) == before


def test_department_cannot_upload_another_department(world: World) -> None:
    """A file with rows of another department is refused whole, naming the rows."""
    before = table_counts(world)
    response = upload_json(world.client("dept0"), [record(1), record(2, department=DEPARTMENT_1)])
    problem = response.get_json()
    assert response.status_code == 403
    assert problem["code"] == "SXPT-UPLOAD-SCOPE"
    assert problem["rows"] == [3]
    assert "第 3 行" in problem["detail"]
    assert table_counts(world) == before


def test_school_upload_with_unregistered_department(world: World) -> None:
    """A school's row naming a department that is not registered refuses the upload."""
    response = upload_json(world.client("school"), [record(1, department="不存在学院")])
    assert response.status_code == 422
    assert response.get_json()["code"] == "SXPT-DEPARTMENT-UNKNOWN"
    assert "不存在学院" in response.get_json()["detail"]


def test_school_uploads_for_every_department(world: World) -> None:
    """A school-level upload stores rows of both departments, each visible to its own department."""
    upload_json(world.client("school"), [record(1, department=DEPARTMENT_0), record(2, department=DEPARTMENT_1)])
    assert [item["department"] for item in all_records(world.client("dept0"))] == [DEPARTMENT_0]
    assert [item["department"] for item in all_records(world.client("dept1"))] == [DEPARTMENT_1]
    assert len(all_records(world.client("school"))) == 2
    assert all_records(world.client("other_school")) == []


def test_province_and_ministry_cannot_upload(world: World) -> None:
    """Uploads need a school or department account."""
    for who in ("province", "ministry"):
        response = upload_json(world.client(who), [record(1)])
        assert response.status_code == 403, who


def test_unreadable_file(world: World) -> None:
    """A file that is no workbook gets the reader's message and stores nothing."""
    before = table_counts(world)
    response = upload_file(world.client("dept0"), b"PK\x03\x04 broken", "实习数据.xlsx")
    assert response.status_code == 422
    assert response.get_json()["code"].startswith("SXPT-INPUT")
    old = upload_file(world.client("dept0"), b"\xd0\xcf\x11\xe0" + bytes(100), "实习数据.xls")
    assert old.status_code == 422
    assert ".xlsx" in old.get_json()["detail"]
    assert table_counts(world) == before


def test_malformed_json_upload(world: World) -> None:
    """A JSON body without a records array is refused with a sentence saying the expected shape."""
    for body in ({"rows": []}, {"records": []}, {"records": ["21050101"]}):
        response = world.client("dept0").post("/api/v1/batches", json=body)
        assert response.status_code == 422, body
        assert "records" in response.get_json()["detail"]


def roster_file(tmp_path: Path, students: list[tuple[str, str]], name: str = "roster.xlsx") -> bytes:
    path = tmp_path / name
    write_xlsx(path, [["学号", "姓名", "院系", "层次", "学籍状态"],
                      *([number, person, DEPARTMENT_0, "本科", "在籍"] for number, person in students)])
    return path.read_bytes()


def test_roster_upload_rechecks_waiting_records(world: World, tmp_path: Path) -> None:
    """A new roster checks the waiting records again; a student missing from it fails identity."""
    upload_json(world.client("dept0"), [record(1), record(2)])
    response = upload_file(world.client("school"), roster_file(tmp_path, [("21050101", "张三")]), "学籍.xlsx",
                           url="/api/v1/roster")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["batch"]["status"] == "stored"

    by_number = {item["cells"]["学号"]: item for item in all_records(world.client("school"))}
    assert by_number["21050102"]["state"] == "校验不通过"
    assert "SXPT-E-ROSTER-NOT-FOUND" in [issue["code"] for issue in by_number["21050102"]["issues"]]
    assert by_number["21050101"]["state"] == "待校验"

    current = world.client("school").get("/api/v1/roster").get_json()["current"]
    assert current["entries"] == 1
    fuller = roster_file(tmp_path, [("21050101", "张三"), ("21050102", "张三")], "roster2.xlsx")
    upload_file(world.client("school"), fuller, "学籍.xlsx", url="/api/v1/roster")
    by_number = {item["cells"]["学号"]: item for item in all_records(world.client("school"))}
    assert by_number["21050102"]["state"] == "待校验"


def test_roster_with_errors_is_rejected_and_current_stays(world: World, tmp_path: Path) -> None:
    """A roster with errors is kept as a rejected batch; the current roster does not change."""
    upload_file(world.client("school"), roster_file(tmp_path, [("21050101", "张三")]), "学籍.xlsx",
                url="/api/v1/roster")
    broken = roster_file(tmp_path, [("21050101", "张三"), ("21050101", "李四")], "broken.xlsx")
    response = upload_file(world.client("school"), broken, "学籍.xlsx", url="/api/v1/roster")
    assert response.status_code == 201
    assert response.get_json()["batch"]["status"] == "rejected"
    assert world.client("school").get("/api/v1/roster").get_json()["current"]["entries"] == 1


def test_only_school_users_upload_the_roster(world: World, tmp_path: Path) -> None:
    """Departments may not replace the school's roster or plan."""
    content = roster_file(tmp_path, [("21050101", "张三")])
    assert upload_file(world.client("dept0"), content, "学籍.xlsx", url="/api/v1/roster").status_code == 403
    assert upload_file(world.client("province"), content, "学籍.xlsx", url="/api/v1/plan").status_code == 403


def test_other_units_cannot_read_a_batch(world: World) -> None:
    """A batch is readable by its school and the department that uploaded it only."""
    batch = upload_json(world.client("dept0"), [record(1)]).get_json()["batch"]
    url = f"/api/v1/batches/{batch['id']}"
    assert world.client("school").get(url).status_code == 200
    for who in ("dept1", "other_school", "province", "ministry"):
        assert world.client(who).get(url + "/report").status_code in (403, 404), who


def test_limits_on_rows_and_size(world: World, tmp_path: Path) -> None:
    """Uploads over the row limit or the body limit are refused with a sentence naming the limit."""
    world.app.config["UPLOAD_MAX_ROWS"] = 2
    many = upload_json(world.client("dept0"), [record(index) for index in range(1, 4)])
    assert many.status_code == 413
    assert "2" in many.get_json()["detail"]
    as_file = upload_file(world.client("dept0"), xlsx_of([record(index) for index in range(1, 4)], tmp_path / "a.xlsx"))
    assert as_file.status_code == 413
    assert as_file.get_json()["code"] == "SXPT-INPUT-TOO-LARGE"

    world.app.config["MAX_CONTENT_LENGTH"] = 10_000
    huge = upload_file(world.client("dept0"), bytes(20_000), "实习数据.xlsx")
    assert huge.status_code == 413
    assert table_counts(world)["batches"] == 0


def test_messages_follow_the_server_language(world: World) -> None:
    """The LANGUAGE setting picks English reports when a request does not ask."""
    batch = upload_json(world.client("dept0"), [record(1, 实际实习天数="0")]).get_json()["batch"]
    world.app.config["LANGUAGE"] = "en"
    english = world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report").get_json()
    chinese = world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report?lang=zh").get_json()
    assert english["issues"][0]["message"] != chinese["issues"][0]["message"]
    assert english == world.client("dept0").get(f"/api/v1/batches/{batch['id']}/report?lang=en").get_json()


def test_idempotency_key_on_rosters(world: World, tmp_path: Path) -> None:
    """A retried roster upload replays its batch; the same key on another kind of upload is a conflict."""
    broken = roster_file(tmp_path, [("21050101", "张三"), ("21050101", "李四")], "broken.xlsx")
    key = {"Idempotency-Key": "roster-2025-autumn"}
    first = world.client("school").post("/api/v1/roster", data={"file": (io.BytesIO(broken), "学籍.xlsx")},
                                        content_type="multipart/form-data", headers=key)
    again = world.client("school").post("/api/v1/roster", data={"file": (io.BytesIO(broken), "学籍.xlsx")},
                                        content_type="multipart/form-data", headers=key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["replayed"] is True
    assert again.get_json()["batch"]["id"] == first.get_json()["batch"]["id"]

    records = upload_json(world.client("school"), [record(1)], **key)
    assert records.status_code == 409
    assert records.get_json()["code"] == "SXPT-STATE-CONFLICT"


def test_header_only_file_is_refused(world: World, tmp_path: Path) -> None:
    """A workbook with the header row and no records is refused with a sentence, and nothing is stored."""
    write_xlsx(tmp_path / "empty.xlsx", [list(RECORD_HEADERS)])
    response = upload_file(world.client("dept0"), (tmp_path / "empty.xlsx").read_bytes())
    assert response.status_code == 422
    assert "没有数据行" in response.get_json()["detail"]
    assert table_counts(world)["batches"] == 0


def test_json_record_with_unknown_field(world: World) -> None:
    """A JSON record with a key that is no template header is refused with the key named."""
    row = record(1)
    row["学生"] = row.pop("学生姓名")
    response = upload_json(world.client("dept0"), [record(2), row])
    assert response.status_code == 422
    assert response.get_json()["fields"] == ["学生"]
    assert "第 2 条记录" in response.get_json()["detail"]


def test_invalid_cell_stored_as_written(world: World, tmp_path: Path) -> None:
    """A cell that fails its check keeps the value the user wrote, in a workbook and in a CSV file."""
    workbook_row = record(1, 实习类型="顶岗实习", 实习岗位="装配工")
    csv_row = record(2, 实习类型="跟岗实习", 实习组织形式="集中")
    response = upload_file(world.client("dept0"), xlsx_of([workbook_row], tmp_path / "in.xlsx"))
    assert response.status_code == 201, response.get_json()
    content = csv_bytes([list(RECORD_HEADERS), [csv_row[header] for header in RECORD_HEADERS]])
    response = upload_file(world.client("dept0"), content, "实习数据.csv")
    assert response.status_code == 201, response.get_json()

    stored = {item["cells"]["学号"]: item for item in all_records(world.client("dept0"))}
    assert stored["21050101"]["cells"]["实习类型"] == "顶岗实习"
    assert stored["21050101"]["cells"]["实习岗位"] == "装配工"
    assert stored["21050101"]["state"] == "校验不通过"
    assert stored["21050102"]["cells"]["实习类型"] == "跟岗实习"
    assert stored["21050102"]["cells"]["实习组织形式"] == "集中实习"
    assert stored["21050102"]["state"] == "校验不通过"
