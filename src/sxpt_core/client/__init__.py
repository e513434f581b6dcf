"""The client SDK of the sxpt server: upload, wait for checks, page through records, review, export.

A school's academic-affairs system uploads its internship records every night::

    from sxpt_core.client import Client

    with Client("https://sxpt.example.edu.cn", api_key="sxpt_…") as client:
        result = client.upload_records("实习数据.xlsx")
        client.wait_for_checks(result)
        for record in client.records(state="校验不通过"):
            print(record.id, [issue.message for issue in record.issues])

:class:`AsyncClient` has the same methods for asyncio. Errors are the classes of
:mod:`sxpt_core.client.errors`, rooted at :class:`sxpt_core.errors.SxptError`; the
responses are the attrs classes of :mod:`sxpt_core.client.models`.
"""

from __future__ import annotations

from sxpt_core.client._async import AsyncClient
from sxpt_core.client._calls import IdempotencyKey, ProgressCallback, RecordSource
from sxpt_core.client._common import WaitTarget
from sxpt_core.client._http import RetryPolicy
from sxpt_core.client._sync import Client
from sxpt_core.client.errors import (
    ApiError,
    RequestTimeoutError,
    TransportError,
    WaitTimeoutError,
)

__all__ = [
    "ApiError",
    "AsyncClient",
    "Client",
    "IdempotencyKey",
    "ProgressCallback",
    "RecordSource",
    "RequestTimeoutError",
    "RetryPolicy",
    "TransportError",
    "WaitTarget",
    "WaitTimeoutError",
]
