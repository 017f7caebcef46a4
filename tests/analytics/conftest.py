"""Analytics fixtures: the demo agencies, shares and 1:1,000 history, inside the test's transaction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from panjereh.analytics.seed import seed_history, seed_shares
from panjereh.analytics.sources import refresh_measured_shares
from panjereh.core.config import Settings
from panjereh.delivery import loading, tracking
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.exchange.models import InquiryStat
from tests.support.factories import create_demo_agencies, seed_exchange_data

MEASURED_ON = date(2023, 12, 5)  # 14 Azar 1402: the month the measured figures describe


def _ignore(_count: int) -> None:
    return None


@pytest.fixture
def agencies(db: Session) -> Session:
    create_demo_agencies(db)
    return db


# The demo history as if seeded on 1 Dey 1402: exactly the article's months (whatever today's date),
# and quick. tests/analytics/test_seed.py seeds it up to a later day.
ARTICLE_HISTORY_UNTIL = date(2023, 12, 22)  # 1 Dey 1402


@pytest.fixture
def demo(agencies: Session, settings: Settings) -> Session:
    """The article's world at 1:1,000: agencies, dated shares, the visit history."""
    seed_shares(agencies, settings, _ignore)
    seed_history(agencies, settings, _ignore, today=ARTICLE_HISTORY_UNTIL)
    return agencies


def publish_shipped(db: Session, settings: Settings) -> None:
    """The shipped definitions, published as the seed does: after the exchange's directory, whose data
    services they read (publishing needs the agencies' grants for them, which the import records)."""
    seed_exchange_data(db, settings)
    loading.sync_definitions(db)


def add_request(
    db: Session, slug: str, *, after_seconds: float | None, automatic: bool = False, human: bool = False
) -> ServiceRequest:
    """A request made on MEASURED_ON and decided `after_seconds` later (None: still waiting)."""
    record = next(r for r in loading.sync_definitions(db) if r.slug == slug)
    created = datetime.combine(MEASURED_ON, datetime.min.time(), UTC) + timedelta(hours=9)
    request = ServiceRequest(
        tracking_code=tracking.new_tracking_code(), slug=slug, definition_id=record.id,
        agency_code=record.agency_code, national_code="0499370899", idempotency_key=slug + str(after_seconds),
        submission_digest="0" * 64, created_at=created,
        state=RequestState.IN_QUEUE if after_seconds is None else RequestState.APPROVED,
        decided_automatically=automatic, human_touched=human,
        decided_at=None if after_seconds is None else created + timedelta(seconds=after_seconds),
    )  # fmt: skip
    db.add(request)
    db.flush()
    return request


@pytest.fixture
def measured(demo: Session, settings: Settings) -> Session:
    """The demo plus a month of measurement: the executable definitions, requests, gateway inquiries."""
    db = demo
    publish_shipped(db, settings)
    # Cultural Heritage's excavation permit: an officer decides, after a minute, an hour, two hours.
    for seconds in (60, 3_600, 7_200):
        add_request(db, "excavation-permit", after_seconds=seconds, human=True)
    add_request(db, "excavation-permit", after_seconds=None, human=True)  # still with the officer
    # Tax clearance: smart, decided by the engine in seconds.
    for seconds in (2, 4):
        add_request(db, "tax-clearance", after_seconds=seconds, automatic=True)
    # Heritage's inquiries through the gateway this month: all online, as every gateway call is.
    db.add(
        InquiryStat(
            bucket=datetime(2023, 12, 5, 9, tzinfo=UTC), client_agency_code="heritage",
            service_code="deeds.properties", provider_agency_code="deeds", count=50, ok=50,
        )
    )  # fmt: skip
    db.flush()
    refresh_measured_shares(db, MEASURED_ON)
    return db
