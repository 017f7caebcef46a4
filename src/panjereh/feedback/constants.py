"""Feedback's public values: the problem categories, a report's states and the bounds on what is kept."""

from __future__ import annotations

import enum

from panjereh.core.i18n import N_

MIN_STARS, MAX_STARS = 1, 5
COMMENT_MAX = 1000  # characters of a rating's comment, after normalisation
REPORT_MAX = 2000  # characters of a problem report's text
REPLY_MAX = 2000  # characters of an agency's reply
REPLY_KIND = "feedback.reply"  # the notice of a reply: notify's «feedback» topic, channels the citizen chose
# A problem with the window itself (a page that is no service's: login, the dashboard, an accessibility
# barrier anywhere) is reported to the platform's operating agency, under no service.
PLATFORM_SLUG = ""


class ProblemCategory(enum.StrEnum):
    """What kind of problem a citizen reports about a service."""

    PAGE_BROKEN = "page_broken"
    WRONG_INFORMATION = "wrong_information"
    COULD_NOT_FINISH = "could_not_finish"
    REGISTRY_ERROR = "registry_error"
    ACCESSIBILITY = "accessibility"
    OTHER = "other"


class ReportState(enum.StrEnum):
    """A problem report's life: open → acknowledged → resolved (or open → resolved)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


CATEGORY_LABELS = {
    ProblemCategory.PAGE_BROKEN: N_("صفحه درست کار نمی‌کند"),
    ProblemCategory.WRONG_INFORMATION: N_("اطلاعات نادرست است"),
    ProblemCategory.COULD_NOT_FINISH: N_("نتوانستم خدمت را تمام کنم"),
    ProblemCategory.REGISTRY_ERROR: N_("خطای سامانهٔ دستگاه"),
    ProblemCategory.ACCESSIBILITY: N_("مشکل دسترس‌پذیری"),
    ProblemCategory.OTHER: N_("موارد دیگر"),
}
STATE_LABELS = {
    ReportState.OPEN: N_("باز"),
    ReportState.ACKNOWLEDGED: N_("دیده شد"),
    ReportState.RESOLVED: N_("برطرف شد"),
}
