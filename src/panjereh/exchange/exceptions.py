"""Exchange failures, as problems whose code says where the call failed: client, platform or provider."""

from __future__ import annotations

from panjereh.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)


class ServiceNotFound(NotFound):
    code = "client.unknown_service"
    title_en = "No such data service"
    title_fa = "چنین خدمت داده‌ای روی گذرگاه منتشر نشده است"


class GrantNotFound(NotFound):
    code = "client.unknown_grant"
    title_en = "No such grant"
    title_fa = "چنین مجوزی پیدا نشد"


class ClientNotFound(NotFound):
    code = "client.unknown_client"
    title_en = "No such exchange client"
    title_fa = "چنین کارخواه تبادلی ثبت نشده است"


class GrantMissing(Forbidden):
    code = "client.no_grant"
    title_en = "The client agency holds no valid grant for this data service and purpose"
    title_fa = "دستگاه درخواست‌کننده برای این خدمت داده و این هدف مجوز معتبر ندارد"


class NotProvider(Forbidden):
    code = "client.not_provider"
    title_en = "Only the providing agency may decide on this grant"
    title_fa = "فقط دستگاه ارائه‌دهندهٔ داده می‌تواند دربارهٔ این مجوز تصمیم بگیرد"


class GrantStateConflict(Conflict):
    code = "client.grant_state"
    title_en = "The grant is not in a state that allows this"
    title_fa = "وضعیت این مجوز اجازهٔ این کار را نمی‌دهد"


class GrantSelfApproval(Forbidden):
    code = "client.grant_self_approval"
    title_en = "Whoever asked for a grant, or approved it first, cannot approve it (again)"
    title_fa = "درخواست‌کنندهٔ مجوز، یا تأییدکنندهٔ نخست آن، نمی‌تواند آن را (دوباره) تأیید کند"


class InvalidClientCredentials(Unauthenticated):
    code = "client.unauthenticated"
    title_en = "The client could not be authenticated"
    title_fa = "هویت سامانهٔ درخواست‌کننده احراز نشد"


class InvalidInquiry(ValidationFailed):
    code = "client.invalid_inquiry"
    title_en = "The inquiry is not valid"
    title_fa = "استعلام معتبر نیست"


class ClientRateLimited(RateLimited):
    code = "client.rate_limited"
    title_en = "The client agency is over its rate limit"
    title_fa = "دستگاه درخواست‌کننده از سقف نرخ مجاز استعلام فراتر رفته است"


class ProviderUnavailable(ProblemError):
    """The provider is down, too slow, behind an open circuit, or answered garbage; wait and retry."""

    code = "provider.unavailable"
    status = 503
    title_en = "The providing agency's system is unavailable"
    title_fa = "سامانهٔ دستگاه ارائه‌دهندهٔ داده در دسترس نیست"


class LogWriterUnavailable(ProblemError):
    code = "platform.log_unavailable"
    status = 503
    title_en = "The message log cannot accept entries right now"
    title_fa = "ثبت رخدادهای تبادل موقتاً ممکن نیست"


class SubjectMismatch(ValidationFailed):
    code = "client.subject_mismatch"
    title_en = "The named subject is not the person the request asks about"
    title_fa = "شخصی که نام برده شده با شخصی که داده‌اش خواسته شده یکی نیست"


class WrongMethod(ProblemError):
    code = "client.wrong_method"
    status = 405
    title_en = "This data service is not called with that method"
    title_fa = "این خدمت داده با این روش درخواست فراخوانده نمی‌شود"


class InvalidOpenApi(ValidationFailed):
    code = "client.invalid_openapi"
    title_en = "The OpenAPI document cannot be used"
    title_fa = "از این سند OpenAPI نمی‌توان خدمت داده ساخت"


class InvalidPublication(ValidationFailed):
    code = "client.invalid_publication"
    title_en = "The data service cannot be published as described"
    title_fa = "خدمت داده را با این مشخصات نمی‌توان منتشر کرد"


class SandboxSubject(Forbidden):
    code = "client.sandbox_subject"
    title_en = "A sandbox client may ask only about the test personas"
    title_fa = "کارخواه محیط آزمایشی فقط دربارهٔ اشخاص آزمونی می‌تواند استعلام کند"
