"""Feedback's writes: rating a service, reporting a problem, and an agency answering a report.

What a citizen types is kept as display text: NFC, the Arabic yeh and kaf written the Persian way, control
characters dropped, bounded in length. It is escaped when shown (the templates' autoescape), never here.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.db import utcnow
from panjereh.core.persian import fold_digits, to_persian_digits
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.constants import RequestState
from panjereh.exchange.service import PLATFORM_AGENCY
from panjereh.feedback.constants import (
    COMMENT_MAX,
    MAX_STARS,
    MIN_STARS,
    PLATFORM_SLUG,
    REPLY_KIND,
    REPLY_MAX,
    REPORT_MAX,
    ProblemCategory,
    ReportState,
)
from panjereh.feedback.exceptions import InvalidFeedback, ReportClosed, ReportNotFound
from panjereh.feedback.models import ProblemReport, Rating
from panjereh.identity import selectors as identity_selectors
from panjereh.notify import service as notify_service

if TYPE_CHECKING:
    from panjereh.catalog.models import ServiceCard
    from panjereh.core.config import Settings

DECIDED = (RequestState.APPROVED, RequestState.REFUSED)
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک"})
# Control and format characters other than line breaks, tabs and the joiners Persian needs (ZWNJ, ZWJ).
_KEPT = {"\n", "\t", "\u200c", "\u200d"}
_STARS = re.compile(r"^\s*([0-9]+)\s*$")


def normalize_text(value: object, *, limit: int, field: str, required: bool) -> str | None:
    """Display text as it is kept: normalised, bounded; empty is None (or refused when required)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidFeedback(f"{field} must be text", f"{_FIELDS_FA.get(field, field)} باید متن باشد")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).translate(_LETTERS)
    text = "".join(ch for ch in text if ch in _KEPT or unicodedata.category(ch)[0] != "C").strip()
    if len(text) > limit:
        raise InvalidFeedback(
            f"{field} is longer than {limit} characters",
            to_persian_digits(f"{_FIELDS_FA.get(field, field)} از {limit} نویسه بلندتر است"),
        )
    if not text:
        if required:
            raise InvalidFeedback(f"{field} is empty", f"{_FIELDS_FA.get(field, field)} خالی است")
        return None
    return text


_FIELDS_FA = {"comment": "توضیح", "text": "شرح مشکل", "reply": "پاسخ"}


def parse_stars(value: object) -> int:
    """A rating of 1 to 5 whole stars, from a form's text (Persian digits too) or a number."""
    stars: int | None = None
    if isinstance(value, bool):
        stars = None  # True is not a rating
    elif isinstance(value, int):
        stars = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        stars = int(value)
    elif isinstance(value, str):
        match = _STARS.match(fold_digits(value))
        stars = int(match.group(1)) if match and len(match.group(1)) <= 2 else None
    if stars is None or not MIN_STARS <= stars <= MAX_STARS:
        raise InvalidFeedback(
            f"A rating is a whole number of stars from {MIN_STARS} to {MAX_STARS}",
            to_persian_digits(f"امتیاز عددی درست از {MIN_STARS} تا {MAX_STARS} است"),
        )
    return stars


def parse_category(value: object) -> ProblemCategory:
    try:
        return ProblemCategory(str(value))
    except ValueError as exc:
        raise InvalidFeedback("Unknown problem category", "نوع مشکل شناخته نیست") from exc


def _request_code(
    session: Session, national_code: str, card: ServiceCard, code: str | None, *, decided: bool
) -> str | None:
    """The citizen's own request of this service named by `code` (someone else's is not found)."""
    if not code:
        return None
    item = delivery_selectors.request_of(session, national_code, code)
    if item.slug != card.slug:
        raise InvalidFeedback("That request is of another service", "این درخواست مربوط به خدمت دیگری است")
    if decided and item.state not in DECIDED:
        raise InvalidFeedback(
            "A request can be rated once it is decided", "پس از پایان رسیدگی می‌توانید به درخواست امتیاز دهید"
        )
    return item.tracking_code


