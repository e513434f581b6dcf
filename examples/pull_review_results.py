"""Write the records that the school returned or that failed a check, with the reasons, to a CSV file.

A department's internship officer runs it to see what to fix::

    SXPT_SERVER_URL=https://sxpt.example.edu.cn SXPT_API_KEY=sxpt_… \\
        python pull_review_results.py 待处理记录.csv --department 机械工程学院

The API key decides whose records are read. A key of the school reads the whole
school's records, and ``--department`` narrows them to one department. A department's
key reads that department's records only. The CSV file is UTF-8 with a byte order mark, so that Excel
opens it with the Chinese intact.

Exit codes: 0 written; 1 the server rejected the request or could not be reached.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from sxpt_core.client import Client
from sxpt_core.client.models import StoredRecord
from sxpt_core.errors import SxptError

RETURNED = "已退回"
CHECK_FAILED = "校验不通过"
COLUMNS = ["记录编号", "状态", "院系", "学号", "学生姓名", "课程名称", "实习单位名称", "原因"]


def reasons_of(record: StoredRecord) -> str:
    """Return why a record needs work: the reviewer's reason, or the errors of its checks."""
    if record.state == RETURNED:
        return record.review_reason or ""
    return "；".join(f"{issue.field or '整行'}：{issue.message}" for issue in record.issues if issue.severity == "error")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="导出已退回和校验不通过的记录及原因（CSV）。")
    parser.add_argument("output", type=Path, help="要写入的 CSV 文件")
    parser.add_argument("--department", help="只看这个院系（校级密钥可用）")
    arguments = parser.parse_args(argv)

    counts = {RETURNED: 0, CHECK_FAILED: 0}
    try:
        with Client.from_environment() as client, arguments.output.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(COLUMNS)
            for record in client.records(state=[RETURNED, CHECK_FAILED], department=arguments.department):
                cells = record.cells or {}
                writer.writerow([record.id, record.state, record.department, cells.get("学号"), cells.get("学生姓名"),
                                 cells.get("课程名称"), cells.get("实习单位名称"), reasons_of(record)])
                counts[record.state or ""] = counts.get(record.state or "", 0) + 1
    except SxptError as error:
        print(f"读取失败：{error.text('zh')}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"无法写入 {arguments.output}：{error.strerror}", file=sys.stderr)
        return 1
    print(f"已写入 {arguments.output}：已退回 {counts[RETURNED]} 条，校验不通过 {counts[CHECK_FAILED]} 条。")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
