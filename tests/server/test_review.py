"""Review through the API: approve, return, versions seen by the province, deletion requests, exceptions."""

from __future__ import annotations

from typing import Any

from tests.server.records_support import DEPARTMENT_0, record, upload_json
from tests.server.support import World

# Every test that uses the app runs on SQLite and on PostgreSQL.
BOTH_BACKENDS = True


def foreign(index: int, **changes: str) -> dict[str, str]:
    """A record with a foreign unit, which needs no unit verification and so waits for review at once."""
    return record(index, **{"实习单位统一社会信用代码": "无", "实习地区及代码": "990000",
                            "实习单位名称": f"Nordlicht Werkstatt {index}", **changes})


def stored(world: World, who: str = "school") -> dict[str, dict[str, Any]]:
    response = world.client(who).get("/api/v1/records?limit=500")
    assert response.status_code == 200, response.get_json()
    return {item["cells"]["学号"]: item for item in response.get_json()["records"]}


def review(world: World, action: str, ids: list[int], reason: str | None = None) -> Any:
    body: dict[str, Any] = {"action": action, "records": ids}
    if reason is not None:
        body["reason"] = reason
    return world.client("school").post("/api/v1/review", json=body)


def test_queue_approve_and_return(world: World) -> None:
    """The school approves two records and returns one with a reason the department then reads."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2), foreign(3)])
    queue = world.client("school").get("/api/v1/review").get_json()
    assert queue["total"] == 3
    ids = {item["cells"]["学号"]: item["id"] for item in queue["records"]}

    assert review(world, "approve", [ids["21050101"], ids["21050102"]]).status_code == 200
    returned = review(world, "return", [ids["21050103"]], "实习单位名称与协议不一致，请核对")
    assert returned.status_code == 200, returned.get_json()

    mine = stored(world, "dept0")
    assert mine["21050101"]["state"] == "审核通过"
    assert mine["21050103"]["state"] == "已退回"
    assert mine["21050103"]["review_reason"] == "实习单位名称与协议不一致，请核对"
    assert world.client("school").get("/api/v1/review").get_json()["total"] == 0


def test_return_without_reason_is_refused(world: World) -> None:
    """Returning needs a reason; the record stays waiting."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    response = review(world, "return", [record_id])
    assert response.status_code == 422
    assert response.get_json()["code"] == "SXPT-REVIEW-REASON-MISSING"
    assert stored(world)["21050101"]["state"] == "待审核"


def test_review_batch_all_or_nothing(world: World) -> None:
    """One record that cannot be approved leaves every record of the request unchanged."""
    upload_json(world.client("dept0"), [foreign(1), record(2)])  # the second waits for its unit check
    records = stored(world)
    response = review(world, "approve", [records["21050101"]["id"], records["21050102"]["id"]])
    assert response.status_code == 409
    assert f"记录 {records['21050102']['id']}" in response.get_json()["detail"]
    assert stored(world)["21050101"]["state"] == "待审核"


def test_only_the_school_reviews(world: World) -> None:
    """Departments, other schools, provinces and the ministry cannot review."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    for who in ("dept0", "province", "ministry"):
        response = world.client(who).post("/api/v1/review", json={"action": "approve", "records": [record_id]})
        assert response.status_code == 403, who
    other = world.client("other_school").post("/api/v1/review", json={"action": "approve", "records": [record_id]})
    assert other.status_code == 404
    assert stored(world)["21050101"]["state"] == "待审核"


def test_province_reads_approved_version(world: World) -> None:
    """An edit of an approved record leaves the approved version visible to the province and the ministry."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    assert world.client("province").get("/api/v1/records").get_json()["records"] == []
    review(world, "approve", [record_id])

    edited = world.client("dept0").patch(f"/api/v1/records/{record_id}", json={"cells": {"实习岗位": "测试实习生"}})
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["state"] == "待审核"
    assert edited.get_json()["version"] == 2

    for who in ("province", "ministry"):
        seen = world.client(who).get("/api/v1/records").get_json()["records"]
        assert [(item["version"], item["cells"]["实习岗位"]) for item in seen] == [(1, "开发实习生")], who
    detail = world.client("province").get(f"/api/v1/records/{record_id}").get_json()
    assert detail["cells"]["实习岗位"] == "开发实习生"
    assert "state" not in detail

    review(world, "approve", [record_id])
    seen = world.client("province").get("/api/v1/records").get_json()["records"]
    assert [(item["version"], item["cells"]["实习岗位"]) for item in seen] == [(2, "测试实习生")]


