"""SMS gateways: how one-time codes reach a phone.

``SmsGateway`` is the interface. ``DevelopmentGateway`` sends nothing: it logs one line
and appends the message to ``outbox.jsonl`` in the instance folder, so a developer (and a
test) can read the code. ``HttpGateway`` posts each message to a provider's URL, with a
request body built from the ``SMS_HTTP_TEMPLATE`` setting.

No SMS ever carries a password. Apart from the development gateway's own line, nothing
that the server logs contains a code or a full phone number.
"""

from __future__ import annotations

import json
import logging
import os
import string
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
from flask import Flask

__all__ = [
    "DevelopmentGateway",
    "HttpGateway",
    "SmsError",
    "SmsGateway",
    "SmsMessage",
    "gateway_from_config",
    "mask_phone",
    "read_outbox",
]

logger = logging.getLogger(__name__)


def mask_phone(phone: str) -> str:
    """Return the phone number with its middle four digits hidden, for logs and lists.

    >>> mask_phone("13800138000")
    '138****8000'
    """
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[7:]


@attrs.frozen
class SmsMessage:
    """One SMS: the number, the purpose of its code, the text and the values in it."""

    phone: str
    purpose: str
    text: str
    code: str
    account: str


class SmsError(Exception):
    """The gateway could not hand the message over; the message does not contain the code."""


class SmsGateway(Protocol):
    """Something that delivers an SMS or raises ``SmsError``."""

    def send(self, message: SmsMessage) -> None: ...


class DevelopmentGateway:
    """Write messages to the log and to a JSON Lines outbox instead of sending them.

    Only for development and tests: the log line and the outbox contain the code.
    """

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self._lock = threading.Lock()

    def send(self, message: SmsMessage) -> None:
        line = json.dumps(attrs.asdict(message), ensure_ascii=False)
        with self._lock:
            self.outbox.parent.mkdir(parents=True, exist_ok=True)
            # The outbox contains live codes: readable by the owner only.
            descriptor = os.open(self.outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as file:
                file.write(line + "\n")
        logger.info("development SMS to %s (%s): %s", mask_phone(message.phone), message.purpose, message.text)


def read_outbox(path: Path) -> list[dict[str, str]]:
    """Return the messages in a development outbox, oldest first."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def _json_string_content(value: str) -> str:
    """Escape ``value`` for use between the quotes of a JSON string."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


class HttpGateway:
    """POST each message to an SMS provider.

    The body is ``template`` (a ``string.Template``) with ``$phone``, ``$text``,
    ``$code``, ``$purpose`` and ``$account`` replaced by their values escaped for a JSON
    string. A provider that works with template ids can take ``$code`` and ``$account`` alone.
    Any 2xx status counts as delivered.
    """

    def __init__(
        self,
        url: str,
        template: str,
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
        timeout: float = 10.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"SMS_HTTP_URL must start with http:// or https://, not {url[:20]!r}")
        self.url = url
        self.template = string.Template(template)
        self.headers = {"Content-Type": content_type, **(headers or {})}
        self.timeout = timeout

    def body(self, message: SmsMessage) -> bytes:
        """Return the request body for ``message``."""
        values = {name: _json_string_content(value) for name, value in attrs.asdict(message).items()}
        return self.template.substitute(values).encode("utf-8")

    def send(self, message: SmsMessage) -> None:
        request = urllib.request.Request(self.url, data=self.body(message), headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise SmsError(f"the SMS provider returned HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SmsError(f"the SMS provider could not be reached: {reason}") from None
        if not 200 <= status < 300:
            raise SmsError(f"the SMS provider returned HTTP {status}")


def gateway_from_config(app: Flask) -> SmsGateway:
    """Build the gateway that the ``SMS_GATEWAY`` setting names, or return the object it holds."""
    config: dict[str, Any] = app.config
    kind = config["SMS_GATEWAY"]
    if not isinstance(kind, str):
        gateway: SmsGateway = kind
        return gateway
    if kind == "dev":
        outbox = Path(config["SMS_OUTBOX"])
        if not outbox.is_absolute():
            outbox = Path(app.instance_path) / outbox
        return DevelopmentGateway(outbox)
    if kind == "http":
        if not config.get("SMS_HTTP_URL"):
            raise ValueError("SMS_GATEWAY is http but SMS_HTTP_URL is not set")
        return HttpGateway(
            config["SMS_HTTP_URL"],
            config["SMS_HTTP_TEMPLATE"],
            headers=config["SMS_HTTP_HEADERS"],
            content_type=config["SMS_HTTP_CONTENT_TYPE"],
            timeout=float(config["SMS_HTTP_TIMEOUT"]),
        )
    raise ValueError(f"SMS_GATEWAY must be dev or http, not {kind!r}")
