"""Feedback failures, as problems."""

from panjereh.core.errors import Conflict, NotFound, RateLimited, ValidationFailed


class InvalidFeedback(ValidationFailed):
    code = "feedback.invalid"
    title_en = "The rating or report cannot be kept as given"
    title_fa = "این امتیاز یا گزارش با این اطلاعات ثبت نمی‌شود"


class FeedbackThrottled(RateLimited):
    code = "feedback.throttled"
    title_en = "Too many ratings or reports in a short time; try again later"
    title_fa = "در زمانی کوتاه امتیاز یا گزارش زیادی فرستاده‌اید؛ کمی بعد دوباره تلاش کنید"


class ReportNotFound(NotFound):
    code = "feedback.report_not_found"
    title_en = "No such problem report"
    title_fa = "چنین گزارشی پیدا نشد"


class ReportClosed(Conflict):
    code = "feedback.report_closed"
    title_en = "This report is already resolved"
    title_fa = "این گزارش پیش‌تر برطرف شده است"
