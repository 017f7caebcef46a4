"""Demo data for feedback: ratings of a few flagship services from the registries' personas, problem reports
about the tax administration's service (the demo citizen administers its workspace), and one report of the
demo citizen answered by the judiciary, so its reply is in his inbox (README, «A short tour»)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.feedback import selectors, service

DEMO_CITIZEN = "0499370899"
# Adults among the registries' personas (docs/protocols/registries.md), and how each rated what.
RATINGS = (
    ("0499370899", "no-criminal-record", 5, "در چند ثانیه گواهی را گرفتم."),
    ("1583250689", "no-criminal-record", 4, None),
    ("0684159414", "no-criminal-record", 2, "رد شد و دلیلش را نفهمیدم."),
    ("0084575948", "no-criminal-record", 5, None),
    ("0067749828", "no-criminal-record", 4, None),
    ("4032152314", "no-criminal-record", 5, None),
    ("0499370899", "tax-clearance", 3, None),
    ("0084575948", "tax-clearance", 1, "بدهی پرداخت‌شده هنوز نشان داده می‌شود."),
    ("0499370899", "business-licence", 4, None),
)
REPORTS = (
    (
        "0084575948",
        "tax-clearance",
        "wrong_information",
        "بدهی‌ای که ماه پیش پرداختم هنوز در مفاصا حساب آمده است.",
        False,
    ),
    (
        "0067749828",
        "tax-clearance",
        "registry_error",
        "پس از فرستادن درخواست، پیام خطای سامانهٔ مالیاتی آمد.",
        True,
    ),
)
ANSWERED = ("0499370899", "no-criminal-record", "could_not_finish", "دکمهٔ دریافت PDF روی گوشی کار نکرد.")
REPLY = "سپاس از گزارش شما. مشکل دریافت PDF روی گوشی برطرف شد؛ لطفاً دوباره امتحان کنید."


def step_size() -> int:
    return len(RATINGS) + len(REPORTS) + 1


def seed_feedback(session: Session, settings: Settings, advance: Advance) -> None:
    """Ratings, open reports and one answered report (idempotent: nothing is added once ratings exist)."""
    if selectors.rating_of(session, DEMO_CITIZEN, "no-criminal-record") is not None:
        advance(step_size())
        return
    for national_code, slug, stars, comment in RATINGS:
        service.rate(session, national_code=national_code, slug=slug, stars=stars, comment=comment)
        advance(1)
    for national_code, slug, category, text, anonymous in REPORTS:
        service.report_problem(
            session, national_code=national_code, slug=slug, category=category, text=text, anonymous=anonymous
        )
        advance(1)
    national_code, slug, category, text = ANSWERED
    report = service.report_problem(
        session, national_code=national_code, slug=slug, category=category, text=text
    )
    service.answer_report(
        session,
        settings,
        agency_code=report.agency_code,
        staff_code="0068415941",  # the judiciary's officer persona
        report_id=report.id,
        state="resolved",
        reply=REPLY,
    )
    advance(1)
