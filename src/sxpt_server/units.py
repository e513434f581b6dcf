"""Unit verification: verifiers and the worker that runs the queue."""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Start the development worker thread when the settings ask for it."""
