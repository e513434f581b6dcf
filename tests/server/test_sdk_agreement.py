"""Local validation and the server's batch report agree issue for issue, for generated records.

The records start from ``records_support.record()`` and get random changes, some of
them valid and some broken. The local context is the server's: the school's registered
name, credit code and city, today's date in China by the app's clock, and the roster and
plan that the school uploaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sxpt_core.client import Client
from sxpt_core.validate import validate_rows
from tests.server.records_support import DEPARTMENT_0, DEPARTMENT_1, record
from tests.server.support import PASSWORD, SCHOOL_USCC, World, last_sms
from tests.server.test_sdk_contract import BASE, PLAN_CSV, ROSTER_CSV, local_context

# Values for some cells: valid alternatives, normalisable spellings and mistakes.
CHANGES: dict[str, list[str]] = {
    "学号": ["21050102", "21050108", "2105O101", "", "21050101.0", "9999"],
    "学生姓名": ["李四", " 张 三", "张?", ""],
    "入学年份": ["2021", "21", "2019"],
    "学分": ["2学分", "0", "2周", "1.5", "３"],
    "课程代码": ["CS3002", " CS3001", ""],
    "课程名称": ["生产实习", ""],
    "实习类型": ["专业", "旅游实习", "毕业实习"],
    "实习组织形式": ["集中", "混合"],
    "实习方式": ["虚拟实习", "线上"],
    "学年": ["2023-2024", "2024/2025", "2025-2026"],
    "实习单位名称": ["本校", "杭州示例科技有限公司9"],
    "实习单位统一社会信用代码": ["91330100MA2B3C4000", "无", "91330100ma2b3c401w", "9133O100MA2B3C401W",
                        "330100400012345", SCHOOL_USCC],
    "实习地区及代码": ["330102", "330000", "杭州市-330100", "990000", "110100", "810000"],
    "是否有实习责任险": ["否", "Y", "是的"],
    "实习单位获取方式": ["学生自主联系", "自己找的"],
    "实习开始时间": ["2024/7/1", "2024-13-01", "20240701", "", "2024-09-01", "24-7-1"],
    "实习结束时间": ["2025-10-20", "2025-10-05", "2024-06-30", "2024年8月30日"],
    "实际实习天数": ["0", "999", "30", "六十"],
    "企业指导人员电话": ["12345", "0571-88888888"],
    "实习报酬（元/月）": ["-1", "三千", "3000.5"],
}

change = st.sampled_from(sorted(CHANGES)).flatmap(lambda header: st.tuples(st.just(header),
                                                                         st.sampled_from(CHANGES[header])))
rows = st.lists(
    st.builds(
        lambda index, department, changes: record(index, department, **dict(changes)),
        st.integers(min_value=1, max_value=8),
        st.sampled_from([DEPARTMENT_0, DEPARTMENT_1]),
        st.lists(change, max_size=4),
    ),
    min_size=1,
    max_size=4,
)


def place(item: Any) -> tuple[Any, ...]:
    return (item.code, item.row, item.column, item.field)


@pytest.fixture
def school(world: World) -> Iterator[Client]:
    """The school's SDK client, logged in, after uploading the roster and the plan.

    Hypothesis runs every example with this one client and server; uploads do not
    change what later uploads are checked against.
    """
    client = Client(BASE, transport=httpx.WSGITransport(app=world.app))
    world.clock.advance(seconds=61)
    client.login(world.names["school"], PASSWORD, lambda name: last_sms(world.app, account=name, purpose="login")["code"])
    assert client.upload_roster(ROSTER_CSV.encode(), filename="学籍名单.csv").batch.status == "stored"
    assert client.upload_plan(PLAN_CSV.encode(), filename="实习培养方案.csv").batch.status == "stored"
    with client:
        yield client


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=rows)
def test_local_and_server_reports_agree(world: World, school: Client, records: list[dict[str, str]]) -> None:
    """Every issue and normalisation of the server's report is the local one: code, row, column, field, message."""
    result = school.upload_records(records)
    report = school.batch_report(result.batch.id)
    local = validate_rows(records, local_context(world.clock, lists=True), first_row=2).report

    assert [place(issue) for issue in report.issues] == [place(issue) for issue in local.issues]
    assert [issue.message for issue in report.issues] == [issue.message("zh") for issue in local.issues]
    assert [(entry.row, entry.column, entry.code) for entry in report.normalised] == [
        (entry.row, entry.column, entry.code) for entry in local.normalised]
    assert (report.rows, report.valid_rows) == (local.rows, local.valid_rows)
