"""Issue 16's "done when", in the browser's requests: an operator opens a new agency, its administrator
names a designer and a reviewer, the designer starts a service from a template that reads another agency's
data service, the grants are asked and approved by the providers' officers, the reviewer publishes, and the
service is then a real catalog card, badged smart, that the demo citizen starts and is decided on at once.

Publishing needs the grants (delivery.grants) and makes the card (catalog_service.ensure_cards)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import RequestState
from panjereh.documents import selectors as documents_selectors
from panjereh.exchange import selectors as exchange_selectors
from panjereh.jobs import Worker
from panjereh.staff.constants import Role
from tests.delivery.conftest import DEMO, run_jobs
from tests.support.browsers import csrf_token
from tests.support.factories import create_staff

AGENCY = "road-safety"
OPERATOR, ADMINISTRATOR, DESIGNER, REVIEWER = "7400076205", "0067749828", "0084575948", "4032152314"
NOCR_OFFICER, POLICE_OFFICER, OUTSIDER = "0076229645", "0068415941", "2540201288"
IDENTITY, LICENCE = "civil-registry.person", "police.driving-licence"
SLUG = "driving-licence-statement"
BASE = f"/workspace/{AGENCY}/services"
ANY_FORM = "/account/data-access"
TEMPLATE_FORM = {
    "slug": SLUG,
    "title.fa": "گواهی وضعیت گواهینامهٔ رانندگی",
    "title.en": "Driving licence statement",
    "answer.key": "licence",
    "answer.service": LICENCE,
    "answer.label.fa": "گواهینامهٔ رانندگی",
    "answer.label.en": "Driving licence",
    "answer.why_fa": "گواهی بر پایهٔ پروندهٔ گواهینامهٔ شما صادر می‌شود",
}

Browser = Callable[[str], TestClient]


def _post(browser: TestClient, path: str, data: dict[str, str] | None = None, *, page: str = ANY_FORM):
    token = csrf_token(browser, page)
    return browser.post(path, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


@pytest.fixture
def people(seeded: Session, login: Browser) -> Browser:
    """The operator, the providers' officers (who decide grants) and another agency's designer-reviewer."""
    create_staff(seeded, OPERATOR, None, Role.OPERATOR)
    create_staff(seeded, NOCR_OFFICER, "nocr", Role.OFFICER)
    create_staff(seeded, POLICE_OFFICER, "police", Role.OFFICER)
    create_staff(seeded, OUTSIDER, "welfare", Role.DESIGNER, Role.REVIEWER)
    seeded.commit()
    return login


def _open_agency_and_staff(people: Browser) -> None:
    operator = people(OPERATOR)
    opened = _post(
        operator,
        "/workspace/operator/agencies/new",
        {"code": AGENCY, "name_fa": "مرکز ایمنی راه", "name_en": "Road Safety Centre",
         "administrator": ADMINISTRATOR},
        page="/workspace/operator/agencies/new",
    )  # fmt: skip
    assert opened.status_code == 303, opened.text[:1000]
    administrator = people(ADMINISTRATOR)
    for person, role in ((DESIGNER, "designer"), (REVIEWER, "reviewer")):
        appointed = _post(
            administrator,
            f"/workspace/{AGENCY}/staff",
            {"national_code": person, "role": role},
            page=f"/workspace/{AGENCY}/staff",
        )
        assert appointed.status_code == 303, appointed.text[:1000]


def _draft_from_template(designer: TestClient) -> str:
    made = _post(designer, f"{BASE}/new/certificate_from_registry", TEMPLATE_FORM, page=f"{BASE}/new")
    assert made.status_code == 303, made.text[:2000]
    match = re.search(r"/services/([0-9a-f]+)$", made.headers["location"])
    assert match, made.headers["location"]
    return match.group(1)


def _approve(db: Session, browser: TestClient, provider: str, service_code: str) -> None:
    """The provider's officer approves the new agency's production grant on the exchange's grants page."""
    db.commit()  # a fresh read, ended before anyone writes
    [grant] = [
        g
        for g in exchange_selectors.list_grants(db, client_agency_code=AGENCY, include_standing=False)
        if g.service_code == service_code and str(g.status) == "requested"
    ]
    assert (grant.requested_by, grant.sandbox) == (DESIGNER, False)
    db.commit()
    page = f"/exchange/grants/{provider}"
    assert f"grant-{grant.id}" in browser.get(page).text
    decided = _post(browser, f"{page}/{grant.id}/approve", page=page)
    assert decided.status_code == 303, decided.text[:1000]


