"""The demo's feedback: enough ratings of the certificate for an average, the tax administration's open
reports (one anonymous), and the demo citizen's report answered, its reply in his inbox; seeding twice adds
nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.feedback import seed, selectors
from panjereh.notify import selectors as notify_selectors


@pytest.mark.demo_catalog
def test_the_demo_feedback(db: Session, settings: Settings) -> None:
    for _ in range(2):
        seed.seed_feedback(db, settings, lambda _n: None)
    certificate = selectors.service_average(db, "no-criminal-record", settings.feedback_min_ratings)
    assert certificate.count == 6 and certificate.average == 4.2
    assert selectors.service_average(db, "business-licence", settings.feedback_min_ratings).average is None
    tax = selectors.reports_of_agency(db, "tax")
    assert len(tax) == 2 and sorted(r.reporter is None for r in tax) == [False, True]
    [mine] = selectors.reports_of_citizen(db, seed.DEMO_CITIZEN)
    assert mine.reply == seed.REPLY and mine.state.value == "resolved"
    assert [
        m.body_fa for m in notify_selectors.inbox(db, seed.DEMO_CITIZEN) if m.kind == "feedback.reply"
    ] == [seed.REPLY]
