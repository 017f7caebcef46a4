"""Sandbox requests (the authoring dry runs) are no figure: the month's shares and decision times are
the same with or without them (issue 16, item 5)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.analytics.models import AgencyDecisionTime, AgencyShare
from panjereh.analytics.sources import refresh_measured_shares
from tests.analytics.conftest import MEASURED_ON, add_request


def _figures(db: Session) -> tuple[dict, dict]:
    shares = {
        (row.agency_code, row.metric): (row.share, row.base)
        for row in db.scalars(select(AgencyShare).where(AgencyShare.source == "delivery-requests"))
    }
    times = {
        row.agency_code: (row.median_seconds, row.decided) for row in db.scalars(select(AgencyDecisionTime))
    }
    return shares, times


def test_sandbox_requests_change_no_share_and_no_decision_time(measured: Session) -> None:
    before = _figures(measured)
    assert before[1]["tax"] == (3.0, 2) and before[0][("tax", "smart_measured")] == (1.0, 2)
    # Dry runs: tax clearance slow and touched by a human; an excavation permit decided by the engine.
    for seconds in (9_000, 90_000):
        add_request(measured, "tax-clearance", after_seconds=seconds, human=True).sandbox = True
    add_request(measured, "excavation-permit", after_seconds=5, automatic=True).sandbox = True
    measured.flush()
    refresh_measured_shares(measured, MEASURED_ON)
    assert _figures(measured) == before
    # The same requests in production move the figures: the test can fail.
    add_request(measured, "tax-clearance", after_seconds=9_001, human=True)
    refresh_measured_shares(measured, MEASURED_ON)
    assert _figures(measured) != before
