"""Sending SMS codes and checking the codes that users enter.

The rules (code length, lifetime, tries, send limits, the digest) are in
``sxpt_core.auth``. This module applies them to the store and the SMS gateway, and it
turns each rejection into a problem document and an audit entry.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets

from flask import current_app, g

from sxpt_core import auth
from sxpt_server import audit
from sxpt_server.clock import now
from sxpt_server.organisations import field_error, invalid
from sxpt_server.problems import Problem
from sxpt_server.sms import SmsError, SmsMessage, gateway_from_config, mask_phone
from sxpt_server.store import Account, CodeRow, Store

__all__ = ["code_key", "send_code", "verify_code"]

logger = logging.getLogger(__name__)

_TEXT_SETTINGS = {"login": "SMS_TEXT_LOGIN", "activation": "SMS_TEXT_ACTIVATION", "phone_change": "SMS_TEXT_PHONE_CHANGE"}

_RESULT_CODES = {
    auth.CodeResult.WRONG: "SXPT-AUTH-CODE-WRONG",
    auth.CodeResult.EXPIRED: "SXPT-AUTH-CODE-EXPIRED",
    auth.CodeResult.LOCKED: "SXPT-AUTH-CODE-LOCKED",
    auth.CodeResult.USED: "SXPT-AUTH-CODE-USED",
}


def code_key() -> bytes:
    """Return the HMAC key for code digests, derived from the instance secret key."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(secret, b"sxpt one-time code digests", hashlib.sha256).digest()


def _stored(row: CodeRow) -> auth.StoredCode:
    return auth.StoredCode(
        digest=row.digest,
        purpose=row.purpose,
        phone=row.phone,
        issued_at=row.issued_at,
        tries=row.tries,
        used=row.used,
        lifetime=row.lifetime,
    )


def _row(account_id: int, stored: auth.StoredCode) -> CodeRow:
    return CodeRow(
        account_id=account_id,
        purpose=stored.purpose,
        phone=stored.phone,
        digest=stored.digest,
        issued_at=stored.issued_at,
        lifetime=stored.lifetime,
        tries=stored.tries,
        used=stored.used,
    )


def _retry_after_seconds(wait: datetime.timedelta | None) -> int:
    return max(1, int(wait.total_seconds() + 0.999)) if wait else 1


def send_code(store: Store, account: Account, purpose: str, *, phone: str | None = None) -> auth.StoredCode:
    """Send a new code for ``purpose`` to ``phone`` (default: the account's phone).

    The new code replaces the account's earlier code for the same purpose. Raises
    ``Problem`` when the phone's send limits refuse or the gateway fails; a failed send
    does not count against the limits.
    """
    phone = phone or account.phone
    moment = now()

    # The per-phone limit is checked and counted under the phone's own lock.
    with store.transaction(scope=f"phone:{phone}"):
        decision = auth.may_send(store.sends_since(phone, moment - datetime.timedelta(hours=24)), now=moment)
        if decision.allowed:
            code, stored = auth.issue_code(
                secrets.token_bytes(auth.CODE_RANDOM_BYTES), key=code_key(), purpose=purpose, phone=phone, now=moment
            )
            send_id = store.record_send(phone, purpose, now=moment)
            store.put_code(_row(account.id, stored))

    if not decision.allowed:
        message = decision.message()
        assert message is not None
        audit.record(
            store, "code_send_rejected", target=account.name, unit=account.unit, purpose=purpose,
            reason=decision.reason, phone=mask_phone(phone),
        )
        seconds = _retry_after_seconds(decision.retry_after)
        code_name = "SXPT-SMS-DAILY-LIMIT" if decision.reason == "daily" else "SXPT-SMS-TOO-SOON"
        raise Problem(
            code_name, message[0], message[1], extra={"retry_after": seconds}, headers={"Retry-After": str(seconds)}
        )

    text = current_app.config[_TEXT_SETTINGS[purpose]].format(code=code, account=account.name)
    message_to_send = SmsMessage(phone=phone, purpose=purpose, text=text, code=code, account=account.name)
    try:
        gateway_from_config(current_app).send(message_to_send)
    except SmsError as error:
        with store.transaction(scope=f"phone:{phone}"):
            store.delete_send(send_id)
            store.delete_codes(account.id, [purpose])
        logger.warning(
            "SMS gateway failed for %s (%s, request %s): %s", mask_phone(phone), purpose, g.get("request_id"), error
        )
        audit.record(store, "sms_failed", target=account.name, unit=account.unit, purpose=purpose,
                     phone=mask_phone(phone))
        raise Problem(
            "SXPT-SMS-FAILED",
            "短信发送失败，请稍后再试；如果一直失败，请联系管理员。",
            "The SMS could not be sent. Try again later, and tell the administrator if it keeps failing.",
        ) from None

    audit.record(store, "code_sent", target=account.name, unit=account.unit, purpose=purpose, phone=mask_phone(phone))
    return stored


def verify_code(
    store: Store, account: Account, purpose: str, entered: str, *, failure_event: str, phone: str | None = None
) -> CodeRow:
    """Check a code entered for ``purpose`` and return the accepted code.

    A wrong, expired, locked, replayed or missing code raises ``Problem`` after an audit
    entry ``failure_event`` with the reason. With ``phone``, a code that was sent to
    another number raises a 422 problem without using up the code or a try.
    """
    format_problem = auth.code_format_problem(entered)
    if format_problem is not None:
        raise invalid([field_error("code", *format_problem)])

    mismatch = False
    with store.transaction(scope=f"account:{account.id}"):
        row = store.get_code(account.id, purpose)
        mismatch = row is not None and phone is not None and row.phone != phone
        if row is not None and not mismatch:
            result, updated = auth.check_code(_stored(row), entered, key=code_key(), now=now())
            store.update_code(_row(account.id, updated))

    if row is None:
        audit.record(store, failure_event, target=account.name, unit=account.unit, reason="code_missing")
        if purpose == "activation":
            detail = ("该账号没有待使用的激活码，请联系上级用户重新发送激活短信。",
                      "This account has no pending activation code. Ask your superior to resend the activation SMS.")
        else:
            detail = ("请先获取短信验证码。", "Request an SMS code first.")
        raise Problem("SXPT-AUTH-CODE-MISSING", *detail)

    if mismatch:
        audit.record(store, failure_event, target=account.name, unit=account.unit, reason="phone_mismatch",
                     phone=mask_phone(phone or ""))
        raise invalid([field_error(
            "phone", "手机号与接收验证码的号码不一致，请核对号码，或重新获取验证码。",
            "The number differs from the one the code was sent to; check it or request a new code.")])

    if result is not auth.CodeResult.OK:
        message = auth.code_message(result, updated)
        assert message is not None
        audit.record(store, failure_event, target=account.name, unit=account.unit, reason=f"code_{result.value}")
        extra = {"tries_left": auth.tries_left(updated)} if result is auth.CodeResult.WRONG else {}
        raise Problem(_RESULT_CODES[result], message[0], message[1], extra=extra)

    return _row(account.id, updated)
