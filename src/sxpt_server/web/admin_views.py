"""Account management for superiors, API keys for school users, and registering organisations.

Every permission is a call into ``sxpt_core.access``, as in the API: a superior manages
the accounts one level below (a school also its own school's), the ministry registers
provinces, a province its schools and a school its departments. Only school users
manage API keys.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from sxpt_core import access
from sxpt_server import audit
from sxpt_server.accounts import (
    change_phone,
    check_contact_name,
    check_phone,
    create_account,
    delete_account,
    send_activation,
)
from sxpt_server.clock import now

# NOTE: the API keeps key generation (with its retry on a taken prefix) in this private
# helper; the page calls it rather than copy it.
from sxpt_server.keys import issue_api_key
from sxpt_server.organisations import (
    check_department_name,
    make_unit,
    register_department,
    register_province,
    register_school,
    unit_exists,
    unit_label,
)
from sxpt_server.problems import Problem
from sxpt_server.sessions import Identity
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, ApiKey, get_store
from sxpt_server.web import i18n
from sxpt_server.web.blueprint import bp
from sxpt_server.web.pages import current_user, form_text, page_login_required, problem_status, render

__all__: list[str] = []

LABEL_MAX_LENGTH = 100
ACCOUNT_NOTICES = frozenset({"created", "sent", "not_sent", "phone_changed", "deleted"})


# --- accounts ---------------------------------------------------------------------------------


def _managed_levels(identity: Identity) -> list[str]:
    return [level.value for level in access.Level if access.can_manage_level(identity.unit, level)]


def _require_account_manager(identity: Identity) -> None:
    if not _managed_levels(identity):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "accounts.forbidden")


def _managed_account(name: str) -> Account:
    """Return the named account if the user may manage it, as ``access.can_manage_account`` decides."""
    identity = current_user()
    account = get_store().get_account_by_name(name)
    if account is None:
        raise i18n.catalogue_problem("SXPT-NOT-FOUND", "accounts.not_found", name=name)
    if not access.can_manage_account(identity.unit, account.unit):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "accounts.manage_forbidden", name=name)
    return account


def _is_self(account: Account) -> bool:
    own = current_user().account
    return own is not None and own.id == account.id


def _accounts_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    _require_account_manager(identity)
    store = get_store()
    unit = identity.unit
    accounts = [account for account in store.list_accounts()
                if account.unit == unit or access.can_manage_account(unit, account.unit)]
    rows = [{
        "account": account, "unit": unit_label(store, account.unit), "phone": mask_phone(account.phone),
        "managed": access.can_manage_account(unit, account.unit) and not _is_self(account),
        "self": _is_self(account),
    } for account in accounts]
    notice = request.args.get("notice")
    return render(
        "accounts.html", status, rows=rows, levels=_managed_levels(identity),
        provinces=store.list_provinces() if unit.level is access.Level.MINISTRY else [],
        schools=store.list_schools(province=unit.province) if unit.level is access.Level.PROVINCE else [],
        departments=[department.name for department in store.list_departments(unit.school)] if unit.level is access.Level.SCHOOL and unit.school else [],
        notice=notice if notice in ACCOUNT_NOTICES else None, subject=request.args.get("account", ""),
        form=context.pop("form", {}), **context)


@bp.get("/accounts")
@page_login_required
def accounts() -> ResponseReturnValue:
    """List the accounts of the user's unit and those it manages, with the form to create one."""
    return _accounts_page()


def _new_unit(identity: Identity) -> access.Unit:
    """Build the new account's unit from the form; codes the form leaves out come from the user's unit."""
    level = form_text("level")
    if level not in {member.value for member in access.Level}:
        return make_unit(level, None, None, None)  # raises the 422 that lists the levels
    if not access.can_manage_level(identity.unit, level):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "accounts.create_forbidden")
    province = form_text("province") or identity.unit.province
    school = form_text("school") or identity.unit.school
    if level == "ministry":
        return make_unit(level, None, None, None)
    if level == "province":
        return make_unit(level, province, None, None)
    if level == "school":
        return make_unit(level, province, school, None)
    return make_unit(level, province, school, check_department_name(form_text("department")))


@bp.post("/accounts")
@page_login_required
def account_create() -> ResponseReturnValue:
    """Create an account one level below and send its activation SMS, as ``POST /api/v1/accounts`` does."""
    identity = current_user()
    _require_account_manager(identity)
    store = get_store()
    form = {name: form_text(name) for name in ("level", "province", "school", "department", "phone", "contact_name")}
    try:
        unit = _new_unit(identity)
        if not access.can_manage_account(identity.unit, unit):
            raise i18n.catalogue_problem("SXPT-FORBIDDEN", "accounts.create_forbidden")
        phone = check_phone(form["phone"])
        contact_name = check_contact_name(form["contact_name"] or None)
        account = create_account(store, unit, phone=phone, contact_name=contact_name, created_by=identity.actor)
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _accounts_page(problem_status(problem), error=i18n.problem_detail(problem),
                              field_errors=i18n.field_errors(problem), form=form)
    activation = send_activation(store, account)
    notice = "created" if activation["sent"] else "not_sent"
    return redirect(url_for("web.accounts", notice=notice, account=account.name), code=303)


