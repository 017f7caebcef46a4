"""The wallet: documents pulled from issuers' registries through the exchange, signed as copies, verifiable,
refreshed without duplicates, and a registry that is down loses nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents import wallet
from panjereh.documents.models import WalletCopy
from panjereh.documents.selectors import wallet_documents_of
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.client import PlatformClient
from tests.support.browsers import csrf_token, signed_in_browsers
from tests.support.factories import DEMO_CITIZEN

VEHICLE_OWNER = "0067749828"  # the registries' persona with a car and a licence
HTML = {"accept": "text/html"}


@pytest.fixture
def login(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    with signed_in_browsers(seeded, app) as sign_in:
        yield sign_in


@pytest.fixture
def faults(registries_url: str) -> Iterator[Callable[..., None]]:
    headers = {"Authorization": "Bearer test-registry-token"}

    def set_fault(registry: str, **spec: object) -> None:
        httpx.put(
            f"{registries_url}/_admin/faults/{registry}", json=spec, headers=headers, timeout=60
        ).raise_for_status()

    yield set_fault
    httpx.delete(f"{registries_url}/_admin/faults", headers=headers, timeout=60).raise_for_status()


def pull(browser: TestClient, source: str) -> httpx.Response:
    token = csrf_token(browser, "/documents")
    return browser.post(f"/documents/wallet/{source}", data={"csrf_token": token}, follow_redirects=False)


def copies(db: Session, national_code: str, source: str) -> list[WalletCopy]:
    db.expire_all()
    return list(wallet.current_copies(db, national_code, source))


@pytest.mark.parametrize(
    ("national_code", "source", "issuer", "claim", "value"),
    [
        (DEMO_CITIZEN, "driving-licence", "police", "licence_number", "9012345678"),
        (DEMO_CITIZEN, "degree", "education", "institution", "دانشگاه تهران"),
        (DEMO_CITIZEN, "identity", "nocr", "birth_date", "1985-06-12"),
        (VEHICLE_OWNER, "vehicle-card", "police", "plate", "۲۲ب۳۶۵ ایران ۶۸"),
    ],
)
def test_each_issuer_document_is_pulled_through_the_exchange_and_signed(
    login: Callable[[str], TestClient],
    seeded: Session,
    app: FastAPI,
    national_code: str,
    source: str,
    issuer: str,
    claim: str,
    value: str,
) -> None:
    browser = login(national_code)
    response = pull(browser, source)
    assert response.status_code == 303
    assert response.headers["location"] == f"/documents?pulled={source}&result=issued"
    [copy] = copies(seeded, national_code, source)
    document = copy.document
    assert document.issuer_agency_code == issuer  # the agency that holds the record, not the platform
    assert document.claims[claim] == value and document.claims["fetched_on"]
    assert document.document_type == f"wallet.{source}"
    # Verifiable at /verify like any document.
    verified = browser.post("/api/v1/documents/verify", json={"payload": document.payload}).json()
    assert verified["status"] == "valid" and verified["issuer"]["code"] == issuer
    # The pull is an inquiry in the citizen's data-access ledger, for the wallet's purpose.
    platform: PlatformClient = app.state.exchange
    platform.flush()
    service = wallet.source_of(source).service_code
    looks = exchange_selectors.ledger_for_subject(seeded, national_code, limit=20)
    assert any(look.service_code == service and look.purpose == wallet.PURPOSE for look in looks)
    page = browser.get(response.headers["location"], headers=HTML)
    assert f"/documents/{document.number}" in page.text and 'id="wallet-pulled"' in page.text


def test_pulling_again_keeps_an_unchanged_copy_and_makes_no_duplicate(
    login: Callable[[str], TestClient], seeded: Session
) -> None:
    browser = login(DEMO_CITIZEN)
    assert pull(browser, "driving-licence").headers["location"].endswith("result=issued")
    [first] = copies(seeded, DEMO_CITIZEN, "driving-licence")
    assert pull(browser, "driving-licence").headers["location"].endswith("result=kept")
    [again] = copies(seeded, DEMO_CITIZEN, "driving-licence")
    assert again.id == first.id and again.checked_at >= first.checked_at
    licences = [
        d for d in wallet_documents_of(seeded, DEMO_CITIZEN) if d.document_type == "wallet.driving-licence"
    ]
    assert len(licences) == 1


def test_a_changed_record_supersedes_the_stale_copy(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings, client: TestClient
) -> None:
    login(DEMO_CITIZEN)
    source = wallet.source_of("driving-licence")
    licence = {
        "licence": {
            "number": "9012345678",
            "class": "پایه سوم",
            "issued_on": "2019-05-04",
            "valid_until": "2029-05-04",
        }
    }
    first = wallet.store(
        seeded,
        settings,
        source,
        national_code=DEMO_CITIZEN,
        subject_name="علی رضایی",
        items=source.items(licence),
    )
    renewed = {"licence": {**licence["licence"], "class": "پایه دوم"}}
    second = wallet.store(
        seeded,
        settings,
        source,
        national_code=DEMO_CITIZEN,
        subject_name="علی رضایی",
        items=source.items(renewed),
    )
    seeded.commit()
    [old] = first.issued
    [new] = second.issued
    assert second.superseded == [old] and old.is_superseded
    [current] = copies(seeded, DEMO_CITIZEN, "driving-licence")
    assert current.document.number == new.number
    shown = wallet_documents_of(seeded, DEMO_CITIZEN)
    assert new in shown and old not in shown
    verified = client.post("/api/v1/documents/verify", json={"payload": old.payload}).json()
    assert verified["status"] == "revoked" and verified["reason"]["code"] == "document.superseded"
    # A record the registry no longer holds (the licence taken away) supersedes its copy too.
    third = wallet.store(
        seeded, settings, source, national_code=DEMO_CITIZEN, subject_name="علی رضایی", items=source.items({})
    )
    assert third.superseded == [new] and copies(seeded, DEMO_CITIZEN, "driving-licence") == []


def test_a_registry_that_is_down_gives_a_clear_message_and_loses_nothing(
    login: Callable[[str], TestClient], seeded: Session, faults: Callable[..., None]
) -> None:
    browser = login(DEMO_CITIZEN)
    assert pull(browser, "driving-licence").status_code == 303
    [before] = copies(seeded, DEMO_CITIZEN, "driving-licence")
    faults("police", down=True)
    page = pull(browser, "driving-licence")
    assert page.status_code == 503
    assert 'id="wallet-unavailable"' in page.text and "دست نخورده" in page.text
    [after] = copies(seeded, DEMO_CITIZEN, "driving-licence")
    assert after.id == before.id and after.superseded_at is None and not after.document.is_revoked
    english = browser.post(
        "/documents/wallet/driving-licence?lang=en",
        data={"csrf_token": csrf_token(browser, "/documents")},
    )
    assert english.status_code == 503 and "wallet is unchanged" in english.text


def test_nothing_in_the_registry_makes_no_copy(login: Callable[[str], TestClient], seeded: Session) -> None:
    browser = login(DEMO_CITIZEN)  # the demo citizen owns no car
    assert pull(browser, "vehicle-card").headers["location"].endswith("result=none")
    assert copies(seeded, DEMO_CITIZEN, "vehicle-card") == []


def test_wallet_boundaries(login: Callable[[str], TestClient], client: TestClient) -> None:
    signed_out = client.post("/documents/wallet/driving-licence", follow_redirects=False)
    assert signed_out.status_code in (303, 401, 403)
    browser = login(DEMO_CITIZEN)
    forged = browser.post("/documents/wallet/driving-licence", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    unknown = browser.post(
        "/documents/wallet/passport", data={"csrf_token": csrf_token(browser, "/documents")}
    )
    assert unknown.status_code == 404


def test_source_readers_refuse_nonsense() -> None:
    for source in wallet.SOURCES:
        assert source.items({}) == []
        assert source.items({"licence": "x", "vehicles": [1, None, {"plate": 3}], "degrees": ["x"]}) == []


def test_the_minors_identity_copy_answers_not_over_18(
    login: Callable[[str], TestClient], seeded: Session
) -> None:
    minor = "0790419904"  # the demo citizen's daughter (registries' persona, born 2012)
    browser = login(minor)
    assert pull(browser, "identity").headers["location"].endswith("result=issued")
    [copy] = copies(seeded, minor, "identity")
    form = browser.get(f"/documents/{copy.document.number}/share", headers=HTML)
    assert form.status_code == 200
    over_18 = form.text.split('id="claim-over_18"', 1)[1].split("</label>", 1)[0]
    assert "خیر" in over_18  # offered, and it says no
