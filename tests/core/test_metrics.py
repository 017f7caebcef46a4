"""/metrics labels each request with the full template of the route it matched, prefixes included."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from panjereh.app import create_app
from panjereh.core.config import Settings
from tests.support.operations import METRICS_AUTH, METRICS_TOKEN


def _counts(client: TestClient) -> dict[tuple[str, str], float]:
    """(route label, status) -> requests counted, from the Prometheus text."""
    text = client.get("/metrics", headers=METRICS_AUTH).text
    pattern = r'panjereh_http_requests_total\{method="GET",route="([^"]+)",status="(\d+)"\} ([0-9.]+)'
    return {(route, status): float(count) for route, status, count in re.findall(pattern, text)}


def test_a_router_under_the_api_prefix_is_labelled_with_the_prefix(client: TestClient) -> None:
    assert client.get("/api/v1/agencies").status_code == 200
    assert client.get("/api/v1/agencies").status_code == 200
    assert client.get("/agencies").status_code == 200
    counts = _counts(client)
    # The API and the HTML page of the same noun are two routes, not one.
    assert counts[("/api/v1/agencies", "200")] == 2
    assert counts[("/agencies", "200")] == 1


def test_path_parameters_stay_templates(client: TestClient) -> None:
    assert client.get("/api/v1/agencies/no-such-agency").status_code == 404
    assert ("/api/v1/agencies/{code}", "404") in _counts(client)


def test_the_api_document_and_the_vendored_assets_are_matched(client: TestClient) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/vendor/bootstrap/css/bootstrap.rtl.min.css").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    counts = _counts(client)
    assert ("/api/v1/openapi.json", "200") in counts
    assert ("/api/v1/docs", "200") in counts
    assert ("/vendor/bootstrap/{path}", "200") in counts
    assert counts[("<unmatched>", "404")] == 1  # only the page that is really missing


def test_one_router_under_two_prefixes_gets_two_labels(app: FastAPI, client: TestClient) -> None:
    probe = APIRouter()

    @probe.get("/_probe/{number}")
    def read(number: int) -> dict[str, int]:
        return {"number": number}

    app.include_router(probe, prefix="/api/v1")
    app.include_router(probe, prefix="/api/v2")
    assert client.get("/api/v1/_probe/1").status_code == 200
    assert client.get("/api/v2/_probe/2").status_code == 200
    assert client.get("/api/v2/_probe/3").status_code == 200
    counts = _counts(client)
    assert counts[("/api/v1/_probe/{number}", "200")] == 1
    assert counts[("/api/v2/_probe/{number}", "200")] == 2


def test_metrics_need_the_bearer_token(client: TestClient) -> None:
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "panjereh_http_requests_total" not in refused.text
    assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"authorization": f"Basic {METRICS_TOKEN}"}).status_code == 401
    assert client.get("/metrics", headers={"authorization": b"Bearer caf\xc3\xa9"}).status_code == 401
    assert client.get("/metrics", headers=METRICS_AUTH).status_code == 200


def test_without_a_token_metrics_are_off_outside_development(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": None}))
    assert TestClient(app).get("/metrics", headers=METRICS_AUTH).status_code == 404


def test_in_development_the_token_is_derived_from_the_homes_secret(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path)
    settings.ensure_home()
    token = settings.resolved_metrics_token
    assert token and len(token) == 32 and token not in settings.secret_key
    other = Settings(env="development", home=tmp_path / "other")
    other.ensure_home()
    assert other.resolved_metrics_token != token
