"""The gateway over HTTP: client authentication, grants, provider failures, circuit breaking, rate limits."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.exchange import selectors, service
from panjereh.exchange.models import LogEntry
from tests.exchange.conftest import ALI, SARA, AgencySystemClient
from tests.support.factories import create_grant, create_key
from tests.support.operations import METRICS_AUTH

PERSON = f"/exchange/v1/civil-registry.person/persons/{ALI}"
CRIMINAL = f"/exchange/v1/judiciary.criminal-record/criminal-records/{ALI}"
ADDRESS = "/exchange/v1/post.address/postal-codes/1193653471"


def test_a_client_without_a_grant_is_refused(client: TestClient, agency_system: Callable) -> None:
    tax = agency_system("tax")
    response = client.get(PERSON, headers=tax.headers())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "client.no_grant" and problem["title_fa"]
    assert problem["message_id"]


def test_a_granted_call_is_forwarded_and_logged(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    response = client.get(PERSON, headers=tax.headers(case="AUD-7"))
    assert response.status_code == 200, response.text
    assert response.json()["national_code"] == ALI
    message_id = response.headers["Panjereh-Message-Id"]
    entry = seeded.scalars(select(LogEntry).where(LogEntry.message_id == message_id)).one()
    assert (entry.client_agency_code, entry.subject, entry.case_ref) == ("tax", ALI, "AUD-7")
    ledger = selectors.ledger_for_subject(seeded, ALI)
    assert ledger[0].client_agency_code == "tax" and ledger[0].purpose == "tax-audit"


def test_a_purpose_outside_the_grant_is_refused(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    response = client.get(PERSON, headers=tax.headers(purpose="marketing"))
    assert response.status_code == 403 and response.json()["code"] == "client.no_grant"


def test_a_revoked_grant_stops_at_once(client: TestClient, agency_system: Callable, seeded: Session) -> None:
    tax = agency_system("tax")
    grant = create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    headers = tax.headers()
    assert client.get(PERSON, headers=headers).status_code == 200
    service.revoke_grant(seeded, grant, provider_agency_code="nocr", note="audit finished")
    seeded.commit()
    response = client.get(PERSON, headers=headers)  # same token, very next call
    assert response.status_code == 403 and response.json()["code"] == "client.no_grant"


def test_an_expired_grant_window_is_refused(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    from datetime import timedelta

    from panjereh.core.db import utcnow

    tax = agency_system("tax")
    grant = create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    grant.valid_from, grant.valid_until = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    seeded.commit()
    assert client.get(PERSON, headers=tax.headers()).json()["code"] == "client.no_grant"


def test_the_subject_named_must_be_the_subject_asked_about(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    response = client.get(PERSON, headers=tax.headers(subject=SARA))
    assert response.status_code == 422 and response.json()["code"] == "client.subject_mismatch"


def test_a_path_outside_the_service_is_refused(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", "civil-registry.person", ["tax-audit"])
    # A grant for one operation is not a key to the whole registry.
    response = client.get("/exchange/v1/civil-registry.person/events", headers=tax.headers())
    assert response.status_code == 422 and response.json()["code"] == "client.invalid_inquiry"
    assert client.post(PERSON, headers=tax.headers()).json()["code"] == "client.wrong_method"
    assert (
        client.get("/exchange/v1/nope.nothing/x", headers=tax.headers()).json()["code"]
        == "client.unknown_service"
    )


def test_missing_or_forged_credentials_are_refused(client: TestClient, agency_system: Callable) -> None:
    tax = agency_system("tax")
    assert client.get(PERSON).json()["code"] == "client.unauthenticated"
    forged = tax.token()[:-4] + "AAAA"
    response = client.get(PERSON, headers={"Authorization": f"Bearer {forged}", "Panjereh-Purpose": "x"})
    assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer")


def test_token_endpoint_checks_the_assertion(client: TestClient, agency_system: Callable) -> None:
    tax: AgencySystemClient = agency_system("tax")
    assertion = tax.assertion()
    assert tax.token_response(assertion).status_code == 200
    assert tax.token_response(assertion).status_code == 401  # replayed jti
    assert tax.token_response(tax.assertion(key=create_key(tax.key.kid))).status_code == 401  # not its key
    assert tax.token_response(tax.assertion(aud="https://elsewhere.example/token")).status_code == 401
    assert tax.token_response(tax.assertion(exp=10**10)).status_code == 401  # lives too long
    assert tax.token_response("not-a-jwt").status_code == 401
    wrong_grant = client.post("/exchange/v1/token", data={"grant_type": "password"})
    assert wrong_grant.status_code == 422


def test_keys_rotate_without_downtime(client: TestClient, agency_system: Callable) -> None:
    tax: AgencySystemClient = agency_system("tax")
    old_key, new = tax.key, create_key()
    token = tax.token()
    auth = {"Authorization": f"Bearer {token}"}
    added = client.post(
        "/api/v1/exchange/clients/me/keys", json={"jwk": new.as_dict(private=False)}, headers=auth
    )
    assert added.status_code == 201, added.text
    assert tax.token_response(tax.assertion(key=old_key)).status_code == 200  # both keys work meanwhile
    assert tax.token_response(tax.assertion(key=new)).status_code == 200
    retired = client.delete(f"/api/v1/exchange/clients/me/keys/{old_key.kid}", headers=auth)
    assert retired.status_code == 200 and retired.json()["retired_at"]
    assert tax.token_response(tax.assertion(key=old_key)).status_code == 401
    assert tax.token_response(tax.assertion(key=new)).status_code == 200
    last = client.delete(f"/api/v1/exchange/clients/me/keys/{new.kid}", headers=auth)
    assert last.status_code == 409  # never lock yourself out
    private = client.post(
        "/api/v1/exchange/clients/me/keys", json={"jwk": create_key().as_dict(private=True)}, headers=auth
    )
    assert private.status_code == 422


def test_provider_failures_are_provider_problems_and_others_keep_working(
    client: TestClient, agency_system: Callable, seeded: Session, faults
) -> None:
    police = agency_system("police")
    create_grant(seeded, "police", "judiciary.criminal-record", ["licence-check"])
    create_grant(seeded, "police", "post.address", ["licence-check"])
    headers = police.headers(purpose="licence-check")
    for fault, reason in (
        ({"down": True}, "down"),
        ({"garbage": True}, "garbage"),
        ({"error_rate": 1.0}, "error"),
    ):
        faults("judiciary", **fault)
        response = client.get(CRIMINAL, headers=headers)
        assert response.status_code == 503, response.text
        problem = response.json()
        assert (problem["code"], problem["reason"], problem["provider"]) == (
            "provider.unavailable",
            reason,
            "judiciary",
        )
        assert client.get(ADDRESS, headers=headers).status_code == 200  # another provider is untouched
    outcomes = seeded.scalars(
        select(LogEntry.outcome)
        .where(LogEntry.service_code == "judiciary.criminal-record")
        .order_by(LogEntry.seq)
    ).all()
    assert outcomes == ["provider.down", "provider.garbage", "provider.error"]


def test_a_providers_redirect_is_not_followed(
    client: TestClient, agency_system: Callable, seeded: Session, faults, registries_url: str
) -> None:
    """ASVS 15.3.2: the grant names the judiciary's system; its redirect to another registry (followed, a 200
    with the post's answer under the judiciary's grant) is a provider failure, not an answer."""
    police = agency_system("police")
    create_grant(seeded, "police", "judiciary.criminal-record", ["licence-check"])
    faults("judiciary", redirect_to=f"{registries_url}/post/postal-codes/1193653471")
    response = client.get(CRIMINAL, headers=police.headers(purpose="licence-check"))
    assert response.status_code == 503, response.text
    assert (response.json()["reason"], response.json()["provider"]) == ("redirect", "judiciary")
    outcome = seeded.scalars(
        select(LogEntry.outcome).where(LogEntry.service_code == "judiciary.criminal-record")
    ).one()
    assert outcome == "provider.redirect"


def test_a_slow_provider_times_out(
    client: TestClient, agency_system: Callable, seeded: Session, faults
) -> None:
    police = agency_system("police")
    create_grant(seeded, "police", "judiciary.criminal-record", ["licence-check"])
    selectors.get_service_by_code(seeded, "judiciary.criminal-record").timeout_ms = 300
    seeded.commit()
    faults("judiciary", latency_ms=2000)
    response = client.get(CRIMINAL, headers=police.headers(purpose="licence-check"))
    assert response.status_code == 503 and response.json()["reason"] == "timeout"


def test_the_circuit_opens_for_a_failing_provider_only(
    app: FastAPI,
    client: TestClient,
    agency_system: Callable,
    seeded: Session,
    faults,
    registries_url: str,
) -> None:
    police = agency_system("police")
    create_grant(seeded, "police", "judiciary.criminal-record", ["licence-check"])
    create_grant(seeded, "police", "post.address", ["licence-check"])
    headers = police.headers(purpose="licence-check")
    faults("judiciary", down=True)
    threshold = app.state.exchange.exchange.breaker.threshold
    reasons = [client.get(CRIMINAL, headers=headers).json()["reason"] for _ in range(threshold + 2)]
    assert reasons[:threshold] == ["down"] * threshold
    assert reasons[threshold:] == ["circuit_open", "circuit_open"]  # not even sent
    assert client.get(ADDRESS, headers=headers).status_code == 200
    metrics = client.get("/metrics", headers=METRICS_AUTH).text
    assert 'panjereh_exchange_circuit_open{provider_system="judiciary"} 1.0' in metrics


def test_each_client_is_rate_limited(client: TestClient, agency_system: Callable, seeded: Session) -> None:
    slow = agency_system("tax", rate=2)
    create_grant(seeded, "tax", "post.address", ["tax-audit"])
    headers = slow.headers()
    statuses = [client.get(ADDRESS, headers=headers).status_code for _ in range(4)]
    assert statuses[:2] == [200, 200] and statuses[-1] == 429
    limited = client.get(ADDRESS, headers=headers)
    assert limited.json()["code"] == "client.rate_limited" and int(limited.headers["retry-after"]) >= 1
