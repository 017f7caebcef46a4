"""The demo reproduces the article: Welfare disconnected, two Agriculture Jihad subsidiaries reconnecting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from panjereh import migrations, seeding
from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import selectors
from panjereh.conformance.constants import CheckStatus, RunTrigger, RunVerdict
from panjereh.conformance.demo import demo_pass
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.registries.services import published_services
from tests.support.markers import seeds_whole_demo

pytestmark = seeds_whole_demo


@pytest.fixture
def demo_settings(settings: Settings, tmp_path: Path, registries_url: str) -> Iterator[Settings]:
    demo = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/demo.sqlite3"})
    engine = make_engine(demo.resolved_database_url)
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    for step in seeding.demo_steps(published_services()):
        with unit_of_work(factory) as session:
            step.run(session, demo, lambda _count: None)
    engine.dispose()
    yield demo
    httpx.delete(
        f"{registries_url}/_admin/faults",
        headers={"authorization": "Bearer test-registry-token"},
        timeout=60,
    ).raise_for_status()


def test_demo_pass_reproduces_the_article(demo_settings: Settings, faults: Callable[..., None]) -> None:
    summaries = {
        s.agency_code: s
        for s in demo_pass(
            demo_settings.model_copy(
                update={"conformance": ConformanceSettings(latency_probes=2, latency_objective_ms=2000)}
            )
        )
    }
    assert summaries["welfare"].verdict is RunVerdict.UNREACHABLE
    assert summaries["agri-ivo"].verdict is RunVerdict.FAILING
    assert summaries["agri-ppo"].verdict is RunVerdict.FAILING
    # agri-fisheries meets the standard; on a loaded test machine only the latency objective may be missed
    # (its probes time the machine as much as the system), so any other failing check fails the test.
    fisheries = summaries["agri-fisheries"]
    failed = {
        f.check_id: f.outcome.reason_en
        for f in fisheries.findings
        if f.outcome.status is CheckStatus.FAIL  # warn and not_applicable do not count against the standard
    }
    assert fisheries.verdict is RunVerdict.PASSING or set(failed) <= {"latency"}, failed

    engine = make_engine(demo_settings.resolved_database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        status = {
            code: agency_selectors.get_agency_by_code(session, code).connection_status
            for code in ("welfare", "agri-ivo", "agri-ppo", "agri-fisheries")
        }
        welfare = agency_selectors.get_agency_by_code(session, "welfare")
        run = selectors.latest_run(session, welfare.id)
        assert run is not None and run.trigger is RunTrigger.DEMO
        reachable = next(result for result in run.results if result.check_id == "reachable")
        assert "503" in reachable.reason_en
        assert selectors.status_history(session, welfare.id)  # the history starts with the seeded status
        # "Connected" means tested: each agency shown connected had its own system tested (one failing run
        # is allowed by the status machine: the load of a test machine can fail the latency check).
        connected = [
            agency
            for agency in agency_selectors.list_agencies(session)
            if agency.connection_status is ConnectionStatus.CONNECTED
        ]
        untested = [
            agency.code
            for agency in connected
            if not agency_selectors.list_systems(session, agency.id)
            or (latest := selectors.latest_run(session, agency.id)) is None
            or latest.verdict is RunVerdict.NO_SYSTEMS
        ]
        energy = agency_selectors.get_agency_by_code(session, "energy")
        energy_systems = [system.code for system in agency_selectors.list_systems(session, energy.id)]
    engine.dispose()
    assert untested == [] and len(connected) >= 30
    generic_checks = {f.check_id: f.outcome.status for f in summaries["energy"].findings if f.system_code}
    assert {generic_checks[c] for c in ("reachable", "openapi", "authentication", "error-format")} == {
        CheckStatus.PASS
    }
    # Energy has no registry of its own: its tested system is a generic one of the simulated registries
    # (its files data service, or the per-agency system when it has none).
    assert energy_systems
    assert status == {
        "welfare": ConnectionStatus.DISCONNECTED,
        "agri-ivo": ConnectionStatus.STANDARD_LOST,
        "agri-ppo": ConnectionStatus.STANDARD_LOST,
        "agri-fisheries": ConnectionStatus.CONNECTED,
    }
