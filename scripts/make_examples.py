"""Generate the example workbooks in ``examples/`` (every person and unit invented).

The records workbook is the kind a department sends in: a title row above the header,
a few hundred clean rows, and the mistakes people really make, planted on purpose (see
``MISTAKES``). The roster and the plan are the files it is checked against. The script
is deterministic: the same version of it writes the same data.

Usage::

    python scripts/make_examples.py            # writes examples/*.xlsx and examples/*.csv
    python scripts/make_examples.py --report   # also rewrites examples/expected-report.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TODAY = "2025-10-15"  # the reporting day the expected report is computed for
SCHOOL = "东海理工大学"
SCHOOL_CODE = "12330000MB12345676"  # invented; its check character is valid

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, index, 31) for index in range(17)]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "子涵欣怡梓轩浩宇雨桐思远俊杰一诺佳琪明轩语嫣晨曦宇航雅静嘉怡博文诗涵天佑若曦泽宇可馨皓轩梦瑶铭哲心悦昊然晓彤"

DEPARTMENTS = {
    "机械工程学院": ("080202", "机械设计制造及其自动化", "01"),
    "计算机科学与技术学院": ("080901", "计算机科学与技术", "02"),
    "经济管理学院": ("120201K", "工商管理", "03"),
    "外国语学院": ("050201", "英语", "04"),
}

# course code, name, credits, type, form, mode, department, academic year, term
COURSES = [
    ("0803101", "生产实习", "4", "生产实习", "集中实习", "现场实习", "机械工程学院", "2024-2025", "第三学期"),
    ("0803102", "毕业实习", "6", "毕业实习", "分散实习", "现场实习", "机械工程学院", "2024-2025", "第二学期"),
    ("JS3201", "专业实习", "3", "专业实习", "集中实习", "现场实习", "计算机科学与技术学院", "2024-2025", "第三学期"),
    ("JS4202", "毕业实习", "4", "毕业实习", "分散实习", "现场实习", "计算机科学与技术学院", "2024-2025", "第二学期"),
    ("JG2301", "认识实习", "1", "认识实习", "集中实习", "现场实习", "经济管理学院", "2024-2025", "第三学期"),
    ("JG3302", "专业实习", "2.5", "专业实习", "分散实习", "现场实习", "经济管理学院", "2024-2025", "第三学期"),
    ("WY3401", "翻译实习", "2", "专业实习", "集中实习", "虚拟实习", "外国语学院", "2024-2025", "第三学期"),
]

CITIES = ["330100", "330200", "320500", "310000", "110000", "440300", "420100", "510100", "330300", "350200"]
UNIT_WORDS = ["云栖", "东岳", "海润", "启明", "恒泰", "瑞丰", "远航", "青禾", "星河", "博源", "华茂", "鼎新"]
UNIT_KINDS = ["数控设备有限公司", "信息技术有限公司", "精密机械有限公司", "咨询管理有限公司", "翻译服务有限公司",
              "软件有限公司", "电子科技有限公司", "商贸有限公司"]


def uscc_check(first17: str) -> str:
    total = sum(ALPHABET.index(character) * weight for character, weight in zip(first17, WEIGHTS))
    return ALPHABET[-total % 31]


def invent_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_check(body)


def invent_name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


HEADERS = [
    "学号", "学生姓名", "入学年份", "院系", "班级", "课程名称", "课程代码", "学分", "实习类型", "实习组织形式",
    "实习方式", "学年", "校内指导教师", "实习单位名称", "实习单位统一社会信用代码", "实习地区及代码", "实习详细地址",
    "是否有实习责任险", "是否有人身意外险", "是否进行实习安全教育和培训", "是否签订实习三方协议", "实习单位获取方式",
    "实习单位是否有安全应急预案", "实习单位是否为校级及以上实习基地", "实习单位是否为数智赋能实习基地",
    "实习单位是否为海外实习基地", "实习开始时间", "实习结束时间", "实际实习天数", "实习岗位", "实习报酬（元/月）",
    "企业指导人员姓名", "企业指导人员电话",
]


def build(rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Return (roster rows, clean record rows)."""
    used: set[str] = set()
    units = []
    for word in UNIT_WORDS:
        city = rng.choice(CITIES)
        units.append((f"{word}{rng.choice(UNIT_KINDS)}", invent_uscc(rng, city), city))

    roster: list[dict[str, object]] = []
    records: list[dict[str, object]] = []
    for department, (_major_code, major, prefix) in DEPARTMENTS.items():
        courses = [course for course in COURSES if course[6] == department]
        for number in range(1, 76):
            student_id = f"22{prefix}{number // 30 + 1:02d}{number:04d}"
            name = invent_name(rng, used)
            roster.append({"学校名称": SCHOOL, "学号": student_id, "姓名": name, "院系": department,
                           "专业": major, "层次": "本科", "学籍状态": "在籍", "入学日期": "2022-09-01"})
            course = courses[number % len(courses)]
            unit = rng.choice(units)
            # Most internships of the example end in September 2025, due in October 2025.
            end = datetime.date(2025, 9, 1) + datetime.timedelta(days=rng.randrange(0, 30))
            start = end - datetime.timedelta(days=rng.randrange(30, 60))
            span = (end - start).days + 1
            records.append({
                "学号": student_id, "学生姓名": name, "入学年份": 2022, "院系": department,
                "班级": f"{major[:2]}{22}{number // 30 + 1:02d}班", "课程名称": course[1], "课程代码": course[0],
                "学分": course[2], "实习类型": course[3], "实习组织形式": course[4], "实习方式": course[5],
                "学年": course[7], "校内指导教师": invent_name(rng, used), "实习单位名称": unit[0],
                "实习单位统一社会信用代码": unit[1], "实习地区及代码": unit[2],
                "实习详细地址": f"{rng.choice(['科技园', '工业园', '经济开发区'])}{rng.randrange(1, 300)}号",
                "是否有实习责任险": "是", "是否有人身意外险": "是", "是否进行实习安全教育和培训": "是",
                "是否签订实习三方协议": rng.choice(["是", "是", "否"]), "实习单位获取方式": rng.choice(["学校安排", "学生自主联系"]),
                "实习单位是否有安全应急预案": "是", "实习单位是否为校级及以上实习基地": rng.choice(["是", "否"]),
                "实习单位是否为数智赋能实习基地": "否", "实习单位是否为海外实习基地": "否",
                "实习开始时间": start.isoformat(), "实习结束时间": end.isoformat(),
                "实际实习天数": span - rng.randrange(0, 8), "实习岗位": rng.choice(["技术员", "助理", "实习生", "工艺员"]),
                "实习报酬（元/月）": rng.choice([0, 1500, 2000, 3000]), "企业指导人员姓名": invent_name(rng, used),
                "企业指导人员电话": f"13{rng.randrange(0, 10)}{rng.randrange(10**7, 10**8)}",
            })
    return roster, records


