"""Login rules: SMS codes, send limits, idle sessions, passwords, account names and API keys.

From the official FAQ of 全国大学生实习公共服务系统:

- Every login needs the password and an SMS code, and the SMS code cannot be switched
  off, because the system contains students' registry data (每次登录需要配合手机验证码).
- An account is bound to exactly one mobile number.
- A session ends after half an hour without activity (半个小时不操作将会自动退出系统).
- Account names of the system contain ``sxpt``, so that they are distinguished from other
  学信网 accounts.

sxpt's own limits: an SMS code has 6 digits, is valid for 5 minutes and allows 5 tries.
A phone gets at most one SMS per minute and 10 in any 24 hours. Codes are stored only as
HMAC-SHA256 digests keyed by a server secret. A new account gets its name and a one-time
activation code by SMS, valid for 72 hours, with which the user sets a password. No
password is ever sent by SMS, and there is no default password.

Every function is pure: the caller passes the time (``now``), random bytes from
``secrets.token_bytes`` and the server secret. Times must be all timezone-aware or all
naive, and aware UTC times are the safe choice.
"""

from __future__ import annotations

import base64
import datetime
import enum
import hashlib
import hmac
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Sequence

import attrs

__all__ = [
    "ACCOUNT_PREFIX",
    "ACTIVATION_LIFETIME",
    "API_KEY_RANDOM_BYTES",
    "CODE_DIGITS",
    "CODE_LIFETIME",
    "CODE_MAX_TRIES",
    "CODE_PURPOSES",
    "CODE_RANDOM_BYTES",
    "IDLE_TIMEOUT",
    "MIN_SECRET_BYTES",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "SALT_BYTES",
    "SENDS_PER_DAY",
    "SEND_INTERVAL",
    "CodeResult",
    "SendDecision",
    "StoredCode",
    "account_name",
    "api_key_digest",
    "api_key_matches",
    "api_key_prefix",
    "check_code",
    "code_digest",
    "code_format_problem",
    "code_message",
    "hash_password",
    "issue_code",
    "may_send",
    "needs_rehash",
    "new_api_key",
    "new_code",
    "normalise_phone",
    "password_problems",
    "phone_problems",
    "session_expired",
    "tries_left",
    "verify_password",
]

Message = tuple[str, str]  # (Chinese, English)

# --- One-time codes -------------------------------------------------------------------

CODE_DIGITS = 6
CODE_LIFETIME = datetime.timedelta(minutes=5)
CODE_MAX_TRIES = 5
ACTIVATION_LIFETIME = datetime.timedelta(hours=72)
CODE_PURPOSES = frozenset({"login", "activation", "phone_change"})

# Random bytes to pass to new_code. It reads 4 bytes per draw and rejects a draw with
# probability below 0.03 %, so 16 bytes run out with probability below 1e-14.
CODE_RANDOM_BYTES = 16

# Shortest server secret that code_digest accepts, so that an unset secret (b"") fails
# loudly instead of producing digests that anyone can compute.
MIN_SECRET_BYTES = 16


