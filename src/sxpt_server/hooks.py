"""Per-request bookkeeping: request ids, response headers and one log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from sxpt_server.api import PREFIX
from sxpt_server.sessions import clear_session_cookie

__all__ = ["init_app"]

logger = logging.getLogger("sxpt_server.requests")

# A request id from a reverse proxy is kept when it looks like one; anything else is replaced.
_INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _INCOMING_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


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
