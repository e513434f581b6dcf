"""sxpt_server: the reference server of sxpt, a thin Flask application over ``sxpt_core``.

``create_app`` is the application factory. Every decision about data is a call into
``sxpt_core``: who may do what, whether a code or password is right, when a session has
expired, what an account is called. The server stores, serves and sends SMS.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from sxpt_server import api, hooks, problems, ratelimit, store, units, web
from sxpt_server.config import DEFAULTS, check_settings, instance_path, load_secret_key
from sxpt_server.sms import gateway_from_config

__all__ = ["create_app"]


def _log_through_gunicorn() -> None:
    """Send sxpt's log lines (one per request, start-up, errors) to gunicorn's log when gunicorn runs the app.

    ``sxpt-server serve`` configures logging itself; under gunicorn nothing else would,
    and the INFO lines would be dropped.
    """
    gunicorn = logging.getLogger("gunicorn.error")
    ours = logging.getLogger("sxpt_server")
    if gunicorn.handlers and not ours.handlers:
        for handler in gunicorn.handlers:
            ours.addHandler(handler)
        ours.setLevel(logging.INFO)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the application from the instance folder, the environment and ``test_config``.

    The secret key is read from the instance folder and generated there on first start,
    unless ``test_config`` or the settings give one.
    """
    folder = instance_path(test_config)
    if not folder.exists():
        # The folder contains the database, the secret key and the SMS outbox.
        folder.mkdir(mode=0o700, parents=True)
    app = Flask(__name__, instance_path=str(folder), instance_relative_config=True)
    # Before any route is added: ids beyond the database's integers are "not found".
    app.url_map.converters["int"] = hooks.BoundedIntegerConverter

    # Settings: defaults, then instance/config.py, then SXPT_* variables, then tests.
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SXPT")
    if test_config is not None:
        app.config.from_mapping(test_config)
    check_settings(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(folder)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    # Client addresses for the audit log and the rate limits, behind PROXY_COUNT proxies.
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    # Fail at start-up, not at the first SMS, when the gateway settings are wrong.
    gateway_from_config(app)

    _log_through_gunicorn()
    store.init_app(app)
    problems.init_app(app)
    hooks.init_app(app)
    api.register_blueprints(app)
    ratelimit.init_app(app)
    units.init_app(app)
    web.init_app(app)

    from sxpt_server import cli  # imported here: the command module imports create_app

    cli.init_app(app)
    return app