def new_code(random_bytes: bytes, digits: int = CODE_DIGITS) -> str:
    """Draw a code of ``digits`` decimal digits, every code equally likely, from ``random_bytes``.

    The bytes are read in chunks, each a big-endian integer one byte wider than
    10**digits needs. A chunk at or above the largest multiple of 10**digits that fits
    is skipped, so the remainder modulo 10**digits has no bias. Pass
    ``secrets.token_bytes(CODE_RANDOM_BYTES)``. Raises ValueError when every chunk was
    skipped or ``random_bytes`` is shorter than one chunk.

    >>> new_code(bytes.fromhex("0001e240") + bytes(12))
    '123456'
    >>> new_code(bytes.fromhex("ffffffff") + bytes.fromhex("0001e240"))
    '123456'
    """
    if digits < 1:
        raise ValueError(f"digits must be at least 1, not {digits}")
    modulus = 10**digits
    chunk_size = (modulus.bit_length() + 7) // 8 + 1
    if len(random_bytes) < chunk_size:
        raise ValueError(f"new_code needs at least {chunk_size} random bytes, got {len(random_bytes)}")

    limit = (256**chunk_size // modulus) * modulus
    for start in range(0, len(random_bytes) - chunk_size + 1, chunk_size):
        value = int.from_bytes(random_bytes[start : start + chunk_size], "big")
        if value < limit:
            return f"{value % modulus:0{digits}d}"
    raise ValueError(f"all {len(random_bytes)} random bytes were rejected. Pass {CODE_RANDOM_BYTES} or more fresh bytes")


def code_digest(key: bytes, *, purpose: str, phone: str, code: str) -> str:
    """Compute the HMAC-SHA256 hex digest under which a code is stored.

    The digest covers purpose and phone as well as the code, so a login code cannot
    be used to activate an account or confirm another phone. ``key`` is the server
    secret, at least ``MIN_SECRET_BYTES`` long.

    >>> key = b"k" * 32
    >>> login = code_digest(key, purpose="login", phone="13800138000", code="123456")
    >>> len(login), login == code_digest(key, purpose="activation", phone="13800138000", code="123456")
    (64, False)
    """
    if purpose not in CODE_PURPOSES:
        raise ValueError(f"invalid code purpose {purpose!r}: expected one of {sorted(CODE_PURPOSES)}")
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the server secret is too short ({len(key)} bytes): set one of at least {MIN_SECRET_BYTES} random bytes")
    # JSON keeps the three fields apart whatever characters they contain.
    message = json.dumps([purpose, phone, code]).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@attrs.frozen
class StoredCode:
    """A one-time code as the server stores it: the digest, never the code itself."""

    digest: str
    purpose: str
    phone: str
    issued_at: datetime.datetime
    tries: int = 0  # wrong entries so far
    used: bool = False
    lifetime: datetime.timedelta = CODE_LIFETIME


def issue_code(
    random_bytes: bytes, *, key: bytes, purpose: str, phone: str, now: datetime.datetime
) -> tuple[str, StoredCode]:
    """Draw a new code and return it for the SMS together with the record to store.

    Activation codes are valid for ``ACTIVATION_LIFETIME`` and the others for
    ``CODE_LIFETIME``.

    >>> now = datetime.datetime(2025, 10, 15, 9, 0, tzinfo=datetime.timezone.utc)
    >>> code, stored = issue_code(bytes(16), key=b"k" * 32, purpose="activation", phone="13800138000", now=now)
    >>> code, stored.lifetime
    ('000000', datetime.timedelta(days=3))
    """
    code = new_code(random_bytes)
    lifetime = ACTIVATION_LIFETIME if purpose == "activation" else CODE_LIFETIME
    digest = code_digest(key, purpose=purpose, phone=phone, code=code)
    return code, StoredCode(digest, purpose, phone, now, lifetime=lifetime)


class CodeResult(str, enum.Enum):
    """The outcome of checking an entered code."""

    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"  # CODE_MAX_TRIES wrong entries: even the right code is rejected
    USED = "used"  # accepted once already: a replay


def _clean_entered_code(code: str) -> str:
    """Fold full-width digits to ASCII and drop spaces, as phones and input methods type them."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def code_format_problem(code: str) -> Message | None:
    """Return the (Chinese, English) message when ``code`` cannot be a code, or None.

    A code is CODE_DIGITS digits after folding full-width digits and dropping spaces.
    Callers reject other input before check_code, so a typing slip costs no try.

    >>> code_format_problem("12 34 56") is None
    True
    >>> code_format_problem("12ab56")[0]
    '验证码应为 6 位数字。'
    """
    cleaned = _clean_entered_code(code)
    if len(cleaned) == CODE_DIGITS and cleaned.isascii() and cleaned.isdigit():
        return None
    return (f"验证码应为 {CODE_DIGITS} 位数字。", f"The code must be {CODE_DIGITS} digits.")


def check_code(
    stored: StoredCode, code: str, *, key: bytes, now: datetime.datetime
) -> tuple[CodeResult, StoredCode]:
    """Check an entered code and return the result with the record to store back.

    A used code returns USED, a code with ``CODE_MAX_TRIES`` wrong entries returns
    LOCKED, and a code at or past ``issued_at + lifetime`` returns EXPIRED, all three
    whatever was entered and with the record unchanged. Otherwise a match returns OK
    and marks the record used, and anything else returns WRONG and counts a try. The
    digests are compared in constant time.

    >>> now = datetime.datetime(2025, 10, 15, 9, 0, tzinfo=datetime.timezone.utc)
    >>> code, stored = issue_code(bytes(16), key=b"k" * 32, purpose="login", phone="13800138000", now=now)
    >>> result, stored = check_code(stored, "000001", key=b"k" * 32, now=now)
    >>> result, stored.tries
    (<CodeResult.WRONG: 'wrong'>, 1)
    >>> result, stored = check_code(stored, code, key=b"k" * 32, now=now)
    >>> result, stored.used
    (<CodeResult.OK: 'ok'>, True)
    >>> check_code(stored, code, key=b"k" * 32, now=now)[0]
    <CodeResult.USED: 'used'>
    """
    if stored.used:
        return CodeResult.USED, stored
    if stored.tries >= CODE_MAX_TRIES:
        return CodeResult.LOCKED, stored
    if now >= stored.issued_at + stored.lifetime:
        return CodeResult.EXPIRED, stored

    entered = code_digest(key, purpose=stored.purpose, phone=stored.phone, code=_clean_entered_code(code))
    if hmac.compare_digest(entered, stored.digest):
        return CodeResult.OK, attrs.evolve(stored, used=True)
    return CodeResult.WRONG, attrs.evolve(stored, tries=stored.tries + 1)


def tries_left(stored: StoredCode) -> int:
    """Return how many more wrong entries the code allows.

    >>> tries_left(StoredCode("", "login", "13800138000", datetime.datetime(2025, 1, 1), tries=3))
    2
    """
    return max(CODE_MAX_TRIES - stored.tries, 0)


def code_message(result: CodeResult, stored: StoredCode) -> Message | None:
    """Return the (Chinese, English) message for a rejected code, or None for OK.

    ``stored`` is the record that check_code returned.

    >>> stored = StoredCode("", "login", "13800138000", datetime.datetime(2025, 1, 1), tries=4)
    >>> code_message(CodeResult.WRONG, stored)[0]
    '验证码错误，还可以再试 1 次。'
    """
    if result is CodeResult.OK:
        return None
    if result is CodeResult.WRONG:
        left = tries_left(stored)
        if left:
            tries = "try" if left == 1 else "tries"
            return (f"验证码错误，还可以再试 {left} 次。", f"Wrong code. {left} more {tries} allowed.")
        return (
            f"验证码错误，已达到 {CODE_MAX_TRIES} 次上限，请重新获取验证码。",
            f"Wrong code, and that was the last of {CODE_MAX_TRIES} tries. Request a new code.",
        )
    if result is CodeResult.EXPIRED:
        return ("验证码已过期，请重新获取。", "The code has expired. Request a new code.")
    if result is CodeResult.LOCKED:
        return (
            f"验证码已输错 {CODE_MAX_TRIES} 次，已失效，请重新获取。",
            f"The code was entered wrongly {CODE_MAX_TRIES} times and is locked. Request a new code.",
        )
    return ("验证码已使用过，请重新获取。", "The code has already been used. Request a new code.")


# --- Send limits ----------------------------------------------------------------------

SEND_INTERVAL = datetime.timedelta(minutes=1)
SENDS_PER_DAY = 10
_DAY = datetime.timedelta(hours=24)


def _wait_text(wait: datetime.timedelta) -> Message:
    """Write a waiting time, rounded up, as (Chinese, English) text."""
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return (f"{seconds} 秒", f"{seconds} s")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return (f"{minutes} 分钟", f"{minutes} min")
    hours, minutes = divmod(minutes, 60)
    return (f"{hours} 小时 {minutes} 分钟", f"{hours} h {minutes} min")


@attrs.frozen
class SendDecision:
    """The decision whether an SMS may be sent to a phone now, and if not, why and for how long."""

    allowed: bool
    reason: str | None = None  # "interval" or "daily" when not allowed
    retry_after: datetime.timedelta | None = None  # the earliest moment a send is allowed, from now

    def message(self) -> Message | None:
        """Return the (Chinese, English) message for a rejected send, or None when allowed.

        >>> SendDecision(False, "interval", datetime.timedelta(seconds=42)).message()[0]
        '发送过于频繁，请 42 秒后再试。'
        """
        if self.allowed or self.retry_after is None:
            return None
        wait_zh, wait_en = _wait_text(self.retry_after)
        if self.reason == "daily":
            return (
                f"该手机号 24 小时内已收到 {SENDS_PER_DAY} 条验证码，请 {wait_zh}后再试。",
                f"This phone has received {SENDS_PER_DAY} codes in 24 hours. Try again in {wait_en}.",
            )
        return (f"发送过于频繁，请 {wait_zh}后再试。", f"Codes are sent at most once a minute. Try again in {wait_en}.")


def may_send(previous_sends: Sequence[datetime.datetime], *, now: datetime.datetime) -> SendDecision:
    """Decide whether a code may be sent to a phone now, given the times of its earlier sends.

    A send is rejected within ``SEND_INTERVAL`` after the last one, and when the 24 hours
    up to ``now`` already contain ``SENDS_PER_DAY`` sends. ``retry_after`` is then the exact
    time until both limits allow a send. Sends stamped after ``now`` (a clock set back)
    count as recent. When both limits apply, the reason is "daily".

    >>> now = datetime.datetime(2025, 10, 15, 9, 0)
    >>> may_send([now - datetime.timedelta(seconds=20)], now=now)
    SendDecision(allowed=False, reason='interval', retry_after=datetime.timedelta(seconds=40))
    >>> may_send([now - datetime.timedelta(minutes=1)], now=now).allowed
    True
    """
    window_start = now - _DAY
    recent = sorted(sent for sent in previous_sends if sent > window_start)
    if not recent:
        return SendDecision(True)

    interval_wait = recent[-1] + SEND_INTERVAL - now
    # Sends at or before recent[-SENDS_PER_DAY] must leave the 24-hour window first.
    daily_wait = recent[-SENDS_PER_DAY] + _DAY - now if len(recent) >= SENDS_PER_DAY else None

    if daily_wait is not None:
        return SendDecision(False, "daily", max(daily_wait, interval_wait))
    if interval_wait > datetime.timedelta(0):
        return SendDecision(False, "interval", interval_wait)
    return SendDecision(True)


# --- Sessions -------------------------------------------------------------------------

IDLE_TIMEOUT = datetime.timedelta(minutes=30)


def session_expired(
    last_seen: datetime.datetime, *, now: datetime.datetime, timeout: datetime.timedelta = IDLE_TIMEOUT
) -> bool:
    """Return True when a session has been idle for longer than ``timeout``.

    >>> last = datetime.datetime(2025, 10, 15, 9, 0)
    >>> session_expired(last, now=last + datetime.timedelta(minutes=30))
    False
    >>> session_expired(last, now=last + datetime.timedelta(minutes=30, seconds=1))
    True
    """
    return now - last_seen > timeout


# --- Passwords ------------------------------------------------------------------------

SALT_BYTES = 16
PASSWORD_MIN_LENGTH = 10
# scrypt cost does not grow with the password length, so this limit only bounds request size.
PASSWORD_MAX_LENGTH = 128

# scrypt cost for new hashes: about 16 MiB of memory per hash (128 * r * n bytes).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_LENGTH = 32
# Stored hashes whose parameters need more memory than this are rejected as invalid,
# so a tampered row cannot make the server allocate without bound.
_SCRYPT_MAX_MEMORY = 256 * 1024 * 1024


def _scrypt_memory(n: int, r: int, p: int) -> int:
    """Return the memory that OpenSSL's scrypt checks against maxmem for these parameters, plus 1 MiB."""
    return 128 * r * (n + p + 2) + 1024 * 1024


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # NFKC, so that full-width letters and digits typed with a Chinese input method
    # match their ASCII forms.
    normalised = unicodedata.normalize("NFKC", password)
    return hashlib.scrypt(
        normalised.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_scrypt_memory(n, r, p)
    )


def hash_password(password: str, *, salt: bytes) -> str:
    """Hash a password with scrypt into ``scrypt$n$r$p$salt_b64$hash_b64``.

    Pass ``salt=secrets.token_bytes(SALT_BYTES)``. The password is NFKC-normalised first.

    >>> stored = hash_password("Ｓxpt-2025-秋季", salt=bytes(16))
    >>> stored.split("$")[:4]
    ['scrypt', '16384', '8', '1']
    >>> stored == hash_password("Sxpt-2025-秋季", salt=bytes(16))
    True
    """
    if len(salt) < SALT_BYTES:
        raise ValueError(f"the salt is too short ({len(salt)} bytes): pass at least {SALT_BYTES} random bytes")
    derived = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH)
    salt_text = base64.b64encode(salt).decode("ascii")
    hash_text = base64.b64encode(derived).decode("ascii")
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt_text}${hash_text}"