@bp.post("/accounts/<name>/activation")
@page_login_required
def account_resend(name: str) -> ResponseReturnValue:
    """Send a new activation code; the old one stops working."""
    account = _managed_account(name)
    activation = send_activation(get_store(), account)
    if not activation["sent"]:
        return _accounts_page(429 if "retry_after" in activation else 502,
                              error=i18n.pick(activation["detail"], activation.get("detail_en")))
    return redirect(url_for("web.accounts", notice="sent", account=account.name), code=303)


@bp.get("/accounts/<name>/phone")
@page_login_required
def account_phone(name: str) -> ResponseReturnValue:
    """Show the form that binds a subordinate's account to another phone."""
    account = _managed_account(name)
    return render("account_phone.html", account=account, phone=mask_phone(account.phone), own=_is_self(account))


@bp.post("/accounts/<name>/phone")
@page_login_required
def account_phone_submit(name: str) -> ResponseReturnValue:
    """Bind the account to the new phone; its sessions end, and a pending account gets a new activation SMS."""
    store = get_store()
    account = _managed_account(name)
    if _is_self(account):
        return render("account_phone.html", 403, account=account, phone=mask_phone(account.phone), own=True)
    try:
        phone = check_phone(form_text("phone"))
        change_phone(store, account, phone, by_superior=True)
    except Problem as problem:
        return render("account_phone.html", problem_status(problem), account=account,
                      phone=mask_phone(account.phone), own=False, error=i18n.problem_detail(problem))
    updated = store.get_account(account.id)
    if updated is not None and not updated.active:
        send_activation(store, updated)
    return redirect(url_for("web.accounts", notice="phone_changed", account=account.name), code=303)


@bp.get("/accounts/<name>/delete")
@page_login_required
def account_delete(name: str) -> ResponseReturnValue:
    """Ask for confirmation before deleting an account."""
    account = _managed_account(name)
    return render("account_delete.html", account=account, unit=unit_label(get_store(), account.unit),
                  own=_is_self(account))


@bp.post("/accounts/<name>/delete")
@page_login_required
def account_delete_submit(name: str) -> ResponseReturnValue:
    """Delete the account with its sessions."""
    account = _managed_account(name)
    if _is_self(account):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "accounts.delete_self")
    delete_account(get_store(), account)
    return redirect(url_for("web.accounts", notice="deleted", account=account.name), code=303)


# --- API keys ---------------------------------------------------------------------------------


def _require_key_manager(identity: Identity) -> None:
    if not access.can_manage_api_keys(identity.unit, identity.unit):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "keys.forbidden")


def _keys_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    _require_key_manager(identity)
    store = get_store()
    keys = [key for key in store.list_api_keys(identity.unit.school or "")
            if access.can_manage_api_keys(identity.unit, key.unit)]
    moment = now()
    rows = [{"key": key, "scope": unit_label(store, key.unit),
             "usable": access.api_key_usable(expires_at=key.expires_at, revoked_at=key.revoked_at, now=moment)}
            for key in keys]
    return render("keys.html", status, rows=rows,
                  departments=[department.name for department in store.list_departments(identity.unit.school or "")],
                  default_days=min(int(current_app.config["API_KEY_DEFAULT_DAYS"]),
                                   int(current_app.config["API_KEY_MAX_DAYS"])),
                  max_days=int(current_app.config["API_KEY_MAX_DAYS"]),
                  revoked=request.args.get("revoked", ""), form=context.pop("form", {}), **context)


@bp.get("/keys")
@page_login_required
def keys() -> ResponseReturnValue:
    """List the API keys of the school, with the form to issue one."""
    return _keys_page()


def _key_days(text: str) -> int:
    maximum = int(current_app.config["API_KEY_MAX_DAYS"])
    if not text:
        return min(int(current_app.config["API_KEY_DEFAULT_DAYS"]), maximum)
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise i18n.catalogue_problem("SXPT-VALIDATION", "keys.days_invalid", maximum=maximum)
    return int(text)


