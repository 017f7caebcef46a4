"""Grants owned by the provider, through the API of both sides; the directory and monitoring pages."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.exchange.conftest import ALI
from tests.support.operations import METRICS_AUTH

PERSON = f"/exchange/v1/civil-registry.person/persons/{ALI}"


def test_request_approve_refuse_revoke_through_the_api(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax, nocr, police = agency_system("tax"), agency_system("nocr"), agency_system("police")
    as_tax = {"Authorization": f"Bearer {tax.token()}"}
    as_nocr = {"Authorization": f"Bearer {nocr.token()}"}
    as_police = {"Authorization": f"Bearer {police.token()}"}
    body = {
        "service_code": "civil-registry.person",
        "purposes": ["tax-audit"],
        "legal_basis": "Direct Taxes Act",
    }
    requested = client.post("/api/v1/exchange/grants", json=body, headers=as_tax)
    assert requested.status_code == 201, requested.text
    grant = requested.json()
    assert (grant["status"], grant["provider_agency_code"]) == ("requested", "nocr")
    assert client.get(PERSON, headers=tax.headers()).json()["code"] == "client.no_grant"  # not approved yet

    # Only the provider decides; a third agency does not even see the grant.
    assert (
        client.post(f"/api/v1/exchange/grants/{grant['id']}/approve", json={}, headers=as_tax).status_code
        == 403
    )
    assert client.get(f"/api/v1/exchange/grants/{grant['id']}", headers=as_police).status_code == 404
    incoming = client.get("/api/v1/exchange/grants?side=provider&status=requested", headers=as_nocr).json()
    assert [g["id"] for g in incoming] == [grant["id"]]
    approved = client.post(
        f"/api/v1/exchange/grants/{grant['id']}/approve", json={"note": "ok"}, headers=as_nocr
    )
    assert approved.json()["status"] == "approved"
    assert client.get(PERSON, headers=tax.headers()).status_code == 200
    assert (
        client.post(f"/api/v1/exchange/grants/{grant['id']}/approve", json={}, headers=as_nocr).status_code
        == 409
    )

    revoked = client.post(f"/api/v1/exchange/grants/{grant['id']}/revoke", json={}, headers=as_nocr)
    assert revoked.json()["status"] == "revoked"
    assert client.get(PERSON, headers=tax.headers()).json()["code"] == "client.no_grant"

    second = client.post("/api/v1/exchange/grants", json=body, headers=as_tax).json()
    no_reason = client.post(f"/api/v1/exchange/grants/{second['id']}/refuse", json={}, headers=as_nocr)
    assert no_reason.status_code == 422
    refused = client.post(
        f"/api/v1/exchange/grants/{second['id']}/refuse", json={"note": "no legal basis"}, headers=as_nocr
    )
    assert refused.json()["status"] == "refused"
    mine = client.get("/api/v1/exchange/grants", headers=as_tax).json()
    assert {g["status"] for g in mine} == {"revoked", "refused"}


def test_a_grant_request_needs_purposes_and_a_legal_basis(
    client: TestClient, agency_system: Callable
) -> None:
    tax = agency_system("tax")
    auth = {"Authorization": f"Bearer {tax.token()}"}
    blank = {"service_code": "civil-registry.person", "purposes": [" "], "legal_basis": "Direct Taxes Act"}
    assert client.post("/api/v1/exchange/grants", json=blank, headers=auth).status_code == 422
    wildcard = {**blank, "purposes": ["*"]}
    assert client.post("/api/v1/exchange/grants", json=wildcard, headers=auth).status_code == 422
    assert client.post("/api/v1/exchange/grants", json={**blank, "purposes": ["x"]}).status_code == 401


def test_a_grant_request_with_a_date_out_of_range_is_refused_not_overflowed(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    auth = {"Authorization": f"Bearer {agency_system('tax').token()}"}
    body = {
        "service_code": "civil-registry.person",
        "purposes": ["tax-audit"],
        "legal_basis": "Direct Taxes Act",
    }
    for until in ("9999-12-31T23:59:59Z", "9999-12-31", "2999-01-01T00:00:00"):
        response = client.post("/api/v1/exchange/grants", json={**body, "valid_until": until}, headers=auth)
        assert response.status_code == 422 and response.json()["code"] == "client.validation", until
    # Without a zone the moment is UTC, and compares with the grant's start instead of failing.
    naive = client.post(
        "/api/v1/exchange/grants", json={**body, "valid_until": "2199-01-01T00:00:00"}, headers=auth
    )
    assert naive.status_code == 201, naive.text


def test_directory_grants_and_monitoring_pages(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    directory = client.get("/exchange/services")
    assert directory.status_code == 200
    assert (
        "judiciary.criminal-record" in directory.text
        and "/exchange/v1/post.address/postal-codes/" in directory.text
    )
    filtered = client.get("/exchange/services?provider=police")
    assert "police.vehicles" in filtered.text and "judiciary.criminal-record" not in filtered.text
    assert client.get("/api/v1/exchange/services").json()[0]["gateway_path"].startswith("/exchange/v1/")

    tax = agency_system("tax")
    auth = {"Authorization": f"Bearer {tax.token()}"}
    body = {
        "service_code": "civil-registry.person",
        "purposes": ["tax-audit"],
        "legal_basis": "Direct Taxes Act",
    }
    client.post("/api/v1/exchange/grants", json=body, headers=auth)
    # The grants pages are the agencies' officers' (tests/exchange/test_grant_pages.py), not public.
    assert client.get("/exchange/grants/nocr", follow_redirects=False).status_code in (302, 303, 401)

    client.get(PERSON, headers=tax.headers())  # refused: counted as a client error
    stats = client.get("/api/v1/exchange/monitoring?by=client").json()
    tax_row = next(row for row in stats if row["key"] == "tax")
    assert tax_row["count"] >= 1 and tax_row["client_errors"] >= 1
    assert client.get("/exchange/monitoring?by=service").status_code == 200
    metrics = client.get("/metrics", headers=METRICS_AUTH).text
    refused = '{client="tax",environment="production",outcome="client.no_grant"'  # labels sorted
    assert f"panjereh_exchange_inquiries_total{refused}" in metrics
