"""Exceptions of the client SDK, one class per problem code of the server.

Every error response of the server's API is an RFC 9457 problem document with an sxpt
``code``. The SDK raises the class registered for that code; a code it does not know
(from a newer server) raises :class:`ApiError` itself. The tree, below ``SxptError``::

    SxptError
    ├── ApiError                         the server returned an error response
    │   ├── AuthenticationError          401: log in again, or use another API key
    │   ├── SmsCodeError                 400: the SMS or activation code
    │   ├── PermissionDeniedError        403
    │   ├── TooManyRequestsError         429, with ``retry_after``
    │   ├── InvalidRequestError          400, 405, 413, 415, 422: the request itself
    │   ├── FileRejectedError            422, 413: the uploaded file cannot be read
    │   ├── NotFoundError                404
    │   ├── ConflictError                409
    │   ├── ServerError                  500, 502, 503
    │   └── ResponseFormatError          a response that is not what the API documents
    ├── TransportError                   no response: connection refused, reset, …
    │   └── RequestTimeoutError          no response within the timeout
    └── WaitTimeoutError                 ``wait_for_checks`` gave up

Each leaf class has the ``code`` of the problem type it stands for. A download that
cannot be written raises :class:`sxpt_core.errors.OutputError`.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from sxpt_core.errors import SxptError

__all__ = [
    "PROBLEM_CLASSES",
    "AlreadyExistsError",
    "AmbiguousDataSheetError",
    "ApiError",
    "ApiKeyExpiredError",
    "ApiKeyInvalidError",
    "ApiKeyNotAllowedError",
    "ApiKeyRevokedError",
    "AuthRequiredError",
    "AuthenticationError",
    "BadRequestError",
    "CodeExpiredError",
    "CodeLockedError",
    "CodeMissingError",
    "CodeUsedError",
    "CodeWrongError",
    "ConflictError",
    "CredentialsError",
    "DeletionPendingError",
    "DepartmentUnknownError",
    "ExceptionNotAllowedError",
    "FileOverLimitError",
    "FileRejectedError",
    "ForbiddenError",
    "InternalServerError",
    "InvalidRequestError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PasswordWeakError",
    "PasswordWrongError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ReasonMissingError",
    "RequestTimeoutError",
    "RequestTooLargeError",
    "RequestValidationError",
    "ResponseFormatError",
    "ReviewStateError",
    "ServerBusyError",
    "ServerError",
    "SessionExpiredError",
    "SmsCodeError",
    "SmsDailyLimitError",
    "SmsFailedError",
    "SmsTooSoonError",
    "StateConflictError",
    "TemplateHeaderNotFoundError",
    "TooManyRequestsError",
    "TransportError",
    "UnreadableFileError",
    "UnsupportedFileFormatError",
    "UnsupportedMediaTypeError",
    "UploadScopeError",
    "WaitTimeoutError",
    "error_from_response",
    "parse_retry_after",
]


class ApiError(SxptError):
    """The server returned an error status for a request.

    ``detail`` is the server's Chinese sentence and ``detail_en`` its English twin, so
    ``text("zh")`` and ``text("en")`` show them. ``problem`` is the whole problem
    document, with members such as ``errors`` (invalid fields) or ``rows``.
    """

    code = "SXPT-API"

    def __init__(
        self,
        detail: str,
        *,
        detail_en: str | None = None,
        code: str | None = None,
        status: int,
        request_id: str | None = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, message_en=detail_en)
        if code is not None:
            self.code = code
        self.detail = detail
        self.detail_en = detail_en or detail
        self.status = status
        self.request_id = request_id
        self.request = request
        self.response = response
        self.problem = problem or {}

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked the client to wait (``Retry-After`` or ``retry_after``), or None."""
        if self.response is not None:
            waited = parse_retry_after(self.response.headers.get("Retry-After"))
            if waited is not None:
                return waited
        value = self.problem.get("retry_after")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def __str__(self) -> str:
        suffix = f"，请求编号 {self.request_id}" if self.request_id else ""
        return f"{self.detail}（{self.code}，HTTP {self.status}{suffix}）"


class AuthenticationError(ApiError):
    """The request has no valid session or API key (401): log in again or use another key."""


class SmsCodeError(ApiError):
    """The SMS login code or the activation code was not accepted (400)."""


