"""Protection of the pages: CSRF tokens, security headers and local ``next`` targets.

CSRF: every form carries a token, and every POST to a page must send it back, in the
form field ``csrf_token`` or the ``X-CSRF-Token`` header (for the small scripts). The
token is an HMAC, under a key derived from ``SECRET_KEY``, of what the browser holds:

- with a session cookie, the digest of the session id, so the token is per session and
  dies with it;
- before login, a random id in the ``sxpt_csrf`` cookie, set when a form is first shown.

A site that cannot read these HttpOnly cookies or the page cannot compute the token.
Because the check accepts either binding, a form shown before login (bound to the
``sxpt_csrf`` cookie) still posts after a stale session cookie was left behind.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request

from sxpt_server.api import PREFIX
from sxpt_server.sessions import session_digest

__all__ = [
    "BROWSER_COOKIE",
    "CONTENT_SECURITY_POLICY",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "csrf_token",
    "csrf_valid",
    "init_app",
    "safe_next",
]

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
BROWSER_COOKIE = "sxpt_csrf"
BROWSER_ID_BYTES = 32

# Scripts and styles only from the server's own files, so an injected inline script or
# style attribute does not run. Pages cannot be framed (clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _csrf_key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"sxpt web form tokens", hashlib.sha256).digest()


def _sign(binding: str) -> str:
    return hmac.new(_csrf_key(), binding.encode("utf-8"), hashlib.sha256).hexdigest()


def _session_binding() -> str | None:
    if g.get("clear_session_cookie"):
        # This response ends an expired or unknown session, so the next form comes without it.
        return None
    session_id = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    return "session:" + session_digest(session_id) if session_id else None


def _browser_id() -> str:
    """Return the browser's ``sxpt_csrf`` id, making a new one for the response to set."""
    existing = request.cookies.get(BROWSER_COOKIE) or g.get("new_browser_id")
    if existing:
        return str(existing)
    created = secrets.token_urlsafe(BROWSER_ID_BYTES)
    g.new_browser_id = created
    return created


def csrf_token() -> str:
    """Return the token that forms of this page send back."""
    binding = _session_binding() or "browser:" + _browser_id()
    return _sign(binding)


def csrf_valid() -> bool:
    """Return True when the request sends a token that matches its session or browser cookie."""
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    candidates = []
    session_binding = _session_binding()
    if session_binding:
        candidates.append(_sign(session_binding))
    browser = request.cookies.get(BROWSER_COOKIE)
    if browser:
        candidates.append(_sign("browser:" + browser))
    # Compare with every candidate, so the time taken does not tell which one matched.
    matches = [hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8")) for expected in candidates]
    return bool(sent) and any(matches)


def safe_next(target: str | None, default: str = "/") -> str:
    """Return ``target`` when it is a path on this server, else ``default``.

    Accepted: ``/records?month=2025-10``. Rejected: absolute URLs, ``//host`` and
    ``/\\host`` (which browsers read as another host), backslashes, control characters,
    and paths of the JSON API, which are no pages to return to.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(character == "\\" or ord(character) < 0x20 or ord(character) == 0x7F for character in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    if parts.path == PREFIX or parts.path.startswith(PREFIX + "/"):
        return default
    return target


def _add_headers(response: Response) -> Response:
    """Set the security headers on every response outside the JSON API, and the new ``sxpt_csrf`` cookie."""
    new_browser_id = g.get("new_browser_id")
    if new_browser_id and not request.cookies.get(BROWSER_COOKIE):
        config = current_app.config
        response.set_cookie(
            BROWSER_COOKIE, new_browser_id, httponly=True, secure=config["SESSION_COOKIE_SECURE"],
            samesite="Lax", path="/",
        )
    if request.path.startswith(PREFIX):
        return response

    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    # The records page may carry a student number in its query string; other sites never see it.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "web.static":
        # Pages show personal data: no browser or proxy may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the hook that sets the security headers."""
    app.after_request(_add_headers)