def rate(
    session: Session,
    *,
    national_code: str,
    slug: str,
    stars: object,
    comment: object = None,
    tracking_code: str | None = None,
) -> Rating:
    """Rate a service (again: the one rating changes); after a request, only once it is decided."""
    card = catalog_selectors.find_service(session, slug)
    value = parse_stars(stars)
    text = normalize_text(comment, limit=COMMENT_MAX, field="comment", required=False)
    code = _request_code(session, national_code, card, tracking_code, decided=True)
    rating = session.scalar(
        select(Rating).where(Rating.national_code == national_code, Rating.service_slug == card.slug)
    )
    if rating is None:
        rating = Rating(national_code=national_code, service_slug=card.slug, agency_code=card.agency.code)
        session.add(rating)
    rating.stars, rating.comment, rating.updated_at = value, text, utcnow()
    rating.agency_code = card.agency.code
    if code is not None:
        rating.tracking_code = code
    session.flush()
    return rating


def report_problem(
    session: Session,
    *,
    national_code: str,
    slug: str,
    category: object,
    text: object,
    anonymous: bool = False,
    tracking_code: str | None = None,
) -> ProblemReport:
    """Report a problem with a service (`PLATFORM_SLUG`: with the window itself, to the platform's operating
    agency); `anonymous` hides the reporter from the agency, not the platform."""
    card = catalog_selectors.find_service(session, slug) if slug != PLATFORM_SLUG else None
    kind = parse_category(category)
    body = normalize_text(text, limit=REPORT_MAX, field="text", required=True)
    assert body is not None
    code = _request_code(session, national_code, card, tracking_code, decided=False) if card else None
    report = ProblemReport(
        national_code=national_code,
        anonymous=bool(anonymous),
        service_slug=card.slug if card else PLATFORM_SLUG,
        agency_code=card.agency.code if card else PLATFORM_AGENCY,
        tracking_code=code,
        category=kind,
        text=body,
        state=ReportState.OPEN,
    )
    session.add(report)
    session.flush()
    return report


def answer_report(
    session: Session,
    settings: Settings,
    *,
    agency_code: str,
    staff_code: str,
    report_id: str,
    state: object,
    reply: object,
) -> ProblemReport:
    """An agency's answer to a report of its own service: acknowledged or resolved, with a reply told to
    the reporter on the channels they chose for replies (in this transaction: it goes only if the answer
    is kept)."""
    report = (
        session.get(ProblemReport, report_id) if isinstance(report_id, str) and len(report_id) <= 32 else None
    )
    if report is None or report.agency_code != agency_code:
        raise ReportNotFound()
    try:
        target = ReportState(str(state))
    except ValueError as exc:
        raise InvalidFeedback("Unknown report state", "وضعیت گزارش شناخته نیست") from exc
    if target is ReportState.OPEN:
        raise InvalidFeedback(
            "A report is answered as acknowledged or resolved", "گزارش را «دیده شد» یا «برطرف شد» کنید"
        )
    if report.state is ReportState.RESOLVED:
        raise ReportClosed()
    text = normalize_text(reply, limit=REPLY_MAX, field="reply", required=True)
    assert text is not None
    now = utcnow()
    report.state, report.reply, report.handled_by = target, text, staff_code
    if target is ReportState.ACKNOWLEDGED:
        report.acknowledged_at = now
    else:
        report.acknowledged_at = report.acknowledged_at or now
        report.resolved_at = now
    card = catalog_selectors.cards_by_slug(session, [report.service_slug]).get(report.service_slug)
    title_fa = card.title_fa if card else "پنجرهٔ ملی خدمات"
    title_en = (card.title_en or card.title_fa) if card else "Iran's national window"
    verb_fa, verb_en = (
        ("برطرف شد", "was resolved") if target is ReportState.RESOLVED else ("دیده شد", "was seen")
    )
    citizen = identity_selectors.get_citizen_by_national_code(session, report.national_code)
    # Through the citizen's choices for replies (the inbox by default; SMS or e-mail if they chose them).
    # The reply is the agency's own words, in Persian: the English notice carries only the subject.
    notify_service.tell(
        session,
        settings,
        national_code=report.national_code,
        mobile=citizen.mobile if citizen is not None else None,
        kind=REPLY_KIND,
        subject_fa=f"گزارش شما دربارهٔ «{title_fa}» {verb_fa}",
        body_fa=text,
        subject_en=f"Your report about “{title_en}” {verb_en}",
        link="/account/feedback",
    )
    session.flush()
    return report
