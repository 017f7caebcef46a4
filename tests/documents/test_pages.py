"""The /verify page and API, the published keys, and the owner-only document pages."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import format_number
from panjereh.documents.qr import qr_text
from panjereh.documents.service import revoke_document
from panjereh.web import pwa
from tests.documents.conftest import OTHER, OWNER, sign_in

HTML = {"accept": "text/html"}


def forge(payload: str) -> str:
    header, body, signature = payload.split(".")
    return f"{header}.{body[:-2]}{'AA' if body[-2:] != 'AA' else 'BB'}.{signature}"


# --- API ----------------------------------------------------------------------------------------


def test_api_verifies_a_payload_and_a_number(client: TestClient, document: IssuedDocument) -> None:
    for body in ({"payload": document.payload}, {"number": format_number(document.number)}):
        response = client.post("/api/v1/documents/verify", json=body)
        assert response.status_code == 200
        data = response.json()
        assert data["valid"] is True and data["status"] == "valid"
        assert data["issuer"] == {"code": "judiciary", "name_fa": "قوه قضاییه", "name_en": "Judiciary"}
        assert data["masked_subject"] == "0499****99"
        assert OWNER not in response.text


def test_api_refuses_tampering_with_a_reason(client: TestClient, document: IssuedDocument) -> None:
    data = client.post("/api/v1/documents/verify", json={"payload": forge(document.payload)}).json()
    assert data["valid"] is False and data["status"] == "invalid"
    assert data["reason"]["code"] == "payload.signature"
    assert data["reason"]["fa"] and data["reason"]["en"]
    assert data["issuer"] is None and data["masked_subject"] is None


def test_api_shows_revocation_at_once(client: TestClient, db: Session, document: IssuedDocument) -> None:
    revoke_document(db, document.number, agency_code="judiciary", reason="ابطال به حکم دادگاه")
    db.commit()
    data = client.post("/api/v1/documents/verify", json={"payload": document.payload}).json()
    assert data["status"] == "revoked" and data["valid"] is False
    assert data["revocation_reason"] == "ابطال به حکم دادگاه" and data["revoked_at"]


def test_api_needs_something_to_verify(client: TestClient) -> None:
    response = client.post("/api/v1/documents/verify", json={"payload": "  "})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "documents.nothing_to_verify"


def test_published_keys(client: TestClient, document: IssuedDocument) -> None:
    response = client.get("/api/v1/documents/keys")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert document.key_id in [key["kid"] for key in keys]
    assert all("d" not in key for key in keys)
    assert "max-age" in response.headers["cache-control"]
    page = client.get("/verify/keys", headers=HTML)
    assert page.status_code == 200 and document.key_id in page.text


def test_the_api_document_describes_verification(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/documents/verify" in spec["paths"] and "/api/v1/documents/keys" in spec["paths"]
    assert not any(path.startswith(("/documents", "/verify")) for path in spec["paths"])


# --- the /verify page ---------------------------------------------------------------------------


def test_verify_page_without_input_offers_the_three_ways(client: TestClient) -> None:
    html = client.get("/verify", headers=HTML).text
    assert 'id="verify-q"' in html and 'id="scan-start"' in html and "verify-scan.js" in html
    assert 'id="verify-result"' not in html
    assert client.get("/static/js/verify-scan.js").status_code == 200


def test_scanning_the_qr_link_opens_a_valid_result(
    client: TestClient, settings: Settings, document: IssuedDocument
) -> None:
    link = qr_text(settings, document.payload)
    html = client.get(link.removeprefix(settings.base_url), headers=HTML).text
    assert "verify-valid" in html and "قوه قضاییه" in html
    assert "۰۴۹۹****۹۹" in html  # masked, in Persian digits
    assert OWNER not in html and "۰۴۹۹۳۷۰۸۹۹" not in html
    assert "گواهی عدم سوء پیشینه" in html


def test_pasted_text_and_typed_number(client: TestClient, document: IssuedDocument) -> None:
    for text in (document.payload, format_number(document.number)):
        html = client.get(f"/verify?q={quote(text)}", headers=HTML).text
        assert "verify-valid" in html


def test_a_tampered_qr_is_refused_on_the_page(client: TestClient, document: IssuedDocument) -> None:
    html = client.get(f"/verify?p={quote(forge(document.payload))}", headers=HTML).text
    assert "verify-invalid" in html and "دست‌کاری" in html
    assert "قوه قضاییه" not in html


def test_revoked_shows_on_the_page(client: TestClient, db: Session, document: IssuedDocument) -> None:
    revoke_document(db, document.number, agency_code="judiciary", reason="صدور نادرست")
    db.commit()
    html = client.get(f"/verify?n={document.number}", headers=HTML).text
    assert "verify-revoked" in html and "صدور نادرست" in html


def test_verify_page_in_english(client: TestClient, document: IssuedDocument) -> None:
    html = client.get(f"/verify?lang=en&n={document.number}", headers=HTML).text
    assert 'lang="en"' in html and "Genuine and in force." in html and "Judiciary" in html


# --- owner-only pages ---------------------------------------------------------------------------


def test_the_owner_sees_the_document_and_its_pdf(owner_client: TestClient, document: IssuedDocument) -> None:
    page = owner_client.get(f"/documents/{document.number}", headers=HTML)
    assert page.status_code == 200
    assert "علی رضایی" in page.text and "۰۴۹۹۳۷۰۸۹۹" in page.text
    assert 'src="data:image/svg+xml' in page.text
    assert "no-store" in page.headers["cache-control"]
    listing = owner_client.get("/documents", headers=HTML)
    assert f"/documents/{document.number}.pdf" in listing.text
    pdf = owner_client.get(f"/documents/{document.number}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_another_citizen_gets_404_not_403(client: TestClient, db: Session, document: IssuedDocument) -> None:
    sign_in(db, client, OTHER, name="مریم احمدی")
    for path in (f"/documents/{document.number}", f"/documents/{document.number}.pdf"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 404
        assert "علی رضایی" not in response.text
    unknown = client.get("/documents/1404-0000-0000-0000", headers=HTML)
    assert unknown.status_code == 404
    # The listing of the other citizen does not mention the owner's document.
    assert document.number not in client.get("/documents", headers=HTML).text
    api_like = client.get(f"/documents/{document.number}")
    assert api_like.status_code == 404 and json.loads(api_like.text)["code"] == "documents.not_found"


def test_nobody_signed_in_is_sent_to_login(client: TestClient, document: IssuedDocument) -> None:
    response = client.get(f"/documents/{document.number}", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    pdf = client.get(f"/documents/{document.number}.pdf", follow_redirects=False)
    assert pdf.status_code == 401


def test_claims_are_shown_with_persian_labels_and_readable_values() -> None:
    from panjereh.web.documents import CLAIM_LABELS_FA, HIDDEN_CLAIMS, _claim_value

    assert CLAIM_LABELS_FA["has_criminal_record"] == "سابقهٔ کیفری"
    assert "service" in HIDDEN_CLAIMS
    assert _claim_value(False) == "خیر"
    vehicles = [{"plate": "۱۲ ب ۳۴۵ ایران ۶۷", "model": "پژو ۲۰۶"}, {"plate": "x", "model": None}]
    assert _claim_value(vehicles) == "۱۲ ب ۳۴۵ ایران ۶۷، پژو ۲۰۶؛ x"
    assert _claim_value([]) == "—"


# --- what the service worker is told about a page ------------------------------------------------


def test_a_document_page_names_its_owner_and_its_offline_version_for_the_worker(
    owner_client: TestClient, settings: Settings, document: IssuedDocument
) -> None:
    """The worker keeps a page only for the owner its response names, at the version the server says,
    the same the wallet's list names (web/pwa.py, offline_version)."""
    page = owner_client.get(f"/documents/{document.number}", headers=HTML)
    marker = re.search(r'<meta name="pj-owner" content="([0-9a-f]+)">', page.text)
    assert marker and page.headers[pwa.OWNER_HEADER] == marker.group(1)
    version = page.headers[pwa.OFFLINE_VERSION_HEADER]
    assert version == pwa.offline_version(document, "fa", settings)
    assert version.startswith("valid.fa.") and version.endswith(pwa.shell_version(settings.assets_dir))
    listed = owner_client.get("/offline/documents.json").json()
    assert {"url": f"/documents/{document.number}", "version": version} in listed["pages"]
    english = owner_client.get(f"/documents/{document.number}", params={"lang": "en"}, headers=HTML)
    assert (
        english.headers[pwa.OFFLINE_VERSION_HEADER]
        == pwa.offline_version(document, "en", settings)
        != version
    )
    wallet = owner_client.get("/documents", headers=HTML)
    assert wallet.headers[pwa.OWNER_HEADER] == marker.group(1)
    assert pwa.OFFLINE_VERSION_HEADER not in wallet.headers  # kept whenever shown, never by version


def test_a_release_or_a_revocation_is_a_new_offline_version(
    owner_client: TestClient,
    db: Session,
    settings: Settings,
    document: IssuedDocument,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = f"/documents/{document.number}"
    first = owner_client.get(path, headers=HTML).headers[pwa.OFFLINE_VERSION_HEADER]
    monkeypatch.setattr(pwa, "shell_version", lambda _assets: "0123456789abcdef")  # a new document template
    released = owner_client.get(path, headers=HTML).headers[pwa.OFFLINE_VERSION_HEADER]
    listed = owner_client.get("/offline/documents.json").json()["pages"]
    assert released != first and released == "valid.fa.0123456789abcdef"
    assert {"url": path, "version": released} in listed
    revoke_document(db, document.number, agency_code="judiciary", reason="ابطال به حکم دادگاه")
    db.commit()
    assert (
        owner_client.get(path, headers=HTML).headers[pwa.OFFLINE_VERSION_HEADER]
        == "revoked.fa.0123456789abcdef"
    )