def _parse_password_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash into n, r, p, salt and hash, or raise ValueError when it is malformed."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(part.isdigit() for part in parts[1:4]):
        raise ValueError("invalid password hash: expected scrypt$n$r$p$salt$hash")
    n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or _scrypt_memory(n, r, p) > _SCRYPT_MAX_MEMORY:
        raise ValueError(f"invalid password hash: unsupported scrypt parameters n={n}, r={r}, p={p}")
    try:
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError as error:
        raise ValueError("invalid password hash: salt or hash is not base64") from error
    if not expected:
        raise ValueError("invalid password hash: the hash is empty")
    return n, r, p, salt, expected


def verify_password(password: str, stored: str) -> bool:
    """Return True when ``password`` matches the stored hash, compared in constant time.

    Raises ValueError when ``stored`` is not a hash that hash_password wrote.

    >>> stored = hash_password("Sxpt-2025-秋季", salt=bytes(16))
    >>> verify_password("Sxpt-2025-秋季", stored), verify_password("sxpt-2025-秋季", stored)
    (True, False)
    """
    n, r, p, salt, expected = _parse_password_hash(stored)
    derived = _derive(password, salt, n, r, p, len(expected))
    return hmac.compare_digest(derived, expected)


def needs_rehash(stored: str) -> bool:
    """Return True when a stored hash used other scrypt parameters than new hashes use.

    The server rehashes the password at the next successful login.

    >>> needs_rehash(hash_password("Sxpt-2025-秋季", salt=bytes(16)))
    False
    """
    n, r, p, _salt, expected = _parse_password_hash(stored)
    return (n, r, p, len(expected)) != (SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH)


