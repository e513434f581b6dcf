"""Sending calls: retries with back-off, error mapping, downloads and the request log line.

Every request gets its own ``X-Request-ID``, which the server keeps in its log and
audit entries, and one INFO line in the ``sxpt_core.client`` log: method, path without
the query string, status, elapsed time and request id. This logger never writes
headers, bodies, cookies or query strings, because they carry the API key, the session,
passwords, codes and personal data.

NOTE: httpx's own ``httpx`` logger writes whole URLs, query strings included, at INFO.
Applications that log INFO should set that logger to WARNING, as docs/sdk.md shows.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import random
import re
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import attrs
import httpx

from sxpt_core.client._calls import DOWNLOAD_KEY, Call, ProgressReader
from sxpt_core.client.errors import RequestTimeoutError, TransportError, error_from_response, parse_retry_after
from sxpt_core.client.models import Download
from sxpt_core.errors import OutputError

__all__ = ["AsyncSender", "RetryPolicy", "Sender", "logger"]

logger = logging.getLogger("sxpt_core.client")
# A library leaves output to the application: without its logging configuration,
# nothing of this logger is printed (not even warnings).
logger.addHandler(logging.NullHandler())

# Module attributes, so that tests can replace the waiting between attempts.
_sleep = time.sleep
_async_sleep = asyncio.sleep


@attrs.frozen
class RetryPolicy:
    """When and how long the client waits before it sends a request again.

    A request is sent again only when sending it twice changes nothing: GET, PUT and
    DELETE requests, and uploads that carry an idempotency key. It is sent again after
    a status in ``statuses`` or a transport error (including a timeout), at most
    ``attempts`` times in all. The wait doubles from ``backoff`` seconds up to
    ``max_delay``, with a random half of it as jitter. A ``Retry-After`` from the server
    is waited for as given, unless it is longer than ``max_retry_after``; then the error
    is raised at once.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Return the seconds to wait after failed attempt number ``attempt`` (from 1), or None to give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        ceiling = min(self.max_delay, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


NO_RETRY = RetryPolicy(attempts=1)


def _build(http: httpx.Client | httpx.AsyncClient, call: Call[Any], request_id: str) -> httpx.Request:
    files = None
    if call.upload is not None:
        body = call.upload
        stream: IO[bytes] = ProgressReader(body.content, body.progress) if body.progress else io.BytesIO(body.content)
        files = {"file": (body.filename, stream, body.media_type)}
    headers = {"X-Request-ID": request_id, **dict(call.headers)}
    return http.build_request(call.method, call.path, params=list(call.params) or None, json=call.json,
                              files=files, headers=headers)


def _log_line(request: httpx.Request, outcome: str, started: float, request_id: str) -> None:
    elapsed = (time.perf_counter() - started) * 1000
    logger.info("%s %s %s %.0f ms (request %s)", request.method, request.url.path, outcome, elapsed, request_id)


def _log_retry(request: httpx.Request, reason: str, delay: float, attempt: int, policy: RetryPolicy) -> None:
    logger.warning("retrying %s %s in %.1f s after %s (attempt %d of %d)", request.method, request.url.path, delay,
                   reason, attempt + 1, policy.attempts)


def _transport_error(request: httpx.Request, error: httpx.TransportError) -> TransportError:
    where = f"{request.method} {request.url.path}"
    if isinstance(error, httpx.TimeoutException):
        return RequestTimeoutError(
            f"服务器 {request.url.host} 没有在限定时间内响应（{where}）。请稍后再试；上传大文件时可调大 timeout。",
            message_en=f"The server {request.url.host} did not respond in time ({where}). Try again later, or raise "
                       "the timeout for large uploads.",
            request=request,
        )
    name = type(error).__name__
    return TransportError(
        f"无法连接服务器 {request.url.host}（{where}：{name} {error}）。请检查服务器地址和网络，稍后再试。",
        message_en=f"Cannot reach the server {request.url.host} ({where}: {name} {error}). Check the server URL "
                   "and the network, then try again.",
        request=request,
    )


def _output_error(path: Path, error: OSError) -> OutputError:
    reason = error.strerror or type(error).__name__
    return OutputError(f"无法写入 {path}（{reason}）。请检查文件夹是否存在、是否可写。",
                       message_en=f"Cannot write {path} ({reason}). Check that the folder exists and is writable.")


def _content_filename(response: httpx.Response) -> str | None:
    """Return the file name of a Content-Disposition header, preferring the UTF-8 ``filename*``."""
    header = response.headers.get("Content-Disposition", "")
    extended = re.search(r"filename\*=UTF-8''([^;]+)", header, re.IGNORECASE)
    if extended:
        return urllib.parse.unquote(extended.group(1).strip())
    plain = re.search(r'filename="([^"]*)"', header)
    return plain.group(1) if plain else None


@contextmanager
def _atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Write a file next to ``path`` and move it into place only when writing succeeded."""
    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _finish_download(response: httpx.Response, path: Path, size: int) -> None:
    media_type = response.headers.get("Content-Type")
    response.extensions[DOWNLOAD_KEY] = Download(path=path, filename=_content_filename(response), size=size,
                                                 media_type=media_type)


class Sender:
    """Send calls with a sync httpx client, retrying as the policy allows."""

    def __init__(self, http: httpx.Client, policy: RetryPolicy) -> None:
        self.http = http
        self.policy = policy

    def send(self, call: Call[Any]) -> httpx.Response:
        """Send ``call`` and return its successful response; raise the SDK's exception otherwise."""
        policy = self.policy if call.retry else NO_RETRY
        attempt = 0
        while True:
            attempt += 1
            request_id = uuid.uuid4().hex
            request = _build(self.http, call, request_id)
            started = time.perf_counter()
            try:
                response = self.http.send(request, stream=call.download is not None)
            except httpx.TransportError as error:
                _log_line(request, f"failed ({type(error).__name__})", started, request_id)
                delay = policy.delay(attempt)
                if delay is None:
                    raise _transport_error(request, error) from error
                _log_retry(request, type(error).__name__, delay, attempt, policy)
                _sleep(delay)
                continue
            _log_line(request, str(response.status_code), started, response.headers.get("X-Request-ID", request_id))

            if response.status_code in policy.statuses:
                delay = policy.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
                if delay is not None:
                    response.close()
                    _log_retry(request, f"HTTP {response.status_code}", delay, attempt, policy)
                    _sleep(delay)
                    continue
            if response.is_error:
                response.read()
                raise error_from_response(response)
            if call.download is not None:
                self._write(response, call.download)
            return response

    def _write(self, response: httpx.Response, path: Path) -> None:
        size = 0
        try:
            with _atomic_file(path) as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)
                    size += len(chunk)
        except httpx.TransportError as error:
            raise _transport_error(response.request, error) from error
        except OSError as error:
            raise _output_error(path, error) from error
        finally:
            response.close()
        _finish_download(response, path, size)


