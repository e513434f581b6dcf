"""Unit verification (实习单位校验): verifiers and the worker that runs the queue.

Every record names its host organisation by credit code and registered name. The store
keeps one check per distinct (code, name) pair in the table ``unit_checks``. The worker
claims due checks, passes each to a verifier and stores the verdict. Then the records
that wait on that unit move on to 待审核 or 校验不通过 (``checks.refresh_unit_states``).

A verifier returns a ``Verdict`` or raises ``VerifierUnavailable`` when it cannot decide
now (a timeout, HTTP 5xx, a refused connection). Such a check stays 未校验 and is retried
with exponential back-off: ``UNIT_RETRY_BASE_SECONDS`` after the first failed attempt,
doubling each time up to ``UNIT_RETRY_MAX_SECONDS``. A check is never given up.

The ``UNIT_VERIFIER`` setting chooses the verifier:

- ``code``: ``CodeOnlyVerifier`` checks the characters and the check character only;
- ``directory``: ``DirectoryVerifier`` looks the unit up in a local CSV of known units;
- ``http``: ``HttpVerifier`` queries a verification service;
- an object with a ``verify`` method is used as it is (for tests and embedding).

Logs name checks by id and never contain unit names, record contents or phone numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import threading
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
from flask import Flask, current_app, has_app_context

from sxpt_core.codes import uscc
from sxpt_core.errors import ConfigError
from sxpt_core.review import UnitCheckState
from sxpt_core.rules.unit import NONE, normalise_unit_code
from sxpt_server import audit
from sxpt_server.checks import refresh_unit_states
from sxpt_server.clock import now as app_now
from sxpt_server.config import DEFAULTS
from sxpt_server.store import Store, get_store
from sxpt_server.store.records import UnitCheck

__all__ = [
    "BatchResult",
    "CodeOnlyVerifier",
    "DirectoryError",
    "DirectoryVerifier",
    "HttpVerifier",
    "Verdict",
    "Verifier",
    "VerifierUnavailable",
    "WorkerSettings",
    "init_app",
    "normalise_unit_name",
    "process_batch",
    "retry_delay",
    "run_due",
    "run_once",
    "run_worker",
    "start_worker_thread",
    "stop_worker_thread",
    "verifier_for",
    "verifier_from_config",
]

logger = logging.getLogger(__name__)

EXTENSION = "sxpt_units"
WORKER_ACTOR = "worker"

# Maximum length of a stored reason or error text, in characters.
REASON_MAX_LENGTH = 500
ERROR_MAX_LENGTH = 300


# --- verdicts and the verifier interface ---


@attrs.frozen
class Verdict:
    """The result of verifying one unit: passed, or failed with a reason in Chinese and English."""

    passed: bool
    reason: str | None = None
    reason_en: str | None = None

    @classmethod
    def failed(cls, reason: str, reason_en: str) -> Verdict:
        """Create a failed verdict with its reason."""
        return cls(False, reason, reason_en)

    @property
    def state(self) -> UnitCheckState:
        """The check state that this verdict gives."""
        return UnitCheckState.PASSED if self.passed else UnitCheckState.FAILED


class VerifierUnavailable(Exception):
    """The verifier cannot decide now (timeout, HTTP 5xx, refused connection, malformed response).

    The check stays 未校验 and is retried later. The message is stored as the check's
    ``last_error``, so it names what failed but never contains credentials.
    """


class Verifier(Protocol):
    """Something that verifies a host organisation by credit code and registered name."""

    # Stored with each result, such as "code", "directory" or "http".
    name: str

    def verify(self, code: str, name: str) -> Verdict:
        """Return the verdict on the unit, or raise ``VerifierUnavailable`` so that it is verified again later."""
        ...


# --- the code-only verifier ---


class CodeOnlyVerifier:
    """Pass every well-formed credit code: 18 characters of the GB 32100 alphabet with a valid check character.

    The name is not looked at. The region part of the code is not compared with any
    division table, because it records where the code was issued (100000 for units
    registered nationally) and never changes afterwards.
    """

    name = "code"

    def verify(self, code: str, name: str) -> Verdict:
        outcome = normalise_unit_code(code)
        if outcome.value == NONE:
            return Verdict.failed(
                "“无”不是统一社会信用代码，境外单位无需校验。",
                "无 is not a credit code; units abroad are not verified.")
        if outcome.value is None:
            if not outcome.findings:
                return Verdict.failed("统一社会信用代码为空。", "The credit code is empty.")
            finding = outcome.findings[0]
            return Verdict.failed(finding.rule.render_message(finding.params, "zh"),
                                  finding.rule.render_message(finding.params, "en"))
        return Verdict(True)


# --- the directory verifier ---


class DirectoryError(ConfigError):
    """The unit directory file cannot be read, or a line of it is invalid."""


_ZERO_WIDTH = str.maketrans("", "", "\u200b\u200c\u200d\ufeff")

CODE_HEADERS = frozenset({"统一社会信用代码", "实习单位统一社会信用代码", "code"})
NAME_HEADERS = frozenset({"单位名称", "实习单位名称", "name"})


def normalise_unit_name(name: str) -> str:
    """Return the form of a unit name in which directory names are compared.

    NFKC turns full-width letters, digits and brackets into their ASCII forms, so
    （杭州）and (杭州) compare equal. White space and zero-width characters are removed,
    and Latin letters are compared without case.

    >>> normalise_unit_name("东海示例科技（杭州）有限公司") == normalise_unit_name("东海示例科技 (杭州)有限公司")
    True
    """
    text = unicodedata.normalize("NFKC", name).translate(_ZERO_WIDTH)
    return "".join(text.split()).casefold()


def _header_key(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).translate(_ZERO_WIDTH).strip().casefold()


def _decode(data: bytes, path: Path) -> str:
    """Decode the file as UTF-8 (with or without BOM), else as GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DirectoryError(
            f"单位名录 {path} 既不是 UTF-8 也不是 GB18030 编码的文本，请另存为 UTF-8 编码的 CSV。",
            message_en=f"The unit directory {path} is neither UTF-8 nor GB18030 text; save it as a UTF-8 CSV.",
        ) from None