_RUN_LENGTH = 5  # a run of this many repeated or consecutive characters is rejected
_MIN_DISTINCT = 5


def _character_classes(password: str) -> int:
    """Count the classes among upper case, lower case, digits and other characters."""
    classes = set()
    for char in password:
        if char.isupper():
            classes.add("upper")
        elif char.islower():
            classes.add("lower")
        elif char.isdigit():
            classes.add("digit")
        else:
            classes.add("other")
    return len(classes)


def _steps_in_sequence(previous: str, current: str, step: int) -> bool:
    """Return True when ``current`` follows ``previous`` by ``step`` code points in a run.

    A step of 0 is a repeated character of any kind. Steps of 1 and -1 count only
    between two ASCII digits or two ASCII letters, as in 12345 or abcde.
    """
    if ord(current) - ord(previous) != step:
        return False
    if step == 0:
        return True
    both_digits = previous.isascii() and current.isascii() and previous.isdigit() and current.isdigit()
    both_letters = previous.isascii() and current.isascii() and previous.isalpha() and current.isalpha()
    return both_digits or both_letters


def _longest_run(password: str) -> int:
    """Return the length of the longest run of repeated, ascending or descending characters."""
    lowered = password.lower()
    longest = min(len(lowered), 1)
    for step in (-1, 0, 1):
        length = 1
        for previous, current in itertools.pairwise(lowered):
            length = length + 1 if _steps_in_sequence(previous, current, step) else 1
            longest = max(longest, length)
    return longest


