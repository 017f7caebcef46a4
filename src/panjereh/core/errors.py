"""One error path: every failure becomes an RFC 9457 problem with a stable code, in Persian and English."""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """A failure the user should hear about; subclasses name a stable `code` and both languages' titles."""

    code: ClassVar[str] = "platform.internal"
    status: ClassVar[int] = 500
    title_en: ClassVar[str] = "Internal error"
    title_fa: ClassVar[str] = "خطای داخلی سامانه"

    def __init__(
        self,
        detail_en: str | None = None,
        detail_fa: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail_en or self.title_en)
        self.detail_en = detail_en
        self.detail_fa = detail_fa
        self.headers = headers or {}
        self.extra = extra

    def to_problem(self, instance: str) -> dict[str, Any]:
        """The problem document (RFC 9457) with Persian text alongside the English."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.code}",
            "title": self.title_en,
            "title_fa": self.title_fa,
            "status": self.status,
            "code": self.code,
            "instance": instance,
        }
        if self.detail_en:
            body["detail"] = self.detail_en
        if self.detail_fa:
            body["detail_fa"] = self.detail_fa
        body.update(self.extra)
        return body


class BadRequest(ProblemError):
    code = "client.bad_request"
    status = 400
    title_en = "Bad request"
    title_fa = "درخواست نادرست است"


class MalformedBody(ProblemError):
    """A body that cannot be parsed at all: not UTF-8, not JSON, a broken form (syntax, not meaning)."""

    code = "client.malformed_body"
    status = 400
    title_en = "The request body cannot be read"
    title_fa = "بدنهٔ درخواست خوانا نیست"


class PayloadTooLarge(ProblemError):
    code = "client.payload_too_large"
    status = 413
    title_en = "The request body is too large"
    title_fa = "حجم درخواست بیش از اندازهٔ مجاز است"


class UnsupportedMediaType(ProblemError):
    code = "client.unsupported_media_type"
    status = 415
    title_en = "Unsupported content type"
    title_fa = "نوع محتوای درخواست پشتیبانی نمی‌شود"


class NotFound(ProblemError):
    code = "platform.not_found"
    status = 404
    title_en = "Not found"
    title_fa = "پیدا نشد"


class MethodNotAllowed(ProblemError):
    code = "platform.method_not_allowed"
    status = 405
    title_en = "Method not allowed"
    title_fa = "این روش درخواست برای این نشانی مجاز نیست"


class ValidationFailed(ProblemError):
    code = "client.validation"
    status = 422
    title_en = "The request is not valid"
    title_fa = "درخواست معتبر نیست"


class Unauthenticated(ProblemError):
    code = "client.unauthenticated"
    status = 401
    title_en = "Authentication required"
    title_fa = "ابتدا وارد شوید"


class Forbidden(ProblemError):
    code = "client.forbidden"
    status = 403
    title_en = "Not permitted"
    title_fa = "اجازهٔ این کار را ندارید"


class Conflict(ProblemError):
    code = "client.conflict"
    status = 409
    title_en = "Conflict with the current state"
    title_fa = "با وضعیت کنونی سازگار نیست"


class RateLimited(ProblemError):
    code = "client.rate_limited"
    status = 429
    title_en = "Too many requests"
    title_fa = "درخواست‌ها بیش از حد مجاز است؛ کمی بعد دوباره تلاش کنید"


class ServiceUnavailable(ProblemError):
    code = "platform.unavailable"
    status = 503
    title_en = "Service temporarily unavailable"
    title_fa = "سامانه موقتاً در دسترس نیست"


class ClientProblem(ProblemError):
    """Another 4xx the framework answers (406, 411, 414, …): the caller's fault, never a 500."""

    code = "client.bad_request"
    status = 400
    title_en = "The request cannot be served as sent"
    title_fa = "این درخواست به این شکل پذیرفته نمی‌شود"


HTTP_STATUS_PROBLEMS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
    503: ServiceUnavailable,
}


def problem_for_status(status: int) -> type[ProblemError]:
    """The problem class of an HTTP status: the listed ones by name, any other 4xx as a client problem
    of that status (code `client.http_<status>`), anything else the internal error."""
    if status in HTTP_STATUS_PROBLEMS:
        return HTTP_STATUS_PROBLEMS[status]
    if 400 <= status < 500:
        return type(
            f"ClientProblem{status}", (ClientProblem,), {"status": status, "code": f"client.http_{status}"}
        )
    return ProblemError


class DatabaseUnavailable(ProblemError):
    """The database cannot be reached now (restarting, failing over, every connection taken): the caller
    may try again shortly, the request changed nothing (its unit of work was rolled back)."""

    code = "platform.database_unavailable"
    status = 503
    title_en = "The service's database is temporarily unavailable; try again shortly"
    title_fa = "پایگاه دادهٔ سامانه موقتاً در دسترس نیست؛ کمی بعد دوباره تلاش کنید"
    retry_after_seconds: ClassVar[int] = 5

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(self.retry_after_seconds)})
