"""The rate-limit part of the store interface: counters per key and time window."""

from __future__ import annotations

from typing import Protocol

__all__ = ["RateLimitStore"]


class RateLimitStore(Protocol):
    """Counters of the login and SMS rate limits, kept in the database for every server process."""

    def hit_rate_limit(self, key: str, *, amount: int, expiry_seconds: float, now: float) -> int:
        """Add ``amount`` to the counter of ``key`` and return the new count.

        A counter past its expiry starts again from ``amount`` and expires
        ``expiry_seconds`` after ``now`` (a Unix time).
        """

    def rate_limit_count(self, key: str, *, now: float) -> int:
        """Return the count of ``key``, 0 when it has none or it expired."""

    def rate_limit_expiry(self, key: str, *, now: float) -> float | None:
        """Return the Unix time when the counter of ``key`` expires, None when it has none."""

    def clear_rate_limit(self, key: str) -> None:
        """Forget the counter of ``key``."""

    def clear_rate_limits(self) -> int:
        """Forget every counter and return how many there were."""

    def purge_rate_limits(self, *, now: float) -> int:
        """Delete the counters that expired before ``now`` and return how many."""