class DirectoryVerifier:
    """Verify units against a directory of known units: credit code → registered name.

    A unit passes when its code is listed and its name equals the registered name
    after ``normalise_unit_name``. The file is read once, when the application starts,
    so a running worker keeps using the old entries until it is restarted.
    """

    name = "directory"

    def __init__(self, entries: Mapping[str, str]) -> None:
        # Compact code → registered name as the directory writes it.
        self.entries = dict(entries)
        self._normalised = {code: normalise_unit_name(name) for code, name in self.entries.items()}

    @classmethod
    def from_file(cls, path: Path) -> DirectoryVerifier:
        """Read a CSV with the columns 统一社会信用代码 and 单位名称 (or code and name).

        The file is UTF-8, with or without BOM, or GB18030. Raise ``DirectoryError``
        naming the file and line when it cannot be read, a header is missing, a code is
        invalid, a name is blank, or one code is listed with two different names.
        """
        try:
            data = path.read_bytes()
        except OSError as error:
            raise DirectoryError(
                f"无法读取单位名录 {path}：{error.strerror or error}。请检查 UNIT_DIRECTORY 设置。",
                message_en=f"Cannot read the unit directory {path}: {error.strerror or error}. Check UNIT_DIRECTORY.",
            ) from None
        return cls(_parse_directory(_decode(data, path), path))

    def verify(self, code: str, name: str) -> Verdict:
        compact = uscc.compact(code)
        registered = self.entries.get(compact)
        if registered is None:
            return Verdict.failed(f"名录中没有该统一社会信用代码（{compact}）。",
                                  f"The directory does not list the credit code {compact}.")
        if self._normalised[compact] != normalise_unit_name(name):
            return Verdict.failed(
                f"单位名称“{name}”与名录不一致：该统一社会信用代码登记的名称是“{registered}”。",
                f"The name {name!r} differs from the directory: the registered name for this code is {registered!r}.",
            )
        return Verdict(True)


