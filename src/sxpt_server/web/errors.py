"""Errors on pages: a Chinese (or English) page instead of a problem document, never a traceback.

A ``Problem`` that a service raises shows its ``detail``. A page that needs a login sends
the browser to the login page with ``next`` set to the page, so the user returns there.
A 403 page lists what the user may do instead. Paths outside the JSON API that match no
route get a friendly 404 page; the API keeps its problem documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Response

from sxpt_server import audit
from sxpt_server.api import PREFIX
from sxpt_server.problems import Problem, failure_problem
from sxpt_server.sessions import Identity
from sxpt_server.store import get_store
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import nav_items

__all__ = ["CsrfError", "init_app", "login_redirect"]

logger = logging.getLogger(__name__)

LOGIN_PROBLEMS = frozenset({"SXPT-AUTH-REQUIRED", "SXPT-AUTH-SESSION-EXPIRED"})
# Statuses with a title and an explanation of their own in the catalogue.
EXPLAINED_STATUSES = frozenset({400, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502})


class CsrfError(BadRequest):
    """A POST to a page without a valid CSRF token."""


def _return_target() -> str:
    """Return the page to come back to after login: this page, or for a POST the page of its form."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(request.path, method="GET")
    except HTTPException:
        return url_for("web.home")
    return request.path


def login_redirect(*, expired: bool) -> Response:
    """Send the browser to the login page, which returns to the current page after login."""
    arguments: dict[str, Any] = {"next": _return_target()}
    if expired:
        arguments["reason"] = "expired"
    response = current_app.redirect(url_for("web.login", **arguments))
    return response


def error_page(status: int, message: str) -> ResponseReturnValue:
    """Render the error page with ``status``; a 403 page lists the pages the user may use instead."""
    identity: Identity | None = g.get("identity")
    suggestions = nav_items(identity) if status == 403 and identity is not None and identity.account else []
    known = status if status in EXPLAINED_STATUSES else 500
    return render_template("error.html", status=status, title_key=f"error.{known}.title", message=message,
                           suggestions=suggestions), status


def _audit_forbidden_change(problem: Problem) -> None:
    """Record a refused change (403 on a POST) in the audit log, as the API does for its routes."""
    identity: Identity | None = g.get("identity")
    if problem.code != "SXPT-FORBIDDEN" or identity is None or request.method != "POST":
        return
    target = (request.view_args or {}).get("name") or (request.view_args or {}).get("prefix")
    audit.record(get_store(), "action_refused", target=target, unit=identity.unit, method=request.method,
                 endpoint=request.endpoint)


@bp.errorhandler(Problem)
def _handle_problem(problem: Problem) -> ResponseReturnValue:
    if problem.code in LOGIN_PROBLEMS:
        return login_redirect(expired=problem.code == "SXPT-AUTH-SESSION-EXPIRED")
    _audit_forbidden_change(problem)
    return error_page(problem.type.status, i18n.problem_detail(problem))


@bp.errorhandler(RateLimitExceeded)
def _handle_rate_limited(error: RateLimitExceeded) -> ResponseReturnValue:
    audit.record(get_store(), "rate_limited", endpoint=request.endpoint, limit=str(error.limit.limit))
    return error_page(429, i18n.translate("error.429.message"))


@bp.errorhandler(HTTPException)
def _handle_http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if isinstance(error, CsrfError):
        # The path only: the query string may carry a student number.
        logger.warning("rejected %s %s without a valid CSRF token (request %s)", request.method, request.path,
                       g.get("request_id"))
        return error_page(400, i18n.translate("error.csrf"))
    known = status if status in EXPLAINED_STATUSES else 500
    if status == 413:
        limit = int(current_app.config["MAX_CONTENT_LENGTH"]) // (1024 * 1024)
        return error_page(413, i18n.translate("error.413.message", megabytes=limit))
    return error_page(status, i18n.translate(f"error.{known}.message"))


@bp.errorhandler(Exception)
def _handle_unexpected(error: Exception) -> ResponseReturnValue:
    known = failure_problem(error)
    if known is not None:
        return error_page(known.type.status, i18n.problem_detail(known))
    logger.exception("unhandled %s on page %s (request %s)", type(error).__name__, request.path,
                     g.get("request_id"))
    return error_page(500, i18n.translate("error.500.message", request_id=g.get("request_id") or ""))


def _page_or_api(api_handler: Callable[[HTTPException], ResponseReturnValue] | None) -> Callable[
        [HTTPException], ResponseReturnValue]:
    """Return a handler for unrouted 404 and 405 errors: a page outside the API, the API's own handler inside."""

    def handle(error: HTTPException) -> ResponseReturnValue:
        if request.path.startswith(PREFIX) and api_handler is not None:
            return api_handler(error)
        return _handle_http_error(error)

    return handle


def init_app(app: Flask) -> None:
    """Register the handlers of errors raised while routing, which belong to no blueprint.

    Call after ``problems.init_app``: the API's handler found then keeps serving problem
    documents under ``/api/v1``, and other paths get pages.
    """
    api_handler: Any = app.error_handler_spec[None][None].get(HTTPException)
    for error_class in (NotFound, MethodNotAllowed):
        app.register_error_handler(error_class, _page_or_api(api_handler))
