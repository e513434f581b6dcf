"""Per-request bookkeeping: request ids, response headers and one log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.routing import IntegerConverter

from sxpt_server.api import PREFIX
from sxpt_server.problems import Problem
from sxpt_server.sessions import clear_session_cookie

__all__ = ["LARGEST_ID", "BoundedIntegerConverter", "init_app"]

logger = logging.getLogger("sxpt_server.requests")

# A request id from a reverse proxy is kept when it looks like one; anything else is replaced.
_INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


# SQLite stores integers in 64 bits; a larger id or cursor cannot name a row.
LARGEST_ID = 2**63 - 1
CURSOR_ARGUMENTS = ("after", "before", "limit")


class BoundedIntegerConverter(IntegerConverter):
    """The ``int`` converter of routes, giving 0 for ids that the database cannot hold.

    Ids start at 1, so such a request finds nothing and gets 404. Rejecting the value
    in the converter instead would make Werkzeug return 405 for some methods.
    """

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        return number if number <= LARGEST_ID else 0


def _check_cursors() -> None:
    for name in CURSOR_ARGUMENTS:
        value = request.args.get(name)
        if value is not None and value.strip().lstrip("+-").isdigit() and abs(int(value)) > LARGEST_ID:
            raise Problem("SXPT-VALIDATION", f"参数 {name} 的值过大。", f"The value of {name} is too large.")


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _INCOMING_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()
    _check_cursors()


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(PREFIX):
        # API responses hold personal data: no browser or proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"

    if g.get("clear_session_cookie"):
        clear_session_cookie(response)

    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    # The path only: query strings may carry search terms typed by users.
    logger.info("%s %s %d %.0f ms (request %s)", request.method, request.path, response.status_code, elapsed,
                g.get("request_id"))
    return response


def init_app(app: Flask) -> None:
    """Register the request hooks."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
