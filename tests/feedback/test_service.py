"""The feedback domain: one changeable rating per citizen and service, text normalised and bounded, reports
and their answers, the small-count rule of the averages."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.catalog.exceptions import ServiceNotFound
from panjereh.catalog.models import ServiceCard
from panjereh.core.config import Settings
from panjereh.feedback import selectors, service
from panjereh.feedback.constants import ProblemCategory, ReportState
from panjereh.feedback.exceptions import InvalidFeedback, ReportClosed, ReportNotFound
from panjereh.feedback.models import Rating
from panjereh.notify import selectors as notify_selectors
from tests.feedback.conftest import ADMIN, CITIZEN, OTHER_CITIZEN


def test_one_rating_per_citizen_per_service_and_it_changes(
    db: Session, cards: dict[str, ServiceCard]
) -> None:
    first = service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars="2", comment="كند بود")
    again = service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars="۵", comment=None)
    assert again.id == first.id and again.stars == 5 and again.comment is None
    assert db.scalar(select(func.count(Rating.id))) == 1
    service.rate(db, national_code=OTHER_CITIZEN, slug="alpha-permit", stars=4)
    average = selectors.service_average(db, "alpha-permit", minimum=2)
    assert (average.count, average.average) == (2, 4.5)
    assert selectors.rating_of(db, CITIZEN, "alpha-permit").stars == 5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "stars",
    [
        "0",
        "6",
        "-1",
        "3.5",
        "",
        " ",
        "NaN",
        "nan",
        "inf",
        "five",
        "٣٫٥",
        "1e0",
        "005",
        None,
        True,
        0,
        6,
        math.nan,
        math.inf,
        2.5,
        "9" * 5000,
    ],
)
def test_a_rating_is_a_whole_number_from_one_to_five(
    db: Session, cards: dict[str, ServiceCard], stars: object
) -> None:
    with pytest.raises(InvalidFeedback):
        service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars=stars)
    assert selectors.rating_of(db, CITIZEN, "alpha-permit") is None


def test_persian_digits_and_numbers_are_read_as_stars(db: Session, cards: dict[str, ServiceCard]) -> None:
    assert service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars="۳").stars == 3
    assert service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars=4.0).stars == 4
    assert service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars=1).stars == 1


def test_text_is_normalised_bounded_and_kept_as_typed(db: Session, cards: dict[str, ServiceCard]) -> None:
    text = "  علي\u0000 در <b>كرج</b>\r\nنيمه‌کاره\u202e  "
    report = service.report_problem(
        db, national_code=CITIZEN, slug="alpha-permit", category="other", text=text
    )
    # Arabic yeh and kaf written the Persian way; control and bidi-override characters dropped; ZWNJ kept;
    # the markup kept as text (escaped when shown).
    assert report.text == "علی در <b>کرج</b>\nنیمه‌کاره"
    with pytest.raises(InvalidFeedback):
        service.report_problem(
            db, national_code=CITIZEN, slug="alpha-permit", category="other", text="x" * 2001
        )
    with pytest.raises(InvalidFeedback):
        service.report_problem(
            db, national_code=CITIZEN, slug="alpha-permit", category="other", text=" \n\t "
        )
    with pytest.raises(InvalidFeedback):
        service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars=3, comment="ک" * 1001)
    with pytest.raises(InvalidFeedback):
        service.report_problem(db, national_code=CITIZEN, slug="alpha-permit", category="spam", text="x")
    with pytest.raises(InvalidFeedback):
        service.report_problem(db, national_code=CITIZEN, slug="alpha-permit", category="other", text=["x"])


def test_an_unknown_service_is_not_found(db: Session, cards: dict[str, ServiceCard]) -> None:
    with pytest.raises(ServiceNotFound):
        service.rate(db, national_code=CITIZEN, slug="no-such-service", stars=3)


def test_a_report_is_answered_by_its_own_agency_and_the_reply_reaches_the_inbox(
    db: Session, settings: Settings, cards: dict[str, ServiceCard]
) -> None:
    report = service.report_problem(
        db,
        national_code=CITIZEN,
        slug="alpha-permit",
        category=ProblemCategory.PAGE_BROKEN,
        text="دکمه کار نمی‌کند",
    )
    with pytest.raises(ReportNotFound):
        service.answer_report(
            db,
            settings,
            agency_code="beta",
            staff_code=ADMIN,
            report_id=report.id,
            state="resolved",
            reply="x",
        )
    with pytest.raises(InvalidFeedback):
        service.answer_report(
            db,
            settings,
            agency_code="alpha",
            staff_code=ADMIN,
            report_id=report.id,
            state="resolved",
            reply="",
        )
    with pytest.raises(InvalidFeedback):
        service.answer_report(
            db, settings, agency_code="alpha", staff_code=ADMIN, report_id=report.id, state="open", reply="x"
        )
    service.answer_report(
        db,
        settings,
        agency_code="alpha",
        staff_code=ADMIN,
        report_id=report.id,
        state="acknowledged",
        reply="بررسی می‌کنیم",
    )
    done = service.answer_report(
        db,
        settings,
        agency_code="alpha",
        staff_code=ADMIN,
        report_id=report.id,
        state="resolved",
        reply="درست شد",
    )
    assert done.state is ReportState.RESOLVED and done.acknowledged_at and done.resolved_at
    with pytest.raises(ReportClosed):
        service.answer_report(
            db,
            settings,
            agency_code="alpha",
            staff_code=ADMIN,
            report_id=report.id,
            state="acknowledged",
            reply="x",
        )
    inbox = notify_selectors.inbox(db, CITIZEN)
    assert [m.body_fa for m in inbox if m.kind == "feedback.reply"] == ["درست شد", "بررسی می‌کنیم"]
    assert notify_selectors.inbox(db, OTHER_CITIZEN) == []


def test_the_small_count_rule_and_open_reports_by_category(
    db: Session, settings: Settings, cards: dict[str, ServiceCard]
) -> None:
    codes = ["0499370899", "0790419904", "1583250689", "0684159414", "0084575948"]
    for code, stars in zip(codes, [5, 4, 4, 3, 5], strict=True):
        service.rate(db, national_code=code, slug="alpha-permit", stars=stars)
    service.rate(db, national_code=codes[0], slug="alpha-renewal", stars=1)
    service.rate(db, national_code=codes[0], slug="beta-permit", stars=1)
    score = selectors.agency_score(db, "alpha", minimum=5)
    by_slug = dict(score.services)
    assert by_slug["alpha-permit"].average == 4.2 and by_slug["alpha-permit"].count == 5
    assert by_slug["alpha-renewal"].average is None and by_slug["alpha-renewal"].count == 1  # too few
    assert score.agency.count == 6 and score.agency.average == 3.7  # 22 / 6, beta's rating not counted
    assert selectors.agency_score(db, "alpha", minimum=7).agency.average is None
    for category in ("page_broken", "page_broken", "registry_error"):
        service.report_problem(db, national_code=CITIZEN, slug="alpha-permit", category=category, text="x")
    resolved = service.report_problem(
        db, national_code=CITIZEN, slug="alpha-permit", category="other", text="y"
    )
    service.answer_report(
        db,
        settings,
        agency_code="alpha",
        staff_code=ADMIN,
        report_id=resolved.id,
        state="resolved",
        reply="z",
    )
    score = selectors.agency_score(db, "alpha", minimum=5)
    assert score.open_reports == {ProblemCategory.PAGE_BROKEN: 2, ProblemCategory.REGISTRY_ERROR: 1}
    assert selectors.agency_score(db, "beta", minimum=5).open_total == 0


def test_an_anonymous_report_hides_the_reporter_from_the_agency_only(
    db: Session, cards: dict[str, ServiceCard]
) -> None:
    row = service.report_problem(
        db, national_code=CITIZEN, slug="alpha-permit", category="other", text="x", anonymous=True
    )
    seen = selectors.agency_report(db, "alpha", row.id)
    assert seen.reporter is None and seen.tracking_code is None
    assert row.national_code == CITIZEN  # the platform keeps who, for the reply and abuse handling
    assert [r.id for r in selectors.reports_of_citizen(db, CITIZEN)] == [row.id]
    with pytest.raises(ReportNotFound):
        selectors.agency_report(db, "beta", row.id)


def _answer(db: Session, settings: Settings, reply: str, national_code: str = CITIZEN) -> None:
    report = service.report_problem(
        db, national_code=national_code, slug="alpha-permit", category="other", text="کار نمی‌کند"
    )
    service.answer_report(
        db,
        settings,
        agency_code="alpha",
        staff_code=ADMIN,
        report_id=report.id,
        state="resolved",
        reply=reply,
    )
    db.flush()


def _replies(db: Session, national_code: str = CITIZEN) -> list[str]:
    return [m.body_fa for m in notify_selectors.inbox(db, national_code) if m.kind == "feedback.reply"]


def _texted(db: Session, national_code: str = CITIZEN) -> list[tuple[str, str]]:
    rows = notify_selectors.notifications(db, national_code=national_code)
    return [(row.channel, row.recipient) for row in rows if row.kind == "feedback.reply"]


def test_a_reply_goes_through_the_citizens_notice_choices(
    db: Session, settings: Settings, cards: dict[str, ServiceCard]
) -> None:
    from panjereh.notify import service as notify_service
    from tests.support.factories import create_citizen

    create_citizen(db, CITIZEN, mobile="09121234567")
    _answer(db, settings, "پاسخ اول")  # the default for replies: the inbox only
    assert _replies(db) == ["پاسخ اول"] and _texted(db) == []
    [first] = [m for m in notify_selectors.inbox(db, CITIZEN) if m.kind == "feedback.reply"]
    assert first.subject_en == "Your report about “Alpha permit” was resolved"
    assert first.subject_fa == "گزارش شما دربارهٔ «مجوز آلفا» برطرف شد" and first.body_en is None

    notify_service.set_topic_channels(db, CITIZEN, "feedback", frozenset({"inbox", "sms"}))
    _answer(db, settings, "پاسخ دوم")
    assert _replies(db) == ["پاسخ دوم", "پاسخ اول"] and _texted(db) == [("sms", "09121234567")]

    notify_service.set_topic_channels(db, CITIZEN, "feedback", frozenset({"sms"}))  # the inbox switched off
    _answer(db, settings, "پاسخ سوم")
    assert _replies(db) == ["پاسخ دوم", "پاسخ اول"] and len(_texted(db)) == 2

    notify_service.set_topic_channels(db, CITIZEN, "feedback", frozenset())  # nothing: the page still has it
    _answer(db, settings, "پاسخ چهارم")
    assert len(_replies(db)) == 2 and len(_texted(db)) == 2
    assert "پاسخ چهارم" in [r.reply for r in selectors.reports_of_citizen(db, CITIZEN)]


def test_a_reply_to_someone_without_a_mobile_reaches_the_inbox_only(
    db: Session, settings: Settings, cards: dict[str, ServiceCard]
) -> None:
    from panjereh.notify import service as notify_service

    notify_service.set_topic_channels(db, OTHER_CITIZEN, "feedback", frozenset({"inbox", "sms"}))
    _answer(db, settings, "پاسخ", national_code=OTHER_CITIZEN)  # no account yet: no mobile to text
    assert _replies(db, OTHER_CITIZEN) == ["پاسخ"] and _texted(db, OTHER_CITIZEN) == []
    assert _replies(db) == []  # the reporter's only
