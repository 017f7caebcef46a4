"""The sandbox on the exchange: sandbox clients call with sandbox grants about test personas only, their
calls are flagged in the hash chain and never reach the citizen's ledger or the figures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jws
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.db import utcnow
from panjereh.exchange import selectors
from panjereh.exchange.chain import CHAIN_FIELDS, _canonical, entry_hash
from panjereh.exchange.client import PlatformClient
from panjereh.exchange.exceptions import GrantMissing, SandboxSubject
from panjereh.exchange.messagelog import LogWriter, seal_head
from panjereh.exchange.models import LogEntry
from panjereh.exchange.signing import load_signer
from panjereh.exchange.verify import verify_log
from tests.exchange.conftest import ALI, NOBODY, SARA
from tests.exchange.test_messagelog import record
from tests.support.factories import create_grant
from tests.support.operations import METRICS_AUTH

PERSON = "/exchange/v1/civil-registry.person/persons/{}"
SERVICE = "civil-registry.person"


def _window() -> tuple:
    return utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)


def _entry(db: Session, message_id: str) -> LogEntry:
    return db.scalars(select(LogEntry).where(LogEntry.message_id == message_id)).one()


def test_a_sandbox_client_with_a_sandbox_grant_asks_about_a_test_persona(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax", sandbox=True)
    create_grant(seeded, "tax", SERVICE, ["tax-audit"], sandbox=True)
    before = selectors.ledger_count(seeded, ALI), selectors.inquiry_stats(seeded, *_window())
    response = client.get(PERSON.format(ALI), headers=tax.headers())
    assert response.status_code == 200, response.text
    assert response.json()["national_code"] == ALI
    seeded.expire_all()
    entry = _entry(seeded, response.headers["Panjereh-Message-Id"])
    assert (entry.sandbox, entry.purpose, entry.subject) == (True, "tax-audit", ALI)
    # In the log, but neither in the persona's ledger nor in the exchange's figures.
    assert (selectors.ledger_count(seeded, ALI), selectors.inquiry_stats(seeded, *_window())) == before
    # Prometheus counts it apart, so dashboards and alerts that read production leave it out.
    metrics = client.get("/metrics", headers=METRICS_AUTH).text
    series = f'{{client="tax",environment="sandbox",outcome="ok",service="{SERVICE}"}}'  # labels sorted
    assert f"panjereh_exchange_inquiries_total{series} 1.0" in metrics


def test_a_sandbox_client_is_refused_a_production_national_code(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax", sandbox=True)
    create_grant(seeded, "tax", SERVICE, ["tax-audit"], sandbox=True)
    response = client.get(PERSON.format(NOBODY), headers=tax.headers())
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "client.sandbox_subject" and problem["title_fa"] and problem["title"]
    # Refused before the provider: logged as a refusal, flagged sandbox.
    seeded.expire_all()
    entry = _entry(seeded, problem["message_id"])
    assert (entry.outcome, entry.sandbox) == ("client.sandbox_subject", True)
    # Named in a header instead of the path: refused the same way.
    response = client.get(PERSON.format(NOBODY), headers=tax.headers(subject=NOBODY))
    assert response.json()["code"] == "client.sandbox_subject"


def test_a_sandbox_client_never_uses_a_production_grant(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax", sandbox=True)
    create_grant(seeded, "tax", SERVICE, ["tax-audit"])
    response = client.get(PERSON.format(ALI), headers=tax.headers())
    assert response.status_code == 403 and response.json()["code"] == "client.no_grant"
    assert "sandbox" in response.json()["detail"]


def test_a_production_client_never_uses_a_sandbox_grant(
    client: TestClient, agency_system: Callable, seeded: Session
) -> None:
    tax = agency_system("tax")
    create_grant(seeded, "tax", SERVICE, ["tax-audit"], sandbox=True)
    response = client.get(PERSON.format(ALI), headers=tax.headers())
    assert response.status_code == 403 and response.json()["code"] == "client.no_grant"
    # Each environment's grant serves its own client, side by side.
    create_grant(seeded, "tax", SERVICE, ["tax-audit"])
    assert client.get(PERSON.format(ALI), headers=tax.headers()).status_code == 200
    seeded.expire_all()
    assert selectors.ledger_for_subject(seeded, ALI)[0].client_agency_code == "tax"


def test_the_access_token_says_sandbox(agency_system: Callable, seeded: Session) -> None:
    sandbox, production = agency_system("tax", sandbox=True), agency_system("tax")
    for system, expected in ((sandbox, True), (production, False)):
        claims = json.loads(jws.extract_compact(system.token().encode()).payload)  # read, not verified
        assert claims["sandbox"] is expected


def test_the_platform_sandbox_client_asks_only_about_test_personas(app: FastAPI, seeded: Session) -> None:
    platform: PlatformClient = app.state.exchange
    sandbox = platform.in_sandbox()
    assert sandbox.sandbox and not platform.sandbox and sandbox.exchange is platform.exchange
    before = selectors.ledger_count(seeded, SARA)
    result = sandbox.inquire(SERVICE, subject=SARA, purpose="delivery:x", path_params={"national_code": SARA})
    assert result.ok
    assert (_entry(seeded, result.message_id).sandbox, selectors.ledger_count(seeded, SARA)) == (True, before)
    with pytest.raises(SandboxSubject):
        sandbox.inquire(SERVICE, subject=NOBODY, purpose="delivery:x", path_params={"national_code": NOBODY})
    # The platform's production client still asks about anyone, in the ledger as before.
    result = platform.inquire(SERVICE, subject=SARA, purpose="login", path_params={"national_code": SARA})
    assert _entry(seeded, result.message_id).sandbox is False
    assert selectors.ledger_count(seeded, SARA) == before + 1


def test_the_platform_sandbox_grants_are_its_own(app: FastAPI, seeded: Session) -> None:
    from panjereh.exchange.models import Grant

    seeded.execute(
        update(Grant)
        .where(Grant.client_agency_code == "ito", Grant.sandbox.is_(True))
        .values(status="revoked")
    )
    seeded.commit()
    sandbox = app.state.exchange.in_sandbox()
    with pytest.raises(GrantMissing):
        sandbox.inquire(SERVICE, subject=ALI, purpose="delivery:x", path_params={"national_code": ALI})


# --- the flag in the hash chain -----------------------------------------------------------------------


def _old_format(prev: str, fields: dict) -> str:
    """The chain's hash as it was before the sandbox flag existed."""
    names = [name for name in CHAIN_FIELDS if name not in ("sandbox", "trace_id")]
    payload = [prev, *(_canonical(fields.get(name)) for name in names)]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def test_a_production_entry_hashes_as_before_and_a_sandbox_one_differently() -> None:
    fields = vars(record(1))
    assert entry_hash("0" * 64, fields) == _old_format("0" * 64, fields)
    flagged = {**fields, "sandbox": True}
    assert entry_hash("0" * 64, flagged) != _old_format("0" * 64, fields)


def test_flipping_the_flag_either_way_is_caught(
    db: Session, session_factory: sessionmaker[Session], settings
) -> None:
    signer = load_signer(settings.home)
    writer = LogWriter(session_factory, signer, inline=True, seal_every_seconds=3600)
    for n in range(4):
        entry = record(n)
        entry.sandbox = n % 2 == 1
        writer.submit(entry)
    seal_head(db, signer)
    db.commit()
    assert verify_log(db, signer).ok
    seqs = list(db.scalars(select(LogEntry.seq).order_by(LogEntry.seq)))
    flags = [db.get(LogEntry, seq).sandbox for seq in seqs]  # type: ignore[union-attr]
    assert flags == [False, True, False, True]
    # A production call passed off as a test, and a test passed off as production.
    db.execute(update(LogEntry).where(LogEntry.seq == seqs[0]).values(sandbox=True))
    db.execute(update(LogEntry).where(LogEntry.seq == seqs[1]).values(sandbox=False))
    kinds = {(f.seq, f.kind) for f in verify_log(db, signer).findings}
    assert {(seqs[0], "changed"), (seqs[1], "changed")} <= kinds
