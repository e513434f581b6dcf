"""A storage for the rate-limit library that keeps its counters in the server's own database.

``RATELIMIT_STORAGE_URI = "database://"`` (the default) selects it. Every server process
then counts against the same limits: the processes of one machine on SQLite, or the
servers of several machines on PostgreSQL. The statements are in the store
(``sql_limits.py``); this class only adapts them to the library's interface. Flask-Limiter
uses the fixed-window strategy, which needs nothing more.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from limits.storage import Storage

from sxpt_server.store import Store

__all__ = ["SCHEME", "DatabaseStorage"]

SCHEME = "database"
# Expired counters are deleted on every this many hits of one process.
PURGE_EVERY = 1000


class DatabaseStorage(Storage):
    """Rate-limit counters in the ``rate_limits`` table, through a store opened per call."""

    STORAGE_SCHEME: ClassVar[list[str]] = [SCHEME]  # type: ignore[misc]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *,
                 store_factory: Callable[[], Store] | None = None, **options: Any) -> None:
        if store_factory is None:
            raise ValueError("the database rate-limit storage needs the server's store_factory option")
        self._open = store_factory
        self._hits = itertools.count(1)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    @contextmanager
    def _store(self) -> Iterator[Store]:
        store = self._open()
        try:
            yield store
        finally:
            store.close()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._store() as store:
            count = store.hit_rate_limit(key, amount=amount, expiry_seconds=expiry, now=now)
            if next(self._hits) % PURGE_EVERY == 0:
                store.purge_rate_limits(now=now)
        return count

    def get(self, key: str) -> int:
        with self._store() as store:
            return store.rate_limit_count(key, now=time.time())

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self._store() as store:
            expiry = store.rate_limit_expiry(key, now=now)
        return expiry if expiry is not None else now

    def check(self) -> bool:
        try:
            with self._store() as store:
                store.rate_limit_count("health-check", now=time.time())
        except Exception:  # any failure means that the storage is unavailable
            return False
        return True

    def reset(self) -> int | None:
        with self._store() as store:
            return store.clear_rate_limits()

    def clear(self, key: str) -> None:
        with self._store() as store:
            store.clear_rate_limit(key)
