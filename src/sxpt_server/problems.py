"""Errors of the JSON API as RFC 9457 problem details.

Every error response of ``/api/v1`` is an ``application/problem+json`` document::

    {"type": "/api/v1/problems/SXPT-AUTH-CODE-WRONG", "title": "验证码错误", "status": 400,
     "detail": "验证码错误，还可以再试 4 次。", "detail_en": "Wrong code; 4 tries left.",
     "code": "SXPT-AUTH-CODE-WRONG", "request_id": "6f1c…"}

``type`` is a URI reference that resolves to a description of the problem type served by
the API itself. ``detail`` is a Chinese sentence that states what to do next, and
``detail_en`` is the same in English. Views raise ``Problem``; the handlers below also turn HTTP errors raised by Flask
or Werkzeug (404, 405, 413, 429 …) and unexpected exceptions into such documents. A write that failed because the
server's storage is full, or because writing to it failed, gets a problem that says so instead of the generic one.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

import attrs
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

__all__ = [
    "PROBLEM_TYPES",
    "Problem",
    "ProblemType",
    "describe",
    "failure_problem",
    "init_app",
    "problem_response",
    "storage_problem",
]

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"


@attrs.frozen
class ProblemType:
    """One kind of error: its code, HTTP status and title in Chinese and English."""

    code: str
    status: int
    title: str
    title_en: str


_TYPES = [
    ProblemType("SXPT-AUTH-REQUIRED", 401, "需要登录", "Login required"),
    ProblemType("SXPT-AUTH-SESSION-EXPIRED", 401, "会话已过期", "Session expired"),
    ProblemType("SXPT-AUTH-CREDENTIALS", 401, "账号或密码错误", "Wrong account name or password"),
    ProblemType("SXPT-AUTH-PASSWORD-WRONG", 403, "当前密码错误", "Wrong current password"),
    ProblemType("SXPT-AUTH-CODE-MISSING", 400, "没有待验证的验证码", "No code was sent"),
    ProblemType("SXPT-AUTH-CODE-WRONG", 400, "验证码错误", "Wrong code"),
    ProblemType("SXPT-AUTH-CODE-EXPIRED", 400, "验证码已过期", "Code expired"),
    ProblemType("SXPT-AUTH-CODE-LOCKED", 400, "验证码已锁定", "Code locked"),
    ProblemType("SXPT-AUTH-CODE-USED", 400, "验证码已使用", "Code already used"),
    ProblemType("SXPT-SMS-TOO-SOON", 429, "短信发送过于频繁", "SMS sent too recently"),
    ProblemType("SXPT-SMS-DAILY-LIMIT", 429, "今日短信已达上限", "Daily SMS limit reached"),
    ProblemType("SXPT-SMS-FAILED", 502, "短信发送失败", "SMS sending failed"),
    ProblemType("SXPT-BUSY", 503, "服务器暂时无法处理", "Server temporarily unavailable"),
    ProblemType("SXPT-RATE-LIMITED", 429, "请求过于频繁", "Too many requests"),
    ProblemType("SXPT-FORBIDDEN", 403, "没有权限", "Forbidden"),
    ProblemType("SXPT-API-KEY-INVALID", 401, "API 密钥无效", "Invalid API key"),
    ProblemType("SXPT-API-KEY-EXPIRED", 401, "API 密钥已过期", "API key expired"),
    ProblemType("SXPT-API-KEY-REVOKED", 401, "API 密钥已吊销", "API key revoked"),
    ProblemType("SXPT-API-KEY-NOT-ALLOWED", 403, "API 密钥不能执行此操作", "Not allowed with an API key"),
    ProblemType("SXPT-PASSWORD-WEAK", 422, "密码不符合要求", "Password too weak"),
    ProblemType("SXPT-VALIDATION", 422, "请求内容无效", "Invalid request"),
    ProblemType("SXPT-NOT-FOUND", 404, "未找到", "Not found"),
    ProblemType("SXPT-CONFLICT", 409, "已存在", "Already exists"),
    ProblemType("SXPT-METHOD-NOT-ALLOWED", 405, "不支持此请求方法", "Method not allowed"),
    ProblemType("SXPT-UNSUPPORTED-MEDIA-TYPE", 415, "请求体须为 JSON", "Request body must be JSON"),
    ProblemType("SXPT-TOO-LARGE", 413, "请求体过大", "Request body too large"),
    ProblemType("SXPT-BAD-REQUEST", 400, "请求无效", "Bad request"),
    ProblemType("SXPT-INPUT", 422, "文件无法读取", "File cannot be read"),
    ProblemType("SXPT-INPUT-FORMAT", 422, "文件格式不受支持", "Unsupported file format"),
    ProblemType("SXPT-INPUT-TOO-LARGE", 413, "文件超过限制", "File over the limits"),
    ProblemType("SXPT-INPUT-NO-HEADER", 422, "找不到模板表头", "Template header not found"),
    ProblemType("SXPT-INPUT-AMBIGUOUS-SHEET", 422, "无法确定数据工作表", "Data sheet is ambiguous"),
    ProblemType("SXPT-UPLOAD-SCOPE", 403, "超出本单位范围", "Outside your unit"),
    ProblemType("SXPT-DEPARTMENT-UNKNOWN", 422, "院系未登记", "Department not registered"),
    ProblemType("SXPT-STATE-CONFLICT", 409, "当前状态不允许此操作", "Not allowed in the current state"),
    ProblemType("SXPT-REVIEW-STATE", 409, "记录状态不允许此操作", "Not allowed in the record's state"),
    ProblemType("SXPT-REVIEW-DELETE-PENDING", 409, "记录已申请删除", "Deletion pending"),
    ProblemType("SXPT-REVIEW-REASON-MISSING", 422, "缺少理由", "Reason missing"),
    ProblemType("SXPT-EXCEPTION-NOT-ALLOWED", 422, "此问题不能登记为例外", "Cannot be accepted as an exception"),
    ProblemType("SXPT-INTERNAL", 500, "服务器内部错误", "Internal server error"),
]
PROBLEM_TYPES: dict[str, ProblemType] = {problem_type.code: problem_type for problem_type in _TYPES}

# Werkzeug's HTTP errors that are not raised as Problem, by status.
_HTTP_STATUS_CODES = {
    400: "SXPT-BAD-REQUEST",
    401: "SXPT-AUTH-REQUIRED",
    403: "SXPT-FORBIDDEN",
    404: "SXPT-NOT-FOUND",
    405: "SXPT-METHOD-NOT-ALLOWED",
    413: "SXPT-TOO-LARGE",
    415: "SXPT-UNSUPPORTED-MEDIA-TYPE",
    429: "SXPT-RATE-LIMITED",
}

_HTTP_DETAILS = {
    "SXPT-BAD-REQUEST": ("请求无法解析，请检查请求内容。", "The request could not be parsed; check its body."),
    "SXPT-AUTH-REQUIRED": ("请先登录。", "Log in first."),
    "SXPT-FORBIDDEN": ("您没有执行此操作的权限。", "You are not allowed to do this."),
    "SXPT-NOT-FOUND": ("请求的地址不存在。", "The requested URL does not exist."),
    "SXPT-METHOD-NOT-ALLOWED": ("此地址不支持该请求方法。", "This URL does not support the request method."),
    "SXPT-TOO-LARGE": ("请求体超过了服务器允许的大小。", "The request body is larger than the server allows."),
    "SXPT-UNSUPPORTED-MEDIA-TYPE": (
        "请求体须为 JSON，并带有 Content-Type: application/json。",
        "The request body must be JSON sent with Content-Type: application/json.",
    ),
    "SXPT-RATE-LIMITED": ("请求过于频繁，请稍后再试。", "Too many requests; try again later."),
    "SXPT-INTERNAL": (
        "服务器内部错误。请把请求编号告诉管理员。",
        "Internal server error. Give the request id to the administrator.",
    ),
}


class Problem(Exception):
    """An error that the API returns as a problem details document.

    ``detail`` is the Chinese sentence the user reads and ``detail_en`` its English twin.
    ``extra`` contains further members such as ``errors`` or ``retry_after``.
    """

    def __init__(
        self,
        code: str,
        detail: str,
        detail_en: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail_en}")
        self.type = PROBLEM_TYPES[code]
        self.detail = detail
        self.detail_en = detail_en
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def code(self) -> str:
        """The sxpt code of the problem type."""
        return self.type.code


def problem_response(
    code: str,
    detail: str,
    detail_en: str,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the problem details response for ``code``."""
    problem_type = PROBLEM_TYPES[code]
    document = {
        "type": TYPE_BASE + problem_type.code,
        "title": problem_type.title,
        "status": problem_type.status,
        "detail": detail,
        "detail_en": detail_en,
        "code": problem_type.code,
        "request_id": g.get("request_id"),
        **(extra or {}),
    }
    response = Response(current_app.json.dumps(document), status=problem_type.status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _record_refused_action(error: Problem) -> None:
    """Record a refused change (403 on a request that is not a read) in the audit log.

    The entry's unit is the caller's own, so the caller's superiors see the attempt; the
    path parameters name what the caller tried to change.
    """
    identity = g.get("identity")
    if error.code != "SXPT-FORBIDDEN" or identity is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    from sxpt_server import audit  # imported here: audit imports the store, which the app sets up later
    from sxpt_server.store import get_store

    target = (request.view_args or {}).get("name") or (request.view_args or {}).get("prefix")
    audit.record(
        get_store(), "action_refused", target=target, unit=identity.unit, method=request.method,
        endpoint=request.endpoint,
    )


def _handle_problem(error: Problem) -> Response:
    _record_refused_action(error)
    return problem_response(error.code, error.detail, error.detail_en, extra=error.extra, headers=error.headers)


def _handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    code = _HTTP_STATUS_CODES.get(status, "SXPT-INTERNAL" if status >= 500 else "SXPT-BAD-REQUEST")
    detail, detail_en = _HTTP_DETAILS[code]
    # Keep the headers that Werkzeug and Flask-Limiter set: Allow on 405, Retry-After on 429.
    headers = {
        name: value for name, value in error.get_headers() if name.lower() in ("allow", "retry-after")
    }
    return problem_response(code, detail, detail_en, headers=headers)


# SQLite's primary result codes for a full disk and for an I/O error, by kind of failure.
# Extended result codes, such as SQLITE_IOERR_WRITE (778), keep the primary code in their low byte.
_SQLITE_CODES = {13: "full", 10: "io"}
# SQLite's messages for the same codes, for Python 3.10, whose sqlite3 errors carry no result code.
_SQLITE_MESSAGES = {"database or disk is full": "full", "disk I/O error": "io"}
_STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

_STORAGE_DETAILS = {
    "full": (
        "服务器存储空间已满，本次请求的数据没有保存。请联系管理员释放磁盘空间后重试。",
        "The server's storage is full, so the data of this request was not saved. Ask the administrator to free "
        "disk space, then try again.",
    ),
    "io": (
        "服务器写入存储时出错（可能是存储空间不足、超出文件大小限制或磁盘故障），本次请求的数据没有保存。"
        "请联系管理员检查服务器存储后重试。",
        "Writing to the server's storage failed (it may be full, over a file size limit or faulty), so the data of "
        "this request was not saved. Ask the administrator to check the server's storage, then try again.",
    ),
}


def _storage_failure(error: BaseException) -> tuple[str, BaseException] | None:
    """Return the kind of storage failure ("full" or "io") behind ``error`` and the exception that shows it.

    The exceptions that ``error`` was raised from or while handling are searched too: when
    SQLite rolls a transaction back by itself after SQLITE_FULL, the store's own ROLLBACK
    raises a second error whose context is the first.
    """
    # NOTE: this reads SQLite's result codes because the store raises sqlite3 errors as they
    # are. A store-level error type for a failed write would keep SQLite out of this module.
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            kind = _SQLITE_CODES.get(code & 0xFF) if isinstance(code, int) else _SQLITE_MESSAGES.get(str(current))
            if kind is not None:
                return kind, current
        elif isinstance(current, OSError) and current.errno in _STORAGE_FULL_ERRNOS:
            return "full", current
        current = current.__cause__ or current.__context__
    return None


def storage_problem(error: BaseException) -> Problem | None:
    """Log an error caused by full or failing storage and return its problem; return None for any other error."""
    failure = _storage_failure(error)
    if failure is None:
        return None
    kind, cause = failure
    logger.error("writing to storage failed in request %s (%s): %s: %s", g.get("request_id"), kind,
                 type(cause).__name__, cause)
    detail, detail_en = _STORAGE_DETAILS[kind]
    return Problem("SXPT-INTERNAL", detail, detail_en)


# Seconds a client is asked to wait when the database stayed locked by another write.
BUSY_RETRY_SECONDS = 10


def _database_busy(error: BaseException) -> bool:
    """Tell whether ``error`` is SQLite's "database is locked" after the busy timeout ran out."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    return (code & 0xFF) == 5 if isinstance(code, int) else str(error) == "database is locked"


def failure_problem(error: BaseException) -> Problem | None:
    """Log and return the problem of a known server-side failure (busy or full storage); None for others."""
    if _database_busy(error):
        # Another write (a very large upload) held the database longer than the busy timeout.
        logger.warning("database busy in request %s: %s", g.get("request_id"), error)
        return Problem(
            "SXPT-BUSY", f"服务器正在保存另一批数据，请 {BUSY_RETRY_SECONDS} 秒后重试；本次请求没有保存。",
            f"The server is storing another batch; try again in {BUSY_RETRY_SECONDS} s. This request was not saved.",
            extra={"retry_after": BUSY_RETRY_SECONDS}, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
    if getattr(error, "code", None) == "SXPT-DATABASE-UNAVAILABLE":
        logger.error("database unavailable in request %s: %s", g.get("request_id"),
                     getattr(error, "message_en", error))
        return Problem("SXPT-BUSY", "服务器暂时无法连接数据库，请稍后重试；如果一直如此，请联系管理员。",
                       "The server cannot reach its database at the moment. Try again later, and tell the "
                       "administrator if it persists.",
                       extra={"retry_after": BUSY_RETRY_SECONDS}, headers={"Retry-After": str(BUSY_RETRY_SECONDS)})
    return storage_problem(error)


def _handle_unexpected(error: Exception) -> Response:
    known = failure_problem(error)
    if known is not None:
        return problem_response(known.code, known.detail, known.detail_en, extra=known.extra,
                                headers=known.headers)
    logger.exception("unhandled %s in request %s", type(error).__name__, g.get("request_id"))
    detail, detail_en = _HTTP_DETAILS["SXPT-INTERNAL"]
    return problem_response("SXPT-INTERNAL", detail, detail_en)


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into a problem details document."""
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)


def describe(code: str) -> dict[str, Any]:
    """Return the description of a problem type, served at its ``type`` URI."""
    problem_type = PROBLEM_TYPES[code]
    return {
        "type": TYPE_BASE + problem_type.code,
        "code": problem_type.code,
        "status": problem_type.status,
        "title": problem_type.title,
        "title_en": problem_type.title_en,
    }

