"""Visit events: recorded after the response, batched, bots filtered, and nothing personal stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from panjereh.analytics import rollups
from panjereh.analytics.figures import month_figures
from panjereh.analytics.models import MonthActive, PseudonymousUser, VisitDaily, visit_event
from panjereh.analytics.visits import VisitRecorder, is_bot, pseudonym
from panjereh.catalog import selectors as catalog_selectors
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.jalali import to_jalali
from panjereh.identity import sessions
from tests.analytics.conftest import publish_shipped
from tests.support.factories import create_citizen

BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"}
NATIONAL_CODE = "0499370899"


@pytest.mark.parametrize(
    "agent",
    [
        None,
        "",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "curl/8.5.0",
        "python-requests/2.32",
        "Mozilla/5.0 HeadlessChrome/126.0",
        "facebookexternalhit/1.1",
    ],
)
def test_bots_and_scripts_are_not_visits(agent: str | None) -> None:
    assert is_bot(agent)


def test_browsers_are_visits() -> None:
    assert not is_bot(BROWSER["user-agent"])
    assert not is_bot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")


def test_pseudonym_is_a_keyed_hash_not_the_id() -> None:
    one = pseudonym("key-a", "citizen-1")
    assert one == pseudonym("key-a", "citizen-1")
    assert one != pseudonym("key-b", "citizen-1")  # another key, another pseudonym
    assert one != pseudonym("key-a", "citizen-2")
    assert "citizen" not in one.hex and NATIONAL_CODE not in one.hex


def test_visit_rows_hold_no_personal_data(engine) -> None:
    columns = {column["name"] for column in inspect(engine).get_columns("visit_event")}
    assert columns == {"day", "occurred_at", "visitor", "agency_code", "service", "channel"}
    assert not columns & {"national_code", "citizen_id", "ip", "user_agent", "mobile", "name"}


def _recorder(settings: Settings, db: Session) -> VisitRecorder:
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    return VisitRecorder(settings, lambda: factory, background=False, batch_size=3)


def test_recorder_writes_in_batches_and_registers_users(db: Session, settings: Settings) -> None:
    recorder = _recorder(settings, db)
    when = datetime(2023, 11, 25, 22, 0, tzinfo=UTC)  # 1:30 on 5 Azar 1402 in Tehran: the next day
    for index in range(7):
        recorder.record(
            citizen_id="citizen-1" if index % 2 else "citizen-2", agency_code="justice", occurred_at=when
        )
    assert not recorder.record(citizen_id="citizen-3", user_agent="Googlebot/2.1", occurred_at=when)
    recorder.record(citizen_id=None, agency_code=None, channel="carrier-pigeon", occurred_at=when)
    assert db.scalar(select(func.count()).select_from(visit_event)) == 0  # nothing on the caller's path
    assert recorder.flush() == 8
    rows = db.execute(select(visit_event)).all()
    assert len(rows) == 8 and recorder.dropped_bots == 1
    assert {row.day.isoformat() for row in rows} == {"2023-11-26"}
    assert {row.channel for row in rows} == {"web"}  # an unknown channel is recorded as web
    visitors = {row.visitor for row in rows}
    assert visitors == {
        None,
        pseudonym(settings.secret_key, "citizen-1"),
        pseudonym(settings.secret_key, "citizen-2"),
    }
    users = db.scalars(select(PseudonymousUser)).all()
    assert len(users) == 2
    # Seen again later: the first day is kept.
    recorder.record(citizen_id="citizen-1", occurred_at=datetime(2023, 12, 1, 8, tzinfo=UTC))
    recorder.flush()
    assert (
        db.get_one(PseudonymousUser, pseudonym(settings.secret_key, "citizen-1")).first_seen_on.isoformat()
        == "2023-11-26"
    )


def test_rollup_turns_events_into_figures(db: Session, settings: Settings) -> None:
    recorder = _recorder(settings, db)
    when = datetime(2023, 12, 1, 8, tzinfo=UTC)  # 10 Azar 1402
    for citizen in ("a", "b", "a", "a", None):
        recorder.record(citizen_id=citizen, agency_code="tax", channel="app", occurred_at=when)
    recorder.flush()
    j = to_jalali(when)
    month = rollups.rollup_month(db, j.year, j.month)
    assert month is not None and (month.active_users, month.visits, month.source) == (2, 5, "events")
    daily = db.scalars(select(VisitDaily)).one()
    assert (daily.agency_code, daily.channel, daily.visits, daily.authenticated_visits) == (
        "tax",
        "app",
        5,
        4,
    )
    figures = month_figures(db, (1402, 9))
    assert (figures.users_at_end, figures.visits, figures.active_users) == (2, 5, 2)
    # Rolling up twice changes nothing; an empty month is not written.
    rollups.rollup_month(db, j.year, j.month)
    assert db.scalar(select(func.sum(VisitDaily.visits))) == 5
    assert rollups.rollup_month(db, 1402, 10) is None
    assert db.get(MonthActive, (1402, 10)) is None


def test_portal_pages_are_recorded_off_the_request_path(app: FastAPI, agencies: Session) -> None:
    db = agencies

    class Citizen:
        id = "citizen-42"

    @app.middleware("http")
    async def sign_in(request, call_next):  # stands in for the identity domain's session
        if request.headers.get("x-test-citizen"):
            request.state.identity = ("web-session", Citizen())  # as the identity domain caches it
        return await call_next(request)

    recorder: VisitRecorder = app.state.visits
    client = TestClient(app, base_url="http://testserver")
    assert (
        client.get("/", headers={**BROWSER, "x-test-citizen": "1", "x-panjereh-channel": "app"}).status_code
        == 200
    )
    client.get("/dashboard/agencies/justice", headers=BROWSER)
    client.get("/", headers={"user-agent": "Googlebot/2.1"})  # a bot
    client.get("/api/v1/open-data", headers=BROWSER)  # not a page
    client.get("/healthz", headers=BROWSER)
    client.get("/no-such-page", headers=BROWSER)  # an error page is not a visit
    assert len(recorder.buffer) == 2
    recorder.flush()
    rows = db.execute(select(visit_event).order_by(visit_event.c.occurred_at)).all()
    # The scorecard is read about the agency, not a use of it: a visit, but of no agency.
    assert [(r.agency_code, r.channel) for r in rows] == [(None, "app"), (None, "web")]
    assert rows[0].visitor == pseudonym(app.state.settings.secret_key, "citizen-42")
    assert rows[1].visitor is None
    assert isinstance(rows[0].visitor, uuid.UUID)


@pytest.mark.demo_catalog
def test_service_agency_and_apply_pages_name_their_agency_and_service(
    app: FastAPI, agencies: Session, settings: Settings
) -> None:
    db = agencies
    publish_shipped(db, settings)
    citizen = create_citizen(db, NATIONAL_CODE)
    _, token = sessions.open_session(db, citizen, level=2, amr=["otp"])
    card = catalog_selectors.find_service(db, "tax-clearance")
    recorder: VisitRecorder = app.state.visits
    with TestClient(app, base_url="http://testserver") as client:
        assert client.get(f"/services/{card.service_id}", headers=BROWSER).status_code == 200  # by its id
        assert client.get("/agencies/tax", headers=BROWSER).status_code == 200
        client.cookies.set(SESSION_COOKIE, token)
        assert client.get("/services/tax-clearance/apply", headers=BROWSER).status_code == 200
        recorder.flush()
    rows = db.execute(select(visit_event).order_by(visit_event.c.occurred_at)).all()
    assert [(r.agency_code, r.service) for r in rows] == [
        ("tax", "tax-clearance"),
        ("tax", None),
        ("tax", "tax-clearance"),
    ]
    assert rows[2].visitor == pseudonym(settings.secret_key, citizen.id)


def test_an_over_long_service_name_is_cut_to_its_column(db: Session, settings: Settings) -> None:
    recorder = _recorder(settings, db)
    recorder.record(citizen_id=None, agency_code="a" * 60, service="s" * 200)
    assert recorder.flush() == 1
    row = db.execute(select(visit_event)).one()
    assert (len(row.agency_code), len(row.service)) == (40, 80)