class PermissionDeniedError(ApiError):
    """The caller is identified but may not do this (403)."""


class TooManyRequestsError(ApiError):
    """The server limits the rate of these requests (429); see ``retry_after``."""


class InvalidRequestError(ApiError):
    """The request itself is invalid: a field, the method, the media type or the size."""


class FileRejectedError(ApiError):
    """The uploaded file cannot be read as a table of the template."""


class ConflictError(ApiError):
    """The request conflicts with what is stored or with a record's state (409)."""


class ServerError(ApiError):
    """The server or a service behind it failed (5xx); give the request id to its administrator."""


class ResponseFormatError(ApiError):
    """A response that the API does not document, such as a success without the expected JSON."""

    code = "SXPT-RESPONSE-INVALID"


class NotFoundError(ApiError):
    """The resource does not exist or is outside the caller's unit (404)."""

    code = "SXPT-NOT-FOUND"


# One class per problem code of the server (sxpt_server.problems.PROBLEM_TYPES).
class AuthRequiredError(AuthenticationError):
    """No session and no API key came with the request, or the session has ended (SXPT-AUTH-REQUIRED)."""

    code = "SXPT-AUTH-REQUIRED"


class SessionExpiredError(AuthenticationError):
    """The session ended after 30 minutes without a request (SXPT-AUTH-SESSION-EXPIRED)."""

    code = "SXPT-AUTH-SESSION-EXPIRED"


class CredentialsError(AuthenticationError):
    """Wrong account name or password, or an account not activated yet (SXPT-AUTH-CREDENTIALS)."""

    code = "SXPT-AUTH-CREDENTIALS"


class ApiKeyInvalidError(AuthenticationError):
    """The API key is unknown or mistyped (SXPT-API-KEY-INVALID)."""

    code = "SXPT-API-KEY-INVALID"


class ApiKeyExpiredError(AuthenticationError):
    """The API key has expired (SXPT-API-KEY-EXPIRED)."""

    code = "SXPT-API-KEY-EXPIRED"


class ApiKeyRevokedError(AuthenticationError):
    """The API key was revoked (SXPT-API-KEY-REVOKED)."""

    code = "SXPT-API-KEY-REVOKED"


class CodeMissingError(SmsCodeError):
    """No code is waiting for this account (SXPT-AUTH-CODE-MISSING)."""

    code = "SXPT-AUTH-CODE-MISSING"


class CodeWrongError(SmsCodeError):
    """The code is wrong; ``detail`` states the tries left (SXPT-AUTH-CODE-WRONG)."""

    code = "SXPT-AUTH-CODE-WRONG"


class CodeExpiredError(SmsCodeError):
    """The code is older than its lifetime (SXPT-AUTH-CODE-EXPIRED)."""

    code = "SXPT-AUTH-CODE-EXPIRED"


class CodeLockedError(SmsCodeError):
    """The code was locked after too many wrong tries (SXPT-AUTH-CODE-LOCKED)."""

    code = "SXPT-AUTH-CODE-LOCKED"


class CodeUsedError(SmsCodeError):
    """The code was used already (SXPT-AUTH-CODE-USED)."""

    code = "SXPT-AUTH-CODE-USED"


class PasswordWrongError(PermissionDeniedError):
    """The current password given to change the password or the phone is wrong (SXPT-AUTH-PASSWORD-WRONG)."""

    code = "SXPT-AUTH-PASSWORD-WRONG"


class ForbiddenError(PermissionDeniedError):
    """The caller's unit may not do this (SXPT-FORBIDDEN)."""

    code = "SXPT-FORBIDDEN"


class ApiKeyNotAllowedError(PermissionDeniedError):
    """API keys may not use this route; it needs a login (SXPT-API-KEY-NOT-ALLOWED)."""

    code = "SXPT-API-KEY-NOT-ALLOWED"


class UploadScopeError(PermissionDeniedError):
    """Rows of the upload belong to a department outside the caller's unit (SXPT-UPLOAD-SCOPE)."""

    code = "SXPT-UPLOAD-SCOPE"


class SmsTooSoonError(TooManyRequestsError):
    """An SMS went to this phone less than a minute ago (SXPT-SMS-TOO-SOON)."""

    code = "SXPT-SMS-TOO-SOON"