class AsyncSender:
    """Send calls with an async httpx client, retrying as the policy allows."""

    def __init__(self, http: httpx.AsyncClient, policy: RetryPolicy) -> None:
        self.http = http
        self.policy = policy

    async def send(self, call: Call[Any]) -> httpx.Response:
        """Send ``call`` and return its successful response; raise the SDK's exception otherwise."""
        policy = self.policy if call.retry else NO_RETRY
        attempt = 0
        while True:
            attempt += 1
            request_id = uuid.uuid4().hex
            request = _build(self.http, call, request_id)
            started = time.perf_counter()
            try:
                response = await self.http.send(request, stream=call.download is not None)
            except httpx.TransportError as error:
                _log_line(request, f"failed ({type(error).__name__})", started, request_id)
                delay = policy.delay(attempt)
                if delay is None:
                    raise _transport_error(request, error) from error
                _log_retry(request, type(error).__name__, delay, attempt, policy)
                await _async_sleep(delay)
                continue
            _log_line(request, str(response.status_code), started, response.headers.get("X-Request-ID", request_id))

            if response.status_code in policy.statuses:
                delay = policy.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
                if delay is not None:
                    await response.aclose()
                    _log_retry(request, f"HTTP {response.status_code}", delay, attempt, policy)
                    await _async_sleep(delay)
                    continue
            if response.is_error:
                await response.aread()
                raise error_from_response(response)
            if call.download is not None:
                await self._write(response, call.download)
            return response

    async def _write(self, response: httpx.Response, path: Path) -> None:
        size = 0
        try:
            with _atomic_file(path) as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
                    size += len(chunk)
        except httpx.TransportError as error:
            raise _transport_error(response.request, error) from error
        except OSError as error:
            raise _output_error(path, error) from error
        finally:
            await response.aclose()
        _finish_download(response, path, size)
