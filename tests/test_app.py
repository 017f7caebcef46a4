"""The application's edges: health, readiness, metrics, the error path and the API document."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from sqlalchemy import event, text
from sqlalchemy.event.attr import _ClsLevelDispatch
from sqlalchemy.orm import Session

import panjereh
from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.deps import DbSession
from panjereh.core.errors import PROBLEM_JSON, ProblemError
from tests.support.operations import METRICS_AUTH


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_redis_when_configured(client: TestClient, settings: Settings) -> None:
    body = client.get("/readyz").json()
    assert body["checks"]["database"] == "ok"
    assert ("redis" in body["checks"]) == bool(settings.redis_url)
    assert body["status"] == "ok"


def test_readyz_reports_an_unreachable_database(settings: Settings, tmp_path) -> None:
    broken = settings.model_copy(
        update={"database_url": "postgresql://nobody@127.0.0.1:1/none", "redis_url": None}
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error")


def test_missing_page_is_problem_json_with_both_languages(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "platform.not_found"
    assert problem["title"] and problem["title_fa"] == "پیدا نشد"
    assert problem["instance"].endswith(response.headers["x-request-id"])


def test_browser_gets_a_persian_error_page_with_the_same_code(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "platform.not_found" in response.text
    assert response.headers["x-request-id"] in response.text


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "platform.method_not_allowed"


def test_validation_error_is_422_problem_listing_fields(app: FastAPI, client: TestClient) -> None:
    @app.get("/api/v1/_probe/{number}")
    def probe(number: int) -> dict[str, int]:
        return {"number": number}

    response = client.get("/api/v1/_probe/not-a-number")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "client.validation"
    assert problem["errors"][0]["loc"] == ["path", "number"]


def test_unexpected_exception_is_500_problem_without_internals(app: FastAPI, settings: Settings) -> None:
    @app.get("/api/v1/_boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/_boom")
    assert response.status_code == 500
    assert response.json()["code"] == "platform.internal"
    assert "secret internal detail" not in response.text


def test_domain_problem_keeps_its_code_status_and_headers(app: FastAPI, client: TestClient) -> None:
    class Slow(ProblemError):
        code = "client.slow_down"
        status = 429
        title_en = "Slow down"
        title_fa = "آهسته‌تر"

    @app.get("/api/v1/_slow")
    def slow() -> None:
        raise Slow("wait a minute", "یک دقیقه صبر کنید", headers={"Retry-After": "60"})

    response = client.get("/api/v1/_slow")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    assert response.json()["detail_fa"] == "یک دقیقه صبر کنید"


def test_problem_instance_is_in_the_log_line(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(settings.model_copy(update={"log_level": "INFO"}))) as client:
        response = client.get("/missing", headers={"x-request-id": "trace-12345678"})
    assert response.json()["instance"] == "urn:panjereh:request:trace-12345678"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == "trace-12345678" and line["event"] == "problem" for line in lines)


def test_unsafe_incoming_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"x-request-id": "bad id\nwith newline"})
    assert response.headers["x-request-id"] != "bad id\nwith newline"
    assert len(response.headers["x-request-id"]) == 32


def test_metrics_count_requests_per_route_template(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/nope")
    text = client.get("/metrics", headers=METRICS_AUTH).text
    assert 'panjereh_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "panjereh_http_request_duration_seconds_bucket" in text


def test_openapi_document_is_valid_openapi_3(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    validate(document)


def test_vendor_assets_are_served_from_npm_packages(client: TestClient) -> None:
    response = client.get("/vendor/bootstrap/css/bootstrap.rtl.min.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]
    assert client.get("/vendor/vazirmatn/Vazirmatn-font-face.css").status_code == 200


def test_the_unit_of_work_commits_before_the_response_is_sent(app: FastAPI, settings: Settings) -> None:
    seen: list[str] = []

    @app.post("/api/v1/_write")
    def write(db: DbSession) -> dict[str, bool]:
        db.execute(text("SELECT 1"))
        event.listen(db, "after_commit", lambda _s: seen.append("commit"), once=True)
        return {"ok": True}

    class Recorder:
        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            async def wrapped(message):
                if message["type"] == "http.response.start":
                    seen.append("response")
                await send(message)

            await self.inner(scope, receive, wrapped)

    with TestClient(Recorder(app)) as client:
        assert client.post("/api/v1/_write").status_code == 200
    assert seen == ["commit", "response"]


def test_no_module_registers_a_global_session_listener() -> None:
    """What must follow a change is registered on the session that made it (`core.db.on_commit`), never
    on every Session of the process at import time."""
    for module in pkgutil.walk_packages(panjereh.__path__, "panjereh."):
        # Every module but the entry points (they run on import) and the migrations and registries.
        if not module.name.endswith("__main__") and not module.name.startswith(
            ("panjereh.migrations.", "panjereh.registries.")
        ):
            importlib.import_module(module.name)
    registered = {
        f"{name}: {listener.__module__}"
        for name in dir(Session.dispatch)
        if not name.startswith("_")
        and isinstance(dispatch := getattr(Session.dispatch, name), _ClsLevelDispatch)
        for listener in dispatch._clslevel.get(Session, [])
        if listener.__module__.startswith("panjereh")
    }
    assert registered == set()