class SmsDailyLimitError(TooManyRequestsError):
    """This phone got its daily number of SMS (SXPT-SMS-DAILY-LIMIT)."""

    code = "SXPT-SMS-DAILY-LIMIT"


class RateLimitedError(TooManyRequestsError):
    """Too many requests from this address or for this account (SXPT-RATE-LIMITED)."""

    code = "SXPT-RATE-LIMITED"


class BadRequestError(InvalidRequestError):
    """The request could not be parsed (SXPT-BAD-REQUEST)."""

    code = "SXPT-BAD-REQUEST"


class RequestValidationError(InvalidRequestError):
    """A member or parameter of the request is invalid; ``problem["errors"]`` names them (SXPT-VALIDATION)."""

    code = "SXPT-VALIDATION"


class PasswordWeakError(InvalidRequestError):
    """The new password does not meet the password rules (SXPT-PASSWORD-WEAK)."""

    code = "SXPT-PASSWORD-WEAK"


class MethodNotAllowedError(InvalidRequestError):
    """The URL does not support the request method (SXPT-METHOD-NOT-ALLOWED)."""

    code = "SXPT-METHOD-NOT-ALLOWED"


class UnsupportedMediaTypeError(InvalidRequestError):
    """The body is not of a media type the route reads (SXPT-UNSUPPORTED-MEDIA-TYPE)."""

    code = "SXPT-UNSUPPORTED-MEDIA-TYPE"


class RequestTooLargeError(InvalidRequestError):
    """The request body is larger than the server allows (SXPT-TOO-LARGE)."""

    code = "SXPT-TOO-LARGE"


class DepartmentUnknownError(InvalidRequestError):
    """Rows name a department that the school has not registered (SXPT-DEPARTMENT-UNKNOWN)."""

    code = "SXPT-DEPARTMENT-UNKNOWN"


class ReasonMissingError(InvalidRequestError):
    """A return or an exception needs a reason (SXPT-REVIEW-REASON-MISSING)."""

    code = "SXPT-REVIEW-REASON-MISSING"


class ExceptionNotAllowedError(InvalidRequestError):
    """This issue code cannot be accepted as an exception (SXPT-EXCEPTION-NOT-ALLOWED)."""

    code = "SXPT-EXCEPTION-NOT-ALLOWED"


class UnreadableFileError(FileRejectedError):
    """The uploaded file cannot be read as a table (SXPT-INPUT)."""

    code = "SXPT-INPUT"


class UnsupportedFileFormatError(FileRejectedError):
    """The uploaded file is of a format sxpt does not read, such as .xls (SXPT-INPUT-FORMAT)."""

    code = "SXPT-INPUT-FORMAT"


class FileOverLimitError(FileRejectedError):
    """The uploaded file is over a size, row or decompression limit (SXPT-INPUT-TOO-LARGE)."""

    code = "SXPT-INPUT-TOO-LARGE"


class TemplateHeaderNotFoundError(FileRejectedError):
    """No sheet of the uploaded workbook has the template's header row (SXPT-INPUT-NO-HEADER)."""

    code = "SXPT-INPUT-NO-HEADER"


class AmbiguousDataSheetError(FileRejectedError):
    """Several sheets of the uploaded workbook look like data (SXPT-INPUT-AMBIGUOUS-SHEET)."""

    code = "SXPT-INPUT-AMBIGUOUS-SHEET"


class AlreadyExistsError(ConflictError):
    """The account, organisation or phone number exists already (SXPT-CONFLICT)."""

    code = "SXPT-CONFLICT"


class StateConflictError(ConflictError):
    """The resource's current state does not allow the request (SXPT-STATE-CONFLICT)."""

    code = "SXPT-STATE-CONFLICT"


class ReviewStateError(ConflictError):
    """A record's review state does not allow the action (SXPT-REVIEW-STATE)."""

    code = "SXPT-REVIEW-STATE"


class DeletionPendingError(ConflictError):
    """The record has a deletion request waiting for the school (SXPT-REVIEW-DELETE-PENDING)."""

    code = "SXPT-REVIEW-DELETE-PENDING"


class InternalServerError(ServerError):
    """The server failed unexpectedly (SXPT-INTERNAL)."""

    code = "SXPT-INTERNAL"


