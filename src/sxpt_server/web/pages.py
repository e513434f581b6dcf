"""Helpers shared by the page views: login for pages, rendering, the menu and form fields."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import attrs
from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from sxpt_core import access, auth
from sxpt_core.review import Action, ReviewError, transition
from sxpt_server.checks import CHINA
from sxpt_server.organisations import unit_label
from sxpt_server.problems import Problem
from sxpt_server.records import status_of
from sxpt_server.sessions import Identity, current_identity
from sxpt_server.store import get_store
from sxpt_server.store.records import StoredRecord
from sxpt_server.web import i18n, security

__all__ = [
    "NavItem",
    "china_time",
    "current_user",
    "form_text",
    "nav_items",
    "page_login_required",
    "problem_status",
    "record_allows",
    "redirect_without_blank_arguments",
    "render",
    "template_globals",
]

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

# Seconds before the idle timeout at which the page warns.
IDLE_WARNING_SECONDS = 5 * 60


def page_login_required(view: F) -> F:
    """Require a logged-in account (never an API key); the error handler sends others to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        current_identity(api_key=False)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def current_user() -> Identity:
    """Return the identity that ``page_login_required`` put into ``g``."""
    identity: Identity = g.identity
    return identity


@attrs.frozen
class NavItem:
    """One entry of the menu: endpoint, catalogue key of its label and its test id."""

    endpoint: str
    label: str
    testid: str


def nav_items(identity: Identity) -> list[NavItem]:
    """List the menu entries of the pages that ``identity``'s unit may use, as ``sxpt_core.access`` allows."""
    actions = identity.allowed_actions()
    level = identity.unit.level
    items = [NavItem("web.home", "nav.home", "nav-home")]
    if "records:upload" in actions:
        items.append(NavItem("web.upload", "nav.upload", "nav-upload"))
        items.append(NavItem("web.batches", "nav.batches", "nav-batches"))
    items.append(NavItem("web.records", "nav.records", "nav-records"))
    if "records:review" in actions:
        items.append(NavItem("web.review", "nav.review", "nav-review"))
    items.append(NavItem("web.statistics", "nav.statistics", "nav-statistics"))
    if any(action.startswith("accounts:manage:") for action in actions):
        items.append(NavItem("web.accounts", "nav.accounts", "nav-accounts"))
    if level is not access.Level.DEPARTMENT:
        items.append(NavItem("web.organisations", "nav.organisations", "nav-organisations"))
    if "keys:manage" in actions:
        items.append(NavItem("web.keys", "nav.keys", "nav-keys"))
    if "audit:read" in actions and level is not access.Level.DEPARTMENT:
        items.append(NavItem("web.audit_log", "nav.audit", "nav-audit"))
    return items


def record_allows(record: StoredRecord, action: Action, unit: access.Unit) -> bool:
    """Return True when ``sxpt_core.review.transition`` allows ``action`` on ``record`` for ``unit``.

    Pages use it to show only the buttons that can work; the service checks again on POST.
    A reason is passed so that actions needing one are judged on the state alone.
    """
    try:
        transition(status_of(record), action, actor=unit, school=record.school, department=record.department,
                   reason="-")
    except ReviewError:
        return False
    return True


def china_time(moment: datetime.datetime | str | None, with_time: bool = True) -> str:
    """Write a UTC time (or its ISO text) as China time, ``2025-10-15 09:00``."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    local = moment.astimezone(CHINA)
    return f"{local:%Y-%m-%d %H:%M}" if with_time else f"{local:%Y-%m-%d}"


def form_text(name: str) -> str:
    """Return the trimmed text of a form field, "" when absent."""
    return (request.form.get(name) or "").strip()


def redirect_without_blank_arguments() -> Response | None:
    """Redirect a GET form's URL to itself without its empty fields, so filters never match "".

    Returns None when the query string has no empty field.
    """
    pairs = list(request.args.items(multi=True))
    filled = [(name, value) for name, value in pairs if value.strip()]
    if len(filled) == len(pairs):
        return None
    query = urlencode(filled)
    return redirect(request.path + ("?" + query if query else ""))


def render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    """Render a page template with ``status``."""
    return render_template(template, **context), status


def _url_with(**changes: Any) -> str:
    """Return the current page's URL with some query arguments replaced; None drops one."""
    arguments = [(name, value) for name, value in request.args.items(multi=True) if name not in changes]
    for name, value in changes.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        arguments.extend((name, str(item)) for item in values)
    query = urlencode(arguments)
    return request.path + ("?" + query if query else "")


def template_globals() -> dict[str, Any]:
    """Return the names that every page template can use."""
    identity: Identity | None = g.get("identity")
    account = identity.account if identity is not None else None
    return {
        "t": i18n.translate,
        "pick": i18n.pick,
        "lang": i18n.current_language(),
        "csrf_token": security.csrf_token,
        "csrf_field_name": security.CSRF_FIELD,
        "identity": identity if account is not None else None,
        "nav": nav_items(identity) if account is not None and identity is not None else [],
        "idle_timeout": int(auth.IDLE_TIMEOUT.total_seconds()),
        "idle_warning": IDLE_WARNING_SECONDS,
        "state_label": i18n.state_label,
        "event_label": i18n.event_label,
        "china_time": china_time,
        "url_with": _url_with,
        "login_url": url_for("web.login"),
        "unit_name": unit_label(get_store(), identity.unit) if account is not None and identity is not None else "",
    }


def problem_status(problem: Problem) -> int:
    """Return the HTTP status of a service's problem."""
    return problem.type.status