def password_problems(password: str, *, account: str | None = None, phone: str | None = None) -> list[Message]:
    """List what the password policy rejects in ``password``, as (Chinese, English) messages.

    The checks run on the NFKC form, as hash_password stores it. A password needs 10 to
    128 characters, at least 3 of upper case, lower case, digits and other characters,
    and at least 5 different characters. It must not contain control characters, start
    or end with a space, contain 5 repeated or consecutive characters (aaaaa, 12345,
    edcba), or contain the account name or the phone number when these are given.

    >>> password_problems("Sxpt-2025-秋季")
    []
    >>> [english for _, english in password_problems("abcdef1234")]
    ['Use at least 3 of: upper-case letters, lower-case letters, digits, other characters such as symbols.', \
'Do not use 5 or more repeated or consecutive characters, such as aaaaa, 12345 or edcba.']
    """
    text = unicodedata.normalize("NFKC", password)
    problems: list[Message] = []

    if len(text) < PASSWORD_MIN_LENGTH:
        problems.append((
            f"密码至少需要 {PASSWORD_MIN_LENGTH} 个字符，当前只有 {len(text)} 个。",
            f"The password has {len(text)} characters, but needs at least {PASSWORD_MIN_LENGTH}.",
        ))
    if len(text) > PASSWORD_MAX_LENGTH:
        problems.append((
            f"密码最多 {PASSWORD_MAX_LENGTH} 个字符，当前有 {len(text)} 个。",
            f"The password has {len(text)} characters, but the maximum is {PASSWORD_MAX_LENGTH}.",
        ))
    if any(unicodedata.category(char).startswith("C") for char in text):
        problems.append(("密码不能包含控制字符或不可见字符。", "The password must not contain control or invisible characters."))
    if text != text.strip():
        problems.append(("密码不能以空格开头或结尾。", "The password must not start or end with a space."))

    if text and _character_classes(text) < 3:
        problems.append((
            "密码需包含大写字母、小写字母、数字、其他字符（如符号）中的至少 3 类。",
            "Use at least 3 of: upper-case letters, lower-case letters, digits, other characters such as symbols.",
        ))
    if text and len(set(text)) < _MIN_DISTINCT:
        problems.append((
            f"密码至少需要 {_MIN_DISTINCT} 个不同的字符。",
            f"The password needs at least {_MIN_DISTINCT} different characters.",
        ))
    if _longest_run(text) >= _RUN_LENGTH:
        problems.append((
            f"密码不能包含 {_RUN_LENGTH} 个及以上重复或连续的字符，如 aaaaa、12345、edcba。",
            f"Do not use {_RUN_LENGTH} or more repeated or consecutive characters, such as aaaaa, 12345 or edcba.",
        ))

    if account and account.lower() in text.lower():
        problems.append(("密码不能包含账号名。", "The password must not contain the account name."))
    if phone and phone in text:
        problems.append(("密码不能包含手机号。", "The password must not contain the phone number."))
    return problems