class SmsFailedError(ServerError):
    """The SMS gateway did not send the message (SXPT-SMS-FAILED)."""

    code = "SXPT-SMS-FAILED"


class ServerBusyError(ServerError):
    """The server's database stayed locked by another write; retry after ``retry_after`` (SXPT-BUSY)."""

    code = "SXPT-BUSY"


class TransportError(SxptError):
    """No response came: the connection failed, was refused or broke off.

    ``request`` is the httpx request that failed. The original httpx exception is
    the ``__cause__``.
    """

    code = "SXPT-TRANSPORT"

    def __init__(self, message: str, *, message_en: str | None = None, request: httpx.Request | None = None) -> None:
        super().__init__(message, message_en=message_en)
        self.request = request


class RequestTimeoutError(TransportError):
    """No response came within the client's timeout."""

    code = "SXPT-TIMEOUT"


class WaitTimeoutError(SxptError):
    """``wait_for_checks`` gave up while records were still 待校验; ``pending`` lists their ids."""

    code = "SXPT-WAIT-TIMEOUT"

    def __init__(self, message: str, *, message_en: str | None = None, pending: tuple[int, ...] = ()) -> None:
        super().__init__(message, message_en=message_en)
        self.pending = pending


_LEAVES: tuple[type[ApiError], ...] = (
    AuthRequiredError, SessionExpiredError, CredentialsError, ApiKeyInvalidError, ApiKeyExpiredError,
    ApiKeyRevokedError, CodeMissingError, CodeWrongError, CodeExpiredError, CodeLockedError, CodeUsedError,
    PasswordWrongError, ForbiddenError, ApiKeyNotAllowedError, UploadScopeError, SmsTooSoonError,
    SmsDailyLimitError, RateLimitedError, BadRequestError, RequestValidationError, PasswordWeakError,
    MethodNotAllowedError, UnsupportedMediaTypeError, RequestTooLargeError, DepartmentUnknownError,
    ReasonMissingError, ExceptionNotAllowedError, UnreadableFileError, UnsupportedFileFormatError,
    FileOverLimitError, TemplateHeaderNotFoundError, AmbiguousDataSheetError, NotFoundError, AlreadyExistsError,
    StateConflictError, ReviewStateError, DeletionPendingError, InternalServerError, SmsFailedError,
    ServerBusyError,
)
PROBLEM_CLASSES: dict[str, type[ApiError]] = {cls.code: cls for cls in _LEAVES}
"""The exception class of each problem code that the server sends."""


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds of a ``Retry-After`` header (a number or an HTTP date), or None.

    >>> parse_retry_after("30")
    30.0
    >>> parse_retry_after(None) is None
    True
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _problem_document(response: httpx.Response) -> dict[str, Any] | None:
    """Return the response's problem document, or None when the body is not one."""
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type not in ("application/problem+json", "application/json"):
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("code"), str):
        return None
    return document


def error_from_response(response: httpx.Response) -> ApiError:
    """Build the exception for an error response: the class of its problem code, else ``ApiError``.

    The response body must have been read.
    """
    request = response.request if _has_request(response) else None
    request_id = response.headers.get("X-Request-ID") or None
    document = _problem_document(response)
    if document is None:
        # Not a problem document: a proxy's error page, for example.
        return ApiError(
            f"服务器返回了 HTTP {response.status_code} 错误，响应不是 sxpt 的错误说明。请检查服务器地址，或稍后再试。",
            detail_en=f"The server returned HTTP {response.status_code} without an sxpt problem document. "
                      "Check the server URL, or try again later.",
            status=response.status_code, request_id=request_id, request=request, response=response,
        )
    code = str(document["code"])
    cls = PROBLEM_CLASSES.get(code, ApiError)
    detail = document.get("detail") if isinstance(document.get("detail"), str) else None
    detail_en = document.get("detail_en") if isinstance(document.get("detail_en"), str) else None
    title = document.get("title") if isinstance(document.get("title"), str) else None
    return cls(
        detail or title or code,
        detail_en=detail_en or detail or title,
        code=code,
        status=response.status_code,
        request_id=document.get("request_id") or request_id,
        request=request,
        response=response,
        problem=document,
    )


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - httpx raises RuntimeError when a response was built without one
    except RuntimeError:
        return False
    return True
