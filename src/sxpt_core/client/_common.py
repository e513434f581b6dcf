"""Settings and helpers that the sync and the async client share."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

import attrs

from sxpt_core import __version__
from sxpt_core.client._http import RetryPolicy
from sxpt_core.client.environment import check_api_key
from sxpt_core.client.errors import WaitTimeoutError
from sxpt_core.client.models import Batch, StoredRecord, UploadResult

__all__ = ["CHECKING", "DEFAULT_TIMEOUT", "PAGE_SIZE", "ClientOptions", "WaitScope", "WaitTarget"]

# The state of a record whose checks are still running (RecordState.CHECKING).
CHECKING = "待校验"
# Seconds to wait for a response. Checking a large upload takes the server a while.
DEFAULT_TIMEOUT = 60.0
# Records per page when iterating; the server allows at most 500.
PAGE_SIZE = 100
LANGUAGES = ("zh", "en")

WaitTarget = UploadResult | Batch | int | Iterable[int]
"""An upload (its result, its batch or the batch id), or the ids of records."""


@attrs.frozen
class ClientOptions:
    """The checked constructor arguments of a client."""

    base_url: str
    headers: dict[str, str]
    lang: str
    retry: RetryPolicy
    has_api_key: bool

    @classmethod
    def make(cls, base_url: str, *, api_key: str | None, lang: str, retry: RetryPolicy | None,
             headers: Mapping[str, str] | None) -> ClientOptions:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, not {base_url!r}")
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be zh or en, not {lang!r}")
        merged = {"User-Agent": f"sxpt-client/{__version__}", "Accept-Language": lang, **(headers or {})}
        if api_key is not None:
            merged["Authorization"] = f"Bearer {check_api_key(api_key)}"
        return cls(base_url.rstrip("/"), merged, lang, retry or RetryPolicy(), api_key is not None)

    def check_login_allowed(self) -> None:
        """Raise ValueError on a client with an API key, whose key would win over the session."""
        if self.has_api_key:
            raise ValueError("this client sends an API key; log in with a client made without api_key")


@attrs.frozen
class WaitScope:
    """The target of ``wait_for_checks``: records of an upload, or records by id."""

    department: str | None = None
    since: datetime.datetime | None = None
    ids: frozenset[int] | None = None

    @classmethod
    def of_batch(cls, batch: Batch) -> WaitScope:
        return cls(department=batch.department, since=batch.created_at)

    def waits_for(self, record: StoredRecord) -> bool:
        """Return True when ``record``, which is 待校验, is one that the caller waits for."""
        if self.ids is not None:
            return record.id in self.ids
        # The upload wrote its records at the batch's time; later writes are waited for too.
        return self.since is None or record.updated_at is None or record.updated_at >= self.since


def ids_scope(target: Iterable[int]) -> WaitScope:
    """Return the scope of waiting for records by id."""
    return WaitScope(ids=frozenset(int(record_id) for record_id in target))


def wait_timeout_error(pending: list[int], timeout: float) -> WaitTimeoutError:
    """Return the error of a wait that ended with records still 待校验."""
    listed = "、".join(str(record_id) for record_id in pending[:10])
    more = f" 等 {len(pending)} 条" if len(pending) > 10 else ""
    return WaitTimeoutError(
        f"等待 {timeout:g} 秒后，仍有 {len(pending)} 条记录待校验（编号 {listed}{more}）。实习单位校验可能较慢，请稍后再查看。",
        message_en=f"After {timeout:g} s, {len(pending)} records are still being checked (ids "
                   f"{', '.join(str(record_id) for record_id in pending[:10])}). Unit verification may take a while; "
                   "look again later.",
        pending=tuple(pending),
    )
