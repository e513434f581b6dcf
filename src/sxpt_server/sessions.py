"""Request identities: server-side sessions, API keys and the ``login_required`` decorator.

A session lives in the database. The cookie holds only a random session id, and the
database only its SHA-256 digest, so a copy of the database does not let anyone log in.
Every login gets a new id (no session fixation), an account may have several sessions
at once, and a session ends after ``sxpt_core.auth.IDLE_TIMEOUT`` without a request.

An API key is sent as ``Authorization: Bearer sxpt_…``. It acts for the school or the
department it is scoped to, on the routes that allow keys.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from flask import Response, current_app, g, request

from sxpt_core import access, auth
from sxpt_server import audit
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.store import Account, ApiKey, Store, get_store

__all__ = [
    "Identity",
    "clear_session_cookie",
    "current_identity",
    "end_request_session",
    "login_required",
    "set_session_cookie",
    "start_session",
]

F = TypeVar("F", bound=Callable[..., Any])

SESSION_ID_BYTES = 32

@attrs.frozen
class Identity:
    """The account (through a session) or the API key behind a request, and its unit."""

    unit: access.Unit
    account: Account | None = None
    api_key: ApiKey | None = None
    session_digest: str | None = None

    @property
    def actor(self) -> str:
        """The name under which the audit log records this identity's actions."""
        if self.account is not None:
            return self.account.name
        assert self.api_key is not None
        return f"key:{self.api_key.prefix}"

    def allowed_actions(self) -> list[str]:
        """List the actions that ``sxpt_core.access`` allows this identity's unit, narrowed for API keys."""
        if self.api_key is not None:
            return access.api_key_allowed_actions(self.unit)
        return access.allowed_actions(self.unit)


def session_digest(session_id: str) -> str:
    """Return the digest under which a session id is stored."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def set_session_cookie(response: Response, session_id: str) -> None:
    """Put the session id into the session cookie of ``response``."""
    config = current_app.config
    response.set_cookie(
        config["SESSION_COOKIE_NAME"],
        session_id,
        httponly=config["SESSION_COOKIE_HTTPONLY"],
        secure=config["SESSION_COOKIE_SECURE"],
        samesite=config["SESSION_COOKIE_SAMESITE"],
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Tell the browser to drop the session cookie."""
    config = current_app.config
    response.delete_cookie(
        config["SESSION_COOKIE_NAME"],
        path="/",
        httponly=config["SESSION_COOKIE_HTTPONLY"],
        secure=config["SESSION_COOKIE_SECURE"],
        samesite=config["SESSION_COOKIE_SAMESITE"],
    )


def start_session(store: Store, account: Account) -> str:
    """Start a new session for ``account`` and return its id for the cookie.

    A session that the request presented is ended first, so a session id planted in a
    browser before login never becomes a logged-in session.
    """
    end_request_session(store)
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    user_agent = (request.user_agent.string or "")[:200] or None
    store.add_session(session_digest(session_id), account.id, now=now(), ip=request.remote_addr, user_agent=user_agent)
    return session_id


def end_request_session(store: Store) -> None:
    """End the session named by the request's cookie, if there is one."""
    session_id = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    if session_id:
        store.delete_session(session_digest(session_id))


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _identity_from_key(store: Store, token: str) -> Identity:
    prefix = auth.api_key_prefix(token)
    key = store.get_api_key(prefix) if prefix else None
    if key is None or not auth.api_key_matches(token, key.digest):
        audit.record(store, "api_key_rejected", actor=audit.ANONYMOUS, reason="unknown")
        raise Problem(
            "SXPT-API-KEY-INVALID",
            "API 密钥无效，请检查 Authorization 请求头中的密钥。",
            "The API key is invalid; check the key in the Authorization header.",
        )

    moment = now()
    if key.revoked_at is not None:
        audit.record(store, "api_key_rejected", actor=audit.ANONYMOUS, target=key.prefix, unit=key.unit, reason="revoked")
        raise Problem(
            "SXPT-API-KEY-REVOKED",
            f"API 密钥 {key.prefix} 已于 {key.revoked_at:%Y-%m-%d} 吊销，请向校级用户申请新的密钥。",
            f"API key {key.prefix} was revoked on {key.revoked_at:%Y-%m-%d}; ask a school-level user for a new key.",
        )
    if not access.api_key_usable(expires_at=key.expires_at, revoked_at=None, now=moment):
        audit.record(store, "api_key_rejected", actor=audit.ANONYMOUS, target=key.prefix, unit=key.unit, reason="expired")
        raise Problem(
            "SXPT-API-KEY-EXPIRED",
            f"API 密钥 {key.prefix} 已于 {key.expires_at:%Y-%m-%d} 过期，请向校级用户申请新的密钥。",
            f"API key {key.prefix} expired on {key.expires_at:%Y-%m-%d}; ask a school-level user for a new key.",
        )

    store.touch_api_key(key.prefix, now=moment)
    return Identity(unit=key.unit, api_key=key)


def _identity_from_session(store: Store) -> Identity:
    session_id = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    if not session_id:
        raise Problem("SXPT-AUTH-REQUIRED", "请先登录。", "Log in first.")

    digest = session_digest(session_id)
    session = store.get_session(digest)
    account = store.get_account(session.account_id) if session else None
    if session is None or account is None:
        g.clear_session_cookie = True
        raise Problem(
            "SXPT-AUTH-REQUIRED",
            "登录已失效（已退出，或账号的手机号、密码已修改），请重新登录。",
            "You are not logged in: the session ended (logout, or a phone or password change). Log in again.",
        )

    moment = now()
    if auth.session_expired(session.last_seen, now=moment):
        store.delete_session(digest)
        g.clear_session_cookie = True
        minutes = int(auth.IDLE_TIMEOUT.total_seconds() // 60)
        raise Problem(
            "SXPT-AUTH-SESSION-EXPIRED",
            f"超过 {minutes} 分钟未操作，已自动退出，请重新登录。",
            f"The session ended after {minutes} minutes without activity. Log in again.",
        )

    store.touch_session(digest, now=moment)
    return Identity(unit=account.unit, account=account, session_digest=digest)


def current_identity(*, api_key: bool) -> Identity:
    """Return the identity behind the request, or raise ``Problem`` when it has no valid one.

    ``api_key`` sets whether the route accepts API keys as well as sessions.
    """
    identity: Identity | None = g.get("identity")
    if identity is not None:
        return identity

    store = get_store()
    token = _bearer_token()
    if token is not None:
        identity = _identity_from_key(store, token)
        if not api_key:
            raise Problem(
                "SXPT-API-KEY-NOT-ALLOWED",
                "API 密钥只能用于数据接口；管理账号、密钥和单位须由用户登录后操作。",
                "API keys work on the data routes only; managing accounts, keys and organisations needs a login.",
            )
    else:
        identity = _identity_from_session(store)

    g.identity = identity
    return identity


def login_required(*, api_key: bool = False) -> Callable[[F], F]:
    """Require a logged-in account, or also accept an API key when ``api_key`` is True.

    The view finds the identity in ``g.identity``.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            current_identity(api_key=api_key)
            return view(*args, **kwargs)

        wrapped.sxpt_auth = "key" if api_key else "session"  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
