"""Conformance failures, as problems."""

from panjereh.core.errors import NotFound, RateLimited


class RunNotFound(NotFound):
    code = "conformance.run_not_found"
    title_en = "No such conformance run"
    title_fa = "چنین اجرای بررسی استانداردی ثبت نشده است"


class RunTooSoon(RateLimited):
    """A run on demand so soon after the last one would only load the agency's systems again."""

    code = "conformance.run_too_soon"
    title_en = "The standard was run moments ago; wait before running it again"
    title_fa = "استاندارد همین چند لحظه پیش بررسی شد؛ کمی صبر کنید و دوباره اجرا کنید"