@bp.post("/keys")
@page_login_required
def key_issue() -> ResponseReturnValue:
    """Issue a key for the school or one department and show it once, as ``POST /api/v1/keys`` does."""
    identity = current_user()
    _require_key_manager(identity)
    store = get_store()
    form = {name: form_text(name) for name in ("label", "department", "days")}
    try:
        scope = identity.unit
        if form["department"]:
            scope = access.Unit.for_department(identity.unit.province or "", identity.unit.school or "",
                                               check_department_name(form["department"]))
        if not access.can_manage_api_keys(identity.unit, scope):
            raise i18n.catalogue_problem("SXPT-FORBIDDEN", "keys.forbidden")
        if not unit_exists(store, scope):
            raise i18n.catalogue_problem("SXPT-NOT-FOUND", "keys.department_unknown", name=scope.department or "")
        if not form["label"] or len(form["label"]) > LABEL_MAX_LENGTH:
            raise i18n.catalogue_problem("SXPT-VALIDATION", "keys.label_invalid", maximum=LABEL_MAX_LENGTH)
        days = _key_days(form["days"])
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _keys_page(problem_status(problem), error=i18n.problem_detail(problem), form=form)

    moment = now()
    secret, stored = issue_api_key(store, form["label"], scope, identity.actor, moment,
                                   moment + datetime.timedelta(days=days))
    audit.record(store, "key_created", target=stored.prefix, unit=scope, label=form["label"],
                 expires_at=stored.expires_at.isoformat())
    # The key is shown in this response only; it is never stored or put into a URL.
    return render("key_issued.html", 201, key=stored, secret=secret, scope=unit_label(store, scope))


def _managed_key(prefix: str) -> ApiKey:
    key = get_store().get_api_key(prefix)
    if key is None:
        raise i18n.catalogue_problem("SXPT-NOT-FOUND", "keys.not_found", prefix=prefix)
    if not access.can_manage_api_keys(current_user().unit, key.unit):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "keys.forbidden")
    return key


@bp.post("/keys/<prefix>/revoke")
@page_login_required
def key_revoke(prefix: str) -> ResponseReturnValue:
    """Revoke a key; requests with it are rejected from now on."""
    store = get_store()
    key = _managed_key(prefix)
    if key.revoked_at is None:
        store.revoke_api_key(prefix, now=now())
        audit.record(store, "key_revoked", target=prefix, unit=key.unit)
    return redirect(url_for("web.keys", revoked=prefix), code=303)


# --- organisations ----------------------------------------------------------------------------


def _organisations_page(status: int = 200, **context: Any) -> ResponseReturnValue:
    identity = current_user()
    unit = identity.unit
    if unit.level is access.Level.DEPARTMENT:
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
    store = get_store()
    document: dict[str, Any] = {"provinces": [], "schools": [], "departments": []}
    if unit.level is access.Level.MINISTRY:
        document["provinces"] = store.list_provinces()
    elif unit.level is access.Level.PROVINCE:
        document["schools"] = [school for school in store.list_schools(province=unit.province)
                               if access.is_within(access.Unit.for_school(school.province, school.code), unit)]
    elif unit.school:
        document["school"] = store.get_school(unit.school)
        document["departments"] = store.list_departments(unit.school)
    created = request.args.get("created", "")
    return render("organisations.html", status, level=unit.level.value, created=created,
                  form=context.pop("form", {}), **document, **context)


@bp.get("/organisations")
@page_login_required
def organisations() -> ResponseReturnValue:
    """List the organisations one level below the user's unit, with the form to register one."""
    return _organisations_page()


def _register(identity: Identity, form: dict[str, str]) -> str:
    """Register the organisation the form describes, one level below the user's unit; return its name."""
    store = get_store()
    unit = identity.unit
    if unit.level is access.Level.MINISTRY:
        new_unit = make_unit("province", form["code"], None, None)
        if not access.can_create_unit(unit, new_unit):
            raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
        return register_province(store, new_unit.province or "").name
    if unit.level is access.Level.PROVINCE:
        new_unit = make_unit("school", unit.province, form["code"], None)
        if not access.can_create_unit(unit, new_unit):
            raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
        return register_school(store, code=new_unit.school or "", province=new_unit.province or "",
                               name=form["name"], uscc=form["uscc"], city=form["city"]).name
    school = store.get_school(unit.school or "")
    if school is None:
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
    name = check_department_name(form["name"])
    if not access.can_create_unit(unit, access.Unit.for_department(school.province, school.code, name)):
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
    return register_department(store, school, name).name


@bp.post("/organisations")
@page_login_required
def organisation_create() -> ResponseReturnValue:
    """Register a province (ministry), a school (province) or a department (school)."""
    identity = current_user()
    if identity.unit.level is access.Level.DEPARTMENT:
        raise i18n.catalogue_problem("SXPT-FORBIDDEN", "organisations.forbidden")
    form = {name: form_text(name) for name in ("code", "name", "uscc", "city")}
    try:
        created = _register(identity, form)
    except Problem as problem:
        if problem.code == "SXPT-FORBIDDEN":
            raise
        return _organisations_page(problem_status(problem), error=i18n.problem_detail(problem),
                                   field_errors=i18n.field_errors(problem), form=form)
    return redirect(url_for("web.organisations", created=created), code=303)