def plant_mistakes(rng: random.Random, roster: list[dict[str, object]], records: list[dict[str, object]]) -> None:
    """Apply the common real-world mistakes to chosen rows (index = position in records)."""
    r = records

    def edit(index: int, **changes: object) -> None:
        r[index].update(changes)

    # Unit codes: wrong check character, the letter O, an old registration number, lower case.
    code = str(r[3]["实习单位统一社会信用代码"])
    edit(3, 实习单位统一社会信用代码=code[:17] + ("0" if code[17] != "0" else "1"))
    code = str(r[5]["实习单位统一社会信用代码"])
    edit(5, 实习单位统一社会信用代码=code[:4] + "O" + code[5:])
    edit(8, 实习单位统一社会信用代码="330106000123456")
    edit(9, 实习单位统一社会信用代码=str(r[9]["实习单位统一社会信用代码"]).lower())
    # Abroad and Hong Kong are right with 无; 无 in a mainland city is not.
    edit(12, 实习单位名称="Northwind Translation Ltd.", 实习单位统一社会信用代码="无", 实习地区及代码="990000",
         实习单位是否为海外实习基地="是")
    edit(13, 实习单位名称="港岛翻译服务中心", 实习单位统一社会信用代码="无", 实习地区及代码="810000")
    edit(14, 实习单位统一社会信用代码="无")
    # City codes written the ways people write them.
    edit(16, 实习地区及代码="杭州市-330100")
    edit(17, 实习地区及代码="330106")
    edit(18, 实习地区及代码="330000")
    edit(19, 实习地区及代码="341400")
    edit(20, 实习地区及代码="110100")
    # Identity: not in the roster, a name that differs, two swapped names.
    edit(22, 学号="2201019999")
    edit(23, 学生姓名=str(r[23]["学生姓名"])[0] + "晓东")
    name_24, name_25 = r[24]["学生姓名"], r[25]["学生姓名"]
    edit(24, 学生姓名=name_25)
    edit(25, 学生姓名=name_24)
    # Scope: a 专科 student, one who left, a 专升本 internship before the upgrade.
    for index, level, status in ((27, "专科", "在籍"), (28, "本科", "退学"), (29, "专升本", "在籍")):
        entry = next(item for item in roster if item["学号"] == r[index]["学号"])
        entry["层次"], entry["学籍状态"] = level, status
        if level == "专升本":
            entry["入学日期"] = "2025-09-01"
    # Plan: a course not in the plan, wrong credits, a wrong type, a 学年 that disagrees.
    edit(31, 课程代码="JX9999")
    edit(32, 学分="3")
    edit(33, 实习类型="认识实习")
    edit(34, 学年="2025-2026")
    # Batch: a repeated row, an overlapping period of the same course.
    r.insert(40, dict(r[39]))
    edit(41, 实习开始时间="2025-08-01", 实习结束时间="2025-09-10", 实际实习天数=40)
    edit(42, 实习开始时间="2025-09-05", 实习结束时间="2025-09-25", 实际实习天数=20)
    edit(42, **{key: r[41][key] for key in ("学号", "学生姓名", "课程代码", "课程名称", "学分", "实习类型",
                                              "实习组织形式", "实习方式")})
    # Calendar: ends in November (not ended on 2025-10-15), ended in October (early), ended in August (late).
    edit(45, 实习开始时间="2025-09-01", 实习结束时间="2025-11-20", 实际实习天数=60)
    edit(46, 实习开始时间="2025-09-01", 实习结束时间="2025-10-10", 实际实习天数=35)
    edit(47, 实习开始时间="2025-07-01", 实习结束时间="2025-08-21", 实际实习天数=45)
    # Days and dates.
    edit(49, 实际实习天数=200)
    edit(50, 实习开始时间="2025-09-30", 实习结束时间="2025-08-02")
    # The same start dates written in the shapes people use.
    day = datetime.date.fromisoformat(str(r[52]["实习开始时间"]))
    edit(52, 实习开始时间=f"{day.year}/{day.month}/{day.day}")
    day = datetime.date.fromisoformat(str(r[53]["实习开始时间"]))
    edit(53, 实习开始时间=f"{day.year}年{day.month}月{day.day}日")
    edit(54, 实习开始时间=str(r[54]["实习开始时间"]).replace("-", ""))
    edit(55, 实习开始时间="7/1/2025")
    edit(56, 实习结束时间="25-9-1")
    # Credits, code lists, yes/no.
    edit(58, 学分=f"{r[58]['学分']}学分")
    edit(59, 学分="2周")
    edit(60, 实习组织形式="集中" if r[60]["实习组织形式"] == "集中实习" else "分散")
    edit(61, 实习类型="顶岗实习")
    edit(62, 是否有实习责任险="Y")
    edit(63, 是否签订实习三方协议="有")
    # Names: a space in a name, a lost rare character, a minority name with the wrong dot.
    name_65 = str(r[65]["学生姓名"])
    edit(65, 学生姓名=name_65[0] + " " + name_65[1:])
    edit(66, 学生姓名=str(r[66]["学生姓名"])[0] + "?")
    minority = "阿依古丽·买买提"
    edit(67, 学生姓名="阿依古丽•买买提")
    next(item for item in roster if item["学号"] == r[67]["学号"])["姓名"] = minority
    # On-campus work written as 本校, a blank required cell, a bad phone number.
    edit(69, 实习单位名称="本校", 实习单位统一社会信用代码=SCHOOL_CODE, 实习地区及代码="330100")
    edit(70, 实习单位名称="")
    edit(71, 企业指导人员电话="1381234")
    # One code with two names.
    edit(73, 实习单位统一社会信用代码=r[74]["实习单位统一社会信用代码"])


