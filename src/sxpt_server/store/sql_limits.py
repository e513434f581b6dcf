"""Statements of the rate-limit counters, shared by every server process through the database.

A counter lives in one row until ``expires_at``; a hit after that starts a new window.
Times are Unix times in seconds, given by the caller.
"""

from __future__ import annotations

from sxpt_server.store.sqlbase import SQLBase

__all__ = ["LimitsMixin"]


class LimitsMixin(SQLBase):
    """The rate-limit statements of ``SQLStore``."""

    def hit_rate_limit(self, key: str, *, amount: int, expiry_seconds: float, now: float) -> int:
        # One statement, so that two processes counting the same key at once both count.
        row = self._execute(
            "INSERT INTO rate_limits (key, count, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN rate_limits.expires_at <= ? THEN excluded.count "
            "ELSE rate_limits.count + excluded.count END, "
            "expires_at = CASE WHEN rate_limits.expires_at <= ? THEN excluded.expires_at "
            "ELSE rate_limits.expires_at END "
            "RETURNING count",
            (key, amount, now + expiry_seconds, now, now),
        ).fetchone()
        return int(row[0])

    def rate_limit_count(self, key: str, *, now: float) -> int:
        row = self._execute("SELECT count FROM rate_limits WHERE key = ? AND expires_at > ?", (key, now)).fetchone()
        return int(row[0]) if row else 0

    def rate_limit_expiry(self, key: str, *, now: float) -> float | None:
        row = self._execute(
            "SELECT expires_at FROM rate_limits WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return float(row[0]) if row else None

    def clear_rate_limit(self, key: str) -> None:
        self._execute("DELETE FROM rate_limits WHERE key = ?", (key,))

    def clear_rate_limits(self) -> int:
        return int(self._execute("DELETE FROM rate_limits").rowcount)

    def purge_rate_limits(self, *, now: float) -> int:
        return int(self._execute("DELETE FROM rate_limits WHERE expires_at <= ?", (now,)).rowcount)
