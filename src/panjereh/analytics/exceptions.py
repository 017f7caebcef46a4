"""Analytics failures, as problems."""

from panjereh.core.errors import NotFound, ValidationFailed


class MandateYearUnknown(NotFound):
    code = "analytics.mandate_year_unknown"
    title_en = "No mandates are on file for this fiscal year"
    title_fa = "برای این سال مالی تکلیفی ثبت نشده است"


class InvalidMandateFile(ValidationFailed):
    code = "analytics.mandate_invalid"
    title_en = "The mandate file is not valid"
    title_fa = "پروندهٔ تکالیف معتبر نیست"


class InvalidShare(ValidationFailed):
    code = "analytics.share_invalid"
    title_en = "The share is not valid"
    title_fa = "سهم واردشده معتبر نیست"


class UnknownExportFormat(ValidationFailed):
    code = "analytics.export_format"
    title_en = "Unknown export format"
    title_fa = "قالب خروجی شناخته‌شده نیست"


class AgencyNotOnDashboard(NotFound):
    code = "analytics.agency_unknown"
    title_en = "No such agency on the dashboard"
    title_fa = "چنین دستگاهی در داشبورد نیست"
