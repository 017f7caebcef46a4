"""The status machine: thresholds move the status both ways, with history and reasons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import selectors, service
from panjereh.conformance.constants import CheckStatus, RunVerdict
from panjereh.conformance.models import ConformanceState
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.db import utcnow
from tests.conformance.conftest import tuned
from tests.support.factories import create_agency, create_system

C, SL, D, NC = (
    ConnectionStatus.CONNECTED,
    ConnectionStatus.STANDARD_LOST,
    ConnectionStatus.DISCONNECTED,
    ConnectionStatus.NOT_CONNECTED,
)


def _state(
    failing: int = 0, unreachable: int = 0, passing: int = 0, suspended: bool = False
) -> ConformanceState:
    return ConformanceState(
        failing_streak=failing,
        unreachable_streak=unreachable,
        passing_streak=passing,
        suspended=suspended,
        suspended_reason="by order" if suspended else "",
    )


@pytest.mark.parametrize(
    ("current", "verdict", "state", "expected"),
    [
        (C, RunVerdict.FAILING, _state(failing=1), None),
        (C, RunVerdict.FAILING, _state(failing=2), SL),
        (C, RunVerdict.UNREACHABLE, _state(failing=1, unreachable=1), None),
        (C, RunVerdict.UNREACHABLE, _state(failing=2, unreachable=2), D),
        (SL, RunVerdict.UNREACHABLE, _state(failing=5, unreachable=2), D),
        (SL, RunVerdict.FAILING, _state(failing=9), None),
        (D, RunVerdict.UNREACHABLE, _state(failing=9, unreachable=9), None),
        (D, RunVerdict.FAILING, _state(failing=1), SL),
        (D, RunVerdict.PASSING, _state(passing=1), C),
        (SL, RunVerdict.PASSING, _state(passing=1), C),
        (NC, RunVerdict.PASSING, _state(passing=1), C),
        (NC, RunVerdict.FAILING, _state(failing=5), None),
        (C, RunVerdict.PASSING, _state(passing=1), None),
        (C, RunVerdict.PASSING, _state(passing=3, suspended=True), D),
        (C, RunVerdict.NO_SYSTEMS, _state(), NC),  # connected means tested
        (NC, RunVerdict.NO_SYSTEMS, _state(), None),
        (SL, RunVerdict.NO_SYSTEMS, _state(), None),
    ],
)
def test_next_status(
    current: ConnectionStatus,
    verdict: RunVerdict,
    state: ConformanceState,
    expected: ConnectionStatus | None,
    config: ConformanceSettings,
) -> None:
    transition = service.next_status(current, verdict, state, config)
    assert (transition.to if transition else None) == expected
    if transition:
        assert transition.reason_en and transition.reason_fa


def test_recovery_can_require_several_passing_runs() -> None:
    strict = ConformanceSettings(recover_threshold=3)
    assert service.next_status(SL, RunVerdict.PASSING, _state(passing=2), strict) is None
    assert service.next_status(SL, RunVerdict.PASSING, _state(passing=3), strict).to is C  # type: ignore[union-attr]


def test_connected_to_standard_lost_to_disconnected_and_back_with_history(
    db: Session,
    settings: Settings,
    config: ConformanceSettings,
    registries_url: str,
    faults: Callable[..., None],
) -> None:
    agency = create_agency(db, "test-deeds")
    create_system(db, agency, f"{registries_url}/deeds")

    def run() -> RunVerdict:
        return service.check_agency(db, tuned(settings, config), agency).verdict

    assert run() is RunVerdict.PASSING and agency.connection_status is C

    faults("deeds", garbage=True)  # answers, but breaks the standard
    assert run() is RunVerdict.FAILING and agency.connection_status is C  # one failing run is not enough
    assert run() is RunVerdict.FAILING and agency.connection_status is SL

    faults("deeds", down=True)
    assert run() is RunVerdict.UNREACHABLE and agency.connection_status is SL
    assert run() is RunVerdict.UNREACHABLE and agency.connection_status is D

    faults("deeds", down=False)
    assert run() is RunVerdict.PASSING and agency.connection_status is C

    history = list(reversed(selectors.status_history(db, agency.id)))
    assert [(change.from_status, change.to_status) for change in history] == [(C, SL), (SL, D), (D, C)]
    assert "Failing the connection standard 2 run(s) in a row" in history[0].reason_en
    assert "not JSON" in history[0].reason_en  # the failing checks are named in the reason
    assert "Unreachable 2 run(s) in a row" in history[1].reason_en and "503" in history[1].reason_en
    assert "استاندارد" in history[0].reason_fa
    assert all(change.run_id for change in history)

    runs = selectors.runs_of(db, agency.id)
    assert len(runs) == 6
    latest = selectors.latest_run(db, agency.id)
    assert latest is not None and latest.status_before is D and latest.status_after is C
    assert {result.check_id for result in latest.results} >= {"reachable", "openapi", "latency"}


def test_a_disconnected_agency_reachable_again_but_failing_is_reconnecting(
    db: Session,
    settings: Settings,
    config: ConformanceSettings,
    registries_url: str,
    faults: Callable[..., None],
) -> None:
    agency = create_agency(db, "test-welfare", ConnectionStatus.DISCONNECTED)
    create_system(db, agency, f"{registries_url}/legacy/agri-ppo")
    run = service.check_agency(db, tuned(settings, config), agency)
    assert run.verdict is RunVerdict.FAILING
    assert agency.connection_status is SL
    [change] = selectors.status_history(db, agency.id)
    assert "reconnecting" in change.reason_en and "error-format" in change.reason_en


def test_suspension_disconnects_at_once_and_holds_until_reinstated(
    db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    agency = create_agency(db, "test-post")
    create_system(db, agency, f"{registries_url}/post")
    service.suspend(db, agency, reason="security incident")
    assert agency.connection_status is D
    run = service.check_agency(db, tuned(settings, config), agency)
    assert run.verdict is RunVerdict.PASSING and agency.connection_status is D  # passing does not lift it
    service.reinstate(db, agency)
    service.check_agency(db, tuned(settings, config), agency)
    assert agency.connection_status is C
    reasons = [change.reason_en for change in selectors.status_history(db, agency.id)]
    assert reasons[-1] == "Suspended: security incident"


def test_an_agency_without_systems_keeps_its_status(
    db: Session, settings: Settings, config: ConformanceSettings
) -> None:
    agency = create_agency(db, "test-empty", ConnectionStatus.STANDARD_LOST)
    run = service.check_agency(db, tuned(settings, config), agency)
    assert run.verdict is RunVerdict.NO_SYSTEMS and agency.connection_status is SL
    assert all(result.system_code is None for result in run.results)


def test_an_agency_with_no_tested_system_cannot_be_connected(
    db: Session, settings: Settings, config: ConformanceSettings
) -> None:
    agency = create_agency(db, "test-untested", ConnectionStatus.CONNECTED)
    other = create_agency(db, "test-untested-nc", ConnectionStatus.NOT_CONNECTED)
    due = {a.code for a in selectors.due_agencies(db, utcnow(), timedelta(minutes=60))}
    assert "test-untested" in due and "test-untested-nc" not in due  # the scheduler finds it
    run = service.check_agency(db, tuned(settings, config), agency)
    assert run.verdict is RunVerdict.NO_SYSTEMS
    assert agency.connection_status is NC and run.status_after is NC
    change = selectors.status_history(db, agency.id)[-1]
    assert change.to_status is NC and "No system" in change.reason_en and change.reason_fa
    service.check_agency(db, tuned(settings, config), agency)
    service.check_agency(db, tuned(settings, config), other)
    assert agency.connection_status is NC and other.connection_status is NC  # never connected by itself


def test_results_are_stored_with_reasons_in_both_languages(
    db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    agency = create_agency(db, "test-ivo")
    create_system(db, agency, f"{registries_url}/legacy/agri-ivo")
    run = service.check_agency(db, tuned(settings, config), agency)
    stored = selectors.get_run(db, run.id)
    openapi = next(result for result in stored.results if result.check_id == "openapi")
    assert openapi.status is CheckStatus.FAIL and openapi.system_code == "test-ivo.system"
    assert openapi.reason_en and openapi.reason_fa and openapi.reason_en != openapi.reason_fa
    assert stored.failed >= 1 and stored.passed >= 1


def test_initial_status_is_recorded_once(db: Session) -> None:
    agency = create_agency(db, "test-initial", ConnectionStatus.STANDARD_LOST)
    assert service.record_initial_status(db, agency) is not None
    assert service.record_initial_status(db, agency) is None
    [change] = selectors.status_history(db, agency.id)
    assert change.from_status is None and change.to_status is SL
