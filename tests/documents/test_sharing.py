"""Sharing a document with selective claims: the signed statement, the third party's page and API, openings,
revocation, expiry, and every boundary (signed out, another citizen, forged CSRF, malformed input)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import date, timedelta
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.documents import payload as signed
from panjereh.documents import sharing, traces
from panjereh.documents.models import DocumentShare, IssuedDocument
from panjereh.documents.selectors import find_share, openings_of
from panjereh.documents.service import revoke_document
from panjereh.identity import totp
from tests.documents.conftest import OTHER, OWNER, issue, sign_in
from tests.identity.helpers import enrol_totp

HTML = {"accept": "text/html"}
THIRD_PARTY = ("203.0.113.57", 41000)  # a bank's address (documentation range)


@pytest.fixture
def identity(db: Session, settings: Settings, agencies: None) -> IssuedDocument:
    """A wallet copy of the owner's civil-registry record: it holds the birth date."""
    document = issue(
        db,
        settings,
        document_type="wallet.identity",
        title_fa="مشخصات هویتی",
        title_en="Identity record",
        issuer_agency_code="nocr",
        claims={
            "first_name": "علی",
            "last_name": "رضایی",
            "gender": "male",
            "birth_date": "1985-06-12",
            "fetched_on": "2026-12-06",
        },
        valid_until=None,
        request_tracking_code=None,
    )
    db.commit()
    return document


def token_of(page_text: str) -> str:
    match = re.search(r'id="share-link" dir="ltr" readonly value="[^"]*/shared/([A-Za-z0-9_-]+)"', page_text)
    assert match, page_text[:2000]
    return match.group(1)


def csrf(browser: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path, headers=HTML).text)
    assert match
    return match.group(1)


