"""API routes: reference."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

__all__ = ["PATHS", "bp"]

bp = Blueprint("reference", __name__)

PATHS: dict[str, Any] = {}
