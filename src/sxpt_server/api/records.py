"""API routes: records."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

__all__ = ["PATHS", "bp"]

bp = Blueprint("records", __name__)

PATHS: dict[str, Any] = {}