def share(browser: TestClient, number: str, claims: list[str], lifetime: str = "60", **extra: str) -> str:
    """Make a share through the form (POST → 303 → the share's page) and read its link off that page."""
    made = browser.post(
        f"/documents/{number}/share",
        data={
            "csrf_token": csrf(browser, f"/documents/{number}/share"),
            "claims": claims,
            "lifetime": lifetime,
        }
        | extra,
        headers=HTML,
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text[:3000]
    page = browser.get(made.headers["location"], headers=HTML)
    assert page.status_code == 200, page.text[:3000]
    return token_of(page.text)


def test_over_18_discloses_the_answer_and_never_the_birth_date(
    owner_client: TestClient, app: FastAPI, identity: IssuedDocument, settings: Settings
) -> None:
    form = owner_client.get(f"/documents/{identity.number}/share", headers=HTML)
    assert form.status_code == 200 and 'value="over_18"' in form.text and "بالای ۱۸ سال" in form.text
    token = share(owner_client, identity.number, ["over_18"], recipient="بانک ملت")
    with TestClient(app, client=THIRD_PARTY) as bank:
        answer = bank.get(f"/api/v1/documents/shares/{token}", headers={"user-agent": "okhttp/4.12"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["status"] == "valid" and data["claims"] == {"over_18": True}
    assert data["document"]["issuer"]["code"] == "nocr" and data["document"]["masked_subject"] == "0499****99"
    assert "1985" not in answer.text and OWNER not in answer.text and "علی" not in json.dumps(data["claims"])
    body = json.loads(jws.extract_compact(data["statement"].encode()).payload)
    assert body["c"] == {"over_18": True} and "birth_date" not in json.dumps(body)
    assert body["sid"] == data["share_id"] and body["exp"] == int(
        sharing_expiry(data["expires_at"]).timestamp()
    )
    assert token not in json.dumps(body)  # the statement is bound to the share's id, not its secret link


def test_the_share_api_is_never_cached(
    owner_client: TestClient, app: FastAPI, identity: IssuedDocument
) -> None:
    """Like the share page: the claims a holder disclosed stay in no cache, so a revoked share is not
    answered again from one."""
    token = share(owner_client, identity.number, ["over_18"])
    with TestClient(app, client=THIRD_PARTY) as bank:
        answer = bank.get(f"/api/v1/documents/shares/{token}")
        page = bank.get(f"/shared/{token}", headers=HTML)
    assert answer.status_code == 200 and "no-store" in answer.headers["cache-control"]
    assert "no-store" in page.headers["cache-control"]


def sharing_expiry(text: str):  # noqa: ANN201 (a datetime)
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_statement_verifies_offline_with_the_published_keys_and_fails_when_tampered(
    owner_client: TestClient, identity: IssuedDocument, client: TestClient
) -> None:
    token = share(owner_client, identity.number, ["holder_name", "over_18", "gender"])
    statement = client.get(f"/api/v1/documents/shares/{token}").json()["statement"]
    keys = KeySet.import_key_set(client.get("/api/v1/documents/keys").json())
    verified = sharing.verify_statement(statement, keys)
    assert verified.claims == {"holder_name": "علی رضایی", "gender": "male", "over_18": True}
    # With nothing but joserfc and the JWKS (what a bank does):
    assert (
        jws.deserialize_compact(statement, keys, algorithms=["ES256"]).headers()["typ"]
        == sharing.STATEMENT_TYPE
    )
    header, body, signature = statement.split(".")
    claims = json.loads(jws.extract_compact(statement.encode()).payload)
    claims["c"]["over_18"] = True
    claims["c"]["birth_date"] = "2010-01-01"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for forged in (f"{header}.{forged_body}.{signature}", f"{header}.{body}.{signature[:-4]}AAAA"):
        with pytest.raises(signed.PayloadRefused) as refused:
            sharing.verify_statement(forged, keys)
        assert refused.value.code in ("payload.signature", "payload.unknown_key", "payload.malformed")
    # A statement is not a document: /verify refuses it.
    as_document = client.post("/api/v1/documents/verify", json={"payload": statement}).json()
    assert as_document["valid"] is False


def test_openings_are_recorded_coarsely_and_the_owner_sees_them_then_revokes(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument
) -> None:
    token = share(owner_client, document.number, ["purpose"], lifetime="1440", recipient="کارفرما")
    chrome = (
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0 Mobile Safari/537.36"
    )
    with TestClient(app, client=THIRD_PARTY) as bank:
        page = bank.get(f"/shared/{token}", headers=HTML | {"user-agent": chrome})
        assert page.status_code == 200 and 'data-status="valid"' in page.text
        assert "منظور" in page.text and "employment" not in page.text.split("shared-claims")[0]
        assert page.headers["referrer-policy"] == "no-referrer" and "noindex" in page.headers["x-robots-tag"]
        assert bank.get(f"/api/v1/documents/shares/{token}").status_code == 200
    [made] = [s for s in db.query(DocumentShare).filter_by(document_id=document.id)]
    db.expire_all()
    openings = openings_of(db, made.id)
    assert [o.channel for o in openings] == ["api", "page"] or sorted(o.channel for o in openings) == [
        "api",
        "page",
    ]
    by_channel = {o.channel: o for o in openings}
    assert by_channel["page"].agent == "Chrome on Android" and by_channel["page"].network == "203.0.113.0/24"
    assert all("203.0.113.57" not in (o.network + o.agent) for o in openings)
    own = owner_client.get(f"/documents/{document.number}/shares/{made.id}", headers=HTML)
    assert own.status_code == 200 and 'id="share-openings-count">۲<' in own.text
    assert "Chrome on Android" in own.text and "203.0.113.57" not in own.text
    # Revoke: refused at once, page and API, and the refused opening is recorded too.
    revoked = owner_client.post(
        f"/documents/{document.number}/shares/{made.id}/revoke",
        data={"csrf_token": csrf(owner_client, f"/documents/{document.number}/shares/{made.id}")},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    with TestClient(app, client=THIRD_PARTY) as bank:
        page = bank.get(f"/shared/{token}", headers=HTML)
        assert page.status_code == 410 and 'data-status="revoked"' in page.text and "منظور" not in page.text
        api = bank.get(f"/api/v1/documents/shares/{token}")
    assert api.status_code == 410 and api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] == "documents.share_revoked" and "statement" not in api.json()
    db.expire_all()
    assert [o.outcome for o in openings_of(db, made.id)][:2] == ["revoked", "revoked"]
    again = owner_client.post(
        f"/documents/{document.number}/shares/{made.id}/revoke",
        data={"csrf_token": csrf(owner_client, f"/documents/{document.number}/shares/{made.id}")},
        headers={"accept": "application/json"},
    )
    assert again.status_code == 409 and again.json()["code"] == "documents.share_already_revoked"


def test_an_expired_share_is_refused(
    owner_client: TestClient, client: TestClient, db: Session, identity: IssuedDocument, settings: Settings
) -> None:
    token = share(owner_client, identity.number, ["over_18"])
    made = db.query(DocumentShare).filter_by(token_hash=sharing.hash_token(token)).one()
    keys = KeySet.import_key_set(client.get("/api/v1/documents/keys").json())
    later = made.expires_at + timedelta(seconds=1)
    with pytest.raises(signed.PayloadRefused) as refused:
        sharing.verify_statement(made.statement, keys, now=later)
    assert refused.value.code == "share.expired"
    made.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    api = client.get(f"/api/v1/documents/shares/{token}")
    assert api.status_code == 410 and api.json()["code"] == "documents.share_expired"
    page = client.get(f"/shared/{token}", headers=HTML | {"accept-language": "en"})
    assert page.status_code == 410 and 'data-status="expired"' in page.text
    english = client.get(f"/shared/{token}?lang=en", headers=HTML)
    assert "expired" in english.text.lower()


def test_a_share_of_a_revoked_document_is_invalid(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument
) -> None:
    token = share(owner_client, document.number, ["holder_name"])
    revoke_document(db, document.number, agency_code="judiciary", reason="حکم دادگاه")
    db.commit()
    with TestClient(app, client=THIRD_PARTY) as bank:
        api = bank.get(f"/api/v1/documents/shares/{token}")
        page = bank.get(f"/shared/{token}", headers=HTML)
    assert api.status_code == 410 and api.json()["code"] == "documents.share_document_invalid"
    assert (
        page.status_code == 410
        and 'data-status="document_invalid"' in page.text
        and "علی رضایی" not in page.text
    )
    # And a revoked document cannot be shared again.
    form = owner_client.get(f"/documents/{document.number}/share", headers=HTML)
    assert 'id="share-form"' not in form.text


def test_a_share_never_outlives_its_document(
    owner_client: TestClient, db: Session, settings: Settings, agencies: None
) -> None:
    short = issue(db, settings, valid_until=date.today() + timedelta(days=2))
    db.commit()
    token = share(owner_client, short.number, ["purpose"], lifetime=str(30 * 24 * 60))
    made = db.query(DocumentShare).filter_by(token_hash=sharing.hash_token(token)).one()
    assert short.valid_until is not None
    assert made.expires_at == signed.expiry_instant(short.valid_until)


def test_tokens_are_stored_hashed(owner_client: TestClient, db: Session, document: IssuedDocument) -> None:
    token = share(owner_client, document.number, ["purpose"])
    made = db.query(DocumentShare).filter_by(token_hash=sharing.hash_token(token)).one()
    assert len(token) == 43 and token not in (made.token_hash, made.statement, made.id)


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "A" * 44, "A" * 5000, "..%2F..%2Fetc", "%00" * 10, "ﷺ" * 43, "' OR 1=1 --"],
)
def test_unknown_and_malformed_tokens_are_404_problems(client: TestClient, token: str) -> None:
    api = client.get(f"/api/v1/documents/shares/{token}")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["code"] in ("documents.share_not_found", "platform.not_found")
    page = client.get(f"/shared/{token}", headers=HTML)
    assert page.status_code == 404 and "<html" in page.text


@pytest.mark.parametrize(
    ("claims", "lifetime", "recipient"),
    [
        (["birth_date_year"], "60", ""),  # an unknown claim
        ([], "60", ""),  # nothing chosen
        (["purpose"] * 2 + ["x"] * 30, "60", ""),  # too many, unknown
        (["purpose"], "59", ""),  # under an hour
        (["purpose"], str(30 * 24 * 60 + 1), ""),  # over thirty days
        (["purpose"], "NaN", ""),
        (["purpose"], "-60", ""),
        (["purpose"], "1e9", ""),
        (["purpose"], "99999999999999999999", ""),
        (["purpose"], "", ""),
        (["purpose"], "60", "ب" * 101),  # the label is bounded
    ],
)
def test_bad_choices_are_422_and_nothing_is_made(
    owner_client: TestClient,
    db: Session,
    document: IssuedDocument,
    claims: list[str],
    lifetime: str,
    recipient: str,
) -> None:
    page = owner_client.post(
        f"/documents/{document.number}/share",
        data={
            "csrf_token": csrf(owner_client, f"/documents/{document.number}/share"),
            "claims": claims,
            "lifetime": lifetime,
            "recipient": recipient,
        },
        headers=HTML,
    )
    assert page.status_code == 422 and 'id="share-error"' in page.text
    assert db.query(DocumentShare).filter_by(document_id=document.id).count() == 0


def test_huge_inputs_are_refused_not_crashed(owner_client: TestClient, document: IssuedDocument) -> None:
    page = owner_client.post(
        f"/documents/{document.number}/share",
        data={
            "csrf_token": csrf(owner_client, f"/documents/{document.number}/share"),
            "claims": ["purpose"],
            "lifetime": "60",
            "recipient": "x" * 100_000,
        },
        headers={"accept": "application/json"},
    )
    assert 400 <= page.status_code < 500


def test_role_boundaries(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument, client: TestClient
) -> None:
    token = share(owner_client, document.number, ["purpose"])
    made = db.query(DocumentShare).filter_by(token_hash=sharing.hash_token(token)).one()
    paths = (f"/documents/{document.number}/share", f"/documents/{document.number}/shares/{made.id}")
    with TestClient(app) as anonymous:
        for path in paths:
            assert anonymous.get(path, headers=HTML, follow_redirects=False).status_code in (303, 401)
    with TestClient(app) as other:
        sign_in(db, other, OTHER, "مریم احمدی")
        for path in paths:
            assert other.get(path, headers=HTML).status_code == 404
        other_csrf = csrf(other, "/documents")
        made_by_other = other.post(
            f"/documents/{document.number}/share",
            data={"csrf_token": other_csrf, "claims": ["purpose"], "lifetime": "60"},
            headers=HTML,
        )
        assert made_by_other.status_code == 404
        revoke = other.post(
            f"/documents/{document.number}/shares/{made.id}/revoke",
            data={"csrf_token": other_csrf},
            headers=HTML,
        )
        assert revoke.status_code == 404
    # The owner with a forged CSRF token.
    forged = owner_client.post(
        f"/documents/{document.number}/shares/{made.id}/revoke", data={"csrf_token": "forged"}, headers=HTML
    )
    assert forged.status_code == 403
    no_csrf = owner_client.post(
        f"/documents/{document.number}/share", data={"claims": ["purpose"], "lifetime": "60"}, headers=HTML
    )
    assert no_csrf.status_code == 403
    db.expire_all()
    still = find_share(db, made.id)
    assert still is not None and still.revoked_at is None
    assert db.query(DocumentShare).filter_by(document_id=document.id).count() == 1


def test_my_window_shows_active_shares(owner_client: TestClient, document: IssuedDocument) -> None:
    share(owner_client, document.number, ["purpose"], recipient="بانک ملت")
    window = owner_client.get("/window", headers=HTML)
    assert window.status_code == 200 and 'id="window-shares"' in window.text and "بانک ملت" in window.text


def test_the_api_document_describes_the_shares_endpoint(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/documents/shares/{token}"]["get"]
    assert {"200", "404", "410", "429"} <= set(operation["responses"])


def test_coarse_traces() -> None:
    assert traces.coarse_network("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert traces.coarse_network("not an address") == "" and traces.coarse_network(None) == ""
    assert traces.coarse_agent("curl/8.5.0") == "curl"
    assert traces.coarse_agent("x" * 10_000) == "other"
    assert traces.coarse_agent(None) == "other"


@pytest.fixture
def limited_app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    application = create_app(settings.model_copy(update={"share_opens_per_minute": 2}))
    application.state.sessionmaker = session_factory
    return application


def test_openings_are_rate_limited_per_address(limited_app: FastAPI) -> None:
    suffix = uuid.uuid4().int
    address = (f"10.{suffix % 250}.{suffix // 250 % 250}.{suffix // 62500 % 250 + 1}", 40000)
    with TestClient(limited_app, client=address) as walker:
        for _ in range(2):
            assert walker.get(f"/api/v1/documents/shares/{'A' * 43}").status_code == 404
        refused = walker.get(f"/api/v1/documents/shares/{'B' * 43}")
        assert refused.status_code == 429 and refused.json()["code"] == "documents.share_throttled"
        assert walker.get(f"/shared/{'C' * 43}", headers=HTML).status_code == 429


# --- the link is shown once: POST → redirect → GET ------------------------------------------------------


def _post_share(browser: TestClient, number: str, claims: list[str], **extra: str) -> httpx.Response:
    return browser.post(
        f"/documents/{number}/share",
        data={"csrf_token": csrf(browser, f"/documents/{number}/share"), "claims": claims, "lifetime": "60"}
        | extra,
        headers=HTML,
        follow_redirects=False,
    )


def test_reloading_the_share_page_makes_no_second_share_and_shows_the_link_once(
    owner_client: TestClient, db: Session, document: IssuedDocument
) -> None:
    made = _post_share(owner_client, document.number, ["purpose"])
    assert made.status_code == 303 and made.text == ""
    [row] = db.query(DocumentShare).filter_by(document_id=document.id).all()
    page_path = f"/documents/{document.number}/shares/{row.id}"
    assert made.headers["location"] == page_path
    cookie = made.headers["set-cookie"]
    assert f"Path={page_path}" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=300" in cookie
    first = owner_client.get(page_path, headers=HTML)
    token = token_of(first.text)
    assert sharing.hash_token(token) == row.token_hash
    assert token not in cookie  # sealed: the link is not in the cookie jar in the clear either
    assert 'id="share-link-once"' in first.text and "این پیوند فقط یک بار نمایش داده می‌شود" in first.text
    cleared = first.headers["set-cookie"]  # the page that shows it clears it (the same Path, or it stays)
    assert 'share_link=""' in cleared and f"Path={page_path}" in cleared and "Max-Age=0" in cleared
    for _ in range(2):  # a reload (and another): the share, not its link, and no new row
        again = owner_client.get(page_path, headers=HTML)
        assert again.status_code == 200 and 'id="share-link"' not in again.text and token not in again.text
        assert 'id="share-link-hidden"' in again.text and "فقط یک بار نمایش داده می‌شود" in again.text
        assert 'id="share-revoke"' in again.text and "منظور" in again.text
    db.expire_all()
    assert db.query(DocumentShare).filter_by(document_id=document.id).count() == 1


def _form_key(browser: TestClient, number: str) -> tuple[str, str]:
    """The share form's CSRF token and its own key, as one rendering of the page holds them."""
    page = browser.get(f"/documents/{number}/share", headers=HTML).text
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    key = re.search(r'name="form_key" value="([^"]+)"', page)
    assert csrf_token and key, page[:2000]
    return csrf_token.group(1), key.group(1)


def _send_form(browser: TestClient, number: str, csrf_token: str, claims: list[str], form_key: str):  # noqa: ANN202
    data = {"csrf_token": csrf_token, "claims": claims, "lifetime": "60", "form_key": form_key}
    return browser.post(f"/documents/{number}/share", data=data, headers=HTML, follow_redirects=False)


def _opens(client: TestClient, token: str) -> bool:
    return client.get(f"/api/v1/documents/shares/{token}").status_code == 200


def test_the_same_form_sent_twice_makes_one_share_and_only_the_last_link_opens_it(
    owner_client: TestClient, db: Session, document: IssuedDocument
) -> None:
    # A double click: two POSTs of one rendering of the form; the browser shows the second answer.
    csrf_token, key = _form_key(owner_client, document.number)
    first = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)
    owner_client.cookies.delete("share_link")  # the browser dropped the first answer for the second
    second = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    db.expire_all()
    [row] = db.query(DocumentShare).filter_by(document_id=document.id).all()
    assert row.idempotency_key == f"form:{key}"
    page = owner_client.get(second.headers["location"], headers=HTML)
    token = token_of(page.text)
    assert _opens(owner_client, token)
    # The first answer's link was never shown and no longer opens anything (its cookie is refused too).
    owner_client.cookies.set("share_link", first.cookies["share_link"])
    assert 'id="share-link"' not in owner_client.get(first.headers["location"], headers=HTML).text


def test_the_same_form_sent_after_its_link_was_shown_shows_the_share_and_keeps_that_link(
    owner_client: TestClient, db: Session, document: IssuedDocument
) -> None:
    csrf_token, key = _form_key(owner_client, document.number)
    made = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)
    token = token_of(owner_client.get(made.headers["location"], headers=HTML).text)
    again = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)  # Back, then resend
    assert again.status_code == 303 and again.headers["location"] == made.headers["location"]
    assert "share_link" not in again.headers.get("set-cookie", "")
    page = owner_client.get(again.headers["location"], headers=HTML)
    assert 'id="share-link"' not in page.text and 'id="share-link-hidden"' in page.text
    assert _opens(owner_client, token)  # the link a third party may hold already is never replaced
    db.expire_all()
    assert db.query(DocumentShare).filter_by(document_id=document.id).count() == 1


