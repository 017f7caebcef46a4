"""The connection standard from the workspace: the agency's systems and latest results with reasons, and a
run on demand (administrator or developer, step-up, CSRF); every role boundary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.app import create_app
from panjereh.conformance import selectors as conformance_selectors
from panjereh.conformance import service as conformance_service
from panjereh.conformance.constants import RunTrigger, RunVerdict
from panjereh.conformance.exceptions import RunTooSoon
from panjereh.conformance.models import ConformanceRun
from panjereh.core.config import ConformanceSettings, Settings
from panjereh.core.cookies import CSRF_COOKIE, SESSION_COOKIE
from panjereh.core.db import utcnow
from panjereh.staff import selectors as staff_selectors
from panjereh.staff.constants import Role
from panjereh.web.csrf import signature
from tests.staff.conftest import ADMIN, DESIGNER, OFFICER, OTHER_ADMIN
from tests.support.browsers import csrf_token
from tests.support.factories import create_staff, create_system

Browser = Callable[..., TestClient]
DEVELOPER = "0012345679"
RUN = "/workspace/alpha/connection/run"


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    """The application with a quick connection standard (few probes; the registries share the process)."""
    quick = ConformanceSettings(
        latency_probes=3,
        latency_objective_ms=2000,
        timeout_seconds=3,
        fail_threshold=1,
        unreachable_threshold=2,
        recover_threshold=1,
    )
    application = create_app(settings.model_copy(update={"conformance": quick}))
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def systems(staffed: Session, registries_url: str) -> Callable[[str], None]:
    """Give alpha a system at one of the registries' paths (and a developer)."""
    create_staff(staffed, DEVELOPER, "alpha", Role.DEVELOPER)
    staffed.commit()

    def give(path: str) -> None:
        alpha = agency_selectors.get_agency_by_code(staffed, "alpha")
        create_system(staffed, alpha, f"{registries_url}/{path}", code=f"alpha.{path.replace('/', '-')}")
        staffed.commit()

    return give


def _run(browser: TestClient) -> str:
    token = csrf_token(browser, "/workspace/alpha/connection")
    page = browser.post(RUN, data={"csrf_token": token})
    assert page.status_code == 200, page.text[:2000]
    return page.text


def _runs(db: Session) -> int:
    alpha = agency_selectors.get_agency_by_code(db, "alpha")
    db.expire_all()
    return len(conformance_selectors.runs_of(db, alpha.id))


