"""The store interface of statistics and exports (filled in by the statistics change)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["StatsStore"]


class StatsStore(Protocol):
    """Aggregate queries for the statistics pages and the record iterators of exports."""
