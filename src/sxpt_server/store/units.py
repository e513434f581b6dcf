"""The store interface of the unit-verification queue (filled in by the unit worker's change)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["UnitQueueStore"]


class UnitQueueStore(Protocol):
    """The unit-verification queue: claiming checks, and storing results and retries."""
