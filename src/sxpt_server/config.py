"""Settings of the reference server: defaults, the instance folder and the secret key.

Settings are read in this order, later ones winning:

1. ``DEFAULTS`` below;
2. ``config.py`` in the instance folder (Python assignments in capitals, as in Flask);
3. environment variables ``SXPT_<NAME>``; values are parsed as JSON where they can be,
   so ``SXPT_SESSION_COOKIE_SECURE=true`` is a boolean and ``SXPT_SMS_GATEWAY=http`` a string;
4. the ``test_config`` mapping given to ``create_app``.

The instance folder is ``SXPT_INSTANCE_PATH`` or ``./instance``. It contains the database,
the secret key, the development SMS outbox and ``config.py``; none of it is shipped.
"""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS", "INSTANCE_ENV", "SECRET_KEY_FILE", "check_settings", "instance_path", "load_secret_key",
           "utc_now"]

INSTANCE_ENV = "SXPT_INSTANCE_PATH"
SECRET_KEY_FILE = "secret_key"


def utc_now() -> datetime.datetime:
    """Return the current time in UTC; the default of the ``NOW`` setting."""
    return datetime.datetime.now(datetime.timezone.utc)


DEFAULTS: dict[str, Any] = {
    # The database: a SQLite file (a path, relative to the instance folder unless
    # absolute, or a URL sqlite:///relative/path or sqlite:////absolute/path), or a
    # PostgreSQL database, postgresql://user@host:port/name (needs the "postgresql" extra).
    "DATABASE": "sxpt.sqlite3",
    # Connections each server process keeps open to PostgreSQL, at most.
    "DATABASE_POOL_SIZE": 10,
    # The clock. Tests replace it with a callable they can move forward.
    "NOW": utc_now,
    # "dev" writes messages to the log and to OUTBOX; "http" posts them to SMS_HTTP_URL.
    "SMS_GATEWAY": "dev",
    "SMS_OUTBOX": "outbox.jsonl",
    "SMS_HTTP_URL": None,
    # Body of the POST request, a string.Template. $phone, $text, $code, $purpose and
    # $account are replaced by their values escaped for a JSON string.
    "SMS_HTTP_TEMPLATE": '{"phone": "$phone", "text": "$text"}',
    "SMS_HTTP_CONTENT_TYPE": "application/json; charset=utf-8",
    # Extra request headers, for example {"Authorization": "Bearer …"} for the provider.
    "SMS_HTTP_HEADERS": {},
    "SMS_HTTP_TIMEOUT": 10.0,
    # Text of each SMS, a str.format template. {code} and {account} are filled in.
    "SMS_TEXT_LOGIN": "【实习公共服务】登录验证码 {code}，5 分钟内有效。请勿告诉他人。",
    "SMS_TEXT_ACTIVATION": "【实习公共服务】已为您创建账号 {account}。激活码 {code}，72 小时内有效，请用它设置密码。",
    "SMS_TEXT_PHONE_CHANGE": "【实习公共服务】验证码 {code}，用于将账号 {account} 绑定到本手机号，5 分钟内有效。",
    # The session cookie contains a random session id only, because the session lives in the database.
    "SESSION_COOKIE_NAME": "sxpt_session",
    # Set to true behind HTTPS. It stays false by default so that `sxpt-server serve` on
    # 127.0.0.1 over plain HTTP works for a first try.
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Flask-Limiter: per client address on the login and SMS routes, plus per account name.
    # The per-address limits are a flood guard, high enough for a whole campus behind one
    # NAT address. The rate-limit headers are set by sxpt on 429 responses only.
    "RATELIMIT_ENABLED": True,
    # "database://" keeps the counters in the server's database, shared by every process.
    "RATELIMIT_STORAGE_URI": "database://",
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_LOGIN": "60 per minute;600 per hour",
    "RATELIMIT_SEND": "30 per minute;300 per hour",
    "RATELIMIT_PER_ACCOUNT": "20 per hour",
    # Maximum and default lifetime of an API key, in days.
    "API_KEY_MAX_DAYS": 730,
    "API_KEY_DEFAULT_DAYS": 365,
    # Number of reverse proxies in front of the server whose X-Forwarded-For is trusted.
    "PROXY_COUNT": 0,
    # Largest request body, in bytes: a 50 MB workbook (the reader's own limit) with room for the form.
    "MAX_CONTENT_LENGTH": 52 * 1024 * 1024,
    # Most data rows in one upload of records, a roster or a plan.
    "UPLOAD_MAX_ROWS": 200_000,
    # Language of messages when a request does not ask with ?lang=: "zh" or "en".
    "LANGUAGE": "zh",
    # How host organisations (实习单位) are verified: "code" checks the credit code's
    # characters and check character only; "directory" looks code and name up in
    # UNIT_DIRECTORY; "http" sends each unit to the service at UNIT_HTTP_URL.
    "UNIT_VERIFIER": "code",
    # CSV file of known units (统一社会信用代码, 单位名称), relative to the instance folder unless absolute.
    "UNIT_DIRECTORY": "units.csv",
    # The verification service of the "http" verifier.
    "UNIT_HTTP_URL": None,
    # "GET" sends code and name as query parameters; "POST" sends them as a JSON body.
    "UNIT_HTTP_METHOD": "POST",
    # Extra request headers for the service, for example {"Authorization": "Bearer …"}.
    "UNIT_HTTP_HEADERS": {},
    # Seconds to wait for the service before the attempt counts as failed and is retried.
    "UNIT_HTTP_TIMEOUT": 10.0,
    # Run the unit worker in a daemon thread of the server process. Meant for
    # development; in production run `sxpt-server worker` as its own process.
    "UNIT_WORKER_THREAD": False,
    # Seconds the worker waits between polls of the queue when nothing is due.
    "UNIT_WORKER_INTERVAL": 5.0,
    # Number of checks that the worker claims at once.
    "UNIT_WORKER_BATCH": 50,
    # Delay before the first retry of a check whose verifier was unavailable, in seconds.
    # Each further failure doubles it, up to UNIT_RETRY_MAX_SECONDS.
    "UNIT_RETRY_BASE_SECONDS": 60,
    "UNIT_RETRY_MAX_SECONDS": 6 * 3600,
    # Seconds a worker keeps its claim on a check. After that, another worker may claim it.
    # Keep it well above UNIT_HTTP_TIMEOUT times UNIT_WORKER_BATCH.
    "UNIT_CLAIM_SECONDS": 900,
}