def test_the_same_form_sent_back_with_other_choices_makes_a_second_share(
    owner_client: TestClient, db: Session, document: IssuedDocument
) -> None:
    csrf_token, key = _form_key(owner_client, document.number)
    made = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)
    other = _send_form(owner_client, document.number, csrf_token, ["holder_name"], key)
    again = _send_form(owner_client, document.number, csrf_token, ["holder_name"], key)  # a double click
    assert again.headers["location"] == other.headers["location"]
    assert (
        made.status_code == other.status_code == 303 and made.headers["location"] != other.headers["location"]
    )
    db.expire_all()
    assert db.query(DocumentShare).filter_by(document_id=document.id).count() == 2


@pytest.mark.parametrize(
    "form_key", ["", "short", "<script>alert(1)</script>", "A" * 100, "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧"]
)
def test_a_missing_or_malformed_form_key_makes_a_share_each_time(
    owner_client: TestClient, db: Session, document: IssuedDocument, form_key: str
) -> None:
    csrf_token, _ = _form_key(owner_client, document.number)
    for _ in range(2):
        assert _send_form(owner_client, document.number, csrf_token, ["purpose"], form_key).status_code == 303
    db.expire_all()
    rows = db.query(DocumentShare).filter_by(document_id=document.id).all()
    assert len(rows) == 2 and {row.idempotency_key for row in rows} == {None}


