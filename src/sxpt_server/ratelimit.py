"""Flask-Limiter on the routes that check passwords and codes or send SMS.

These limits count requests per client address, and the login routes also per account
name, on top of the per-phone SMS limits of ``sxpt_core.auth``. Storage is in memory by
default, which is right for one process. Several processes (waitress with more than one
process, or several hosts) need a shared ``RATELIMIT_STORAGE_URI`` such as Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = ["LIMITED_ENDPOINTS", "init_app"]

# Endpoint, the setting that contains its limit, and whether it is also limited per account.
LIMITED_ENDPOINTS = (
    ("auth.send_login_code", "RATELIMIT_SEND", True),
    ("auth.login", "RATELIMIT_LOGIN", True),
    ("auth.activate", "RATELIMIT_LOGIN", True),
    ("me.send_phone_code", "RATELIMIT_SEND", False),
    ("accounts.resend_activation", "RATELIMIT_SEND", False),
)


def _account_key() -> str:
    """Key a limit by the account name in the request body, or by the client address without one."""
    data = request.get_json(silent=True)
    name = data.get("account") if isinstance(data, dict) else None
    if isinstance(name, str) and name:
        return "account:" + name[:64]
    return get_remote_address()


def _limit_from(setting: str) -> Callable[[], str]:
    """Return a callable that reads a limit from the settings at request time."""

    def limit() -> str:
        value: str = current_app.config[setting]
        return value

    return limit


def _refused(response: Response) -> bool:
    return response.status_code >= 400


def init_app(app: Flask) -> Limiter:
    """Create the application's limiter and attach the limits to the endpoints above.

    Call this after the blueprints are registered. ``RATELIMIT_ENABLED = False`` turns
    every limit off, which tests that send many requests use.
    """
    limiter = Limiter(key_func=get_remote_address, app=app)
    for endpoint, setting, per_account in LIMITED_ENDPOINTS:
        view: Any = app.view_functions[endpoint]
        view = limiter.limit(_limit_from(setting))(view)
        if per_account:
            # Only refused requests count, so that a user who logs in often is never
            # limited; someone guessing another account's password still is.
            view = limiter.limit(
                _limit_from("RATELIMIT_PER_ACCOUNT"), key_func=_account_key, scope="account", deduct_when=_refused
            )(view)
        app.view_functions[endpoint] = view

    # Flask-Limiter refers to its limiter weakly, so the application keeps it alive.
    app.extensions["sxpt_limiter"] = limiter
    return limiter
