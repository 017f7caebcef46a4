"""Representation failures, as problems (Persian and English on each)."""

from __future__ import annotations

from panjereh.core.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed


class NotRepresentative(Forbidden):
    code = "representation.not_allowed"
    title_en = "You may not act for this person or company"
    title_fa = "اجازهٔ اقدام از طرف این شخص یا شرکت را ندارید"


class RepresentationUnavailable(ServiceUnavailable):
    code = "representation.registry_unavailable"
    title_en = "Who you may act for cannot be checked now; nothing was submitted, try again shortly"
    title_fa = (
        "اکنون نمی‌توان بررسی کرد از طرف چه کسی می‌توانید اقدام کنید؛ چیزی ثبت نشد، کمی بعد دوباره تلاش کنید"
    )


class InvalidDelegation(ValidationFailed):
    code = "representation.invalid_delegation"
    title_en = "The delegation is not valid"
    title_fa = "وکالت‌نامه معتبر نیست"


class DelegationNotFound(NotFound):
    code = "representation.delegation_not_found"
    title_en = "No such delegation"
    title_fa = "چنین وکالت‌نامه‌ای پیدا نشد"


class DelegationClosed(Conflict):
    code = "representation.delegation_closed"
    title_en = "This delegation can no longer be changed"
    title_fa = "این وکالت‌نامه دیگر تغییر نمی‌کند"


class InvalidSubject(ValidationFailed):
    code = "representation.invalid_subject"
    title_en = "On whose behalf? Expected person:<national code> or company:<legal-entity ID>"
    title_fa = "از طرف چه کسی؟ شخص یا شرکت درست مشخص نشده است"