# Rows (0-based in records) whose 学号 and 课程代码 are typed as numbers, as Excel does by default.
NUMERIC_ID_ROWS = (75, 76)
NUMERIC_COURSE_ROWS = (74,)
HIDDEN_ROWS = (150,)


# A fixed creation time keeps regenerated workbooks byte-identical.
CREATED = datetime.datetime(2025, 10, 1, 9, 0, 0)


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": CREATED, "author": "sxpt examples"})
    return workbook


def write_records(path: Path, records: list[dict[str, object]]) -> None:
    workbook = new_workbook(path)
    title = workbook.add_format({"bold": True, "font_size": 14})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet("实习数据")
    sheet.merge_range(0, 0, 0, 8, f"{SCHOOL} 2025 年 9 月实习数据报送表", title)
    sheet.write_row(1, 0, HEADERS, header)
    for offset, record in enumerate(records):
        row = offset + 2
        for column, name in enumerate(HEADERS):
            value = record.get(name, "")
            if name == "学号" and offset in NUMERIC_ID_ROWS:
                sheet.write_number(row, column, int(str(value)))
            elif name == "课程代码" and offset in NUMERIC_COURSE_ROWS:
                sheet.write_number(row, column, int(str(value)))
            elif isinstance(value, int | float):
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, str(value), text)
        if offset in HIDDEN_ROWS:
            sheet.set_row(row, None, None, {"hidden": True})
    sheet.set_column(0, len(HEADERS) - 1, 14)
    guide = workbook.add_worksheet("填表说明")
    guide.write(0, 0, "填表说明：学号和课程代码请设为文本格式；日期写作 2025-09-01。")
    workbook.close()


