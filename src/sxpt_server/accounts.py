"""Creating and changing accounts, shared by the API and the ``create-account`` command.

Callers check permissions with ``sxpt_core.access`` first. Every change here ends what
the change makes stale: a new phone or password ends the account's sessions and drops
its pending codes, as the official FAQ describes for a phone change.
"""

from __future__ import annotations

import datetime
import logging
import secrets
import unicodedata
from typing import Any

from flask import current_app, g

from sxpt_core import access, auth
from sxpt_server import audit
from sxpt_server.clock import now
from sxpt_server.organisations import field_error, invalid, unit_exists
from sxpt_server.problems import Problem
from sxpt_server.sms import mask_phone
from sxpt_server.store import Account, Store
from sxpt_server.verification import send_code

logger = logging.getLogger(__name__)

__all__ = [
    "change_phone",
    "check_contact_name",
    "check_credentials",
    "check_password",
    "check_phone",
    "check_phone_free",
    "create_account",
    "delete_account",
    "send_activation",
    "set_password",
]

CONTACT_NAME_MAX_LENGTH = 50


def check_phone(value: Any, *, field: str = "phone") -> str:
    """Return the phone number normalised to 11 digits, or raise a 422 problem."""
    if value is None:
        raise invalid([field_error(field, "请填写手机号。", "The mobile number is missing.")])
    if not isinstance(value, str):
        raise invalid([field_error(
            field, f"手机号（{field}）须为字符串，如 \"13800138000\"。", f"The member {field!r} must be a string.")])
    phone = auth.normalise_phone(value)
    problems = auth.phone_problems(phone)
    if problems:
        raise invalid([field_error(field, zh, en) for zh, en in problems])
    return phone


def check_phone_free(store: Store, phone: str, *, account_id: int | None = None) -> None:
    """Raise 409 when ``phone`` (normalised) is bound to an account other than ``account_id``.

    Each phone belongs to one account, so an SMS code always proves one account.
    NOTE: two concurrent requests can both pass this check, because the database has no
    unique index on the phone column.
    """
    for other in store.list_accounts():
        if other.phone == phone and other.id != account_id:
            raise Problem(
                "SXPT-CONFLICT",
                f"手机号 {mask_phone(phone)} 已绑定其他账号，一个手机号只能绑定一个账号。请换一个手机号，"
                "或先更换或删除那个账号的手机号。",
                f"The number {mask_phone(phone)} is bound to another account; one phone belongs to one account. "
                "Use another number, or first change or delete the other account.")