def test_other_province_sees_nothing(world: World) -> None:
    """Approved records stay within their province; the API gives 403 for another province's filter."""
    upload_json(world.client("dept0"), [foreign(1)])
    review(world, "approve", [stored(world)["21050101"]["id"]])
    assert world.client("province").get("/api/v1/records?province=110000").status_code == 403
    assert world.client("province").get("/api/v1/records?state=待审核").status_code == 422


def test_deleting_an_approved_record_is_a_request(world: World) -> None:
    """The department requests deletion of an approved record; the province reads it until the school approves."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2)])
    records = stored(world)
    review(world, "approve", [records["21050101"]["id"]])

    assert world.client("dept0").delete(f"/api/v1/records/{records['21050102']['id']}").status_code == 204
    asked = world.client("dept0").delete(f"/api/v1/records/{records['21050101']['id']}")
    assert asked.status_code == 202
    assert asked.get_json()["delete_requested"] is True
    again = world.client("dept0").patch(f"/api/v1/records/{records['21050101']['id']}",
                                        json={"cells": {"实习岗位": "x"}})
    assert again.status_code == 409
    assert again.get_json()["code"] == "SXPT-REVIEW-DELETE-PENDING"

    assert len(world.client("province").get("/api/v1/records").get_json()["records"]) == 1
    requests = world.client("school").get("/api/v1/review?delete_requested=true").get_json()
    assert [item["id"] for item in requests["records"]] == [records["21050101"]["id"]]
    assert review(world, "approve_delete", [records["21050101"]["id"]]).status_code == 200
    assert world.client("province").get("/api/v1/records").get_json()["records"] == []
    assert stored(world, "dept0") == {}


def test_rejected_deletion_keeps_the_record(world: World) -> None:
    """Rejecting a deletion request needs a reason and clears the request."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    review(world, "approve", [record_id])
    world.client("dept0").delete(f"/api/v1/records/{record_id}")
    assert review(world, "reject_delete", [record_id]).status_code == 422
    assert review(world, "reject_delete", [record_id], "该实习真实发生，不能删除").status_code == 200
    after = stored(world, "dept0")["21050101"]
    assert after["delete_requested"] is False
    assert after["review_reason"] == "该实习真实发生，不能删除"


def test_edit_checks_again_and_respects_scope(world: World) -> None:
    """An edit that breaks a rule fails the checks; a department cannot move a record to another department."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    broken = world.client("dept0").patch(f"/api/v1/records/{record_id}", json={"cells": {"实际实习天数": "0"}})
    assert broken.status_code == 200
    assert broken.get_json()["state"] == "校验不通过"
    assert any(issue["field"] == "实际实习天数" for issue in broken.get_json()["issues"])

    moved = world.client("dept0").patch(f"/api/v1/records/{record_id}", json={"cells": {"院系": "外国语学院"}})
    assert moved.status_code == 403
    unknown = world.client("dept0").patch(f"/api/v1/records/{record_id}", json={"cells": {"不存在的列": "1"}})
    assert unknown.status_code == 422
    assert world.client("dept1").patch(f"/api/v1/records/{record_id}",
                                       json={"cells": {"实习岗位": "x"}}).status_code == 404


def test_edit_to_an_existing_key_conflicts(world: World) -> None:
    """Changing a record's key to another record's key is refused."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2)])
    records = stored(world)
    response = world.client("dept0").patch(f"/api/v1/records/{records['21050102']['id']}", json={"cells": {
        "学号": "21050101", "实习单位名称": "Nordlicht Werkstatt 1"}})
    assert response.status_code == 409