def test_a_form_key_is_the_citizens_own(
    owner_client: TestClient, app: FastAPI, db: Session, settings: Settings, document: IssuedDocument
) -> None:
    # Another citizen who learns our form's key sends it with his own document: a share of his own (keys are
    # per citizen), and ours is neither found, nor re-keyed, nor its link handed to him.
    theirs_document = issue(db, settings, subject_national_code=OTHER, request_tracking_code="14059876543")
    db.commit()
    csrf_token, key = _form_key(owner_client, document.number)
    ours = _send_form(owner_client, document.number, csrf_token, ["purpose"], key)
    assert ours.status_code == 303
    db.expire_all()
    [our_share] = db.query(DocumentShare).filter_by(document_id=document.id).all()
    our_hash = our_share.token_hash
    db.commit()
    with TestClient(app) as stranger:
        sign_in(db, stranger, OTHER)
        theirs = _send_form(
            stranger, theirs_document.number, csrf(stranger, f"/documents/{theirs_document.number}/share"),
            ["purpose"], key,
        )  # fmt: skip
        assert theirs.status_code == 303 and theirs.headers["location"] != ours.headers["location"]
    db.expire_all()
    [their_share] = db.query(DocumentShare).filter_by(document_id=theirs_document.id).all()
    assert their_share.idempotency_key == f"form:{key}" and their_share.owner_national_code == OTHER
    [again] = db.query(DocumentShare).filter_by(document_id=document.id).all()
    assert again.token_hash == our_hash and again.id == our_share.id


