"""Login, activation, logout and the idle-timeout status of the pages.

Login takes two steps, as in the API: the account name and password send an SMS code,
then the code starts a session. Between the steps the browser keeps a signed cookie
(``sxpt_login``, HttpOnly, valid as long as the code) naming the account whose password
was checked, so the user does not type the password twice and no page carries it.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import current_app, jsonify, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from sxpt_core import auth
from sxpt_server import audit
from sxpt_server.accounts import check_credentials, check_password, set_password

# NOTE: the password check of the API lives in this private helper. The page calls it rather
# than copy it, so both keep the same timing for unknown accounts and the same audit entries.
from sxpt_server.clock import now
from sxpt_server.problems import Problem
from sxpt_server.sessions import (
    clear_session_cookie,
    current_identity,
    end_request_session,
    session_digest,
    set_session_cookie,
    start_session,
)
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, get_store
from sxpt_server.verification import send_code, verify_code
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import current_user, form_text, page_login_required, problem_status, render
from sxpt_server.web.security import safe_next

__all__ = ["PENDING_COOKIE", "pending_account_name"]

PENDING_COOKIE = "sxpt_login"
PENDING_SALT = "sxpt web login pending code"
# The two SMS limits after which the code sent earlier is still the one to enter.
SEND_LIMIT_CODES = frozenset({"SXPT-SMS-TOO-SOON", "SXPT-SMS-DAILY-LIMIT"})
LOGIN_NOTICES = frozenset({"expired", "logged_out", "activated", "code_expired"})


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=PENDING_SALT)


def _set_pending(response: Response, account: Account) -> None:
    """Remember in the browser that ``account``'s password was checked, for as long as its code is valid."""
    config = current_app.config
    response.set_cookie(
        PENDING_COOKIE, _serializer().dumps({"account": account.name}),
        max_age=int(auth.CODE_LIFETIME.total_seconds()), httponly=True, secure=config["SESSION_COOKIE_SECURE"],
        samesite="Lax", path="/login",
    )


def pending_account_name() -> str | None:
    """Return the account name of the browser's pending login, or None when there is none or it expired."""
    token = request.cookies.get(PENDING_COOKIE)
    if not token:
        return None
    try:
        data: Any = _serializer().loads(token, max_age=int(auth.CODE_LIFETIME.total_seconds()))
    except BadSignature:
        return None
    name = data.get("account") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def _pending_account() -> Account | None:
    """Return the active account of the browser's pending login, or None."""
    name = pending_account_name()
    if name is None:
        return None
    account = get_store().get_account_by_name(name)
    return account if account is not None and account.active else None


def _logged_in() -> bool:
    """Return True when the request carries a valid session (which this request then keeps alive)."""
    if not request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        return False
    try:
        identity = current_identity(api_key=False)
    except Problem:
        return False
    return identity.account is not None


def _login_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    notice = request.args.get("reason")
    context.setdefault("account", request.args.get("account", ""))
    context.setdefault("next", safe_next(request.values.get("next")))
    return render("login.html", status, notice=notice if notice in LOGIN_NOTICES else None, **context)


@bp.get("/login")
def login() -> ResponseReturnValue:
    """Show the first login step: account name and password."""
    if _logged_in():
        return redirect(safe_next(request.args.get("next")))
    return _login_page()


@bp.post("/login")
def login_send_code() -> ResponseReturnValue:
    """Check account name and password and send the SMS code, then show the second step."""
    store = get_store()
    name = form_text("account")
    password = request.form.get("password") or ""
    target = safe_next(request.form.get("next"))
    if not name or not password:
        return _login_page(400, account=name, next=target,
                           error=i18n.translate("login.missing_account" if not name else "login.missing_password"))

    try:
        account = check_credentials(store, name, password)
    except Problem as problem:
        return _login_page(problem_status(problem), account=name, next=target, error=i18n.problem_detail(problem))

    arguments: dict[str, Any] = {"next": target}
    try:
        send_code(store, account, "login")
    except Problem as problem:
        if problem.code not in SEND_LIMIT_CODES:
            return _login_page(problem_status(problem), account=name, next=target,
                               error=i18n.problem_detail(problem))
        # A code sent a moment ago is still valid, so the second step opens with a notice.
        arguments["wait"] = problem.extra.get("retry_after", 60)

    response = redirect(url_for("web.login_code", **arguments))
    _set_pending(response, account)
    return response


