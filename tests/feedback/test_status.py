"""The status banner comes from real state: a registry taken down through the registries' fault API trips the
exchange's circuit breaker and the banner shows on the card and the apply page; back up, a call succeeds
and the banner is gone. The connection standard's verdict (disconnected, standard lost) shows it too."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import ConnectionStatus
from panjereh.app import create_app
from panjereh.core.config import ExchangeSettings, Settings
from panjereh.delivery import loading
from panjereh.exchange import selectors as exchange_selectors
from tests.support.browsers import signed_in_browsers
from tests.support.factories import DEMO_CITIZEN, create_agency, create_card, create_flagship_cards

CARD = "/services/business-licence"
APPLY = "/services/business-licence/apply"
COOLDOWN = 0.5


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    """The application with a breaker that opens after two failures and probes again after half a second."""
    quick = ExchangeSettings(breaker_failures=2, breaker_cooldown_seconds=COOLDOWN, get_retries=0)
    application = create_app(settings.model_copy(update={"exchange": quick}))
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def login(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    create_flagship_cards(seeded)
    loading.sync_definitions(seeded)  # after the cards: publishing records their derived level
    seeded.commit()
    with signed_in_browsers(seeded, app) as sign_in:
        yield sign_in


def _banner(page: str) -> list[str]:
    if 'id="status-banner"' not in page:
        return []
    block = page.split('id="status-banner"', 1)[1].split("</div>", 1)[0]
    return [part.split('"', 1)[0] for part in block.split('data-agency="')[1:]]


def test_a_registry_down_trips_the_breaker_and_the_banner_shows_until_it_answers_again(
    login: Callable[[str], TestClient], seeded: Session, faults: Callable[..., None]
) -> None:
    browser = login(DEMO_CITIZEN)
    person = exchange_selectors.get_service_by_code(seeded, "civil-registry.person")
    provider = person.provider.code
    assert _banner(browser.get(CARD).text) == []
    assert _banner(browser.get(APPLY).text) == []
    faults("civil-registry", down=True)
    # «My data» asks the civil registry through the exchange, as any inquiry: two failures open its breaker.
    for _ in range(2):
        assert browser.get("/account/my-data").status_code == 200
    card = browser.get(CARD).text
    assert _banner(card) == [provider]
    assert "همچنان می‌توانید درخواست بدهید" in card
    assert _banner(browser.get(APPLY).text) == [provider]
    english = browser.get(CARD + "?lang=en").text
    assert "is not answering" in english and "You can still apply" in english
    status = browser.get("/status").text
    assert f'data-agency="{provider}" data-answering="no"' in status
    # A service that asks no registry, of an agency in good standing, shows no banner.
    create_agency(seeded, "gamma")
    create_card(seeded, "gamma", slug="gamma-permit")
    seeded.commit()
    assert _banner(browser.get("/services/gamma-permit").text) == []
    # Back up: after the cool-down one probe goes out; it succeeds, the breaker closes, the banner is gone.
    faults("civil-registry", down=False)
    time.sleep(COOLDOWN + 0.1)
    assert _banner(browser.get(CARD).text) == [provider]  # nobody has asked it since: not known to answer
    browser.get("/account/my-data")
    assert _banner(browser.get(CARD).text) == []
    assert f'data-agency="{provider}" data-answering="yes"' in browser.get("/status").text


@pytest.mark.parametrize("status", [ConnectionStatus.DISCONNECTED, ConnectionStatus.STANDARD_LOST])
def test_the_connection_standards_verdict_shows_the_banner(
    login: Callable[[str], TestClient], seeded: Session, status: ConnectionStatus
) -> None:
    browser = login(DEMO_CITIZEN)
    assert _banner(browser.get(CARD).text) == []
    industry = agency_selectors.get_agency_by_code(seeded, "industry")
    agency_service.set_connection_status(seeded, industry, status)
    seeded.commit()
    page = browser.get(CARD).text
    assert _banner(page) == ["industry"]
    assert "استاندارد اتصال" in page
    assert 'data-agency="industry" data-answering="no"' in browser.get("/status").text
    assert browser.get("/status?lang=en").status_code == 200