def write_table(path: Path, rows: list[dict[str, object]], sheet_name: str) -> None:
    workbook = new_workbook(path)
    text = workbook.add_format({"num_format": "@"})
    sheet = workbook.add_worksheet(sheet_name)
    headers = list(rows[0])
    sheet.write_row(0, 0, headers)
    for offset, row in enumerate(rows, start=1):
        for column, name in enumerate(headers):
            sheet.write_string(offset, column, str(row[name]), text)
    workbook.close()


def plan_rows() -> Iterator[dict[str, object]]:
    for code, name, credits, kind, form, mode, department, year, term in COURSES:
        major_code, major, _ = DEPARTMENTS[department]
        yield {"学年": year, "学期": term, "院系": department, "专业代码": major_code, "专业名称": major,
               "年级": 2022, "课程代码": code, "课程名称": name, "学分": credits, "实习类型": kind,
               "实习组织形式": form, "实习方式": mode, "计划实习周数": 4, "计划实习人数": 75}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="store_true", help="rewrite examples/expected-report.json")
    options = parser.parse_args()

    rng = random.Random(20251015)
    roster, records = build(rng)
    plant_mistakes(rng, roster, records)
    EXAMPLES.mkdir(exist_ok=True)
    write_records(EXAMPLES / "records.xlsx", records)
    write_table(EXAMPLES / "roster.xlsx", roster, "学籍名单")
    write_table(EXAMPLES / "plan.xlsx", list(plan_rows()), "实习培养方案")

    if options.report:
        result = subprocess.run(
            [sys.executable, "-m", "sxpt_core", "validate", "records.xlsx", "--today", TODAY,
             "--format", "json"],
            cwd=EXAMPLES, capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        if result.returncode not in (0, 1):
            sys.exit(result.stderr)
        report = json.loads(result.stdout)
        (EXAMPLES / "expected-report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