def check_contact_name(value: Any) -> str | None:
    """Return the trimmed contact name (None when empty), or raise a 422 problem."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) > CONTACT_NAME_MAX_LENGTH:
        raise invalid([field_error(
            "contact_name", f"联系人姓名须为不超过 {CONTACT_NAME_MAX_LENGTH} 个字符的文字。",
            f"The contact name must be text of at most {CONTACT_NAME_MAX_LENGTH} characters.")])
    return unicodedata.normalize("NFKC", value).strip() or None


def check_password(password: Any, account: Account, *, field: str = "password") -> str:
    """Return the password if the policy of ``sxpt_core.auth`` accepts it, or raise a 422 problem."""
    if password is None:
        raise invalid([field_error(field, "请填写密码。", "The password is missing.")])
    if not isinstance(password, str):
        raise invalid([field_error(field, f"密码（{field}）须为字符串。", f"The member {field!r} must be a string.")])
    problems = auth.password_problems(password, account=account.name, phone=account.phone)
    if problems:
        errors = [field_error(field, zh, en) for zh, en in problems]
        raise Problem(
            "SXPT-PASSWORD-WEAK", "密码不符合要求：" + "".join(zh for zh, _ in problems),
            "The password is too weak: " + " ".join(en for _, en in problems), extra={"errors": errors},
        )
    return password


def create_account(
    store: Store, unit: access.Unit, *, phone: str, contact_name: str | None, created_by: str | None
) -> Account:
    """Create a pending account of ``unit`` with a generated name; the caller sends the activation SMS."""
    if not unit_exists(store, unit):
        raise Problem(
            "SXPT-NOT-FOUND", "该单位尚未创建，请先创建省份、学校或院系，再为其创建账号。",
            "The unit is not registered; register the province, school or department first.")

    code = access.unit_code(unit)
    check_phone_free(store, phone)
    with store.transaction(scope=f"unit:{code}"):
        sequence = store.next_account_sequence(code)
        try:
            name = auth.account_name(code, sequence)
        except ValueError:
            raise Problem(
                "SXPT-CONFLICT", "该单位的账号编号已用完，无法再创建账号。",
                "This unit has used up its account numbers.") from None
        account = store.add_account(
            name=name, unit=unit, phone=phone, contact_name=contact_name, created_by=created_by, now=now()
        )

    audit.record(store, "account_created", target=account.name, unit=unit, phone=mask_phone(phone))
    return account


def send_activation(store: Store, account: Account) -> dict[str, Any]:
    """Send the activation SMS and return whether it went out; a refused send does not raise."""
    try:
        send_code(store, account, "activation")
    except Problem as problem:
        return {"sent": False, "code": problem.code, "detail": problem.detail, "detail_en": problem.detail_en,
                **problem.extra}
    return {"sent": True, "phone": mask_phone(account.phone), "valid_hours": auth.ACTIVATION_LIFETIME // datetime.timedelta(hours=1)}


def change_phone(store: Store, account: Account, phone: str, *, by_superior: bool) -> int:
    """Bind the account to a new phone, end its sessions and drop its pending codes.

    Returns the number of sessions ended.
    """
    check_phone_free(store, phone, account_id=account.id)
    with store.transaction(scope=f"account:{account.id}"):
        store.update_phone(account.id, phone)
        store.delete_codes(account.id)
        ended = store.delete_sessions_of(account.id)
    audit.record(
        store, "phone_changed", target=account.name, unit=account.unit, old_phone=mask_phone(account.phone),
        new_phone=mask_phone(phone), by="superior" if by_superior else "self", sessions_ended=ended,
    )
    return ended


def set_password(store: Store, account: Account, password: str, *, event: str) -> int:
    """Store a new password hash, end the account's sessions and drop its login codes.

    Returns the number of sessions ended.
    """
    password_hash = auth.hash_password(password, salt=secrets.token_bytes(auth.SALT_BYTES))
    with store.transaction(scope=f"account:{account.id}"):
        store.set_password(account.id, password_hash, now=now())
        store.delete_codes(account.id, ["login"])
        ended = store.delete_sessions_of(account.id)
    audit.record(store, event, target=account.name, unit=account.unit, sessions_ended=ended)
    return ended


def delete_account(store: Store, account: Account) -> None:
    """Delete the account with its sessions and codes."""
    store.delete_account(account.id)
    audit.record(store, "account_deleted", target=account.name, unit=account.unit)


def _dummy_hash() -> str:
    """Return a password hash to verify against for unknown accounts, made once per app."""
    cached: str | None = current_app.extensions.get("sxpt_dummy_hash")
    if cached is None:
        cached = auth.hash_password(secrets.token_hex(16), salt=secrets.token_bytes(auth.SALT_BYTES))
        current_app.extensions["sxpt_dummy_hash"] = cached
    return cached


def _password_matches(account: Account | None, password: str) -> bool:
    """Check the password in about the same time whether or not the account exists and is active."""
    if account is None or not account.active or not account.password_hash:
        auth.verify_password(password, _dummy_hash())
        return False
    try:
        return auth.verify_password(password, account.password_hash)
    except ValueError:
        logger.error("account %s has an invalid password hash (request %s)", account.name, g.get("request_id"))
        return False


def check_credentials(store: Store, name: str, password: str) -> Account:
    """Return the active account with ``name`` and ``password``, or raise 401 and audit the failure.

    The password check takes about the same time whether or not the account exists.
    """
    account = store.get_account_by_name(name)
    if not _password_matches(account, password):
        if account is None:
            # Account names are not secret, so the name tried is recorded to show guessing.
            audit.record(store, "login_failed", reason="unknown_account", account=name[:64])
        else:
            reason = "password" if account.active else "not_activated"
            audit.record(store, "login_failed", target=account.name, unit=account.unit, reason=reason)
        raise Problem(
            "SXPT-AUTH-CREDENTIALS",
            "账号或密码错误。新账号请先用激活短信中的激活码设置密码。",
            "Wrong account name or password. A new account first sets its password with the activation code.",
        )
    assert account is not None
    return account
