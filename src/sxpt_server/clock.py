"""The server's clock: the ``NOW`` setting, so that tests can move time forward."""

from __future__ import annotations

import datetime

from flask import current_app

__all__ = ["now"]


def now() -> datetime.datetime:
    """Return the current time of the application, as an aware UTC datetime."""
    value: datetime.datetime = current_app.config["NOW"]()
    if value.tzinfo is None:
        raise ValueError("the NOW setting must return timezone-aware datetimes")
    return value.astimezone(datetime.timezone.utc)
