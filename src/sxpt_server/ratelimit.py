"""Flask-Limiter on the routes that check passwords and codes or send SMS.

These limits count requests per client address, and the login routes also per account
name, on top of the per-phone SMS limits of ``sxpt_core.auth``. The per-address limits
are a flood guard sized for a campus whose users share one NAT address. They count only
requests that reached a password, code or SMS check. Requests rejected for their form
(415, 422) or by the per-phone limits (429) do not count. The counters are kept in the
server's database by default (``RATELIMIT_STORAGE_URI = "database://"``), so every
server process, on one machine or several, counts against the same limits, and the counts
survive a restart. ``memory://`` counts per process, and a Redis URI also works.

A refused request gets a problem document with ``retry_after`` in seconds, the
``Retry-After`` and ``X-RateLimit-*`` headers (on 429 only) and an audit log entry.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from sxpt_server import audit, ratelimit_storage
from sxpt_server.problems import problem_response
from sxpt_server.store import get_store, open_store

__all__ = ["LIMITED_ENDPOINTS", "init_app"]

# Endpoint, the setting that contains its limit, and whether it is also limited per account.
LIMITED_ENDPOINTS = (
    ("auth.send_login_code", "RATELIMIT_SEND", True),
    ("auth.login", "RATELIMIT_LOGIN", True),
    ("auth.activate", "RATELIMIT_LOGIN", True),
    ("me.send_phone_code", "RATELIMIT_SEND", False),
    ("accounts.resend_activation", "RATELIMIT_SEND", False),
)


# Every login route, of the API and of the pages, counts refused attempts per account in
# this one shared scope, so that switching routes gives no fresh allowance.
ACCOUNT_SCOPE = "account"


def account_key(name: object) -> str:
    """Key a per-account limit by the account name as the login looks it up (trimmed), else the address."""
    if isinstance(name, str) and name.strip():
        return "account:" + name.strip()[:64]
    return get_remote_address()


def _account_key() -> str:
    """Key a limit by the account name in the request body, or by the client address without one."""
    data = request.get_json(silent=True)
    return account_key(data.get("account") if isinstance(data, dict) else None)


def account_limit(limiter: Limiter, key_func: Callable[[], str],
                  deduct_when: Callable[[Response], bool]) -> Any:
    """Return the decorator of the per-account limit shared by every login route."""
    return limiter.shared_limit(_limit_from("RATELIMIT_PER_ACCOUNT"), scope=ACCOUNT_SCOPE, key_func=key_func,
                                deduct_when=deduct_when)


def _limit_from(setting: str) -> Callable[[], str]:
    """Return a callable that reads a limit from the settings at request time."""

    def limit() -> str:
        value: str = current_app.config[setting]
        return value

    return limit


def _refused(response: Response) -> bool:
    return response.status_code >= 400


# Statuses of requests rejected for their form or by the per-phone SMS limits. Such requests
# checked no secret, so they do not use up the per-address limit.
_NOT_COUNTED_PER_ADDRESS = frozenset({415, 422, 429})


def _counted_per_address(response: Response) -> bool:
    return response.status_code not in _NOT_COUNTED_PER_ADDRESS


def _wait_text(seconds: int) -> tuple[str, str]:
    """Write a wait of ``seconds`` as (Chinese, English) text, rounded up to minutes past one minute."""
    if seconds < 60:
        return f"{seconds} 秒", f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} 分钟", f"{minutes} min"


def _handle_rate_limited(error: RateLimitExceeded) -> Response:
    """Return the 429 problem document with the wait time, and record the refusal in the audit log."""
    limiter: Limiter = current_app.extensions["sxpt_limiter"]
    breached = limiter.current_limit
    reset_at = breached.window[0] if breached is not None else time.time() + 60
    seconds = max(1, math.ceil(reset_at - time.time()))
    wait_zh, wait_en = _wait_text(seconds)

    scope = "account" if breached is not None and "/account:" in breached.key else "address"
    # No phone number and no code: the limit string and the endpoint are enough to explain it.
    audit.record(get_store(), "rate_limited", endpoint=request.endpoint, scope=scope, limit=str(error.limit.limit))

    headers = {"Retry-After": str(seconds)}
    if breached is not None:
        headers["X-RateLimit-Limit"] = str(breached.limit.amount)
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(math.ceil(reset_at))
    return problem_response(
        "SXPT-RATE-LIMITED", f"请求过于频繁，请 {wait_zh}后再试。", f"Too many requests. Try again in {wait_en}.",
        extra={"retry_after": seconds}, headers=headers,
    )


def init_app(app: Flask) -> Limiter:
    """Create the application's limiter and attach the limits to the endpoints above.

    Call this after the blueprints are registered. ``RATELIMIT_ENABLED = False`` turns
    every limit off, which tests that send many requests use.
    """
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(f"{ratelimit_storage.SCHEME}://"):
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options["store_factory"] = functools.partial(open_store, app)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(key_func=get_remote_address, app=app)
    for endpoint, setting, per_account in LIMITED_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        view = limiter.limit(_limit_from(setting), deduct_when=_counted_per_address)(view)
        if per_account:
            # Only refused requests count, so that a user who logs in often is never
            # limited; someone guessing another account's password still is.
            view = account_limit(limiter, _account_key, _refused)(view)
        app.view_functions[endpoint] = view

    # Flask-Limiter refers to its limiter weakly, so the application keeps it alive.
    app.extensions["sxpt_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _handle_rate_limited)
    return limiter
