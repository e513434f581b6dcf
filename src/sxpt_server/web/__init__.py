"""The web pages of the reference server: server-rendered, Chinese first, English on request.

The pages call the same services as the JSON API (``sxpt_server.uploads``,
``sxpt_server.records``, ``sxpt_server.accounts``, ``sxpt_server.verification`` and the
store), and every permission is a call into ``sxpt_core.access``. A login through the
pages or through the API starts the same server-side session, so either works for both.

``init_app`` registers the blueprint at ``/``, the security headers, the page error
handlers and the rate limits of the login forms.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, redirect, request
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from werkzeug.wrappers import Response

from sxpt_server import ratelimit
from sxpt_server.web import (
    admin_views,
    auth_views,
    errors,
    home_views,
    record_views,
    review_views,
    security,
    stats_views,
    upload_views,
)
from sxpt_server.web.blueprint import bp
from sxpt_server.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from sxpt_server.web.pages import template_globals

__all__ = ["bp", "init_app"]

# The view modules add their routes to ``bp`` when imported.
VIEW_MODULES = (admin_views, auth_views, home_views, record_views, review_views, stats_views, upload_views)

LANGUAGE_COOKIE_LIFETIME = datetime.timedelta(days=365)

# Page endpoints that check a password or a code or send an SMS, the setting with their
# limit per client address, as for the matching API routes, and whether they are also
# limited per account name.
LIMITED_ENDPOINTS = (
    ("web.login_send_code", "RATELIMIT_SEND"),
    ("web.login_verify_code", "RATELIMIT_LOGIN"),
    ("web.login_resend_code", "RATELIMIT_SEND"),
    ("web.activate_submit", "RATELIMIT_LOGIN"),
)
# Statuses of requests that checked no secret, which the per-address limit does not count.
NOT_COUNTED_PER_ADDRESS = frozenset({415, 422, 429})

bp.app_context_processor(template_globals)


@bp.before_request
def _switch_language_and_check_csrf() -> ResponseReturnValue | None:
    """Store a ``?lang=`` choice in its cookie and reload without it; reject a POST without a valid CSRF token."""
    requested_language = request.args.get("lang")
    if request.method == "GET" and requested_language is not None and request.endpoint != "web.static":
        other_arguments = [(name, value) for name, value in request.args.items(multi=True) if name != "lang"]
        query = urlencode(other_arguments)
        response: Response = redirect(request.path + ("?" + query if query else ""))
        if requested_language in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, requested_language, max_age=int(LANGUAGE_COOKIE_LIFETIME.total_seconds()),
                                httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax",
                                path="/")
        return response
    if request.method not in ("GET", "HEAD", "OPTIONS") and not security.csrf_valid():
        raise errors.CsrfError()
    return None


def _account_key() -> str:
    """Key a per-account limit by the account name of the form or the pending login, else the client address."""
    return ratelimit.account_key(request.form.get("account") or auth_views.pending_account_name())


def _limit_from(setting: str) -> Callable[[], str]:
    def limit() -> str:
        value: str = current_app.config[setting]
        return value

    return limit


def _counted_per_address(response: Response) -> bool:
    return response.status_code not in NOT_COUNTED_PER_ADDRESS


def _is_error_response(response: Response) -> bool:
    return response.status_code >= 400


def _limit_login_pages(app: Flask, limiter: Limiter) -> None:
    """Put the API's login limits on the login pages, so the pages are no way around them."""
    for endpoint, setting in LIMITED_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        view = limiter.limit(_limit_from(setting), deduct_when=_counted_per_address)(view)
        # Only rejected requests count per account, as on the API.
        view = ratelimit.account_limit(limiter, _account_key, _is_error_response)(view)
        app.view_functions[endpoint] = view


def init_app(app: Flask) -> None:
    """Register the pages at ``/``.

    Call it last in ``create_app``, after ``problems.init_app`` (the API keeps its
    problem documents for unknown ``/api/v1`` paths) and ``ratelimit.init_app`` (whose
    limiter the login pages share).
    """
    limiter = app.extensions.get("sxpt_limiter")
    if limiter is None:
        raise RuntimeError("sxpt_server.web.init_app needs the limiter: call ratelimit.init_app first")
    app.register_blueprint(bp)
    security.init_app(app)
    errors.init_app(app)
    _limit_login_pages(app, limiter)