def instance_path(test_config: dict[str, Any] | None = None) -> Path:
    """Return the absolute path of the instance folder.

    ``test_config["INSTANCE_PATH"]`` wins over ``SXPT_INSTANCE_PATH``, which wins over
    ``./instance`` in the working folder.
    """
    if test_config and test_config.get("INSTANCE_PATH"):
        return Path(test_config["INSTANCE_PATH"]).resolve()
    return Path(os.environ.get(INSTANCE_ENV) or "instance").resolve()


def load_secret_key(folder: Path) -> str:
    """Read the secret key from the instance folder, generating it on first start.

    The key is written to a temporary file of mode 0600 and then hard-linked into place,
    so two processes starting at once both read the complete key of whichever came first.
    """
    path = folder / SECRET_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{SECRET_KEY_FILE}.{secrets.token_hex(8)}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()

    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"the secret key in {path} is shorter than 32 characters; delete the file to regenerate it")
    return key


# Settings that must be whole numbers (with their smallest value) or booleans; checked at
# start-up so that a typing mistake in config.py or SXPT_* stops the server with its name
# instead of failing every request later.
_WHOLE_NUMBERS = {"DATABASE_POOL_SIZE": 1, "MAX_CONTENT_LENGTH": 1, "UPLOAD_MAX_ROWS": 1, "API_KEY_MAX_DAYS": 1, "API_KEY_DEFAULT_DAYS": 1,
                  "PROXY_COUNT": 0}
_BOOLEANS = ("RATELIMIT_ENABLED", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "UNIT_WORKER_THREAD")


def check_settings(config: dict[str, Any]) -> None:
    """Raise ``ConfigError`` naming the first setting whose value has the wrong type or range."""
    from sxpt_core.errors import ConfigError

    for name, smallest in _WHOLE_NUMBERS.items():
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
            raise ConfigError(f"设置 {name} 须为不小于 {smallest} 的整数，而不是 {value!r}。",
                              message_en=f"The setting {name} must be a whole number of at least {smallest}, "
                                         f"not {value!r}.")
    for name in _BOOLEANS:
        value = config.get(name)
        if not isinstance(value, bool):
            raise ConfigError(f"设置 {name} 须为 true 或 false（config.py 中写 True 或 False），而不是 {value!r}。",
                              message_en=f"The setting {name} must be true or false, not {value!r}.")
    database = config.get("DATABASE")
    if not isinstance(database, (str, os.PathLike)) or not str(database).strip():
        raise ConfigError(f"设置 DATABASE 须为 SQLite 文件路径或 postgresql:// 地址，而不是 {database!r}。",
                          message_en=f"The setting DATABASE must be a SQLite file path or a postgresql:// URL, "
                                     f"not {database!r}.")
    if config.get("LANGUAGE") not in ("zh", "en"):
        raise ConfigError(f"设置 LANGUAGE 须为 zh 或 en，而不是 {config.get('LANGUAGE')!r}。",
                          message_en=f"The setting LANGUAGE must be zh or en, not {config.get('LANGUAGE')!r}.")