def _published_through_the_workspace(db: Session, people: Browser) -> str:
    """The whole authoring path, the grants on the way; the published version's id."""
    _open_agency_and_staff(people)
    designer = people(DESIGNER)
    definition_id = _draft_from_template(designer)
    editor = f"{BASE}/{definition_id}"
    # The draft is saved, and the editor names what the agency holds no grant for.
    page = designer.get(editor).text
    assert f'data-missing-grants="{IDENTITY} {LICENCE}"' in page
    # It does not go to review: the reason names the data service, with a link to ask for it.
    refused = _post(designer, f"{editor}/submit", page=editor)
    assert refused.status_code == 403
    assert 'data-code="delivery.grant_missing"' in refused.text and LICENCE in refused.text
    assert 'id="request-grant-link"' in refused.text
    # Asked from the same screen; each provider's officer approves (not the designer who asked).
    for service_code in (IDENTITY, LICENCE):
        asked = _post(
            designer,
            f"{editor}/grants",
            {"service_code": service_code, "legal_basis": "قانون نمونه"},
            page=editor,
        )
        assert asked.status_code == 303 and asked.headers["location"].endswith("#grants")
    assert 'data-grant="requested"' in designer.get(editor).text
    _approve(db, people(NOCR_OFFICER), "nocr", IDENTITY)
    still = _post(designer, f"{editor}/submit", page=editor)  # one provider has not decided yet
    assert still.status_code == 403 and f'data-missing-grants="{LICENCE}"' in still.text
    _approve(db, people(POLICE_OFFICER), "police", LICENCE)
    assert "data-missing-grants" not in designer.get(editor).text
    assert _post(designer, f"{editor}/submit", page=editor).status_code == 303
    reviewer = people(REVIEWER)
    review = f"{editor}/review"
    published = _post(reviewer, f"{editor}/publish", page=review)
    assert published.status_code == 303, published.text[:2000]
    return definition_id


def test_a_new_agency_reaches_a_published_smart_service_the_demo_citizen_uses(
    seeded: Session, people: Browser, worker: Worker
) -> None:
    definition_id = _published_through_the_workspace(seeded, people)
    seeded.commit()  # end the read: on SQLite a later write from this session must not be refused
    assert delivery_selectors.published_definition(seeded, SLUG).id == definition_id

    # A real catalog card: found in the catalog, badged smart, counted in the agency's smart duty.
    citizen = people(DEMO)
    listed = citizen.get("/api/v1/services", params={"agency": AGENCY, "smart": "true"}).json()
    assert [(item["slug"], item["smart"], item["offered_through_window"]) for item in listed["items"]] == [
        (SLUG, True, True)
    ]
    card = citizen.get(f"/api/v1/services/{SLUG}").json()
    assert (card["title_fa"], card["title_en"], card["agency"]["code"]) == (
        TEMPLATE_FORM["title.fa"],
        "Driving licence statement",
        AGENCY,
    )
    assert (card["channels"], card["cost_rials"], card["derived_maturity_level"]) == (["web"], 0, 5)
    assert catalog_selectors.smart_counts(seeded)[AGENCY] == (1, 1)
    search = citizen.get("/services", params={"q": "گواهینامه", "smart": "true"}).text
    assert f'href="/services/{SLUG}"' in search
    page = citizen.get(f"/services/{SLUG}").text
    assert f'href="/services/{SLUG}/apply"' in page and "badge-smart" in page

    # The demo citizen starts it and is decided at once by that version, with a document.
    applied = _post(
        citizen, f"/services/{SLUG}/apply", {"idempotency_key": "journey-1"}, page=f"/services/{SLUG}/apply"
    )
    assert applied.status_code == 303, applied.text[:2000]
    code = applied.headers["location"].rsplit("/", 1)[-1]
    run_jobs(worker)
    body = citizen.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == RequestState.APPROVED.value, body
    assert body["decided_automatically"] is True and body["human_touched"] is False
    seeded.commit()  # a fresh read: the worker committed on connections of its own
    request = delivery_selectors.request_by_tracking_code(seeded, code)
    assert request.definition_id == definition_id
    document = documents_selectors.get_document(seeded, body["document_number"])
    assert (document.subject_national_code, document.request_tracking_code) == (DEMO, code)