def _line_error(path: Path, line: int, zh: str, en: str) -> DirectoryError:
    return DirectoryError(f"单位名录 {path} 第 {line} 行：{zh}", message_en=f"Unit directory {path}, line {line}: {en}")


def _find_columns(header: list[str], path: Path, line: int) -> tuple[int, int]:
    keys = [_header_key(cell) for cell in header]
    code_column = next((index for index, key in enumerate(keys) if key in CODE_HEADERS), None)
    name_column = next((index for index, key in enumerate(keys) if key in NAME_HEADERS), None)
    if code_column is None or name_column is None:
        raise _line_error(
            path, line,
            "表头须有“统一社会信用代码”和“单位名称”两列（或 code 和 name）。",
            "the header must have the columns 统一社会信用代码 and 单位名称 (or code and name).",
        )
    return code_column, name_column


def _parse_directory(text: str, path: Path) -> dict[str, str]:
    """Return the directory's entries as compact code → registered name."""
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: tuple[int, int] | None = None
    entries: dict[str, str] = {}
    first_lines: dict[str, int] = {}

    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if columns is None:
            columns = _find_columns(row, path, line)
            continue

        code_column, name_column = columns
        raw_code = row[code_column].strip() if code_column < len(row) else ""
        name = row[name_column].strip() if name_column < len(row) else ""
        if not raw_code:
            raise _line_error(path, line, "缺少统一社会信用代码。", "the credit code is missing.")
        if not name:
            raise _line_error(path, line, "缺少单位名称。", "the unit name is missing.")
        outcome = normalise_unit_code(raw_code)
        if outcome.value is None or outcome.value == NONE:
            reason_zh = reason_en = ""
            if outcome.findings:
                finding = outcome.findings[0]
                reason_zh = "：" + finding.rule.render_message(finding.params, "zh")
                reason_en = ": " + finding.rule.render_message(finding.params, "en")
            raise _line_error(path, line, f"统一社会信用代码“{raw_code}”无效{reason_zh}。",
                              f"the credit code {raw_code!r} is invalid{reason_en}.")

        code: str = outcome.value
        previous = entries.get(code)
        if previous is not None and normalise_unit_name(previous) != normalise_unit_name(name):
            raise _line_error(
                path, line,
                f"统一社会信用代码 {code} 在第 {first_lines[code]} 行已登记为“{previous}”，与本行名称“{name}”不同。",
                f"the credit code {code} is listed on line {first_lines[code]} as {previous!r}, not {name!r}.",
            )
        if previous is None:
            entries[code] = name
            first_lines[code] = line

    if columns is None or not entries:
        raise DirectoryError(
            f"单位名录 {path} 中没有任何单位。", message_en=f"The unit directory {path} lists no units.")
    return entries


# --- the HTTP verifier ---


