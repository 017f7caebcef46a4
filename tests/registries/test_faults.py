"""Fault injection switched at run time: latency, down, error rate, garbage, reset, admin auth."""

import json
import time

import httpx
import pytest

from panjereh.registries.services import load_services

DEMO = "/tax/clearance/0499370899"


def test_faults_start_off(admin: httpx.Client) -> None:
    faults = admin.get("/_admin/faults").json()
    assert faults["tax"] == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "down": False,
        "garbage": False,
        "redirect_to": None,
    }
    # 11 registries, the agencies' files, the payment gateway and the SMS gateway (not data services: no
    # services.yaml entry)
    assert sorted(faults) == sorted([*(r.code for r in load_services()), "ipg", "sms-gateway"])


def test_latency_is_measurable(admin: httpx.Client, client: httpx.Client) -> None:
    started = time.perf_counter()
    assert client.get(DEMO).status_code == 200
    baseline = time.perf_counter() - started
    # A full second: the margins below must hold on a loaded CI runner, where a plain call can take
    # a few hundred milliseconds; only the lower bound is exact (the registry sleeps at least this long).
    admin.put("/_admin/faults/tax", json={"latency_ms": 1000}).raise_for_status()
    started = time.perf_counter()
    assert client.get(DEMO).status_code == 200
    assert time.perf_counter() - started >= 1.0 > baseline
    # Other registries are not slowed down.
    started = time.perf_counter()
    client.get("/judiciary/criminal-records/0499370899")
    assert time.perf_counter() - started < 1.0


def test_down_answers_503_everywhere_in_the_registry(admin: httpx.Client, client: httpx.Client) -> None:
    admin.put("/_admin/faults/shahkar", json={"down": True}).raise_for_status()
    response = client.post("/shahkar/match", json={"national_code": "0499370899", "mobile": "09121234567"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "registry_down"
    assert client.get("/shahkar/healthz").status_code == 503
    root = client.get("/healthz")
    assert root.status_code == 503 and root.json()["down"] == ["shahkar"]
    assert client.get("/post/healthz").status_code == 200


def test_error_rate_one_always_fails(admin: httpx.Client, client: httpx.Client) -> None:
    admin.put("/_admin/faults/tax", json={"error_rate": 1}).raise_for_status()
    statuses = {client.get(DEMO).status_code for _ in range(10)}
    assert statuses == {500}


def test_error_rate_half_fails_some(admin: httpx.Client, client: httpx.Client) -> None:
    admin.put("/_admin/faults/tax", json={"error_rate": 0.5}).raise_for_status()
    statuses = [client.get(DEMO).status_code for _ in range(60)]
    assert 0 < statuses.count(500) < 60 and set(statuses) == {200, 500}


def test_garbage_is_not_json(admin: httpx.Client, client: httpx.Client) -> None:
    admin.put("/_admin/faults/deeds", json={"garbage": True}).raise_for_status()
    response = client.get("/deeds/properties/0499370899")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_reset_restores_service(admin: httpx.Client, client: httpx.Client) -> None:
    admin.put("/_admin/faults/tax", json={"down": True, "latency_ms": 10}).raise_for_status()
    assert client.get(DEMO).status_code == 503
    assert admin.delete("/_admin/faults").json()["tax"]["down"] is False
    assert client.get(DEMO).status_code == 200


def test_admin_needs_the_admin_token(
    admin: httpx.Client, client: httpx.Client, anonymous: httpx.Client
) -> None:
    assert anonymous.get("/_admin/faults").status_code == 401
    assert (
        client.put("/_admin/faults/tax", json={"down": True}).status_code == 401
    )  # the data token is not enough
    assert client.get(DEMO).status_code == 200


@pytest.mark.parametrize(
    "body", [{"error_rate": 1.5}, {"latency_ms": -1}, {"down": "sometimes"}, {"unknown": True}]
)
def test_bad_fault_specs_are_rejected(admin: httpx.Client, body: dict) -> None:
    response = admin.put("/_admin/faults/tax", json=body)
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


def test_unknown_registry_is_404(admin: httpx.Client) -> None:
    assert admin.put("/_admin/faults/nowhere", json={"down": True}).json()["code"] == "registry_not_found"
