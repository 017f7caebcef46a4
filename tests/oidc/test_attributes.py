"""Verified registry attributes for relying parties: per-attribute consent, release through the exchange,
the ledger, approval, withdrawal, registry faults (issue 14, item 4)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.oidc import clients
from panjereh.oidc.exceptions import InvalidClientMetadata
from tests.identity.helpers import CONVICTED_CODE, CONVICTED_MOBILE, DEMO_CODE
from tests.oidc.helpers import REDIRECT_URI, authorize_url, browse, pkce, query_of, register

BANK = "bank.sample"
PURPOSES = {
    "address": ["برای فرستادن کارت بانکی به نشانی شما", "To post your bank card to your address"],
    "education": "برای سنجش اعتبار وام دانشجویی",
    "vehicles": ["برای وام با وثیقهٔ خودرو", "For a loan secured on your car"],
}
ATTRIBUTE_SCOPE = "openid profile national_code address education vehicles"


def _register_bank(session: Session, *, approve: bool = True, **extra: Any) -> str:
    secret = register(
        session,
        BANK,
        scopes=["openid", "profile", "national_code", "address", "education", "vehicles", "offline_access"],
        attribute_purposes=PURPOSES,
        approve_attributes=approve,
        **extra,
    )
    session.commit()
    return secret


def _basic(secret: str, client_id: str = BANK) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _login(
    browser: TestClient, settings: Settings, secret: str, scope: str = ATTRIBUTE_SCOPE, **kwargs: Any
) -> dict[str, Any]:
    """Authorize (login and consent as `kwargs` say), redeem the code; the token response."""
    verifier, challenge = pkce()
    extra = {key: kwargs.pop(key) for key in ("prompt",) if key in kwargs}
    location = browse(browser, settings, authorize_url(BANK, challenge, scope=scope, **extra), **kwargs)
    code = query_of(location)["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = browser.post("/oauth2/token", data={**data, "code_verifier": verifier}, headers=_basic(secret))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _userinfo(browser: TestClient, access: str) -> dict[str, Any]:
    response = browser.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _verified(claims: dict[str, Any]) -> dict[str, Any]:
    """The verified claims by name, each with its verification."""
    return {
        name: (item["claims"][name], item["verification"])
        for item in claims.get("verified_claims", [])
        for name in item["claims"]
    }


def test_discovery_lists_the_attribute_scopes_and_verified_claims(client: TestClient) -> None:
    document = client.get("/.well-known/openid-configuration").json()
    assert {"address", "education", "vehicles", "properties", "insurance"} <= set(
        document["scopes_supported"]
    )
    assert {"verified_claims", "address", "degrees", "vehicles"} <= set(document["claims_supported"])
    assert document["verified_claims_supported"] is True
    assert document["trust_frameworks_supported"] == ["ir_panjereh"]
    assert "degrees" in document["claims_in_verified_claims_supported"]


def test_each_attribute_is_its_own_checkbox_and_an_unticked_one_is_not_released(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    pages: list[str] = []
    tokens = _login(client, settings, secret, attributes=["address", "education"], pages=pages)
    page = pages[0]
    for scope in ("address", "education", "vehicles"):
        assert f'name="attribute" value="{scope}"' in page
    assert "برای وام با وثیقهٔ خودرو" in page  # the reason the client gave
    assert "از سامانهٔ فراجا استعلام می‌شود" in page  # the registry named
    assert "از سامانهٔ ثبت احوال و شرکت ملی پست استعلام می‌شود" in page
    assert tokens["scope"].split().count("vehicles") == 0 and "address" in tokens["scope"].split()
    claims = _userinfo(client, tokens["access_token"])
    verified = _verified(claims)
    assert set(verified) == {"address", "degrees"}  # vehicles unticked: not released
    address, verification = verified["address"]
    assert address["postal_code"] == "1193653471" and address["locality"] == "تهران"
    assert address["country"] == "IR" and address["region"] == "تهران" and "آزادی" in address["formatted"]
    assert verification["trust_framework"] == "ir_panjereh"
    assert [e["record"]["type"] for e in verification["evidence"]] == [
        "civil-registry.person",
        "post.address",
    ]
    assert all(
        e["type"] == "electronic_record" and e["check_details"][0]["txn"] for e in verification["evidence"]
    )
    degrees, _ = verified["degrees"]
    assert degrees[0]["field"] == "مهندسی کامپیوتر"
    assert (
        claims["national_code"] == DEMO_CODE
        and "vehicles" not in claims
        and "unavailable_claims" not in claims
    )


def test_english_consent_screen_shows_the_reason_in_english(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    _register_bank(seeded)
    verifier, challenge = pkce()
    pages: list[str] = []
    browse(
        client, settings, authorize_url(BANK, challenge, scope=ATTRIBUTE_SCOPE), consent="deny", pages=pages
    )
    english = client.get(authorize_url(BANK, challenge, scope=ATTRIBUTE_SCOPE) + "&lang=en")
    assert "To post your bank card to your address" in english.text
    assert "Read from the Police (FARAJA)" in english.text
    assert "برای سنجش اعتبار وام دانشجویی" in english.text  # no English reason given: the Persian one


def test_a_later_authorization_asks_only_for_attributes_not_yet_consented(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    _login(client, settings, secret, scope="openid profile address", attributes=["address"])
    pages: list[str] = []
    tokens = _login(client, settings, secret, scope="openid profile address education", pages=pages)
    asked = re.findall(r'name="attribute" value="([^"]+)"', pages[0])
    assert asked == ["education"]
    assert 'id="consent-attributes-agreed"' in pages[0] and 'data-attribute="address"' in pages[0]
    assert set(_verified(_userinfo(client, tokens["access_token"]))) == {"address", "degrees"}
    # All consented now: no screen at all.
    pages.clear()
    _login(client, settings, secret, scope="openid profile address education", pages=pages)
    assert pages == []
    # prompt=consent asks about every attribute again, and an untick there withdraws it.
    again = _login(
        client, settings, secret, scope="openid profile address education", prompt="consent",
        attributes=["education"], pages=pages,
    )  # fmt: skip
    assert re.findall(r'name="attribute" value="([^"]+)"', pages[0]) == ["address", "education"]
    assert set(_verified(_userinfo(client, again["access_token"]))) == {"degrees"}


def test_withdrawing_one_attribute_stops_its_release_on_tokens_already_issued(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    tokens = _login(client, settings, secret, attributes=["address", "education", "vehicles"])
    assert set(_verified(_userinfo(client, tokens["access_token"]))) == {"address", "degrees", "vehicles"}
    page = client.get("/account/apps").text
    assert 'data-app-attribute="vehicles"' in page and "خودروهای به نام شما" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    action = f"/account/apps/{BANK}/attributes/vehicles/withdraw"
    assert client.post(action, data={}).status_code == 403  # no CSRF token
    client.post(action, data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    after = _userinfo(client, tokens["access_token"])
    assert set(_verified(after)) == {"address", "degrees"} and after["national_code"] == DEMO_CODE
    # Nonsense scopes and other apps change nothing.
    for bad in (
        f"/account/apps/{BANK}/attributes/openid/withdraw",
        "/account/apps/other.app/attributes/address/withdraw",
    ):
        assert client.post(bad, data={"csrf_token": csrf.group(1)}, follow_redirects=False).status_code == 303
    assert set(_verified(_userinfo(client, tokens["access_token"]))) == {"address", "degrees"}
    # Revoking the whole app ends every release (the token is revoked with it).
    client.post(f"/account/apps/{BANK}/revoke", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    gone = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert gone.status_code == 401


def test_withdrawing_needs_a_signed_in_citizen(client: TestClient, seeded: Session) -> None:
    _register_bank(seeded)
    response = client.post(
        f"/account/apps/{BANK}/attributes/address/withdraw", data={}, follow_redirects=False
    )
    assert response.status_code in (303, 401, 403)
    assert response.status_code != 303 or response.headers["location"].startswith("/login")


def test_each_release_is_in_the_ledger_with_the_client_named(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded, name_en="Sample Bank")
    tokens = _login(
        client, settings, secret, scope="openid address education", attributes=["address", "education"]
    )
    _userinfo(client, tokens["access_token"])
    app.state.exchange.flush()
    page = client.get("/account/data-access").text
    rows = page.split('class="ledger-row"')[1:]
    released = [row for row in rows if "سامانهٔ مالیات من" in row.split("</tr>", 1)[0]]
    # The civil registry and the Ministry of Education; the Post is asked about a postal code, no subject.
    assert len(released) == 2, page[:3000]
    assert any("آموزش و پرورش" in row for row in released) and any("ثبت احوال" in row for row in released)
    assert all("با اجازهٔ شما" in row for row in released)
    english = client.get("/account/data-access?lang=en").text
    assert "with your consent" in english


def test_an_unapproved_client_is_never_given_attributes(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded, approve=False)
    pages: list[str] = []
    # A forged consent answer ticking attributes the screen never asked for changes nothing.
    tokens = _login(client, settings, secret, attributes=["address", "vehicles"], pages=pages)
    assert 'name="attribute"' not in pages[0]
    assert not {"address", "education", "vehicles"} & set(tokens["scope"].split())
    claims = _userinfo(client, tokens["access_token"])
    assert "verified_claims" not in claims and claims["national_code"] == DEMO_CODE
    # Once an operator approves, the citizen is asked.
    clients.approve_attributes_of(seeded, BANK)
    seeded.commit()
    pages.clear()
    tokens = _login(client, settings, secret, attributes=["education"], pages=pages)
    assert re.findall(r'name="attribute" value="([^"]+)"', pages[0]) == ["address", "education", "vehicles"]
    assert set(_verified(_userinfo(client, tokens["access_token"]))) == {"degrees"}


def test_registration_needs_a_reason_per_attribute_and_a_confidential_client(seeded: Session) -> None:
    base: dict[str, Any] = {"redirect_uris": [REDIRECT_URI], "name_fa": "بانک"}
    with pytest.raises(InvalidClientMetadata):  # no reason
        clients.register(seeded, client_id="bank.a", scopes=["openid", "address"], **base)
    with pytest.raises(InvalidClientMetadata):  # a reason too short
        clients.register(
            seeded,
            client_id="bank.b",
            scopes=["openid", "address"],
            attribute_purposes={"address": "x"},
            **base,
        )
    with pytest.raises(InvalidClientMetadata):  # a reason for an attribute not asked for
        clients.register(
            seeded,
            client_id="bank.c",
            scopes=["openid"],
            attribute_purposes={"vehicles": "برای وام خودرو"},
            **base,
        )
    for wrong in (["a", "b", "c"], 12, None, {"fa": "x"}, ["x" * 301, ""]):
        with pytest.raises(InvalidClientMetadata):
            clients.register(
                seeded,
                client_id="bank.d",
                scopes=["openid", "address"],
                attribute_purposes={"address": wrong},
                **base,
            )
    with pytest.raises(InvalidClientMetadata):  # a public (native) client
        clients.register(
            seeded,
            client_id="bank.e",
            scopes=["openid", "address"],
            attribute_purposes={"address": "برای کارت بانکی"},
            token_endpoint_auth_method="none",
            application_type="native",
            redirect_uris=["http://127.0.0.1/cb"],
            name_fa="بانک",
        )
    client, _secret = clients.register(
        seeded,
        client_id="bank.f",
        scopes=["openid", "address"],
        attribute_purposes={"address": "برای کارت بانکی"},
        **base,
    )
    assert client.approved_attributes == "" and clients.approved_attribute_scopes(client) == set()


def test_the_admin_api_registers_an_approved_attribute_client(
    client: TestClient, app: FastAPI, seeded: Session
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"oidc_admin_token": "admin-test-token"})
    body = {
        "client_id": "bank.api",
        "client_name": "بانک نمونه",
        "redirect_uris": [REDIRECT_URI],
        "scope": "openid address",
        "attribute_purposes": {"address": "برای فرستادن کارت بانکی"},
    }
    headers = {"Authorization": "Bearer admin-test-token"}
    created = client.post("/api/v1/oidc/clients", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["approved_attributes"] == "address"
    missing = client.post(
        "/api/v1/oidc/clients",
        json={**body, "client_id": "bank.api2", "attribute_purposes": {}},
        headers=headers,
    )
    assert missing.status_code == 422 and missing.json()["code"] == "oidc.invalid_client_metadata"
    wrong = client.post(
        "/api/v1/oidc/clients",
        json={**body, "client_id": "bank.api3", "attribute_purposes": {"address": 5}},
        headers=headers,
    )
    assert wrong.status_code in (400, 422)
    assert client.post("/api/v1/oidc/clients", json={**body, "client_id": "bank.api4"}).status_code == 401


def test_a_registry_that_is_down_leaves_its_claim_out_and_the_rest_is_released(
    client: TestClient, seeded: Session, settings: Settings, faults: Callable[..., None]
) -> None:
    secret = _register_bank(seeded)
    tokens = _login(client, settings, secret, attributes=["address", "education", "vehicles"])
    faults("police", down=True)
    claims = _userinfo(client, tokens["access_token"])
    assert set(_verified(claims)) == {"address", "degrees"}
    missing = claims["unavailable_claims"]["vehicles"]
    assert missing["scope"] == "vehicles" and missing["error"] == "temporarily_unavailable"
    assert missing["source"] == "police.vehicles"
    faults("post", down=True)
    claims = _userinfo(client, tokens["access_token"])
    assert set(_verified(claims)) == {"degrees"} and set(claims["unavailable_claims"]) == {
        "address",
        "vehicles",
    }


def test_a_token_reads_only_its_own_citizen(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    mine = _login(client, settings, secret, attributes=["address", "education"])
    with TestClient(app, base_url="http://testserver") as other:
        theirs = _login(
            other, settings, secret, attributes=["address", "education"],
            national_code=CONVICTED_CODE, mobile=CONVICTED_MOBILE,
        )  # fmt: skip
        their_claims = _userinfo(other, theirs["access_token"])
    my_claims = _userinfo(client, mine["access_token"])
    assert my_claims["national_code"] == DEMO_CODE and their_claims["national_code"] == CONVICTED_CODE
    assert _verified(my_claims)["address"][0] != _verified(their_claims)["address"][0]
    assert _verified(my_claims)["degrees"][0] != _verified(their_claims)["degrees"][0]


@pytest.mark.parametrize(
    "scope",
    [
        "openid address address address",
        "openid address\x00 education",
        "openid " + "address " * 2000,
        "openid ADDRESS آدرس vehicles:all",
        "openid\taddress",
    ],
)
def test_malformed_scope_strings_never_fail_and_grant_nothing_unasked(
    client: TestClient, seeded: Session, settings: Settings, scope: str
) -> None:
    secret = _register_bank(seeded)
    tokens = _login(client, settings, secret, scope=scope)
    granted = tokens["scope"].split()
    # Only well-formed scope tokens that were asked for (`address\x00` is not `address`).
    assert len(granted) == len(set(granted)) and set(granted) <= {"openid", "address", "education"}
    assert set(granted) <= set(scope.split())
    assert _userinfo(client, tokens["access_token"])["sub"]


def test_prompt_none_with_an_attribute_not_consented_is_consent_required(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    _login(client, settings, secret, scope="openid address", attributes=["address"])
    _verifier, challenge = pkce()
    url = authorize_url(BANK, challenge, scope="openid address vehicles", prompt="none")
    response = client.get(url, follow_redirects=False)
    assert (
        response.status_code == 303 and query_of(response.headers["location"])["error"] == "consent_required"
    )


def test_the_demo_bank_is_seeded_once_and_asks_attribute_by_attribute(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    from panjereh.oidc import seed as oidc_seed

    for _ in range(2):  # idempotent
        oidc_seed.seed_oidc(seeded, settings, lambda _n: None)
    seeded.commit()
    bank = clients.get_client(seeded, oidc_seed.BANK_CLIENT_ID)
    assert bank is not None and bank.name_fa == "بانک نمونه"
    assert clients.approved_attribute_scopes(bank) == {"address", "education", "vehicles", "insurance"}
    _verifier, challenge = pkce()
    pages: list[str] = []
    url = authorize_url(
        oidc_seed.BANK_CLIENT_ID, challenge, scope="openid profile address education vehicles insurance"
    )
    url = url.replace("rp.example.ir%2Fcallback", "bank.example.ir%2Fcallback")
    location = browse(client, settings, url, pages=pages, attributes=["address"])
    assert location.startswith(oidc_seed.BANK_REDIRECT_URI) and "code=" in location
    assert re.findall(r'name="attribute" value="([^"]+)"', pages[0]) == [
        "address",
        "education",
        "vehicles",
        "insurance",
    ]
    assert "بانک نمونه" in pages[0] and "از سامانهٔ سازمان تأمین اجتماعی استعلام می‌شود" in pages[0]


def test_a_sandbox_app_is_answered_through_the_sandbox_and_never_in_the_ledger(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    from sqlalchemy import select

    from panjereh.exchange.models import LogEntry

    secret = _register_bank(seeded, sandbox=True)
    tokens = _login(client, settings, secret, scope="openid education", attributes=["education"])
    assert set(_verified(_userinfo(client, tokens["access_token"]))) == {"degrees"}
    app.state.exchange.flush()
    seeded.expire_all()
    logged = seeded.scalars(select(LogEntry).where(LogEntry.purpose == f"oidc-release:{BANK}")).all()
    assert logged and all(entry.sandbox for entry in logged)  # in the message log, as sandbox calls
    assert "سامانهٔ مالیات من" not in client.get("/account/data-access").text
