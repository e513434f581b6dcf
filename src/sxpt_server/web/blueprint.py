"""The blueprint of the web pages, shared by the modules that add its views."""

from __future__ import annotations

from flask import Blueprint

__all__ = ["bp"]

# The pages live at "/" and their stylesheet and script under "/assets/", because the
# application itself routes "/static/" to its own (absent) static folder.
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")
