"""The preferences page under /account: choices saved, e-mail added and verified by its link, and every
boundary (signed out, forged CSRF, another citizen's link, malformed input)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.notify import selectors
from panjereh.notify.constants import EMAIL, INBOX, SMS
from panjereh.notify.providers import read_outbox
from tests.identity.helpers import DEMO_CODE, MINOR_CODE, csrf, signed_in
from tests.notify.helpers import send_queued


def _verification_link(client: TestClient, settings: Settings, address: str) -> str:
    send_queued(client.app.state.sessionmaker, settings)  # type: ignore[attr-defined]
    for record in reversed(read_outbox(settings)):
        if record["to"] == address and record["kind"] == "notify.email_verification":
            found = re.search(r"(https?://\S+)", record["body_fa"])
            assert found
            return found.group(1)
    raise AssertionError(f"no verification e-mail to {address}")


def _add_email(client: TestClient, address: str) -> object:
    token = csrf(client, "/account/notices")
    return client.post(
        "/account/notices/email", data={"csrf_token": token, "email": address}, follow_redirects=False
    )


def _verify(client: TestClient, link: str) -> object:
    path = link.split("testserver", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and 'id="email-verify"' in page.text
    form_token = re.search(r'name="token" value="([^"]*)"', page.text)
    assert form_token
    return client.post(
        "/account/notices/email/verify",
        data={"csrf_token": csrf(client, path), "token": form_token.group(1)},
        follow_redirects=False,
    )


def test_signed_out_the_pages_send_to_login(client: TestClient) -> None:
    for path in ("/account/notices", "/account/notices/email/verify?token=x"):
        response = client.get(path, headers={"accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    response = client.post("/account/notices", data={"requests": "sms"}, follow_redirects=False)
    assert response.status_code in (303, 401, 403)


def test_the_page_in_persian_and_english(client: TestClient, db: Session) -> None:
    signed_in(client, db)
    page = client.get("/account/notices")
    assert page.status_code == 200
    assert "ترجیحات اعلان" in page.text and 'id="security-note"' in page.text
    assert 'id="c-requests-sms"' in page.text and "requests" not in re.sub(r"<[^>]+>", "", page.text)
    english = client.get("/account/notices?lang=en")
    assert "Updates on my requests" in english.text and "Sign-in and account security" in english.text
    window = client.get("/window")
    assert 'href="/account/notices"' in window.text


def test_choices_are_saved_and_security_stays_on(client: TestClient, db: Session) -> None:
    signed_in(client, db)
    token = csrf(client, "/account/notices")
    response = client.post(
        "/account/notices",
        data={
            "csrf_token": token,
            "requests": ["inbox"],
            "proactive": ["inbox", "sms"],
            "data_access": ["inbox"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account/notices?done=saved"
    db.expire_all()
    chosen = selectors.preferences(db, DEMO_CODE)
    assert chosen["requests"] == {INBOX} and chosen["proactive"] == {INBOX, SMS}
    assert chosen["security"] == {INBOX, SMS}  # nothing was sent for it: kept on anyway
    assert chosen["documents"] == frozenset()  # unchecked boxes are not sent: off
    assert selectors.wants_data_access_notices(db, DEMO_CODE)
    page = client.get("/account/notices?done=saved")
    assert 'id="notices-done"' in page.text


def test_a_forged_or_missing_csrf_token_changes_nothing(client: TestClient, db: Session) -> None:
    signed_in(client, db)
    for data in ({"requests": "inbox"}, {"csrf_token": "forged.token", "requests": "inbox"}):
        response = client.post("/account/notices", data=data, follow_redirects=False)
        assert response.status_code == 403
        response = client.post("/account/notices/email", data={**data, "email": "x@example.com"})
        assert response.status_code == 403
    db.expire_all()
    assert selectors.channels_for(db, DEMO_CODE, "requests") == {INBOX, SMS}
    assert selectors.email_state(db, DEMO_CODE) is None


def test_choosing_email_before_verifying_is_refused(client: TestClient, db: Session) -> None:
    signed_in(client, db)
    token = csrf(client, "/account/notices")
    response = client.post("/account/notices", data={"csrf_token": token, "requests": ["inbox", "email"]})
    assert response.status_code == 422 and 'id="form-error"' in response.text
    assert "notify.email_not_verified" not in re.sub(r"<[^>]+>", "", response.text)  # no machine code shown
    db.expire_all()
    assert selectors.channels_for(db, DEMO_CODE, "requests") == {INBOX, SMS}


@pytest.mark.parametrize(
    "address",
    ["not-an-address", "a@b", "ali@example.com\r\nBcc: x@example.com", "x" * 1001, "كريم@example.com"],
)
def test_a_malformed_address_is_refused_on_the_page(client: TestClient, db: Session, address: str) -> None:
    signed_in(client, db)
    response = _add_email(client, address)
    assert response.status_code == 422  # type: ignore[attr-defined]
    db.expire_all()
    assert selectors.email_state(db, DEMO_CODE) is None


def test_an_email_is_verified_by_its_link_then_used(
    client: TestClient, db: Session, settings: Settings
) -> None:
    signed_in(client, db)
    response = _add_email(client, "Ali@Example.com")
    assert response.status_code == 303  # type: ignore[attr-defined]
    page = client.get("/account/notices")
    assert 'id="email-pending"' in page.text and 'id="c-requests-email"' in page.text
    assert re.search(r'id="c-requests-email"[^>]*disabled', page.text)  # not until verified
    link = _verification_link(client, settings, "Ali@example.com")
    assert link.startswith(f"{settings.base_url}/account/notices/email/verify?token=")
    done = _verify(client, link)
    assert done.status_code == 303 and done.headers["location"] == "/account/notices?done=verified"  # type: ignore[attr-defined]
    db.expire_all()
    assert selectors.verified_email(db, DEMO_CODE) == "Ali@example.com"
    # The citizen hears of it by SMS too (a security notice), whatever they chose.
    send_queued(client.app.state.sessionmaker, settings)  # type: ignore[attr-defined]
    kinds = [(r["channel"], r["kind"]) for r in read_outbox(settings)[-3:]]
    assert ("sms", "notify.security.email_verified") in kinds
    token = csrf(client, "/account/notices")
    client.post("/account/notices", data={"csrf_token": token, "requests": ["inbox", "email"]})
    db.expire_all()
    assert selectors.channels_for(db, DEMO_CODE, "requests") == {INBOX, EMAIL}
    removed = client.post(
        "/account/notices/email/remove", data={"csrf_token": csrf(client, "/account/notices")}
    )
    assert removed.status_code == 200
    db.expire_all()
    assert selectors.verified_email(db, DEMO_CODE) is None
    assert selectors.channels_for(db, DEMO_CODE, "requests") == {INBOX}


def test_another_citizens_link_or_a_forged_one_verifies_nothing(
    client: TestClient, db: Session, settings: Settings
) -> None:
    signed_in(client, db)
    _add_email(client, "ali@example.com")
    link = _verification_link(client, settings, "ali@example.com")
    client.cookies.clear()
    signed_in(client, db, national_code=MINOR_CODE)  # another citizen opens Ali's link
    refused = _verify(client, link)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    db.expire_all()
    assert (
        selectors.verified_email(db, MINOR_CODE) is None and selectors.verified_email(db, DEMO_CODE) is None
    )
    forged = _verify(client, link.split("token=")[0] + "token=" + "A" * 43)
    assert forged.status_code == 422  # type: ignore[attr-defined]
