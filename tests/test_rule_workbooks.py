"""Every records rule, shown on a small workbook and CSV built here from code.

Each case changes one clean 实习数据 row (or adds a second row, for batch rules), writes
it as an xlsx workbook and, where a CSV can carry the value, as a CSV file, validates
both with the real reader, and checks that the rule fires at the expected Excel row and
column. A last test checks that every rule of the catalogue is exercised by some test.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sxpt_core.catalogue import all_rules
from sxpt_core.codes import uscc
from sxpt_core.codes.divisions import load_divisions
from sxpt_core.context import Context, PlanIndex, RosterIndex, SchoolSettings
from sxpt_core.io.table import column_letter
from sxpt_core.models import PlanCourse, RosterEntry
from sxpt_core.templates import get_template
from sxpt_core.validate import validate_file
from tests.workbooks import write_csv, write_xlsx

TEMPLATE = get_template("records")
HEADERS = [column.header for column in TEMPLATE]
SCHOOL_CODE = "12330000MB12345676"

CLEAN: dict[str, Any] = {
    "学号": "2201010001", "学生姓名": "林晓雨", "入学年份": "2022", "院系": "机械工程学院", "班级": "机械2201班",
    "课程名称": "生产实习", "课程代码": "0803101", "学分": "4", "实习类型": "生产实习", "实习组织形式": "集中实习",
    "实习方式": "现场实习", "学年": "2024-2025", "校内指导教师": "周明远", "实习单位名称": "云栖数控设备有限公司",
    "实习单位统一社会信用代码": "91110000600037341L", "实习地区及代码": "330100", "实习详细地址": "科技园 8 号",
    "是否有实习责任险": "是", "是否有人身意外险": "是", "是否进行实习安全教育和培训": "是", "是否签订实习三方协议": "是",
    "实习单位获取方式": "学校安排", "实习单位是否有安全应急预案": "是", "实习单位是否为校级及以上实习基地": "否",
    "实习单位是否为数智赋能实习基地": "否", "实习单位是否为海外实习基地": "否", "实习开始时间": "2025-07-01",
    "实习结束时间": "2025-09-30", "实际实习天数": "80", "实习岗位": "技术员", "实习报酬（元/月）": "3000",
    "企业指导人员姓名": "王经理", "企业指导人员电话": "13800138000", "专业": "机械设计制造及其自动化",
}

CONTEXT = Context(
    today=datetime.date(2025, 10, 15),
    divisions=load_divisions(),
    school=SchoolSettings(name="东海理工大学", unit_code=SCHOOL_CODE),
    roster=RosterIndex([
        RosterEntry("2201010001", "林晓雨", department="机械工程学院"),
        RosterEntry("2201010002", "周明远", department="机械工程学院"),
        RosterEntry("0201010003", "郑可馨", department="机械工程学院"),
        RosterEntry("2201010004", "陈浩", level="专科"),
        RosterEntry("2201010005", "吴佳", status="退学"),
        RosterEntry("2201010006", "许诺", level="专升本", enrolment_date=datetime.date(2025, 9, 1)),
        RosterEntry("2201010007", "冯远", status="休学"),
        RosterEntry("2201010008", "邓宁", school="东山大学"),
    ]),
    plan=PlanIndex([
        PlanCourse("2024-2025", "第三学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022, "0803101",
                   "生产实习", Decimal("4"), "生产实习", "集中实习", "现场实习"),
        PlanCourse("2024-2025", "第三学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022, "0803102",
                   "毕业实习", Decimal("6"), "毕业实习", "分散实习", "现场实习"),
    ]),
)

ABROAD = {"实习单位名称": "Northwind Translation Ltd.", "实习单位统一社会信用代码": "无", "实习地区及代码": "990000"}


def with_check(body: str) -> str:
    return body + uscc.calc_check_character(body)


# (rule code, the header whose cell shows it or None for the row, changes to the row,
#  changes to a second row or None, whether a CSV can carry the values)
CASES: list[tuple[str, str | None, dict[str, Any], dict[str, Any] | None, bool]] = [
    # field formats
    ("SXPT-E-ACADEMIC-YEAR-INVALID", "学年", {"学年": "2024年"}, None, True),
    ("SXPT-E-ACADEMIC-YEAR-SPAN", "学年", {"学年": "2024-2026"}, None, True),
    ("SXPT-W-ACADEMIC-YEAR-FORMAT", "学年", {"学年": "2024—2025"}, None, True),
    ("SXPT-E-CHOICE-INVALID", "实习类型", {"实习类型": "顶岗实习"}, None, True),
    ("SXPT-W-CHOICE-ALIAS", "实习组织形式", {"实习组织形式": "集中"}, None, True),
    ("SXPT-E-CREDITS-INVALID", "学分", {"学分": "两学分"}, None, True),
    ("SXPT-E-CREDITS-NOT-POSITIVE", "学分", {"学分": "0"}, None, True),
    ("SXPT-E-CREDITS-PRECISION", "学分", {"学分": "1.25"}, None, True),
    ("SXPT-E-CREDITS-UNIT", "学分", {"学分": "2周"}, None, True),
    ("SXPT-W-CREDITS-FORMAT", "学分", {"学分": "4学分"}, None, True),
    ("SXPT-E-DATE-END-BEFORE-START", "实习结束时间", {"实习结束时间": "2025-06-30"}, None, True),
    ("SXPT-E-DATE-INVALID", "实习开始时间", {"实习开始时间": "七月一日"}, None, True),
    ("SXPT-E-DATE-MONTH-ONLY", "实习开始时间", {"实习开始时间": "2025-07"}, None, True),
    ("SXPT-E-DATE-NO-SUCH-DAY", "实习开始时间", {"实习开始时间": "2025-02-30"}, None, True),
    ("SXPT-E-DATE-ORDER", "实习开始时间", {"实习开始时间": "7/1/2025"}, None, True),
    ("SXPT-E-DATE-OUT-OF-RANGE", "实习开始时间", {"实习开始时间": "2014-07-01"}, None, True),
    ("SXPT-E-DATE-TWO-DIGIT-YEAR", "实习开始时间", {"实习开始时间": "25-7-1"}, None, True),
    ("SXPT-W-DATE-FORMAT", "实习开始时间", {"实习开始时间": "2025/7/1"}, None, True),
    ("SXPT-W-DATE-SERIAL", "实习开始时间", {"实习开始时间": 45839}, None, False),
    ("SXPT-W-DATE-TIME", "实习开始时间", {"实习开始时间": datetime.datetime(2025, 7, 1, 8, 30)}, None, False),
    ("SXPT-E-DAYS-EXCEED-SPAN", "实际实习天数", {"实际实习天数": "200"}, None, True),
    ("SXPT-E-DAYS-INVALID", "实际实习天数", {"实际实习天数": "0"}, None, True),
    ("SXPT-W-DAYS-FORMAT", "实际实习天数", {"实际实习天数": "80天"}, None, True),
    ("SXPT-E-FIELD-CELL-TYPE", "班级", {"班级": True}, None, False),
    ("SXPT-E-FIELD-REQUIRED", "实习单位名称", {"实习单位名称": ""}, None, True),
    ("SXPT-W-FIELD-SPACE", "班级", {"班级": " 机械2201班 "}, None, True),
    ("SXPT-E-ID-DATE", "学号", {"学号": datetime.date(2022, 1, 1)}, None, False),
    ("SXPT-E-ID-NUMBER-INVALID", "学号", {"学号": 2201.5}, None, False),
    ("SXPT-E-ID-PRECISION", "学号", {"学号": 2.2010100010001e16}, None, False),
    ("SXPT-E-ID-TOO-LONG", "学号", {"学号": "2" * 31}, None, True),
    ("SXPT-W-ID-FULLWIDTH", "学号", {"学号": "２２０１０１０００１"}, None, True),
    ("SXPT-W-ID-NUMERIC", "学号", {"学号": 2201010001}, None, False),
    ("SXPT-E-MONEY-INVALID", "实习报酬（元/月）", {"实习报酬（元/月）": "-1"}, None, True),
    ("SXPT-W-MONEY-FORMAT", "实习报酬（元/月）", {"实习报酬（元/月）": "3000元"}, None, True),
    ("SXPT-E-NAME-CHARACTER", "学生姓名", {"学生姓名": "林晓雨😀"}, None, True),
    ("SXPT-E-NAME-DIGIT", "学生姓名", {"学生姓名": "林晓雨2"}, None, True),
    ("SXPT-E-NAME-QUESTION-MARK", "学生姓名", {"学生姓名": "林?雨"}, None, True),
    ("SXPT-E-NAME-TOO-LONG", "学生姓名", {"学生姓名": "林" * 51}, None, True),
    ("SXPT-W-NAME-DOT", "学生姓名", {"学生姓名": "阿依古丽•买买提"}, None, True),
    ("SXPT-W-NAME-FULLWIDTH", "企业指导人员姓名", {"企业指导人员姓名": "Ｊｏｈｎ Ｓｍｉｔｈ"}, None, True),
    ("SXPT-W-NAME-LIST", "校内指导教师", {"校内指导教师": "周明远,李华"}, None, True),
    ("SXPT-W-NAME-SPACE", "学生姓名", {"学生姓名": "林 晓雨"}, None, True),
    ("SXPT-E-PHONE-INVALID", "企业指导人员电话", {"企业指导人员电话": "1381234"}, None, True),
    ("SXPT-W-PHONE-FORMAT", "企业指导人员电话", {"企业指导人员电话": "138-0013-8000"}, None, True),
    ("SXPT-E-TEXT-TOO-LONG", "实习详细地址", {"实习详细地址": "路" * 201}, None, True),
    ("SXPT-W-TEXT-LINE-BREAK", "实习详细地址", {"实习详细地址": "科技园\n8 号"}, None, True),
    ("SXPT-E-YEAR-INVALID", "入学年份", {"入学年份": "22"}, None, True),
    ("SXPT-W-YEAR-FORMAT", "入学年份", {"入学年份": "2022级"}, None, True),
    ("SXPT-W-ENROLMENT-AFTER-START", "入学年份", {"入学年份": "2026"}, None, True),
    ("SXPT-E-UNIT-ON-CAMPUS-WORD", "实习单位名称", {"实习单位名称": "本校"}, None, True),
    # unit codes
    ("SXPT-E-USCC-CHARACTER", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "91110000600037341!"}, None, True),
    ("SXPT-E-USCC-FIRST", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": with_check("01110000600037341")}, None, True),
    ("SXPT-E-USCC-LENGTH", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "91110000600037341"}, None, True),
    ("SXPT-E-USCC-LOOKALIKE", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "9111000O600037341L"}, None, True),
    ("SXPT-E-USCC-NONE-FORM", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "/"}, None, True),
    ("SXPT-E-USCC-NUMBER", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": 9.1110000600037e17}, None, False),
    ("SXPT-E-USCC-OLD", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "330106000123456"}, None, True),
    ("SXPT-W-USCC-FORMAT", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "91110000600037341l"}, None, True),
    ("SXPT-E-USCC-CHECKSUM", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "91110000600037341M"}, None, True),
    # city codes and their pairing with the unit code
    ("SXPT-E-CITY-FORMAT", "实习地区及代码", {"实习地区及代码": "杭州"}, None, True),
    ("SXPT-W-CITY-FORMAT", "实习地区及代码", {"实习地区及代码": "杭州市-330100"}, None, True),
    ("SXPT-E-CITY-ABOLISHED", "实习地区及代码", {"实习地区及代码": "341400"}, None, True),
    ("SXPT-E-CITY-DISTRICT-AGGREGATE", "实习地区及代码", {"实习地区及代码": "330101"}, None, True),
    ("SXPT-E-CITY-PROVINCE", "实习地区及代码", {"实习地区及代码": "330000"}, None, True),
    ("SXPT-E-CITY-UNKNOWN", "实习地区及代码", {"实习地区及代码": "999999"}, None, True),
    ("SXPT-W-CITY-COUNTY", "实习地区及代码", {"实习地区及代码": "330106"}, None, True),
    ("SXPT-W-CITY-MUNICIPALITY", "实习地区及代码", {"实习地区及代码": "110100"}, None, True),
    ("SXPT-W-CITY-NAME-MISMATCH", "实习地区及代码", {"实习地区及代码": "宁波市-330100"}, None, True),
    ("SXPT-E-UNIT-NONE-MAINLAND", "实习单位统一社会信用代码", {"实习单位统一社会信用代码": "无"}, None, True),
    ("SXPT-W-OVERSEAS-BASE-CITY", "实习单位是否为海外实习基地", {"实习单位是否为海外实习基地": "是"}, None, True),
    ("SXPT-W-UNIT-CODE-ABROAD", "实习地区及代码", {"实习地区及代码": "990000"}, None, True),
    ("SXPT-W-UNIT-SCHOOL-NAME", "实习单位名称",
     {"实习单位名称": "东海理工", "实习单位统一社会信用代码": SCHOOL_CODE}, None, True),
    # roster
    ("SXPT-E-ROSTER-BEFORE-UPGRADE", "实习开始时间", {"学号": "2201010006", "学生姓名": "许诺"}, None, True),
    ("SXPT-E-ROSTER-LEADING-ZERO", "学号", {"学号": "201010003", "学生姓名": "郑可馨"}, None, True),
    ("SXPT-E-ROSTER-NAME-MISMATCH", "学生姓名", {"学生姓名": "林小雨"}, None, True),
    ("SXPT-E-ROSTER-NOT-FOUND", "学号", {"学号": "2201019999"}, None, True),
    ("SXPT-E-ROSTER-OTHER-SCHOOL", "学号", {"学号": "2201010008", "学生姓名": "邓宁"}, None, True),
    ("SXPT-E-ROSTER-STATUS", "学号", {"学号": "2201010005", "学生姓名": "吴佳"}, None, True),
    ("SXPT-E-ROSTER-SWAPPED", "学生姓名", {"学生姓名": "周明远"}, None, True),
    ("SXPT-E-ROSTER-ZHUANKE", "学号", {"学号": "2201010004", "学生姓名": "陈浩"}, None, True),
    ("SXPT-W-ROSTER-DEPARTMENT", "院系", {"院系": "计算机学院"}, None, True),
    ("SXPT-W-ROSTER-SUSPENDED", "学号", {"学号": "2201010007", "学生姓名": "冯远"}, None, True),
    # plan
    ("SXPT-E-PLAN-CREDITS", "学分", {"学分": "2"}, None, True),
    ("SXPT-E-PLAN-LEADING-ZERO", "课程代码", {"课程代码": "803101"}, None, True),
    ("SXPT-E-PLAN-NOT-FOUND", "课程代码", {"课程代码": "JX9999"}, None, True),
    ("SXPT-E-PLAN-NOT-IN-YEAR", "课程代码",
     {"学年": "2025-2026", "实习开始时间": "2025-09-01", "实习结束时间": "2025-09-30", "实际实习天数": "30"},
     None, True),
    ("SXPT-E-PLAN-TYPE", "实习类型", {"实习类型": "认识实习"}, None, True),
    ("SXPT-W-PLAN-COURSE-NAME", "课程名称", {"课程名称": "生产实训"}, None, True),
    ("SXPT-W-PLAN-FORM", "实习组织形式", {"实习组织形式": "分散实习"}, None, True),
    ("SXPT-W-PLAN-MAJOR", "专业", {"专业": "英语"}, None, True),
    ("SXPT-W-PLAN-MODE", "实习方式", {"实习方式": "虚拟实习"}, None, True),
    ("SXPT-W-PLAN-YEAR", "学年", {"学年": "2025-2026"}, None, True),
    # batch: the rule fires on the second row
    ("SXPT-E-BATCH-DUPLICATE", "学号", {}, {}, True),
    ("SXPT-E-BATCH-OVERLAP", "实习开始时间", {},
     {**ABROAD, "实习开始时间": "2025-09-01", "实习结束时间": "2025-09-30", "实际实习天数": "30"}, True),
    ("SXPT-W-BATCH-OVERLAP-COURSES", "实习开始时间", {},
     {"课程代码": "0803102", "课程名称": "毕业实习", "学分": "6", "实习类型": "毕业实习",
      "实习组织形式": "分散实习"}, True),
    ("SXPT-W-BATCH-UNIT-NAMES", "实习单位名称", {}, {"学号": "2201010002", "学生姓名": "周明远",
                                                  "实习单位名称": "云栖数控"}, True),
    # calendar
    ("SXPT-E-CAL-NOT-ENDED", "实习结束时间", {"实习结束时间": "2025-10-20"}, None, True),
    ("SXPT-W-CAL-EARLY", "实习结束时间", {"实习结束时间": "2025-10-10"}, None, True),
    ("SXPT-W-CAL-LATE", "实习结束时间", {"实习结束时间": "2025-08-31", "实际实习天数": "60"}, None, True),
]


def rows_for(changes: dict[str, Any], second: dict[str, Any] | None) -> list[list[Any]]:
    rows = [[{**CLEAN, **changes}[header] for header in HEADERS]]
    if second is not None:
        rows.append([{**CLEAN, **changes, **second}[header] for header in HEADERS])
    return rows


def issues_of(path: Path) -> list[tuple[str, int | None, str | None]]:
    report = validate_file(path, CONTEXT).report
    issues = [(issue.code, issue.row, issue.column) for issue in report.issues]
    return issues + [(entry.code, entry.row, entry.column) for entry in report.normalised]


def test_clean_row_is_clean(tmp_path: Path) -> None:
    """The base row of the cases passes every rule, as xlsx and as CSV."""
    rows = rows_for({}, None)
    assert issues_of(write_xlsx(tmp_path / "clean.xlsx", [HEADERS, *rows])) == []
    assert issues_of(write_csv(tmp_path / "clean.csv", [HEADERS, *rows])) == []


@pytest.mark.parametrize(("code", "header", "changes", "second", "csv"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires_in_workbook(
    tmp_path: Path, code: str, header: str | None, changes: dict[str, Any], second: dict[str, Any] | None,
    csv: bool,
) -> None:
    """The rule fires at the changed cell of a workbook (and of a CSV file where one can carry it)."""
    rows = rows_for(changes, second)
    row = 3 if second is not None else 2
    letter = column_letter(HEADERS.index(header)) if header else None
    expected = (code, row, letter)

    assert expected in issues_of(write_xlsx(tmp_path / "case.xlsx", [HEADERS, *rows]))
    if csv:
        assert expected in issues_of(write_csv(tmp_path / "case.csv", [HEADERS, *rows], "gb18030"))


def test_every_rule_exercised() -> None:
    """Every rule of the catalogue appears in a case above or in another test module."""
    tests = Path(__file__).resolve().parent
    text = "\n".join(path.read_text(encoding="utf-8") for path in tests.glob("test_*.py"))
    covered = set(re.findall(r"SXPT-[EW]-[A-Z0-9-]+[A-Z0-9]", text))
    missing = sorted(rule.code for rule in all_rules() if rule.code not in covered)
    assert missing == []
