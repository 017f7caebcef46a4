"""Each check passes against a healthy registry and fails, with the right reason, under each fault."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from panjereh.conformance.checks import standard
from panjereh.conformance.checks.base import Outcome, SystemCheck
from panjereh.conformance.checks.suite import Suite
from panjereh.conformance.checks.system import percentile, protected_operation
from panjereh.conformance.constants import CheckStatus
from panjereh.core.config import ConformanceSettings, Settings

SYSTEM_CHECKS = ("reachable", "openapi", "authentication", "error-format", "latency", "tls")
Run = Callable[..., dict[str, Outcome]]


def test_every_check_has_a_stable_id_and_names_in_both_languages() -> None:
    ids = [check.id for check in standard]
    assert len(ids) == len(set(ids))
    assert set(SYSTEM_CHECKS) <= set(ids)
    for check in standard:
        assert check.name_en and check.name_fa and check.name_en != check.name_fa


def test_a_check_id_cannot_be_registered_twice() -> None:
    again = Suite()
    reachable = standard.get("reachable")
    assert reachable is not None
    again(type(reachable))
    with pytest.raises(ValueError, match="registered twice"):
        again(type(reachable))


def test_every_check_passes_against_a_healthy_registry(registries_url: str, run_checks: Run) -> None:
    outcomes = run_checks(f"{registries_url}/tax")
    for check_id in SYSTEM_CHECKS:
        assert outcomes[check_id].status is CheckStatus.PASS, (check_id, outcomes[check_id].reason_en)
    assert "401" in outcomes["authentication"].reason_en
    assert outcomes["openapi"].details["paths"] >= 1
    assert outcomes["latency"].details["probes"] == 3
    # Plain http is accepted outside production only, and the reason says so.
    assert "production requires https" in outcomes["tls"].reason_en


def test_a_registry_that_is_down_is_unreachable_and_the_rest_is_skipped(
    registries_url: str, run_checks: Run, faults: Callable[..., None]
) -> None:
    faults("tax", down=True)
    outcomes = run_checks(f"{registries_url}/tax")
    reachable = outcomes["reachable"]
    assert reachable.status is CheckStatus.FAIL
    assert reachable.details["unreachable"] is True
    assert "HTTP 503" in reachable.reason_en and "down" in reachable.reason_en
    for check_id in SYSTEM_CHECKS[1:]:
        assert outcomes[check_id].status is CheckStatus.SKIPPED
        assert "unreachable" in outcomes[check_id].reason_en


def test_a_registry_failing_every_request_is_unreachable(
    registries_url: str, run_checks: Run, faults: Callable[..., None]
) -> None:
    faults("tax", error_rate=1.0)
    reachable = run_checks(f"{registries_url}/tax")["reachable"]
    assert reachable.status is CheckStatus.FAIL and "HTTP 500" in reachable.reason_en


def test_a_registry_answering_garbage_fails_health_openapi_and_error_format(
    registries_url: str, run_checks: Run, faults: Callable[..., None]
) -> None:
    faults("tax", garbage=True)
    outcomes = run_checks(f"{registries_url}/tax")
    assert outcomes["reachable"].status is CheckStatus.FAIL
    assert "not JSON" in outcomes["reachable"].reason_en
    assert not outcomes["reachable"].details.get("unreachable")  # it answers: broken, not gone
    assert (
        outcomes["openapi"].status is CheckStatus.FAIL
        and "did not answer JSON" in outcomes["openapi"].reason_en
    )
    assert outcomes["authentication"].status is CheckStatus.WARN
    assert outcomes["error-format"].status is CheckStatus.FAIL
    assert "answered 200" in outcomes["error-format"].reason_en


def test_a_slow_registry_fails_the_latency_objective(
    registries_url: str, run_checks: Run, faults: Callable[..., None]
) -> None:
    faults("tax", latency_ms=450)
    tight = ConformanceSettings(latency_probes=3, latency_objective_ms=300, timeout_seconds=3)
    latency = run_checks(f"{registries_url}/tax", with_config=tight)["latency"]
    assert latency.status is CheckStatus.FAIL
    assert latency.details["p95_ms"] >= 450
    assert "above the objective of 300 ms" in latency.reason_en


def test_a_registry_slower_than_the_timeout_is_unreachable(
    registries_url: str, run_checks: Run, faults: Callable[..., None]
) -> None:
    faults("tax", latency_ms=3500)
    reachable = run_checks(f"{registries_url}/tax")["reachable"]
    assert reachable.status is CheckStatus.FAIL and "timeout" in reachable.reason_en


def test_plain_http_fails_in_production(registries_url: str, run_checks: Run, settings: Settings) -> None:
    production = settings.model_copy(update={"env": "production"})
    tls = run_checks(f"{registries_url}/tax", with_settings=production)["tls"]
    assert tls.status is CheckStatus.FAIL
    assert "Plain http in production" in tls.reason_en and registries_url in tls.reason_en


def test_an_unreachable_address_is_reported(run_checks: Run) -> None:
    reachable = run_checks("http://127.0.0.1:9/nothing")["reachable"]
    assert reachable.status is CheckStatus.FAIL and reachable.details["unreachable"]
    assert "connection refused" in reachable.reason_en


def test_an_invalid_openapi_description_fails(registries_url: str, run_checks: Run) -> None:
    outcomes = run_checks(f"{registries_url}/legacy/agri-ivo")
    assert outcomes["reachable"].status is CheckStatus.PASS
    assert outcomes["openapi"].status is CheckStatus.FAIL
    assert "is not valid" in outcomes["openapi"].reason_en
    assert outcomes["error-format"].status is CheckStatus.PASS


def test_a_home_made_error_shape_and_lenient_token_check_fail(registries_url: str, run_checks: Run) -> None:
    outcomes = run_checks(f"{registries_url}/legacy/agri-ppo")
    assert outcomes["openapi"].status is CheckStatus.PASS
    assert outcomes["error-format"].status is CheckStatus.FAIL
    assert "application/json, not application/problem+json" in outcomes["error-format"].reason_en
    assert outcomes["authentication"].status is CheckStatus.FAIL
    assert "answered 200, not 401 or 403" in outcomes["authentication"].reason_en


def test_the_conformant_subsidiary_passes(registries_url: str, run_checks: Run) -> None:
    outcomes = run_checks(f"{registries_url}/legacy/agri-fisheries")
    assert {check_id: outcome.status for check_id, outcome in outcomes.items()} == dict.fromkeys(
        SYSTEM_CHECKS, CheckStatus.PASS
    )


def test_each_agency_generic_simulated_system_passes(registries_url: str, run_checks: Run) -> None:
    outcomes = run_checks(f"{registries_url}/agencies/energy")
    assert {check_id: outcome.status for check_id, outcome in outcomes.items()} == dict.fromkeys(
        SYSTEM_CHECKS, CheckStatus.PASS
    )
    missing = httpx.get(f"{registries_url}/agencies/Not_A_Code!/healthz", timeout=60)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_protected_operation_prefers_get_and_fills_parameters() -> None:
    document = {
        "security": [{"bearer": []}],
        "paths": {
            "/match": {"post": {}},
            "/persons/{national_code}": {"get": {}},
            "/public": {"get": {"security": []}},
        },
    }
    assert protected_operation(document) == ("GET", "/persons/0499370899")
    assert protected_operation({"paths": {"/public": {"get": {}}}}) is None


def test_percentile_is_nearest_rank() -> None:
    samples = [float(value) for value in range(1, 21)]
    assert percentile(samples, 0.95) == 19.0
    assert percentile([5.0], 0.95) == 5.0


def test_a_broken_plugin_fails_its_own_check_not_the_run(registries_url: str, settings: Settings) -> None:
    import asyncio

    import httpx

    from panjereh.conformance.checks.base import ProbeContext, SystemTarget
    from panjereh.conformance.runner import _timed

    class Broken(SystemCheck):
        id = "broken"
        name_en = "Broken"
        name_fa = "خراب"

        async def run(self, ctx: ProbeContext) -> Outcome:
            raise RuntimeError("boom")

    async def go() -> Outcome:
        async with httpx.AsyncClient() as http:
            ctx = ProbeContext(
                SystemTarget("x", "x", registries_url), http, settings=settings, config=ConformanceSettings()
            )
            return (await _timed(Broken(), ctx)).outcome

    outcome = asyncio.run(go())
    assert outcome.status is CheckStatus.FAIL and "boom" in outcome.reason_en


def test_latency_is_held_to_each_systems_published_objective_else_the_setting(
    db, registries_url: str, settings: Settings, config: ConformanceSettings, faults: Callable[..., None]
) -> None:
    import asyncio

    import httpx

    from panjereh.conformance import service
    from panjereh.conformance.runner import check_system
    from panjereh.exchange.models import DataService
    from tests.support.factories import create_agency, create_system

    agency = create_agency(db, "latency-agency")
    published = create_system(db, agency, f"{registries_url}/tax", code="latency-agency.registry")
    create_system(db, agency, f"{registries_url}/tax", code="latency-agency.portal")  # publishes nothing
    for code, objective in (("latency-agency.a", 300), ("latency-agency.b", 800)):
        db.add(
            DataService(
                code=code,
                provider=agency,
                system=published,
                title_fa="خدمت",
                title_en="Service",
                method="GET",
                path="/x",
                latency_objective_ms=objective,
            )
        )
    db.flush()
    targets = {target.code: target for target in service.plan(db, agency, settings).targets}
    assert targets["latency-agency.registry"].latency_objective_ms == 300  # the strictest
    assert targets["latency-agency.portal"].latency_objective_ms is None

    faults("tax", latency_ms=450)  # within the global 2000 ms, above the service's 300 ms

    async def latency_of(code: str):
        async with httpx.AsyncClient(timeout=config.timeout_seconds) as http:
            findings = await check_system(targets[code], http, settings, config)
        return next(finding.outcome for finding in findings if finding.check_id == "latency")

    strict = asyncio.run(latency_of("latency-agency.registry"))
    assert strict.status is CheckStatus.FAIL, strict.reason_en
    assert "above the objective of 300 ms" in strict.reason_en
    assert strict.details["objective_from"] == "services"
    fallback = asyncio.run(latency_of("latency-agency.portal"))
    assert fallback.status is CheckStatus.PASS, fallback.reason_en
    assert fallback.details["objective_ms"] == config.latency_objective_ms
