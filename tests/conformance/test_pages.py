"""The national list and each agency's page: status, latest run with reasons, history; Persian and English."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.agencies.constants import ConnectionStatus
from panjereh.conformance import service
from panjereh.core.config import ConformanceSettings, Settings
from tests.conformance.conftest import tuned
from tests.support.factories import create_agency, create_system


def _checked_agency(db: Session, settings: Settings, config: ConformanceSettings, registries_url: str) -> str:
    agency = create_agency(db, "test-page-ivo", ConnectionStatus.DISCONNECTED)
    create_system(db, agency, f"{registries_url}/legacy/agri-ivo")
    run = service.check_agency(db, tuned(settings, config), agency)
    db.commit()
    return run.id


def test_national_list(
    client: TestClient, db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    _checked_agency(db, settings, config, registries_url)
    response = client.get("/conformance")
    assert response.status_code == 200
    html = response.text
    assert 'data-agency="test-page-ivo"' in html and 'href="/conformance/test-page-ivo"' in html
    assert "استاندارد اتصال از دست رفته (در حال اتصال مجدد)" in html
    english = client.get("/conformance?lang=en").text
    assert "Connection standard lost (reconnecting)" in english


def test_agency_page_shows_the_latest_run_with_reasons_and_the_history(
    client: TestClient, db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    run_id = _checked_agency(db, settings, config, registries_url)
    html = client.get("/conformance/test-page-ivo").text
    assert 'data-check="openapi" data-status="fail"' in html
    assert 'data-check="reachable" data-status="pass"' in html
    assert "توصیف OpenAPI در" in html and "معتبر نیست" in html  # the Persian reason
    assert "سابقهٔ وضعیت اتصال" in html and "در حال اتصال مجدد" in html
    assert f"/conformance/test-page-ivo/runs/{run_id}" in html
    english = client.get("/conformance/test-page-ivo?lang=en").text
    assert "is not valid" in english and "OpenAPI description valid" in english

    run_page = client.get(f"/conformance/test-page-ivo/runs/{run_id}")
    assert run_page.status_code == 200 and 'data-check="openapi" data-status="fail"' in run_page.text


def test_an_agency_never_checked_renders(client: TestClient, db: Session) -> None:
    create_agency(db, "test-page-new")
    db.commit()
    response = client.get("/conformance/test-page-new")
    assert response.status_code == 200 and "این دستگاه هنوز بررسی نشده است." in response.text


def test_unknown_agency_and_foreign_run_are_not_found(
    client: TestClient, db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    run_id = _checked_agency(db, settings, config, registries_url)
    create_agency(db, "test-page-other")
    db.commit()
    assert client.get("/conformance/no-such-agency").status_code == 404
    assert client.get(f"/conformance/test-page-other/runs/{run_id}").status_code == 404
    assert client.get("/conformance/test-page-ivo/runs/nope").status_code == 404


def test_the_agency_page_and_the_scorecard_link_to_the_connection_history(
    client: TestClient, db: Session, settings: Settings, config: ConformanceSettings, registries_url: str
) -> None:
    _checked_agency(db, settings, config, registries_url)
    for page in ("/agencies/test-page-ivo", "/dashboard/agencies/test-page-ivo"):
        response = client.get(page)
        assert response.status_code == 200, page
        assert 'href="/conformance/test-page-ivo" data-link="conformance-history"' in response.text, page
    english = client.get("/agencies/test-page-ivo?lang=en").text
    assert "Connection status history</a>" in english


def test_an_agency_with_no_tested_system_is_shown_not_connected(
    client: TestClient, db: Session, settings: Settings, config: ConformanceSettings
) -> None:
    agency = create_agency(db, "test-page-untested", ConnectionStatus.CONNECTED)
    service.check_agency(db, tuned(settings, config), agency)
    db.commit()
    page = client.get("/agencies/test-page-untested").text
    assert 'data-connection="not_connected"' in page and 'data-connection="connected"' not in page
    history = client.get("/conformance/test-page-untested").text
    assert "سامانه‌ای برای آزمون استاندارد اتصال ثبت نشده است." in history
    english = client.get("/conformance/test-page-untested?lang=en").text
    assert "No system registered for the connection standard to test." in english
