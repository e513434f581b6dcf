"""The JSON API under ``/api/v1``: one blueprint per resource."""

from __future__ import annotations

from flask import Flask

from sxpt_server.api import (
    accounts,
    audit,
    auth,
    batches,
    exports,
    keys,
    me,
    meta,
    organisations,
    records,
    reference,
    review,
    statistics,
    units,
)

__all__ = ["MODULES", "PREFIX", "register_blueprints"]

PREFIX = "/api/v1"

# Every module with a blueprint ``bp`` and its OpenAPI ``PATHS``.
MODULES = (auth, me, organisations, accounts, keys, audit, reference, batches, records, review, units, statistics,
           exports, meta)


def register_blueprints(app: Flask) -> None:
    """Register every API blueprint under ``PREFIX``."""
    for module in MODULES:
        app.register_blueprint(module.bp, url_prefix=PREFIX)