# --- Account names --------------------------------------------------------------------

ACCOUNT_PREFIX = "sxpt"
MAX_ACCOUNT_SEQUENCE = 999
_UNIT_CODE = re.compile(r"[0-9A-Za-z]{1,20}")


def account_name(unit_code: str, sequence: int) -> str:
    """Build an account name: ``sxpt``, the unit's code, and the sequence as 3 digits.

    ``sequence`` counts the accounts created for that unit code, from 1 to
    ``MAX_ACCOUNT_SEQUENCE``. sxpt_core.access.unit_code returns the code of a unit.

    >>> account_name("4133010001", 1)
    'sxpt4133010001001'
    """
    if not _UNIT_CODE.fullmatch(unit_code):
        raise ValueError(f"invalid unit code {unit_code!r}: expected 1 to 20 ASCII letters or digits")
    if not 1 <= sequence <= MAX_ACCOUNT_SEQUENCE:
        raise ValueError(f"account sequence {sequence} is outside 1 to {MAX_ACCOUNT_SEQUENCE}")
    return f"{ACCOUNT_PREFIX}{unit_code}{sequence:03d}"


# --- API keys -------------------------------------------------------------------------

# Random bytes to pass to new_api_key: 5 for the prefix and the rest, 216 bits or more,
# for the secret.
API_KEY_RANDOM_BYTES = 32
_API_KEY_PREFIX_BYTES = 5
# Prefix and secret are lower-case base32, so they never contain the separator "_".
_API_KEY = re.compile(r"sxpt_([a-z2-7]{8})_([a-z2-7]{40,})")


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def new_api_key(random_bytes: bytes) -> tuple[str, str]:
    """Build an API key ``sxpt_<prefix>_<secret>`` from random bytes, and return it with its prefix.

    The server stores the prefix to find the key and api_key_digest of the whole key,
    and shows the key once. Pass ``secrets.token_bytes(API_KEY_RANDOM_BYTES)``.

    >>> key, prefix = new_api_key(bytes(range(32)))
    >>> prefix, key.startswith("sxpt_aaaqeaye_")
    ('aaaqeaye', True)
    """
    if len(random_bytes) < API_KEY_RANDOM_BYTES:
        raise ValueError(f"new_api_key needs at least {API_KEY_RANDOM_BYTES} random bytes, got {len(random_bytes)}")
    prefix = _base32(random_bytes[:_API_KEY_PREFIX_BYTES])
    secret = _base32(random_bytes[_API_KEY_PREFIX_BYTES:])
    return f"sxpt_{prefix}_{secret}", prefix