class HttpVerifier:
    """Ask a verification service about each unit.

    ``GET`` sends ``code`` and ``name`` as query parameters, ``POST`` as the JSON body
    ``{"code": …, "name": …}``. A 2xx response must be a JSON object with a boolean
    ``passed``. For a failed unit it should also contain ``reason`` in Chinese and may
    contain ``reason_en``. Any other response, a timeout, a refused connection and a
    non-2xx status raise ``VerifierUnavailable``, so the unit is verified again later.
    """

    name = "http"

    # Maximum response size read from the service, in bytes. A valid response is a few hundred bytes.
    MAX_RESPONSE_BYTES = 64 * 1024

    def __init__(
        self, url: str, *, method: str = "POST", timeout: float = 10.0, headers: Mapping[str, str] | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"UNIT_HTTP_URL 须以 http:// 或 https:// 开头，而不是 {url[:20]!r}。",
                message_en=f"UNIT_HTTP_URL must start with http:// or https://, not {url[:20]!r}.",
            )
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ConfigError(f"UNIT_HTTP_METHOD 须为 GET 或 POST，而不是 {method!r}。",
                              message_en=f"UNIT_HTTP_METHOD must be GET or POST, not {method!r}.")
        if timeout <= 0:
            raise ConfigError("UNIT_HTTP_TIMEOUT 须为正数（秒）。",
                              message_en="UNIT_HTTP_TIMEOUT must be a positive number of seconds.")
        self.url = url
        self.method = method
        self.timeout = timeout
        self.headers = {"Accept": "application/json", **(headers or {})}

    def _request(self, code: str, name: str) -> urllib.request.Request:
        if self.method == "GET":
            separator = "&" if "?" in self.url else "?"
            query = urllib.parse.urlencode({"code": code, "name": name})
            return urllib.request.Request(self.url + separator + query, headers=self.headers, method="GET")
        body = json.dumps({"code": code, "name": name}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", **self.headers}
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def verify(self, code: str, name: str) -> Verdict:
        request = self._request(code, name)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(self.MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise VerifierUnavailable(f"the verification service returned HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise VerifierUnavailable(
                    f"the verification service timed out after {self.timeout:g} s") from None
            raise VerifierUnavailable(f"the verification service could not be reached: {reason}") from None
        return self._verdict(body)

    def _verdict(self, body: bytes) -> Verdict:
        if len(body) > self.MAX_RESPONSE_BYTES:
            raise VerifierUnavailable(
                f"the verification service's response is longer than {self.MAX_RESPONSE_BYTES} bytes")
        try:
            document = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise VerifierUnavailable(
                f"the verification service's response is not valid JSON: {body[:60]!r}") from None
        if not isinstance(document, dict) or not isinstance(document.get("passed"), bool):
            raise VerifierUnavailable('the verification service\'s response has no boolean member "passed"')

        reason = document.get("reason")
        reason_en = document.get("reason_en")
        if not isinstance(reason, (str, type(None))) or not isinstance(reason_en, (str, type(None))):
            raise VerifierUnavailable('the members "reason" and "reason_en" of the verification service\'s response must be strings')
        if document["passed"]:
            return Verdict(True, reason[:REASON_MAX_LENGTH] if reason else None,
                           reason_en[:REASON_MAX_LENGTH] if reason_en else None)
        return Verdict.failed(
            (reason or "校验服务判定不通过，未说明原因。")[:REASON_MAX_LENGTH],
            (reason_en or reason or "The verification service rejected the unit without a reason.")[:REASON_MAX_LENGTH],
        )


# --- settings ---


def _positive(config: Mapping[str, Any], key: str) -> float:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{key} 须为正数，而不是 {value!r}。", message_en=f"{key} must be a positive number, not {value!r}.")
    return float(value)


@attrs.frozen
class WorkerSettings:
    """Polling, claim and retry settings of the worker, read from the ``UNIT_*`` settings."""

    claim: datetime.timedelta  # lease of a claimed check
    retry_base: datetime.timedelta  # delay after the first failed attempt
    retry_max: datetime.timedelta  # maximum delay between attempts
    batch: int  # checks claimed at once
    interval: float  # seconds between polls when nothing is due

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WorkerSettings:
        """Read and check the settings; raise ``ConfigError`` on a value that is not a positive number."""
        base = _positive(config, "UNIT_RETRY_BASE_SECONDS")
        maximum = _positive(config, "UNIT_RETRY_MAX_SECONDS")
        if maximum < base:
            raise ConfigError(
                "UNIT_RETRY_MAX_SECONDS 不能小于 UNIT_RETRY_BASE_SECONDS。",
                message_en="UNIT_RETRY_MAX_SECONDS must not be smaller than UNIT_RETRY_BASE_SECONDS.",
            )
        batch = _positive(config, "UNIT_WORKER_BATCH")
        return cls(
            claim=datetime.timedelta(seconds=_positive(config, "UNIT_CLAIM_SECONDS")),
            retry_base=datetime.timedelta(seconds=base),
            retry_max=datetime.timedelta(seconds=maximum),
            batch=max(1, int(batch)),
            interval=_positive(config, "UNIT_WORKER_INTERVAL"),
        )


def retry_delay(attempts: int, base: datetime.timedelta, maximum: datetime.timedelta) -> datetime.timedelta:
    """Return the wait after the ``attempts``-th failed attempt: ``base`` doubled per further attempt, capped.

    >>> minute = datetime.timedelta(minutes=1)
    >>> [retry_delay(n, minute, 10 * minute) // minute for n in (1, 2, 3, 4, 5)]
    [1, 2, 4, 8, 10]
    """
    # Past 2**40 times the base every sensible cap is reached, and the float stays exact enough.
    exponent = min(max(attempts, 1) - 1, 40)
    seconds = min(base.total_seconds() * 2.0**exponent, maximum.total_seconds())
    return datetime.timedelta(seconds=seconds)


def verifier_from_config(app: Flask) -> Verifier:
    """Build the verifier that ``UNIT_VERIFIER`` names, or return the verifier object it contains.

    Raise ``ConfigError`` (a ``ValueError``) on invalid settings, and ``DirectoryError``
    naming the line on an invalid directory file, so that a bad setup fails at start-up.
    """
    config: Mapping[str, Any] = app.config
    kind = config["UNIT_VERIFIER"]
    if not isinstance(kind, str):
        verifier: Verifier = kind
        return verifier
    if kind == "code":
        return CodeOnlyVerifier()
    if kind == "directory":
        setting = config.get("UNIT_DIRECTORY")
        if not isinstance(setting, str) or not setting.strip():
            raise ConfigError("UNIT_VERIFIER 为 directory 时须把 UNIT_DIRECTORY 设为单位名录 CSV 文件的路径。",
                              message_en="UNIT_VERIFIER is directory, so UNIT_DIRECTORY must name the CSV file of units.")
        path = Path(setting)
        if not path.is_absolute():
            path = Path(app.instance_path) / path
        return DirectoryVerifier.from_file(path)
    if kind == "http":
        url = config.get("UNIT_HTTP_URL")
        if not url:
            raise ConfigError("UNIT_VERIFIER 为 http 时须设置 UNIT_HTTP_URL。",
                              message_en="UNIT_VERIFIER is http but UNIT_HTTP_URL is not set.")
        return HttpVerifier(url, method=config["UNIT_HTTP_METHOD"], timeout=_positive(config, "UNIT_HTTP_TIMEOUT"),
                            headers=config["UNIT_HTTP_HEADERS"])
    raise ConfigError(f"UNIT_VERIFIER 须为 code、directory 或 http，而不是 {kind!r}。",
                      message_en=f"UNIT_VERIFIER must be code, directory or http, not {kind!r}.")


# --- the worker ---


@attrs.define
class BatchResult:
    """Counts of one claim batch: checks claimed, and how each claimed check ended."""

    claimed: int = 0
    passed: int = 0
    failed: int = 0
    postponed: int = 0  # the verifier was unavailable or raised; retried later
    released: int = 0  # not attempted because the worker was stopping

    @property
    def finished(self) -> int:
        """The number of checks that got a result."""
        return self.passed + self.failed

    def add(self, other: BatchResult) -> None:
        """Add the counts of ``other`` to these."""
        self.claimed += other.claimed
        self.passed += other.passed
        self.failed += other.failed
        self.postponed += other.postponed
        self.released += other.released


def _audit_result(store: Store, check: UnitCheck, verdict: Verdict, verifier: str, moment: datetime.datetime) -> None:
    """Append the ``unit_checked`` audit entry: check id, code, state and verifier, never the unit's records."""
    detail = {"check": check.id, "code": check.unit_code, "state": verdict.state.value, "verifier": verifier}
    if has_app_context():
        audit.record(store, "unit_checked", target=check.unit_code, unit=None, actor=WORKER_ACTOR, **detail)
    else:
        store.append_audit(at=moment, event="unit_checked", actor=WORKER_ACTOR, ip=None, request_id=None,
                           target=check.unit_code, unit=None, detail=detail)


def _store_verdict(store: Store, check: UnitCheck, verdict: Verdict, verifier: str, *,
                   claimed_until: datetime.datetime, moment: datetime.datetime) -> bool:
    """Store the verdict, move the waiting records on and audit it, in one transaction."""
    with store.transaction():
        stored = store.finish_unit_check(check.id, claimed_until=claimed_until, state=verdict.state.value,
                                         reason=verdict.reason, reason_en=verdict.reason_en, verifier=verifier,
                                         now=moment)
        if not stored:
            return False
        refresh_unit_states(store, [(check.unit_code, check.unit_name)], now=moment)
        _audit_result(store, check, verdict, verifier, moment)
    return True


def process_batch(
    store: Store, verifier: Verifier, now: datetime.datetime, settings: WorkerSettings,
    *, stop: threading.Event | None = None,
) -> BatchResult:
    """Claim one batch of due checks and verify each; return what happened.

    A check whose verifier is unavailable, or raises an unexpected exception, gets a
    failed attempt and is retried after ``retry_delay``. When ``stop`` is set, the
    checks not yet attempted are released for the next run.
    """
    claimed_until = now + settings.claim
    checks = store.claim_unit_checks(now=now, claimed_until=claimed_until, limit=settings.batch)
    result = BatchResult(claimed=len(checks))
    unavailable: list[tuple[int, str]] = []
    unexpected: list[tuple[int, str]] = []

    for check in checks:
        if stop is not None and stop.is_set():
            store.release_unit_check(check.id, claimed_until=claimed_until)
            result.released += 1
            continue

        try:
            verdict = verifier.verify(check.unit_code, check.unit_name)
        except VerifierUnavailable as error:
            message = str(error)[:ERROR_MAX_LENGTH]
            unavailable.append((check.id, message))
        except Exception as error:  # a faulty verifier must not stop the worker
            message = f"the verifier raised {type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
            unexpected.append((check.id, type(error).__name__))
        else:
            if _store_verdict(store, check, verdict, verifier.name, claimed_until=claimed_until, moment=now):
                if verdict.passed:
                    result.passed += 1
                else:
                    result.failed += 1
                logger.debug("unit check %d: %s by verifier %s", check.id, verdict.state.name, verifier.name)
            else:
                logger.warning("unit check %d: the claim expired before the result was stored; result dropped",
                               check.id)
            continue

        next_attempt = now + retry_delay(check.attempts + 1, settings.retry_base, settings.retry_max)
        store.postpone_unit_check(check.id, claimed_until=claimed_until, error=message, next_attempt_at=next_attempt)
        result.postponed += 1

    # One line per batch and kind of failure, so an unavailable service does not flood the log.
    if unavailable:
        first_id, first_error = unavailable[0]
        logger.warning("unit worker: verifier %s unavailable for %d of %d checks (check %d: %s); retrying later",
                       verifier.name, len(unavailable), len(checks), first_id, first_error)
    if unexpected:
        ids = ", ".join(str(check_id) for check_id, _ in unexpected[:10])
        logger.error("unit worker: verifier %s raised %s on %d checks (ids %s%s); retrying later",
                     verifier.name, unexpected[0][1], len(unexpected), ids, ", …" if len(unexpected) > 10 else "")
    if checks:
        logger.info("unit worker: claimed %d checks: %d passed, %d failed, %d postponed, %d released",
                    result.claimed, result.passed, result.failed, result.postponed, result.released)
    return result


def _settings_here() -> WorkerSettings:
    """Return the settings of the current application, or the defaults outside one."""
    return WorkerSettings.from_config(current_app.config if has_app_context() else DEFAULTS)


def run_once(target: Flask | Store, verifier: Verifier, now: datetime.datetime,
             *, settings: WorkerSettings | None = None) -> int:
    """Process one claim batch of the checks due at ``now`` and return how many got a result.

    ``target`` is the application, whose store and settings are used, or a store, used
    with the current application's settings (the defaults outside an application).
    """
    if isinstance(target, Flask):
        with target.app_context():
            chosen = settings or WorkerSettings.from_config(target.config)
            return process_batch(get_store(), verifier, now, chosen).finished
    return process_batch(target, verifier, now, settings or _settings_here()).finished


def run_due(store: Store, verifier: Verifier, now: datetime.datetime,
            *, settings: WorkerSettings | None = None) -> BatchResult:
    """Process batches until no check is due at ``now``; return the sums.

    This ends because a postponed check is due again only after a positive delay.
    """
    chosen = settings or _settings_here()
    total = BatchResult()
    while True:
        result = process_batch(store, verifier, now, chosen)
        total.add(result)
        if result.claimed == 0:
            return total


def verifier_for(app: Flask) -> Verifier:
    """Return the verifier that ``init_app`` built for ``app``."""
    verifier: Verifier = app.extensions[EXTENSION].verifier
    return verifier


def _poll(app: Flask, verifier: Verifier, settings: WorkerSettings, stop: threading.Event,
          warned: list[bool]) -> BatchResult | None:
    """Run one batch in a fresh application context; None while the database needs migrations."""
    with app.app_context():
        store = get_store()
        if store.pending_migrations():
            if not warned:
                logger.warning("unit worker: the database needs migrations (run sxpt-server init-db); waiting")
                warned.append(True)
            return None
        return process_batch(store, verifier, app_now(), settings, stop=stop)


def run_worker(app: Flask, verifier: Verifier, *, stop: threading.Event) -> None:
    """Poll the queue until ``stop`` is set, sleeping ``UNIT_WORKER_INTERVAL`` seconds when nothing is due.

    An error while polling (such as a locked database) is logged, and the worker tries
    again after the interval.
    """
    settings = WorkerSettings.from_config(app.config)
    logger.info("unit worker started: verifier %s, polling every %g s", verifier.name, settings.interval)
    warned: list[bool] = []
    while not stop.is_set():
        try:
            result = _poll(app, verifier, settings, stop, warned)
        except Exception:  # the worker outlives any single failed poll
            logger.exception("unit worker: polling the queue failed; retrying in %g s", settings.interval)
            result = None
        # A full batch suggests more checks are due, so the next poll follows at once.
        if result is None or result.claimed < settings.batch:
            stop.wait(settings.interval)
    logger.info("unit worker stopped")


# --- application set-up ---


@attrs.define
class _UnitState:
    """The verifier of an application and its development worker thread, if one runs."""

    verifier: Verifier
    thread: threading.Thread | None = None
    stop: threading.Event = attrs.field(factory=threading.Event)


def start_worker_thread(app: Flask) -> threading.Thread:
    """Start the worker loop in a daemon thread of this process, once per application."""
    state: _UnitState = app.extensions[EXTENSION]
    if state.thread is not None and state.thread.is_alive():
        return state.thread
    state.stop.clear()
    state.thread = threading.Thread(target=run_worker, args=(app, state.verifier), kwargs={"stop": state.stop},
                                    name="sxpt-unit-worker", daemon=True)
    state.thread.start()
    return state.thread


def stop_worker_thread(app: Flask, timeout: float | None = None) -> None:
    """Ask the worker thread to stop after its current check and wait for it up to ``timeout`` seconds."""
    state: _UnitState = app.extensions[EXTENSION]
    state.stop.set()
    if state.thread is not None:
        state.thread.join(timeout)


def init_app(app: Flask) -> None:
    """Build the verifier and check the worker settings; start the worker thread when ``UNIT_WORKER_THREAD`` is set.

    Invalid settings or an invalid directory file raise ``ConfigError`` here, at start-up.
    """
    WorkerSettings.from_config(app.config)
    app.extensions[EXTENSION] = _UnitState(verifier=verifier_from_config(app))
    if app.config["UNIT_WORKER_THREAD"]:
        start_worker_thread(app)
