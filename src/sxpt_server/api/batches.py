"""API routes: batches."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

__all__ = ["PATHS", "bp"]

bp = Blueprint("batches", __name__)

PATHS: dict[str, Any] = {}