def api_key_prefix(key: str) -> str | None:
    """Return the prefix of a presented API key, or None when it is not shaped like one.

    >>> api_key_prefix(new_api_key(bytes(range(32)))[0])
    'aaaqeaye'
    >>> api_key_prefix("Bearer abc") is None
    True
    """
    match = _API_KEY.fullmatch(key)
    return match.group(1) if match else None


def api_key_digest(key: str) -> str:
    """Return the SHA-256 hex digest under which an API key is stored.

    A fast hash is enough because keys carry at least 216 random bits, which no
    guessing can cover.

    >>> len(api_key_digest("sxpt_aaaqeaye_x"))
    64
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_matches(key: str, digest: str) -> bool:
    """Return True when ``key`` hashes to the stored ``digest``, compared in constant time.

    >>> key, _ = new_api_key(bytes(range(32)))
    >>> api_key_matches(key, api_key_digest(key)), api_key_matches(key + "x", api_key_digest(key))
    (True, False)
    """
    return hmac.compare_digest(api_key_digest(key), digest)


# --- Phones ---------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_COUNTRY_PREFIX = re.compile(r"(?:\+86|0086|86)(?=[0-9]{11}$)")


def normalise_phone(text: str) -> str:
    """Fold full-width digits and drop spaces, hyphens and a leading +86, 0086 or 86.

    The result still needs phone_problems: this only removes what people add around
    the 11 digits.

    >>> normalise_phone("+86 138-0013-8000")
    '13800138000'
    """
    folded = unicodedata.normalize("NFKC", text)
    digits = "".join(char for char in folded if not char.isspace() and char not in "-()")
    return _COUNTRY_PREFIX.sub("", digits, count=1)


def phone_problems(phone: str) -> list[Message]:
    """List why ``phone`` is not a mainland China mobile number, as (Chinese, English) messages.

    A valid number has 11 ASCII digits and starts with 13 to 19. Pass the number
    through normalise_phone first to accept spaces, hyphens and +86.

    >>> phone_problems("13800138000")
    []
    >>> phone_problems("12800138000")[0][1]
    'Invalid mobile number 12800138000: expected 11 digits starting with 13 to 19.'
    """
    if not phone:
        return [("请填写手机号。", "The mobile number is missing.")]
    if _MOBILE.fullmatch(phone):
        return []
    if normalise_phone(phone) != phone and _MOBILE.fullmatch(normalise_phone(phone)):
        return [(
            f"手机号 {phone} 格式不对：请只填 11 位数字，去掉空格、短横线和 +86。",
            f"Invalid mobile number {phone}: enter the 11 digits only, without spaces, hyphens or +86.",
        )]
    return [(
        f"手机号 {phone} 无效：应为 11 位中国大陆手机号，以 13 至 19 开头。",
        f"Invalid mobile number {phone}: expected 11 digits starting with 13 to 19.",
    )]