def test_retiring_takes_the_badge_away_and_another_agency_cannot_publish(
    seeded: Session, people: Browser
) -> None:
    definition_id = _published_through_the_workspace(seeded, people)
    # Another agency's designer-reviewer: not staff here, and the version does not exist in their own.
    designer = people(DESIGNER)
    new_version = _post(designer, f"{BASE}/{definition_id}/new-version", page=f"{BASE}/{definition_id}")
    draft_id = new_version.headers["location"].rsplit("/", 1)[-1]
    assert _post(designer, f"{BASE}/{draft_id}/submit", page=f"{BASE}/{draft_id}").status_code == 303
    outsider = people(OUTSIDER)
    refused = _post(outsider, f"{BASE}/{draft_id}/publish")
    # Refused for the missing role (a refused CSRF token would be a 403 too, with another code).
    assert (refused.status_code, refused.json()["code"]) == (403, "staff.forbidden"), refused.text
    assert AGENCY in refused.json()["detail"]
    assert _post(outsider, f"/workspace/welfare/services/{draft_id}/publish").status_code == 404
    seeded.commit()  # end the read: on SQLite a later write from this session must not be refused
    assert delivery_selectors.definition_version(seeded, draft_id).status.value == "in_review"

    # A grant revoked while the version waits: publishing is refused and says which, the page links to it.
    police = people(POLICE_OFFICER)
    [grant] = [
        g
        for g in exchange_selectors.list_grants(seeded, client_agency_code=AGENCY, include_standing=False)
        if g.service_code == LICENCE
    ]
    seeded.commit()
    revoked = _post(police, f"/exchange/grants/police/{grant.id}/revoke", page="/exchange/grants/police")
    assert revoked.status_code == 303
    reviewer = people(REVIEWER)
    review = reviewer.get(f"{BASE}/{draft_id}/review").text
    assert f'data-missing-grant="{LICENCE}"' in review and f'href="{BASE}/{draft_id}#grants"' in review
    refused = _post(reviewer, f"{BASE}/{draft_id}/publish", page=f"{BASE}/{draft_id}/review")
    assert refused.status_code == 403 and LICENCE in refused.text
    assert 'data-code="delivery.grant_missing"' in refused.text
    seeded.commit()  # end the read: on SQLite a later write from this session must not be refused
    assert delivery_selectors.published_definition(seeded, SLUG).id == definition_id  # the one before stays

    # Retiring the published version: the card stays, without its badge or its start button.
    record = delivery_selectors.definition_version(seeded, definition_id)
    delivery_service.retire(seeded, record, by=REVIEWER)
    seeded.commit()
    card = people(DEMO).get(f"/api/v1/services/{SLUG}").json()
    assert (card["smart"], card["executable"], card["maturity_level"]) == (False, False, 0)
    assert catalog_selectors.smart_counts(seeded)[AGENCY] == (0, 1)
    assert f'href="/services/{SLUG}/apply"' not in people(DEMO).get(f"/services/{SLUG}").text