def _code_page(account: Account, status: int = 200, **context: Any) -> ResponseReturnValue:
    wait = request.args.get("wait", type=int)
    return render("login_code.html", status, phone=mask_phone(account.phone), account=account.name,
                  next=safe_next(request.values.get("next")), wait=wait,
                  minutes=int(auth.CODE_LIFETIME.total_seconds() // 60), **context)


def _restart_login() -> Response:
    return redirect(url_for("web.login", reason="code_expired", next=safe_next(request.values.get("next"))))


@bp.get("/login/code")
def login_code() -> ResponseReturnValue:
    """Show the second login step: the SMS code."""
    account = _pending_account()
    if account is None:
        return _restart_login()
    return _code_page(account)


@bp.post("/login/code")
def login_verify_code() -> ResponseReturnValue:
    """Check the SMS code, start a session and return to the page the user came from."""
    store = get_store()
    account = _pending_account()
    if account is None:
        return _restart_login()
    code = form_text("code")
    if not code:
        return _code_page(account, 400, error=i18n.translate("login.missing_code"))
    try:
        verify_code(store, account, "login", code, failure_event="login_failed")
    except Problem as problem:
        return _code_page(account, problem_status(problem), error=i18n.problem_detail(problem))

    # NOTE: the API rehashes an outdated password hash at this point. The page no longer
    # has the password, so such a hash is renewed only by a login through the API.
    session_id = start_session(store, account)
    audit.record(store, "login", actor=account.name, target=account.name, unit=account.unit)
    response = make_response(redirect(safe_next(request.form.get("next"))))
    set_session_cookie(response, session_id)
    response.delete_cookie(PENDING_COOKIE, path="/login")
    return response


@bp.post("/login/resend")
def login_resend_code() -> ResponseReturnValue:
    """Send a new SMS code for the pending login."""
    store = get_store()
    account = _pending_account()
    if account is None:
        return _restart_login()
    try:
        send_code(store, account, "login")
    except Problem as problem:
        return _code_page(account, problem_status(problem), error=i18n.problem_detail(problem))
    response = redirect(url_for("web.login_code", next=safe_next(request.form.get("next")), resent=1))
    _set_pending(response, account)
    return response


def _activation_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    context.setdefault("account", request.values.get("account", ""))
    return render("activate.html", status, hours=auth.ACTIVATION_LIFETIME // datetime.timedelta(hours=1),
                  minimum=auth.PASSWORD_MIN_LENGTH, maximum=auth.PASSWORD_MAX_LENGTH, **context)


@bp.get("/activate")
def activate() -> ResponseReturnValue:
    """Show the activation form: account name, activation code and the new password."""
    return _activation_page()


@bp.post("/activate")
def activate_submit() -> ResponseReturnValue:
    """Set the password with the activation code from the SMS, as ``POST /api/v1/auth/activate`` does."""
    store = get_store()
    name = form_text("account")
    code = form_text("code")
    password = request.form.get("password") or ""
    if not name or not code or not password:
        return _activation_page(400, account=name, error=i18n.translate("activate.missing"))
    if password != (request.form.get("password_repeat") or ""):
        return _activation_page(400, account=name, error=i18n.translate("activate.mismatch"))

    account = store.get_account_by_name(name)
    if account is None:
        audit.record(store, "activation_failed", reason="unknown_account", account=name[:64])
        return _activation_page(400, account=name, error=i18n.translate("activate.unknown"))
    try:
        checked = check_password(password, account)
        verify_code(store, account, "activation", code, failure_event="activation_failed")
    except Problem as problem:
        return _activation_page(problem_status(problem), account=name, error=i18n.problem_detail(problem))
    set_password(store, account, checked, event="account_activated" if not account.active else "password_reset")
    return redirect(url_for("web.login", reason="activated", account=account.name))


@bp.post("/logout")
@page_login_required
def logout() -> ResponseReturnValue:
    """End the current session and show the login page."""
    store = get_store()
    account = current_user().account
    assert account is not None
    end_request_session(store)
    audit.record(store, "logout", target=account.name, unit=account.unit)
    response = make_response(redirect(url_for("web.login", reason="logged_out")))
    clear_session_cookie(response)
    return response


@bp.get("/session/status")
def session_status() -> ResponseReturnValue:
    """Return the seconds left before the idle timeout, without counting as activity."""
    session_id = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"])
    session = get_store().get_session(session_digest(session_id)) if session_id else None
    remaining = 0
    if session is not None:
        moment = now()
        if not auth.session_expired(session.last_seen, now=moment):
            remaining = int((session.last_seen + auth.IDLE_TIMEOUT - moment).total_seconds())
    return jsonify({"remaining": max(remaining, 0)})


@bp.post("/session/keepalive")
@page_login_required
def session_keepalive() -> ResponseReturnValue:
    """Count as activity, so the session lasts another idle timeout; the page's "stay" button posts here."""
    return jsonify({"remaining": int(auth.IDLE_TIMEOUT.total_seconds())})
