"""Generate a large 实习数据 workbook for benchmarks (every value invented).

The rows are realistic: distinct students, a few dozen courses and units, dates spread
over a term, and about one row in fifty carrying a typical mistake, so that the
annotated workbook has faulty cells to mark.

Usage::

    python benchmarks/generate.py OUT.xlsx [--rows 100000]
"""

from __future__ import annotations

import argparse
import datetime
import random
from pathlib import Path

import xlsxwriter

from sxpt_core.templates import get_template

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, index, 31) for index in range(17)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "子涵欣怡梓轩浩宇雨桐思远俊杰一诺佳琪明轩语嫣晨曦宇航雅静嘉怡博文诗涵天佑若曦泽宇可馨皓轩梦瑶铭哲心悦昊然晓彤"
CITIES = ["330100", "330200", "320500", "310000", "110000", "440300", "420100", "510100", "330300", "350200"]


def _uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    total = sum(ALPHABET.index(character) * weight for character, weight in zip(body, WEIGHTS))
    return body + ALPHABET[-total % 31]


def rows(count: int, seed: int = 7) -> list[list[object]]:
    """Return ``count`` data rows in the order of the 2024 实习数据 template."""
    rng = random.Random(seed)
    units = []
    for index in range(400):
        city = rng.choice(CITIES)
        units.append((f"示例{index:03d}科技有限公司", _uscc(rng, city), city))
    courses = [(f"SX{index:04d}", f"专业实习{index}", rng.choice(["2", "3", "4", "1.5"])) for index in range(60)]
    result: list[list[object]] = []
    for number in range(count):
        unit = rng.choice(units)
        course = rng.choice(courses)
        end = datetime.date(2025, 9, 1) + datetime.timedelta(days=rng.randrange(0, 30))
        start = end - datetime.timedelta(days=rng.randrange(20, 60))
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
        row: list[object] = [
            f"22{number:08d}", name, "2022", f"第{number % 12}学院", f"班级{number % 300}", course[1], course[0],
            course[2], "专业实习", "集中实习", "现场实习", "2024-2025", "周明远", unit[0], unit[1], unit[2],
            f"科技园{number % 500}号", "是", "是", "是", "是", "学校安排", "是", "否", "否", "否",
            start.isoformat(), end.isoformat(), str((end - start).days - rng.randrange(0, 5)), "技术员",
            "3000", "王经理", f"139{number:08d}", "计算机科学与技术",
        ]
        if number % 50 == 7:  # a wrong check character
            row[14] = str(row[14])[:17] + ("0" if str(row[14])[17] != "0" else "1")
        elif number % 50 == 19:  # a date shape that is normalised
            row[26] = start.strftime("%Y/%m/%d")
        elif number % 50 == 31:  # an invalid code-list value
            row[8] = "顶岗实习"
        result.append(row)
    return result


def write(path: Path, data: list[list[object]]) -> None:
    """Write ``data`` under the template header, as text cells, in constant-memory mode."""
    headers = [column.header for column in get_template("records")]
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("实习数据")
    sheet.write_row(0, 0, headers)
    for index, row in enumerate(data, start=1):
        sheet.write_row(index, 0, row)
    workbook.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate a large 实习数据 workbook.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args()
    write(options.out, rows(options.rows))


if __name__ == "__main__":
    main()
