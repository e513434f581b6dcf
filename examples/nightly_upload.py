"""Upload the academic-affairs system's nightly export of internship records to an sxpt server.

A scheduler runs it every night, for example from cron::

    SXPT_SERVER_URL=https://sxpt.example.edu.cn SXPT_API_KEY_FILE=/etc/sxpt/api-key \\
        python nightly_upload.py /data/export/实习数据.xlsx

The server URL comes from SXPT_SERVER_URL and the API key from SXPT_API_KEY (or from the
file that SXPT_API_KEY_FILE names, readable by its owner only). The idempotency key is
made of today's date and the file's SHA-256 digest. So a second run on the same night
with the same file returns the first run's batch instead of uploading again, while a
changed file is a new upload.

Exit codes: 0 uploaded without errors; 1 the data has errors, the upload was rejected or
the server could not be reached; 2 wrong arguments.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import logging
import sys
from pathlib import Path

from sxpt_core.client import Client
from sxpt_core.errors import SxptError

# Errors of the batch listed in the output; the annotated workbook has them all.
LISTED_ERRORS = 20


def idempotency_key(content: bytes, day: datetime.date) -> str:
    """Return the upload's idempotency key: the date and the start of the file's digest."""
    return f"nightly-{day:%Y%m%d}-{hashlib.sha256(content).hexdigest()[:16]}"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="上传当晚导出的实习数据，等待服务器校验，并打印结果。")
    parser.add_argument("workbook", type=Path, help="实习数据工作簿（.xlsx）或 CSV 文件")
    parser.add_argument("--wait-timeout", type=float, default=1800.0, help="最多等待服务器校验的秒数（默认 1800）")
    parser.add_argument("--poll", type=float, default=10.0, help="查询校验进度的间隔秒数（默认 10）")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    # One line per request from the SDK. httpx logs whole URLs, query strings included,
    # so it is kept to warnings.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    path: Path = arguments.workbook
    try:
        content = path.read_bytes()
    except OSError as error:
        print(f"无法读取 {path}：{error.strerror}", file=sys.stderr)
        return 2
    key = idempotency_key(content, datetime.date.today())

    try:
        with Client.from_environment() as client:
            result = client.upload_records(content, filename=path.name, idempotency_key=key)
            batch = result.batch
            print(f"第 {batch.id} 批（{path.name}）：共 {batch.rows} 行，新增 {batch.created} 条，更新 {batch.updated} 条，"
                  f"未变 {batch.unchanged} 条，未保存 {batch.not_stored} 条；错误 {batch.counts.error} 个，"
                  f"警告 {batch.counts.warning} 个。")
            if result.replayed or result.unchanged:
                print("今晚已上传过同样的文件，以上是那一批的结果。")

            client.wait_for_checks(result, timeout=arguments.wait_timeout, poll=arguments.poll)
            failed = client.count_records(state="校验不通过", department=batch.department)
            waiting = client.count_records(state="待审核", department=batch.department)
            print(f"校验完成：待审核 {waiting} 条，校验不通过 {failed} 条。")

            if batch.counts.error:
                report = client.batch_report(batch.id)
                for issue in report.errors[:LISTED_ERRORS]:
                    print(f"  第 {issue.row} 行 {issue.column} 列（{issue.field}）：{issue.message}")
                print(f"完整的标注工作簿：{client.base_url}{batch.links.annotated if batch.links else ''}")
    except SxptError as error:
        print(f"上传失败：{error.text('zh')}", file=sys.stderr)
        return 1
    return 1 if batch.counts.error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
