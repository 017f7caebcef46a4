"""What the audit of the pages found (issue 14 item 9), each held by a test that failed before its fix:
no machine codes shown to people, Persian digits on Persian pages, one date for a document's validity,
one source for a service's card and its apply page, English pages in English."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.delivery import loading
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.documents.service import issue_document
from panjereh.notify import service as notify_service
from tests.identity.helpers import MINOR_CODE, MINOR_MOBILE, last_code, read_outbox, start
from tests.support.browsers import signed_in_browsers
from tests.support.factories import DEMO_CITIZEN, create_flagship_cards, derive_declared_smart


@pytest.fixture
def login(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    loading.sync_definitions(seeded)
    create_flagship_cards(seeded)
    derive_declared_smart(seeded)
    seeded.commit()
    with signed_in_browsers(seeded, app) as sign_in:
        yield sign_in


def _visible(html: str) -> str:
    """The page's text as read: no tags, attributes, scripts or styles."""
    html = re.sub(r"(?is)<(script|style|svg)[^>]*>.*?</\1>", " ", html)
    return re.sub(r"(?s)<[^>]+>", " ", html)


def _text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert found, element_id
    return found.group(1).strip()


def _document(db: Session, settings: Settings, valid_until: date) -> str:
    document = issue_document(
        db,
        settings,
        document_type="no-criminal-record",
        title_fa="گواهی عدم سوء پیشینه",
        title_en="Certificate of no criminal record",
        subject_national_code=DEMO_CITIZEN,
        subject_name="علی رضایی",
        issuer_agency_code="judiciary",
        claims={"purpose": "employment", "has_criminal_record": False},
        valid_until=valid_until,
    )
    db.commit()
    return document.number


def test_the_document_its_pdf_and_verify_give_one_last_valid_day(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings, client: TestClient
) -> None:
    number = _document(seeded, settings, date.today() + timedelta(days=90))
    owner = login(DEMO_CITIZEN)
    on_page = _text_of(owner.get(f"/documents/{number}").text, "document-valid-until")
    verified = client.get(f"/verify?n={number}").text
    assert _text_of(verified, "verify-valid-until") == on_page
    pdf = subprocess.run(
        ["pdftotext", "-", "-"], input=owner.get(f"/documents/{number}.pdf").content, capture_output=True
    ).stdout.decode()
    # pdftotext wraps runs in bidi controls and moves spaces: compare the words' letters alone.
    bare = re.compile(r"[\s\u202a-\u202e]")
    assert "اعتبارتا" + bare.sub("", on_page) in bare.sub("", pdf)
    # The page number at the foot of the PDF is in Persian digits too.
    assert re.search(r"هوشمند — \S*۱", pdf) and not re.search(r"هوشمند — \S*1", pdf)
    # The verdict's machine code is for scripts (an attribute), not a line people read.
    assert 'data-reason="document.valid"' in verified and "document.valid" not in _visible(verified)


def test_a_document_page_in_english_labels_its_claims_in_english(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings
) -> None:
    number = _document(seeded, settings, date.today() + timedelta(days=30))
    page = login(DEMO_CITIZEN).get(f"/documents/{number}?lang=en").text
    assert "Purpose" in page and "Criminal record" in page
    assert "منظور" not in page and "سابقهٔ کیفری" not in page


def test_the_card_and_the_apply_page_name_the_service_and_its_sources_alike(
    login: Callable[[str], TestClient], client: TestClient
) -> None:
    card = client.get("/services/no-criminal-record").text
    apply = login(DEMO_CITIZEN).get("/services/no-criminal-record/apply").text
    card_title = _text_of(card, "card-title")
    assert f'<h1 class="h3 mb-3">{card_title}</h1>' in apply
    sources = re.compile(r'<tr data-source="[a-z_]+">\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>')
    assert sources.findall(card) == sources.findall(apply) != []
    assert "شاهکار" not in _visible(
        card
    )  # the definition asks no Shahkar inquiry; the card no longer says so
    assert "ثبت احوال" in _visible(apply)  # the agency asked, named
    assert "civil-registry.person" not in apply and "judiciary.criminal-record" not in apply


