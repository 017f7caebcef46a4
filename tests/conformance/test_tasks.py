"""The scheduled runner checks only the agencies that are due, each in its own recorded run."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from panjereh.conformance import selectors
from panjereh.conformance.constants import RunTrigger, RunVerdict
from panjereh.conformance.tasks import all_checked_agencies, run_due_checks
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.db import utcnow
from tests.conformance.conftest import tuned
from tests.support.factories import create_agency, create_system


def test_run_due_checks_runs_each_due_agency_once_per_interval(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    config: ConformanceSettings,
    registries_url: str,
) -> None:
    healthy = create_agency(db, "test-due-tax")
    create_system(db, healthy, f"{registries_url}/tax")
    legacy = create_agency(db, "test-due-ppo")
    create_system(db, legacy, f"{registries_url}/legacy/agri-ppo")
    create_agency(db, "test-due-none")  # shown connected with no system: due once, to be disconnected
    db.commit()

    done: list[str] = []
    first = run_due_checks(
        session_factory, tuned(settings, config), on_done=lambda r: done.append(r.plan.agency_code)
    )
    mine = {s.agency_code: s for s in first if s.agency_code.startswith("test-due")}
    assert mine.pop("test-due-none").verdict is RunVerdict.NO_SYSTEMS
    assert set(mine) == {"test-due-tax", "test-due-ppo"}
    assert set(done) >= set(mine)
    assert mine["test-due-tax"].verdict is RunVerdict.PASSING
    assert mine["test-due-ppo"].verdict is RunVerdict.FAILING

    # Checked a moment ago: not due again until the interval has passed.
    again = run_due_checks(session_factory, tuned(settings, config))
    assert not [s for s in again if s.agency_code.startswith("test-due")]
    later = utcnow() + timedelta(minutes=config.interval_minutes + 1)
    third = run_due_checks(session_factory, tuned(settings, config), now=later)
    assert {s.agency_code for s in third if s.agency_code.startswith("test-due")} == set(mine)

    runs = selectors.runs_of(db, healthy.id)
    assert len(runs) == 2 and all(run.trigger is RunTrigger.SCHEDULE for run in runs)
    assert {"test-due-tax", "test-due-ppo"} <= set(all_checked_agencies(session_factory))
    assert "test-due-none" not in all_checked_agencies(session_factory)