def test_the_sealed_link_opens_only_its_own_share_in_its_own_session(
    owner_client: TestClient, app: FastAPI, db: Session, document: IssuedDocument
) -> None:
    first = _post_share(owner_client, document.number, ["purpose"])
    sealed = first.cookies["share_link"]
    owner_client.cookies.delete("share_link")
    second = _post_share(owner_client, document.number, ["holder_name"])
    owner_client.cookies.delete("share_link")
    # The first share's sealed link presented at the second share's page: not shown.
    owner_client.cookies.set("share_link", sealed)
    assert 'id="share-link"' not in owner_client.get(second.headers["location"], headers=HTML).text
    # The same cookie in another session of the same citizen (another browser): not shown either.
    with TestClient(app) as elsewhere:
        sign_in(db, elsewhere, OWNER)
        elsewhere.cookies.set("share_link", sealed)
        page = elsewhere.get(first.headers["location"], headers=HTML)
        assert page.status_code == 200 and 'id="share-link"' not in page.text
    # Forged, truncated, huge or foreign-key cookies: the page, never the link, never a crash.
    for forged in ("x", sealed[:-8] + "AAAAAAAA", "A" * 5000, "gAAAAA" + "B" * 100):
        owner_client.cookies.set("share_link", forged)
        page = owner_client.get(first.headers["location"], headers=HTML)
        assert page.status_code == 200 and 'id="share-link"' not in page.text
    owner_client.cookies.set("share_link", sealed)  # its own page, its own session: shown
    assert token_of(owner_client.get(first.headers["location"], headers=HTML).text)


