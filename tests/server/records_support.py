"""Records for the server tests: rows with valid credit codes, and uploads through the API."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient

from sxpt_core.codes.uscc import calc_check_character
from tests.workbooks import RECORD_HEADERS, sample_record, write_xlsx

DEPARTMENT_0 = "机械工程学院"
DEPARTMENT_1 = "外国语学院"


def valid_uscc(body: str) -> str:
    """Return the 18-character credit code made of the 17-character ``body`` and its check character."""
    return body + calc_check_character(body)


UNIT_CODES = [valid_uscc(f"91330100MA2B3C4{index:02d}") for index in range(10)]


def record(index: int = 1, department: str = DEPARTMENT_0, **changes: str) -> dict[str, str]:
    """Return one record keyed by header, with a valid unit code; ``changes`` by header."""
    values = dict(zip(RECORD_HEADERS, sample_record(index), strict=True))
    values.update({"院系": department, "实习单位统一社会信用代码": UNIT_CODES[index % 3],
                   "实习单位名称": f"杭州示例科技有限公司{index % 3}"})
    values.update(changes)
    return values


def xlsx_of(records: list[dict[str, str]], path: Any) -> bytes:
    """Write records as a workbook in the template layout and return its bytes."""
    write_xlsx(path, [list(RECORD_HEADERS), *([row.get(header, "") for header in RECORD_HEADERS] for row in records)])
    with open(path, "rb") as file:
        return file.read()


def upload_json(client: FlaskClient, records: list[dict[str, str]], **headers: str) -> Any:
    """Upload records as JSON and return the response."""
    return client.post("/api/v1/batches", json={"records": records}, headers=headers)


def upload_file(client: FlaskClient, content: bytes, filename: str = "实习数据.xlsx", url: str = "/api/v1/batches") -> Any:
    """Upload a file as multipart/form-data and return the response."""
    return client.post(url, data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")
