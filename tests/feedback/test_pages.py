"""Rating and reporting from the service card and a decided request: signed out, CSRF, malformed input,
escaping, the limit, another citizen's request; the citizen's own reports page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.catalog.models import ServiceCard
from panjereh.core.config import Settings
from panjereh.delivery import loading
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.feedback import selectors
from panjereh.feedback.models import ProblemReport
from tests.feedback.conftest import ADMIN, CITIZEN, OTHER_CITIZEN
from tests.support.browsers import csrf_token
from tests.support.factories import create_flagship_cards

Browser = Callable[..., TestClient]
CARD = "/services/alpha-permit"


def _rate(browser: TestClient, data: dict[str, str], page: str = CARD) -> httpx.Response:
    token = csrf_token(browser, page)
    return browser.post(
        "/services/alpha-permit/rating", data={"csrf_token": token, **data}, follow_redirects=False
    )


def _report(
    browser: TestClient, data: dict[str, str], page: str = CARD, slug: str = "alpha-permit"
) -> httpx.Response:
    token = csrf_token(browser, page)
    return browser.post(
        f"/services/{slug}/problems", data={"csrf_token": token, **data}, follow_redirects=False
    )


def test_the_card_invites_a_signed_out_reader_to_sign_in(
    client: TestClient, cards: dict[str, ServiceCard]
) -> None:
    page = client.get(CARD)
    assert page.status_code == 200 and 'id="feedback"' in page.text
    assert 'action="/services/alpha-permit/rating"' not in page.text
    assert "/login?next=/services/alpha-permit" in page.text
    # Posting signed out is refused (a browser is sent to the login page), and nothing is kept.
    refused = client.post("/services/alpha-permit/rating", data={"stars": "5"}, follow_redirects=False)
    assert refused.status_code in (303, 401)
    refused = client.post(
        "/services/alpha-permit/rating", data={"stars": "5"}, headers={"accept": "application/json"}
    )
    assert refused.status_code in (401, 403)


def test_a_citizen_rates_from_the_card_and_changes_the_rating(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    citizen = browser(CITIZEN)
    done = _rate(citizen, {"stars": "4", "comment": "خوب"})
    assert (
        done.status_code == 303
        and done.headers["location"] == "/services/alpha-permit?feedback=rated#feedback"
    )
    page = citizen.get(done.headers["location"]).text
    assert "امتیاز شما ثبت شد" in page
    assert 'value="4" required checked' in page and ">خوب</textarea>" in page
    assert "هنوز امتیاز کافی" in page  # one rating, under the small-count rule
    _rate(citizen, {"stars": "2"})
    db.expire_all()
    assert selectors.rating_of(db, CITIZEN, "alpha-permit").stars == 2  # type: ignore[union-attr]
    assert selectors.service_average(db, "alpha-permit", 1).count == 1


def test_the_average_shows_from_enough_ratings(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], cards: dict[str, ServiceCard]
) -> None:
    app = create_app(settings.model_copy(update={"feedback_min_ratings": 2}))
    app.state.sessionmaker = session_factory
    from panjereh.feedback import service

    service.rate(db, national_code=CITIZEN, slug="alpha-permit", stars=5)
    db.commit()
    with TestClient(app) as client:
        assert "هنوز امتیاز کافی" in client.get(CARD).text
        service.rate(db, national_code=OTHER_CITIZEN, slug="alpha-permit", stars=4)
        db.commit()
        page = client.get(CARD).text
        assert "میانگین امتیاز: ۴٫۵ از ۵ (۲ امتیاز)" in page
        english = client.get(CARD + "?lang=en").text
        assert "Average rating: 4.5 out of 5 (ratings: 2)" in english


@pytest.mark.parametrize("stars", ["0", "6", "NaN", "", "3.5", "-1", "1e1", "٧", "<script>", "x" * 10_000])
def test_a_malformed_rating_is_refused_and_the_comment_kept(
    db: Session, browser: Browser, cards: dict[str, ServiceCard], stars: str
) -> None:
    citizen = browser(CITIZEN)
    refused = _rate(citizen, {"stars": stars, "comment": "نظر من"})
    assert refused.status_code == 422
    assert "feedback" in refused.text and ">نظر من</textarea>" in refused.text  # nothing typed is lost
    db.expire_all()
    assert selectors.rating_of(db, CITIZEN, "alpha-permit") is None


def test_missing_or_forged_csrf_is_refused(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    citizen = browser(CITIZEN)
    citizen.get(CARD)
    for data in ({"stars": "5"}, {"stars": "5", "csrf_token": "forged.token"}):
        refused = citizen.post("/services/alpha-permit/rating", data=data, follow_redirects=False)
        assert refused.status_code == 403
        refused = citizen.post(
            "/services/alpha-permit/problems",
            data={**data, "category": "other", "text": "x"},
            follow_redirects=False,
        )
        assert refused.status_code == 403
    # Another citizen's token does not work in this citizen's session.
    other_token = csrf_token(browser(OTHER_CITIZEN), CARD)
    refused = citizen.post("/services/alpha-permit/rating", data={"stars": "5", "csrf_token": other_token})
    assert refused.status_code == 403
    db.expire_all()
    assert selectors.rating_of(db, CITIZEN, "alpha-permit") is None


def test_a_report_is_kept_escaped_and_shown_in_my_reports(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    citizen = browser(CITIZEN)
    done = _report(
        citizen, {"category": "wrong_information", "text": "<script>alert(1)</script> هزينه غلط است"}
    )
    assert done.status_code == 303 and done.headers["location"].endswith("feedback=reported#feedback")
    mine = citizen.get("/account/feedback")
    assert mine.status_code == 200 and mine.headers["cache-control"] == "no-store"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; هزینه غلط است" in mine.text
    assert "<script>alert(1)" not in mine.text
    assert "اطلاعات نادرست است" in mine.text and 'data-state="open"' in mine.text
    assert "The information is wrong" in citizen.get("/account/feedback?lang=en").text
    # Another citizen sees none of it.
    assert "هزینه غلط" not in browser(OTHER_CITIZEN).get("/account/feedback").text


@pytest.mark.parametrize(
    "data",
    [
        {"category": "other", "text": ""},
        {"category": "other", "text": "   "},
        {"category": "other", "text": "ب" * 2001},
        {"category": "nonsense", "text": "x"},
        {"text": "x"},
        {"category": "other"},
    ],
)
def test_a_malformed_report_is_refused_and_what_was_typed_kept(
    db: Session, browser: Browser, cards: dict[str, ServiceCard], data: dict[str, str]
) -> None:
    citizen = browser(CITIZEN)
    refused = _report(citizen, data)
    assert refused.status_code == 422, refused.text[:500]
    if data.get("text", "").strip():
        assert data["text"][:50] in refused.text
    db.expire_all()
    assert selectors.reports_of_citizen(db, CITIZEN) == []


def test_wrong_encoding_is_a_client_problem_not_a_crash(
    db: Session, browser: Browser, cards: dict[str, ServiceCard]
) -> None:
    citizen = browser(CITIZEN)
    token = csrf_token(citizen, CARD)
    body = f"csrf_token={token}&category=other&text=%FF%FE%C3%28".encode()
    answer = citizen.post(
        "/services/alpha-permit/problems",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code < 500
    raw = b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    answer = citizen.post(
        "/services/alpha-permit/problems",
        content=raw,
        headers={"content-type": "multipart/form-data; boundary=b"},
        follow_redirects=False,
    )
    assert answer.status_code < 500


def test_ratings_and_reports_are_limited_per_citizen(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], cards: dict[str, ServiceCard]
) -> None:
    from panjereh.core.cookies import SESSION_COOKIE
    from panjereh.identity import sessions
    from tests.support.factories import create_citizen

    app = create_app(
        settings.model_copy(update={"feedback_per_hour": 2, "redis_prefix": settings.redis_prefix + "fl:"})
    )
    app.state.sessionmaker = session_factory
    citizen = create_citizen(db, CITIZEN)
    _, token = sessions.open_session(db, citizen, level=2, amr=["otp"])
    db.commit()
    with TestClient(app) as browser:
        browser.cookies.set(SESSION_COOKIE, token)
        assert [_report(browser, {"category": "other", "text": f"{n}"}).status_code for n in range(3)] == [
            303,
            303,
            429,
        ]
        assert _rate(browser, {"stars": "3"}).status_code == 303  # counted apart from reports
    db.expire_all()
    assert len(selectors.reports_of_citizen(db, CITIZEN)) == 2


@pytest.fixture
def decided(seeded: Session, settings: Settings) -> Callable[[str, RequestState], str]:
    """A request of the business licence by that citizen, put in a state; its tracking code."""
    loading.sync_definitions(seeded)
    create_flagship_cards(seeded)
    seeded.commit()
    counter = iter(range(100))

    def make(national_code: str, state: RequestState) -> str:
        created, _ = delivery_service.submit(
            seeded,
            settings,
            national_code=national_code,
            slug="business-licence",
            inputs={"trade": "نانوایی", "shop_postal_code": "1193653471"},
            idempotency_key=f"feedback-{next(counter)}",
        )
        created.state = state
        created.decided_at = (
            datetime.now(UTC) if state in (RequestState.APPROVED, RequestState.REFUSED) else None
        )
        seeded.commit()
        return created.tracking_code

    return make


def test_a_decided_request_is_rated_from_its_page(
    seeded: Session, browser: Browser, decided: Callable[[str, RequestState], str]
) -> None:
    citizen = browser(CITIZEN)
    waiting = decided(CITIZEN, RequestState.SUBMITTED)
    assert 'id="feedback"' not in citizen.get(f"/account/requests/{waiting}").text
    code = decided(CITIZEN, RequestState.APPROVED)
    page = f"/account/requests/{code}"
    assert 'id="feedback"' in citizen.get(page).text
    token = csrf_token(citizen, page)
    done = citizen.post(
        "/services/business-licence/rating",
        data={"csrf_token": token, "stars": "5", "tracking_code": code},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{page}?feedback=rated#feedback"
    seeded.expire_all()
    rating = selectors.rating_of(seeded, CITIZEN, "business-licence")
    assert rating is not None and rating.tracking_code == code and rating.agency_code == "industry"
    # Naming a request still in progress is refused.
    refused = citizen.post(
        "/services/business-licence/rating",
        data={"csrf_token": token, "stars": "1", "tracking_code": waiting},
        follow_redirects=False,
    )
    assert refused.status_code == 422


def test_another_citizens_request_cannot_be_named(
    seeded: Session, browser: Browser, decided: Callable[[str, RequestState], str]
) -> None:
    theirs = decided(OTHER_CITIZEN, RequestState.APPROVED)
    citizen = browser(CITIZEN)
    token = csrf_token(citizen, "/services/business-licence")
    for path, data in (
        ("rating", {"stars": "1"}),
        ("problems", {"category": "other", "text": "x"}),
    ):
        answer = citizen.post(
            f"/services/business-licence/{path}",
            data={"csrf_token": token, "tracking_code": theirs, **data},
            follow_redirects=False,
        )
        assert answer.status_code == 404
    # OTHER_CITIZEN is the demo minor, CITIZEN her father: he reads her request, read-only
    # (docs/protocols/representation.md); anyone else is not found.
    assert 'id="read-only"' in citizen.get(f"/account/requests/{theirs}").text
    assert browser(ADMIN).get(f"/account/requests/{theirs}").status_code == 404
    seeded.expire_all()
    assert selectors.rating_of(seeded, CITIZEN, "business-licence") is None
    assert seeded.query(ProblemReport).count() == 0


def test_the_report_page_can_start_with_a_category(browser: Browser, cards: dict[str, ServiceCard]) -> None:
    page = browser(CITIZEN).get("/services/alpha-permit/feedback?category=accessibility")
    assert page.status_code == 200
    assert re.search(r'<option value="accessibility" selected>', page.text)
    assert browser(CITIZEN).get("/services/alpha-permit/feedback?category=<x>").status_code == 200
