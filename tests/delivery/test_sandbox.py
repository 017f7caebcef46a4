"""Sandbox requests (an authoring dry run kept): made for test personas only, and in no citizen's list,
no officer's queue and no figure, while the same citizen's production requests are in all of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import selectors, service, workbench
from panjereh.delivery.engine import Decision
from panjereh.delivery.exceptions import NotATestPersona, RequestNotFound
from tests.delivery.conftest import DEMO, OFFICER
from tests.support.browsers import csrf_token
from tests.support.factories import create_officer

REAL_PERSON = "8580435994"  # a valid national code that is no test persona


def _decision(kind: str) -> Decision:
    return Decision(decision=kind, reasons=[], rules_fired=[], inputs_digest="d" * 64, rule_version="v")


def _record(seeded: Session):
    """A published definition without inputs (tax-clearance): applying needs nothing typed."""
    return selectors.published_definition(seeded, "tax-clearance")


def _window() -> tuple:
    return utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)


def test_a_dry_run_is_kept_as_a_sandbox_request_out_of_every_list_and_figure(
    seeded: Session, settings: Settings
) -> None:
    record = _record(seeded)
    before = selectors.request_stats(seeded, *_window()), selectors.decision_times(seeded, *_window())
    kept = {
        kind: service.record_dry_run(
            seeded,
            record,
            national_code=DEMO,
            inputs={},
            facts={"x": {"found": True}},
            decision=_decision(kind),
        )
        for kind in ("approve", "refuse", "refer")
    }
    assert {kind: (r.sandbox, r.state.value, r.origin) for kind, r in kept.items()} == {
        "approve": (True, "approved", "sandbox"),
        "refuse": (True, "refused", "sandbox"),
        "refer": (True, "in_queue", "sandbox"),
    }
    assert kept["approve"].document_number is None  # nothing issued
    assert [event.kind for event in kept["approve"].events] == ["dry_run"]
    seeded.flush()
    # Not the citizen's: neither listed nor found by its tracking code.
    assert selectors.requests_of(seeded, DEMO) == []
    with pytest.raises(RequestNotFound):
        selectors.request_of(seeded, DEMO, kept["approve"].tracking_code)
    # No figure, no queue (the referred one waits for nobody).
    assert (
        selectors.request_stats(seeded, *_window()),
        selectors.decision_times(seeded, *_window()),
    ) == before
    assert workbench.queue(seeded, record.agency_code) == []
    assert workbench.workbench(seeded, record.agency_code, OFFICER) == []
    # The look-up by tracking code finds it only when asked for the sandbox's (officers ask production's).
    assert selectors.request_by_tracking_code(seeded, kept["refer"].tracking_code, sandbox=True).sandbox
    with pytest.raises(RequestNotFound):
        selectors.request_by_tracking_code(seeded, kept["refer"].tracking_code)


def test_a_production_request_is_counted_where_a_sandbox_one_is_not(
    seeded: Session, settings: Settings
) -> None:
    record = _record(seeded)
    service.record_dry_run(
        seeded, record, national_code=DEMO, inputs={}, facts={}, decision=_decision("approve")
    )
    production, _ = service.submit(
        seeded, settings, national_code=DEMO, slug=record.slug, inputs={}, idempotency_key="k1"
    )
    seeded.flush()
    assert [r.id for r in selectors.requests_of(seeded, DEMO)] == [production.id]
    [stats] = [s for s in selectors.request_stats(seeded, *_window()) if s.slug == record.slug]
    assert stats.requests == 1


def test_a_sandbox_request_is_never_made_for_a_real_person(seeded: Session) -> None:
    with pytest.raises(NotATestPersona):
        service.record_dry_run(
            seeded,
            _record(seeded),
            national_code=REAL_PERSON,
            inputs={},
            facts={},
            decision=_decision("approve"),
        )


def test_an_officer_never_opens_or_decides_a_sandbox_request(seeded: Session, login) -> None:
    record = _record(seeded)
    create_officer(seeded, OFFICER, record.agency_code)
    referred = service.record_dry_run(
        seeded, record, national_code=DEMO, inputs={}, facts={}, decision=_decision("refer")
    )
    seeded.commit()
    officer = login(OFFICER)
    csrf = csrf_token(officer, "/agency/queue")
    assert officer.get(f"/agency/queue/{referred.tracking_code}").status_code == 404
    for action in ("take", "approve"):
        answer = officer.post(
            f"/agency/queue/{referred.tracking_code}/{action}", data={"csrf_token": csrf, "text": "ok"}
        )
        assert answer.status_code == 404, (action, answer.text[:500])
    seeded.expire_all()
    assert (
        selectors.request_by_tracking_code(seeded, referred.tracking_code, sandbox=True).state.value
        == "in_queue"
    )