def test_an_administrator_runs_the_standard_and_sees_it_pass(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    systems("tax")
    admin = browser(ADMIN)
    before = admin.get("/workspace/alpha/connection")
    assert before.status_code == 200
    assert 'data-system="alpha.tax"' in before.text and 'id="run-form"' in before.text
    assert "data-run=" not in before.text  # never run yet

    page = _run(admin)
    assert 'id="ran-now" data-verdict="passing"' in page
    assert 'data-status="pass"' in page and 'data-status="fail"' not in page
    alpha = agency_selectors.get_agency_by_code(staffed, "alpha")
    staffed.expire_all()
    run = conformance_selectors.latest_run(staffed, alpha.id)
    assert run is not None and run.trigger is RunTrigger.MANUAL and run.verdict is RunVerdict.PASSING
    assert f'data-run="{run.id}"' in page
    [entry] = staff_selectors.audit_trail(staffed, "alpha")
    assert (entry.action, entry.target, entry.actor) == ("connection.checked", run.id, ADMIN)


def test_a_failing_system_is_shown_with_its_reasons_in_persian_and_english(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    systems("legacy/agri-ppo")
    developer = browser(DEVELOPER)
    page = _run(developer)
    assert 'id="ran-now" data-verdict="failing"' in page
    assert 'data-status="fail"' in page
    alpha = agency_selectors.get_agency_by_code(staffed, "alpha")
    staffed.expire_all()
    run = conformance_selectors.latest_run(staffed, alpha.id)
    assert run is not None
    failed = [result for result in run.results if result.status.value == "fail"]
    assert failed and failed[0].reason_fa and failed[0].reason_en
    assert failed[0].reason_fa in page
    english = developer.get("/workspace/alpha/connection?lang=en").text
    assert failed[0].reason_en in english and failed[0].reason_fa not in english
    # Connected, failing once with a threshold of one: the standard is lost, and the home's list says so.
    assert alpha.connection_status is ConnectionStatus.STANDARD_LOST
    home = developer.get("/workspace/alpha").text
    assert 'data-todo="systems_failing"' in home and 'data-todo="connection_standard_lost"' in home


def test_an_agency_with_no_system_is_not_connected_after_a_run(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    page = _run(browser(ADMIN))
    assert 'id="ran-now" data-verdict="no_systems"' in page
    assert agency_selectors.get_agency_by_code(staffed, "alpha").connection_status is (
        ConnectionStatus.NOT_CONNECTED
    )


def _valid_token(browser: TestClient, app: FastAPI) -> str:
    """A valid CSRF token for this browser, for a person whose pages offer no form to take one from."""
    browser.get("/workspace")
    nonce = browser.cookies[CSRF_COOKIE]
    return f"{nonce}.{signature(app.state.settings.secret_key, nonce, browser.cookies[SESSION_COOKIE])}"


def test_other_roles_read_the_results_but_do_not_run(
    staffed: Session, systems: Callable[[str], None], browser: Browser, app: FastAPI
) -> None:
    systems("tax")
    for person, level in ((DESIGNER, 2), (OFFICER, 2)):
        reader = browser(person, level=level)
        page = reader.get("/workspace/alpha/connection")
        assert page.status_code == 200 and 'id="run-form"' not in page.text, person
        token = _valid_token(reader, app)
        refused = reader.post(RUN, data={"csrf_token": token})
        assert refused.status_code == 403 and "staff.forbidden" in refused.text, person
    assert _runs(staffed) == 0


def test_another_agencys_staff_neither_read_nor_run(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    systems("tax")
    other = browser(OTHER_ADMIN)
    assert other.get("/workspace/alpha/connection").status_code == 403
    token = csrf_token(other, "/workspace/beta/connection")
    assert other.post(RUN, data={"csrf_token": token}).status_code == 403
    assert _runs(staffed) == 0


def test_a_level_1_administrator_steps_up_first_and_nothing_runs(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    systems("tax")
    admin = browser(ADMIN, level=1)
    assert admin.get("/workspace/alpha/connection").status_code == 200  # reading needs no step-up
    token = csrf_token(admin, "/workspace/alpha/connection")
    sent = admin.post(
        RUN,
        data={"csrf_token": token},
        headers={"referer": "http://testserver/workspace/alpha/connection"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert unquote(sent.headers["location"]) == "/login/step-up?next=/workspace/alpha/connection"
    assert _runs(staffed) == 0


def test_a_run_without_the_csrf_token_is_refused(
    staffed: Session, systems: Callable[[str], None], browser: Browser, client: TestClient
) -> None:
    systems("tax")
    refused = browser(ADMIN).post(RUN, data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert _runs(staffed) == 0
    assert client.post(RUN, follow_redirects=False).status_code in (401, 403)
    assert _runs(staffed) == 0


def test_a_second_run_moments_after_the_first_is_refused_and_probes_nothing(
    staffed: Session, systems: Callable[[str], None], browser: Browser
) -> None:
    systems("tax")
    admin = browser(ADMIN)
    _run(admin)
    token = csrf_token(admin, "/workspace/alpha/connection")
    again = admin.post(RUN, data={"csrf_token": token})
    assert again.status_code == 429, again.text[:2000]
    assert "conformance.run_too_soon" in again.text
    assert 0 < int(again.headers["retry-after"]) <= 60
    assert _runs(staffed) == 1
    [entry] = staff_selectors.audit_trail(staffed, "alpha")  # the refused run is not audited as a check
    assert entry.action == "connection.checked"


def test_the_cooldown_counts_from_the_end_of_the_last_run(staffed: Session) -> None:
    alpha = agency_selectors.get_agency_by_code(staffed, "alpha")
    config = ConformanceSettings(manual_cooldown_seconds=60)
    conformance_service.refuse_if_too_soon(staffed, alpha, config)  # never run: free to run
    ended = utcnow()
    staffed.add(
        ConformanceRun(
            agency_id=alpha.id,
            trigger=RunTrigger.SCHEDULE,
            verdict=RunVerdict.PASSING,
            status_before=ConnectionStatus.CONNECTED,
            status_after=ConnectionStatus.CONNECTED,
            started_at=ended - timedelta(seconds=20),
            finished_at=ended,
        )
    )
    staffed.flush()
    with pytest.raises(RunTooSoon) as refused:
        conformance_service.refuse_if_too_soon(staffed, alpha, config, now=ended + timedelta(seconds=59))
    assert refused.value.headers == {"Retry-After": "1"}
    conformance_service.refuse_if_too_soon(staffed, alpha, config, now=ended + timedelta(seconds=60))
    conformance_service.refuse_if_too_soon(
        staffed, alpha, ConformanceSettings(manual_cooldown_seconds=0), now=ended
    )