def test_why_this_decision_says_which_rules_decided_in_words(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings
) -> None:
    browser = login(DEMO_CITIZEN)
    created, _ = delivery_service.submit(
        seeded,
        settings,
        national_code=DEMO_CITIZEN,
        slug="no-criminal-record",
        inputs={"purpose": "employment"},
        idempotency_key="why-1",
    )
    item = delivery_selectors.request_of(seeded, DEMO_CITIZEN, created.tracking_code)
    item.state = RequestState.APPROVED
    item.decision = {
        "decision": "approve",
        "reasons": [],
        "rules_fired": [],
        "inputs_digest": "ab" * 32,
        "rule_version": "no-criminal-record/1402.1",
        "output": {},
    }
    seeded.commit()
    page = browser.get(f"/account/requests/{created.tracking_code}").text
    why = _visible(page[page.index('id="why"') : page.index("</section>", page.index('id="why"'))])
    assert "همهٔ شرط‌های این خدمت برقرار بود" in why
    assert "محکومیت کیفری مؤثری ثبت نشده باشد" in why  # the rule, in Persian, from the definition
    assert "آیین‌نامهٔ سجل کیفری" in why  # and the law it stands on


def test_a_refused_login_shows_words_not_its_code(client: TestClient, seeded: Session) -> None:
    refused = start(client, MINOR_CODE, MINOR_MOBILE)
    assert refused.status_code == 403
    assert 'data-code="identity.underage"' in refused.text
    assert "identity.underage" not in _visible(refused.text)


def test_the_sms_says_its_minutes_in_persian_digits(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    start(client, DEMO_CITIZEN, "09121234567")
    last_code(client, "09121234567")  # sends what is queued
    sms = [r for r in read_outbox(settings) if r["kind"] == "identity.login_code"][-1]["body_fa"]
    assert re.search(r"تا [۰-۹]+ دقیقه", sms), sms
    assert re.search(r"\b[0-9]{6}\b", sms)  # the code itself stays typeable


def test_inbox_subjects_and_the_profile_in_persian_digits(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings
) -> None:
    browser = login(DEMO_CITIZEN)
    notify_service.send(
        seeded,
        settings,
        national_code=DEMO_CITIZEN,
        subject_fa="درخواست 1234-5678",
        body_fa="پاسخ تا 5 روز",
        kind="test.digits",
    )
    seeded.commit()
    inbox = _visible(browser.get("/account/inbox").text)
    assert "۱۲۳۴-۵۶۷۸" in inbox and "۵ روز" in inbox and "1234" not in inbox
    profile = browser.get("/account").text
    # The national code and mobile stay in their row on the reading side: isolated, not a left-aligned line.
    assert re.search(r'<dd class="col-sm-8" id="profile-national-code"><bdi dir="ltr">', profile)
    assert re.search(r'<dd class="col-sm-8" id="profile-mobile"><bdi dir="ltr">', profile)


def test_the_requests_list_in_english_names_requests_in_english(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings
) -> None:
    browser = login(DEMO_CITIZEN)
    delivery_service.submit(
        seeded,
        settings,
        national_code=DEMO_CITIZEN,
        slug="no-criminal-record",
        inputs={"purpose": "employment"},
        idempotency_key="en-1",
    )
    seeded.commit()
    page = browser.get("/account/requests?lang=en").text
    assert "Certificate of no criminal record" in page and "Awaiting payment" in page  # its fee first


def test_a_claim_from_a_form_choice_reads_as_the_choice_not_its_code(
    login: Callable[[str], TestClient], seeded: Session, settings: Settings
) -> None:
    browser = login(DEMO_CITIZEN)
    created, _ = delivery_service.submit(
        seeded,
        settings,
        national_code=DEMO_CITIZEN,
        slug="no-criminal-record",
        inputs={"purpose": "employment"},
        idempotency_key="choice-1",
    )
    document = issue_document(
        seeded,
        settings,
        document_type="no-criminal-record",
        title_fa="گواهی عدم سوء پیشینه",
        title_en="Certificate of no criminal record",
        subject_national_code=DEMO_CITIZEN,
        subject_name="علی رضایی",
        issuer_agency_code="judiciary",
        claims={"purpose": "employment"},
        request_tracking_code=created.tracking_code,
    )
    seeded.commit()
    page = _visible(browser.get(f"/documents/{document.number}").text)
    assert "استخدام" in page and "employment" not in page
    assert "Employment" in _visible(browser.get(f"/documents/{document.number}?lang=en").text)
    pdf = subprocess.run(
        ["pdftotext", "-", "-"],
        input=browser.get(f"/documents/{document.number}.pdf").content,
        capture_output=True,
    ).stdout.decode()
    assert "استخدام" in pdf and "employment" not in pdf