def test_making_a_share_asks_for_step_up_and_comes_back_to_the_form_with_the_choices(
    client: TestClient, db: Session, settings: Settings, identity: IssuedDocument
) -> None:
    sign_in(db, client, OWNER, level=1)
    form = client.get(f"/documents/{identity.number}/share", headers=HTML)
    assert form.status_code == 200 and 'id="share-step-up"' in form.text  # told before choosing
    made = _post_share(client, identity.number, ["over_18", "gender"], lifetime="1440", recipient="بانک ملت")
    assert made.status_code == 303 and made.headers["location"].startswith("/login/step-up?next=")
    assert db.query(DocumentShare).filter_by(owner_national_code=OWNER).count() == 0
    back = unquote(made.headers["location"].split("next=", 1)[1])
    assert back.startswith(f"/documents/{identity.number}/share?")
    # The round trip: a real TOTP step-up, then the form again with every choice as it was.
    secret = enrol_totp(db, settings, OWNER)
    stepped = client.post(
        "/login/step-up",
        data={"csrf_token": csrf(client, "/account"), "code": totp.code_for(secret), "next": back},
        follow_redirects=False,
    )
    assert stepped.status_code == 303 and stepped.headers["location"] == back
    again = client.get(back, headers=HTML)
    assert again.status_code == 200 and 'id="share-step-up"' not in again.text
    for name in ("over_18", "gender"):
        assert re.search(rf'id="claim-{name}"\s+checked', again.text), name
    assert not re.search(r'id="claim-holder_name"\s+checked', again.text)
    assert 'value="1440" selected' in again.text and 'value="بانک ملت"' in again.text
    token = share(client, identity.number, ["over_18", "gender"], lifetime="1440", recipient="بانک ملت")
    assert db.query(DocumentShare).filter_by(token_hash=sharing.hash_token(token)).count() == 1


def test_the_form_ignores_choices_in_its_query_that_the_document_does_not_offer(
    owner_client: TestClient, document: IssuedDocument
) -> None:
    query = "claims=birth_date&claims=%3Cscript%3E&lifetime=99999999999999999999&recipient=" + "ب" * 500
    form = owner_client.get(f"/documents/{document.number}/share?{query}", headers=HTML)
    assert form.status_code == 200 and "<script>" not in form.text.split('id="share-form"', 1)[1]
    assert " checked" not in form.text.split('id="share-form"', 1)[1].split("</fieldset>", 1)[0]
    assert f'value="{24 * 60}" selected' in form.text and 'value="' + "ب" * 101 not in form.text
