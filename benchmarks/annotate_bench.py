"""Time the annotated workbook against a bare XlsxWriter write of the same cells.

The target: writing the annotated workbook of a 100,000-row 实习数据 file takes at most
1.3 times a bare XlsxWriter constant-memory write of the same data. This script makes
such a file: one title row, the header, 33 template columns, every 20th row with a
wrong check character and every 50th with a credits value to normalise. It validates
the file once. Then it times these two, alternating, in the same run:

- bare: the cells, already in memory, written with XlsxWriter's typed methods in
  constant-memory mode (dates with a date format), no fills, no comments;
- annotated: :func:`sxpt_core.io.annotate.write_annotated`, which also reads the file
  again with python-calamine, fills and comments the faulty cells and writes the
  issues sheet.

Usage::

    PYTHONPATH=src python benchmarks/annotate_bench.py [--rows 100000] [--repeat 2]
    PYTHONPATH=src python benchmarks/annotate_bench.py --late-every 1   # a warning on every row
    PYTHONPATH=src python benchmarks/annotate_bench.py --profile   # cProfile of one annotated write
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import os
import platform
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import python_calamine
import xlsxwriter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sxpt_core.codes.divisions import load_divisions  # noqa: E402
from sxpt_core.context import Context  # noqa: E402
from sxpt_core.io.annotate import write_annotated  # noqa: E402
from sxpt_core.templates import get_template  # noqa: E402
from sxpt_core.validate import validate_file  # noqa: E402

TODAY = datetime.date(2025, 10, 15)
HEADERS = [column.header for column in get_template("records").columns if column.exported]
UNIT_CODE = "91110000600037341L"
WRONG_UNIT_CODE = "91110000600037341M"


def make_row(index: int, late_every: int = 0) -> list[Any]:
    """Return one data row: text, number and date cells as a department fills them.

    Internships end in September 2025, so they are due in October and get no calendar
    warning. With ``late_every``, every such row ends in August and is reported late.
    """
    start = datetime.date(2025, 8, 2) + datetime.timedelta(days=index % 28)
    if late_every and index % late_every == 0:
        start -= datetime.timedelta(days=31)
    end = start + datetime.timedelta(days=30)
    values: dict[str, Any] = {
        "学号": f"22{index:08d}", "学生姓名": "林晓雨", "入学年份": 2022, "院系": "机械工程学院",
        "班级": "机械2201班", "课程名称": "生产实习", "课程代码": "0803101",
        "学分": "4学分" if index % 50 == 7 else 4, "实习类型": "生产实习", "实习组织形式": "集中实习",
        "实习方式": "现场实习", "学年": "2024-2025", "校内指导教师": "周明远",
        "实习单位名称": "云栖数控设备有限公司",
        "实习单位统一社会信用代码": WRONG_UNIT_CODE if index % 20 == 3 else UNIT_CODE,
        "实习地区及代码": "330100", "实习详细地址": f"科技园{index % 300}号",
        "是否有实习责任险": "是", "是否有人身意外险": "是", "是否进行实习安全教育和培训": "是",
        "是否签订实习三方协议": "是", "实习单位获取方式": "学校安排", "实习单位是否有安全应急预案": "是",
        "实习单位是否为校级及以上实习基地": "否", "实习单位是否为数智赋能实习基地": "否",
        "实习单位是否为海外实习基地": "否", "实习开始时间": start, "实习结束时间": end,
        "实际实习天数": 30, "实习岗位": "技术员", "实习报酬（元/月）": 2000,
        "企业指导人员姓名": "王经理", "企业指导人员电话": "13800138000",
    }
    return [values[header] for header in HEADERS]


def make_workbook(path: Path, rows: int, late_every: int = 0) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("实习数据")
    sheet.write_string(0, 0, "东海理工大学实习数据报送表")
    sheet.write_row(1, 0, HEADERS)
    for index in range(rows):
        for column, value in enumerate(make_row(index, late_every)):
            write_cell(sheet, index + 2, column, value, date_format)
    workbook.close()


def write_cell(sheet: Any, row: int, column: int, value: Any, date_format: Any) -> None:
    if isinstance(value, str):
        if value:
            sheet.write_string(row, column, value)
    elif isinstance(value, (datetime.date, datetime.datetime)):
        sheet.write_datetime(row, column, value, date_format)
    else:
        sheet.write_number(row, column, value)


def bare_write(path: Path, cells: list[list[Any]]) -> None:
    """Write ``cells`` with typed XlsxWriter calls in constant-memory mode, nothing else."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("实习数据")
    write_string, write_number = sheet.write_string, sheet.write_number
    for row, values in enumerate(cells):
        for column, value in enumerate(values):
            kind = value.__class__
            if kind is str:
                if value:
                    write_string(row, column, value)
            elif kind is float:
                write_number(row, column, value)
            else:
                sheet.write_datetime(row, column, value, date_format)
    workbook.close()


def read_cells(path: Path) -> list[list[Any]]:
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("实习数据")
    return [list(row) for row in sheet.iter_rows()]


def timed(function: Any, *args: Any) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data rows (default 100000)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each (default 2)")
    parser.add_argument("--late-every", type=int, default=0, metavar="N",
                        help="make every Nth row a late report, one more warning comment each")
    parser.add_argument("--profile", action="store_true", help="profile one annotated write")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "records.xlsx"
        make_workbook(source, options.rows, options.late_every)
        context = Context(today=TODAY, divisions=load_divisions())
        started = time.perf_counter()
        report = validate_file(source, context).report
        validated = time.perf_counter() - started
        cells = read_cells(source)
        print(f"{options.rows:,} rows x {len(HEADERS)} columns, {source.stat().st_size / 1e6:.1f} MB; "
              f"{report.error_count:,} errors, {report.warning_count:,} warnings; "
              f"validated in {validated:.2f} s")
        print(f"python {platform.python_version()}, XlsxWriter {xlsxwriter.__version__}, "
              f"{platform.machine()}, {os.cpu_count()} CPUs")

        if options.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            write_annotated(source, report, Path(folder) / "annotated.xlsx")
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return

        bare_times, annotated_times = [], []
        for _ in range(options.repeat):
            bare_times.append(timed(bare_write, Path(folder) / "bare.xlsx", cells))
            annotated_times.append(
                timed(write_annotated, source, report, Path(folder) / "annotated.xlsx")
            )
        bare, annotated = min(bare_times), min(annotated_times)
        print(f"bare XlsxWriter write: {bare:.2f} s (runs: {', '.join(f'{t:.2f}' for t in bare_times)})")
        print(f"annotated workbook:    {annotated:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in annotated_times)})")
        print(f"ratio: {annotated / bare:.2f} (target: at most 1.30)")


if __name__ == "__main__":
    main()