def test_exception_for_a_checksum_error(world: World) -> None:
    """A reviewer accepts a wrong check character with a reason; the record then waits for its unit check."""
    upload_json(world.client("dept0"), [record(1, 实习单位统一社会信用代码="91330100MA2B3C4D5E")])
    item = stored(world)["21050101"]
    assert item["state"] == "校验不通过"
    url = f"/api/v1/records/{item['id']}/exceptions"
    refused = world.client("school").post(url, json={"code": "SXPT-E-FIELD-REQUIRED", "reason": "x"})
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "SXPT-EXCEPTION-NOT-ALLOWED"
    assert world.client("dept0").post(url, json={"code": "SXPT-E-USCC-CHECKSUM", "reason": "x"}).status_code == 403
    accepted = world.client("school").post(url, json={"code": "SXPT-E-USCC-CHECKSUM", "reason": "已核对营业执照原件"})
    assert accepted.status_code == 201, accepted.get_json()
    body = accepted.get_json()
    assert body["exceptions"] == {"SXPT-E-USCC-CHECKSUM": "已核对营业执照原件"}
    assert body["state"] == "待校验"


def test_audit_log_has_every_transition(world: World) -> None:
    """Uploads and review actions appear in the school's audit log with who and why."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    review(world, "return", [record_id], "请补充实习协议")
    entries = world.client("school").get("/api/v1/audit").get_json()["entries"]
    events = {entry["event"]: entry for entry in entries}
    assert "batch_uploaded" in events
    returned = events["record_return"]
    assert returned["actor"] == world.names["school"]
    assert returned["detail"]["reason"] == "请补充实习协议"
    assert returned["target"] == f"record:{record_id}"


def test_department_sees_only_its_own_records(world: World) -> None:
    """Records of one department are invisible to the other, by list and by id."""
    upload_json(world.client("school"), [foreign(1), foreign(2, 院系="外国语学院")])
    records = stored(world)
    assert list(stored(world, "dept0")) == ["21050101"]
    assert world.client("dept0").get(f"/api/v1/records/{records['21050102']['id']}").status_code == 404
    assert world.client("dept0").get("/api/v1/records?department=外国语学院").status_code == 403
    assert records["21050101"]["department"] == DEPARTMENT_0


def test_failed_unit_check_reads_in_both_languages(world: World) -> None:
    """A failed unit check shows as the record's issue with the verifier's reason in the asked language."""
    from sxpt_server.store import get_store

    upload_json(world.client("dept0"), [record(1)])
    moment = world.clock.now
    with world.app.app_context():
        store = get_store()
        (check,) = store.claim_unit_checks(now=moment, claimed_until=moment.replace(year=moment.year + 1), limit=10)
        store.finish_unit_check(check.id, claimed_until=moment.replace(year=moment.year + 1), state="校验不通过",
                                reason="名录中没有该统一社会信用代码", reason_en="The code is not in the directory",
                                verifier="directory", now=moment)
        from sxpt_server.checks import refresh_unit_states

        refresh_unit_states(store, [(check.unit_code, check.unit_name)], now=moment)
    item = stored(world, "dept0")["21050101"]
    assert item["state"] == "校验不通过"
    assert item["issues"][-1]["code"] == "SXPT-E-UNIT-VERIFY-FAILED"
    assert item["issues"][-1]["message"] == "实习单位校验不通过：名录中没有该统一社会信用代码"
    english = world.client("dept0").get(f"/api/v1/records/{item['id']}?lang=en").get_json()
    assert english["issues"][-1]["message"].endswith("The code is not in the directory")


def test_exception_needs_the_issue(world: World) -> None:
    """A reviewer cannot accept a code that the record does not have."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    response = world.client("school").post(f"/api/v1/records/{record_id}/exceptions",
                                           json={"code": "SXPT-W-ROSTER-SUSPENDED", "reason": "已核对"})
    assert response.status_code == 422
    assert "没有问题" in response.get_json()["detail"]
