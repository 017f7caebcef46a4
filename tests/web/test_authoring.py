"""Authoring pages: every role boundary, the live check on the real engine, the dry run in the sandbox,
submit, review, publish and send back, each action audited."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.cookies import SESSION_COOKIE
from panjereh.core.db import utcnow
from panjereh.core.sandbox import PERSONAS
from panjereh.delivery import selectors as delivery_selectors
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.models import LogEntry
from panjereh.identity import sessions
from panjereh.registries.personas import PERSONAS as REGISTRY_PERSONAS
from panjereh.staff import selectors as staff_selectors
from panjereh.staff.constants import Role
from panjereh.web.authoring import blueprints
from panjereh.web.authoring.common import document_yaml, model_json
from tests.support.browsers import csrf_token, signed_in_browsers
from tests.support.factories import create_citizen, create_grant, create_staff

AGENCY = "police"  # provides police.driving-licence, which the demo citizen holds
OTHER = "welfare"
DESIGNER, REVIEWER, OFFICER, DEVELOPER, OUTSIDER, BOTH = (
    "0067749828",
    "0076229645",
    "4032152314",
    "2540201288",
    "7400076205",
    "0084575948",
)
BASE = f"/workspace/{AGENCY}/services"
SLUG = "authored-identity-check"
IDENTITY = "civil-registry.person"
ANY_FORM = "/account/data-access"  # a page with a form for anyone signed in


@pytest.fixture
def people(seeded: Session, app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    create_staff(seeded, DESIGNER, AGENCY, Role.DESIGNER)
    create_staff(seeded, REVIEWER, AGENCY, Role.REVIEWER)
    create_staff(seeded, OFFICER, AGENCY, Role.OFFICER)
    create_staff(seeded, DEVELOPER, AGENCY, Role.DEVELOPER)
    create_staff(seeded, OUTSIDER, OTHER, Role.DESIGNER, Role.REVIEWER)
    create_staff(seeded, BOTH, AGENCY, Role.DESIGNER, Role.REVIEWER)
    # Every definition asks the civil registry who the applicant is: the agency holds that grant (its own
    # police.* services need none). Publishing without it is tests/delivery/test_agency_journey.py's.
    create_grant(seeded, AGENCY, IDENTITY, [f"delivery:{SLUG}"])
    seeded.commit()
    with signed_in_browsers(seeded, app) as sign_in:
        yield sign_in


def _post(browser: TestClient, path: str, data: dict[str, str] | None = None, *, page: str | None = None):
    token = csrf_token(browser, page or ANY_FORM)
    return browser.post(path, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def _blank(browser: TestClient, slug: str = SLUG) -> str:
    """Create a blank draft as this browser's designer; its id."""
    response = _post(
        browser,
        f"{BASE}/new/blank",
        {"slug": slug, "title_fa": "بررسی هویت", "title_en": "Identity check"},
        page=f"{BASE}/new",
    )
    assert response.status_code == 303, response.text[:2000]
    match = re.search(r"/services/([0-9a-f]+)$", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def _submitted(browser: TestClient) -> str:
    definition_id = _blank(browser)
    response = _post(browser, f"{BASE}/{definition_id}/submit", page=f"{BASE}/{definition_id}")
    assert response.status_code == 303, response.text[:2000]
    return definition_id


# --- Role boundaries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [OFFICER, DEVELOPER])
def test_officers_and_developers_have_no_part_in_authoring(people, who: str) -> None:
    browser = people(who)
    assert browser.get(BASE).status_code == 403
    assert browser.get(f"{BASE}/new").status_code == 403
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    assert browser.get(f"{BASE}/{definition_id}").status_code == 403
    token = csrf_token(browser, ANY_FORM)  # a valid token of this browser: the refusal is the role's
    for action in ("new/blank", f"{definition_id}", f"{definition_id}/submit", f"{definition_id}/publish"):
        response = browser.post(f"{BASE}/{action}", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, action
        assert "client.csrf" not in response.text


def test_another_agencys_staff_see_nothing(people, db: Session) -> None:
    definition_id = _blank(people(DESIGNER))
    outsider = people(OUTSIDER)
    assert outsider.get(BASE).status_code == 403  # not staff of this agency
    # Through their own agency's path, another agency's draft does not exist.
    assert outsider.get(f"/workspace/{OTHER}/services/{definition_id}").status_code == 404
    assert outsider.get(f"/workspace/{OTHER}/services/{definition_id}/review").status_code == 404
    response = outsider.post(
        f"/workspace/{OTHER}/services/{definition_id}/submit",
        data={"csrf_token": csrf_token(outsider, ANY_FORM)},
        follow_redirects=False,
    )
    assert response.status_code == 404
    assert SLUG not in outsider.get(f"/workspace/{OTHER}/services").text


def test_a_designer_cannot_publish_their_own_draft(people, db: Session) -> None:
    both = people(BOTH)  # designer and reviewer of the agency
    definition_id = _submitted(both)
    response = _post(both, f"{BASE}/{definition_id}/publish", page=f"{BASE}/{definition_id}/review")
    assert response.status_code == 403
    assert 'data-code="delivery.four_eyes_required"' in response.text
    db.expire_all()
    assert delivery_selectors.definition_version(db, definition_id).status.value == "in_review"


def test_a_designer_is_not_a_reviewer(people) -> None:
    designer = people(DESIGNER)
    definition_id = _submitted(designer)
    assert designer.get(f"{BASE}/{definition_id}/review").status_code == 403
    response = _post(designer, f"{BASE}/{definition_id}/publish")
    assert response.status_code == 403 and "client.csrf" not in response.text


def test_publishing_needs_a_level_two_session(people, seeded: Session, app: FastAPI) -> None:
    definition_id = _submitted(people(DESIGNER))
    citizen = create_citizen(seeded, REVIEWER)
    _, token = sessions.open_session(seeded, citizen, level=1, amr=["otp"])
    seeded.commit()
    with TestClient(app, base_url="http://testserver", headers={"accept": "text/html"}) as level_one:
        level_one.cookies.set(SESSION_COOKIE, token)
        assert level_one.get(f"{BASE}/{definition_id}/review").status_code == 200  # reading is fine
        response = _post(level_one, f"{BASE}/{definition_id}/publish", page=f"{BASE}/{definition_id}/review")
        assert response.status_code in (302, 303, 307)
        assert "/login/step-up" in response.headers["location"]
    assert delivery_selectors.definition_version(seeded, definition_id).status.value == "in_review"


def test_signed_out_visitors_are_sent_to_log_in(client: TestClient, seeded: Session) -> None:
    response = client.get(BASE, follow_redirects=False)
    assert response.status_code in (302, 303, 307, 401)


def test_a_form_without_its_csrf_token_is_refused(people) -> None:
    response = people(DESIGNER).post(
        f"{BASE}/new/blank", data={"slug": SLUG, "title_fa": "x", "title_en": "x"}, follow_redirects=False
    )
    assert response.status_code == 403


# --- The designer's path -----------------------------------------------------------------------------


def test_a_blank_draft_is_made_checked_and_audited(people, db: Session) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    page = designer.get(f"{BASE}/{definition_id}")
    assert page.status_code == 200
    assert 'data-check="pass"' in page.text
    assert 'data-level="5"' in page.text
    assert "data-jdm-editor" in page.text
    listing = designer.get(BASE).text
    assert SLUG in listing and 'data-status="draft"' in listing
    actions = [entry.action for entry in staff_selectors.audit_trail(db, AGENCY)]
    assert "definition.create" in actions


CERTIFICATE = {
    "slug": "driving-licence-certificate",
    "title.fa": "گواهی گواهینامهٔ رانندگی",
    "title.en": "Driving licence certificate",
    "answer.key": "licence",
    "answer.service": "police.driving-licence",
    "answer.label.fa": "گواهینامهٔ رانندگی",
    "answer.label.en": "Driving licence",
    "answer.why_fa": "گواهی بر پایهٔ پروندهٔ گواهینامهٔ شما صادر می‌شود",
    "claims": "licence_number: number",
    "document.valid_days": "۳۰",
}


def test_a_draft_is_made_from_a_templates_form(people, db: Session) -> None:
    designer = people(DESIGNER)
    form = designer.get(f"{BASE}/new").text
    assert 'name="answer.service"' in form and 'list="data-services"' in form
    response = _post(designer, f"{BASE}/new/certificate_from_registry", CERTIFICATE, page=f"{BASE}/new")
    assert response.status_code == 303, response.text[:2000]
    record = delivery_selectors.definition_version(db, response.headers["location"].rsplit("/", 1)[-1])
    assert (record.slug, record.status.value, record.created_by) == (CERTIFICATE["slug"], "draft", DESIGNER)
    assert [e["service"] for e in record.body["evidence"]] == [
        "civil-registry.person",
        "police.driving-licence",
    ]
    assert record.body["outcomes"]["document"]["valid_days"] == 30
    assert record.derived_level == 5
    assert 'data-check="pass"' in designer.get(f"{BASE}/{record.id}").text
    # A required field left out, or a YAML field that is not YAML: the form again, with the reason.
    for change in ({"answer.service": ""}, {"claims": "a: [", "slug": "another-slug"}):
        response = _post(
            designer, f"{BASE}/new/certificate_from_registry", {**CERTIFICATE, **change}, page=f"{BASE}/new"
        )
        assert response.status_code == 422
        assert 'id="authoring-error"' in response.text
    assert _post(designer, f"{BASE}/new/no_such_template", CERTIFICATE, page=f"{BASE}/new").status_code == 422


def test_a_malformed_draft_is_refused_with_its_reason(people) -> None:
    designer = people(DESIGNER)
    response = _post(
        designer,
        f"{BASE}/new/blank",
        {"slug": "Not A Slug", "title_fa": "x", "title_en": "x"},
        page=f"{BASE}/new",
    )
    assert response.status_code == 422
    assert "slug" in response.text
    definition_id = _blank(designer)
    for document, model in (
        ("slug: [", "{}"),
        ("- a list", "{}"),
        ("slug: x", "not json"),
        ("slug: x", "[]"),
    ):
        response = _post(
            designer,
            f"{BASE}/{definition_id}",
            {"document": document, "model": model},
            page=f"{BASE}/{definition_id}",
        )
        assert response.status_code == 422, (document, model)
        assert 'id="authoring-error"' in response.text


def test_the_live_check_runs_the_tests_on_the_engine(people, db: Session) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    record = delivery_selectors.definition_version(db, definition_id)
    document = dict(record.body)
    check = f"{BASE}/{definition_id}/check"

    def run(body: dict, model: dict | str) -> str:
        text = model if isinstance(model, str) else model_json(model)
        response = _post(
            designer, check, {"document": document_yaml(body), "model": text}, page=f"{BASE}/{definition_id}"
        )
        assert response.status_code == 200
        return response.text

    assert 'data-check="pass"' in run(document, record.model)
    wrong = {
        **document,
        "tests": [{"name": "wrong", "facts": {"person": {"found": True}}, "expect": {"decision": "refuse"}}],
    }
    failing = run(wrong, record.model)
    assert 'data-check="fail"' in failing and 'data-passed="no"' in failing
    assert 'data-check="invalid"' in run(document, "{")
    # Evidence asked of the citizen although a data service provides it: level 3 and the once-only flag.
    upload = {
        **document,
        "evidence": [
            *document["evidence"],
            {
                "key": "deed",
                "source": "upload",
                "label": {"fa": "سند", "en": "Deed"},
                "why_fa": "مالکیت",
                "concept": "property_deed",
            },
        ],
    }
    flagged = run(upload, record.model)
    assert 'data-level="3"' in flagged and 'id="once-only"' in flagged and "deeds.properties" in flagged
    # Nothing was saved.
    db.expire_all()
    assert delivery_selectors.definition_version(db, definition_id).body == record.body


def test_evidence_comes_only_from_held_data_services_and_a_grant_can_be_asked(people, db: Session) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    page = f"{BASE}/{definition_id}"
    # The agency's own data service is held.
    response = _post(designer, f"{page}/evidence", {"service_code": "police.driving-licence"}, page=page)
    assert response.status_code == 303, response.text[:1000]
    db.expire_all()
    body = delivery_selectors.definition_version(db, definition_id).body
    assert [e["service"] for e in body["evidence"]] == ["civil-registry.person", "police.driving-licence"]
    # Another agency's, without a grant: refused, then asked for from the same screen.
    response = _post(designer, f"{page}/evidence", {"service_code": "tax.clearance"}, page=page)
    assert response.status_code == 422
    response = _post(
        designer, f"{page}/grants", {"service_code": "tax.clearance", "legal_basis": "قانون نمونه"}, page=page
    )
    assert response.status_code == 303
    grants = exchange_selectors.list_grants(db, client_agency_code=AGENCY, include_standing=False)
    asked = [(g.service_code, str(g.status), g.requested_by) for g in grants if g.service_code != IDENTITY]
    assert asked == [("tax.clearance", "requested", DESIGNER)]  # who asked: the approver must be another


def test_inputs_and_outcomes_are_edited_in_forms(people, db: Session) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    page = f"{BASE}/{definition_id}"
    response = _post(
        designer,
        f"{page}/inputs",
        {"key": "plate", "label_fa": "پلاک", "label_en": "Plate", "type": "text", "required": "1"},
        page=page,
    )
    assert response.status_code == 303
    response = _post(
        designer, f"{page}/inputs", {"key": "Bad Key", "label_fa": "x", "label_en": "x"}, page=page
    )
    assert response.status_code == 422
    response = _post(
        designer,
        f"{page}/outcomes",
        {
            "approve_fa": "انجام شد",
            "approve_en": "Done",
            "refuse_fa": "انجام نشد",
            "refuse_en": "Refused",
            "document_type": "identity-check",
            "document_title_fa": "گواهی هویت",
            "document_title_en": "Identity certificate",
            "valid_days": "۳۰",
            "claims": "first_name = person.first_name\nlast_name = person.last_name",
        },
        page=page,
    )
    assert response.status_code == 303, response.text[:1000]
    db.expire_all()
    body = delivery_selectors.definition_version(db, definition_id).body
    assert [i["key"] for i in body["inputs"]] == ["plate"]
    assert body["outcomes"]["document"]["valid_days"] == 30
    assert body["outcomes"]["document"]["claims"] == {
        "first_name": "person.first_name",
        "last_name": "person.last_name",
    }
    response = _post(
        designer,
        f"{page}/outcomes",
        {
            "approve_fa": "a",
            "approve_en": "a",
            "refuse_fa": "r",
            "refuse_en": "r",
            "document_type": "x",
            "document_title_fa": "x",
            "document_title_en": "x",
            "claims": "no equals sign",
        },
        page=page,
    )
    assert response.status_code == 422


def test_a_draft_with_failing_tests_does_not_go_to_review(people, db: Session) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    record = delivery_selectors.definition_version(db, definition_id)
    wrong = {
        **record.body,
        "tests": [{"name": "wrong", "facts": {"person": {"found": True}}, "expect": {"decision": "refuse"}}],
    }
    page = f"{BASE}/{definition_id}"
    assert (
        _post(
            designer, page, {"document": document_yaml(wrong), "model": model_json(record.model)}, page=page
        ).status_code
        == 303
    )
    response = _post(designer, f"{page}/submit", page=page)
    assert response.status_code == 422
    db.expire_all()
    assert delivery_selectors.definition_version(db, definition_id).status.value == "draft"


def test_a_reviewer_publishes_or_sends_back_with_a_reason(people, db: Session) -> None:
    designer, reviewer = people(DESIGNER), people(REVIEWER)
    definition_id = _submitted(designer)
    review = f"{BASE}/{definition_id}/review"
    page = reviewer.get(review)
    assert page.status_code == 200 and 'data-pass="yes"' in page.text
    assert _post(reviewer, f"{BASE}/{definition_id}/reject", {"reason": ""}, page=review).status_code == 422
    response = _post(
        reviewer, f"{BASE}/{definition_id}/reject", {"reason": "دلیل حقوقی را بنویسید"}, page=review
    )
    assert response.status_code == 303
    db.expire_all()
    record = delivery_selectors.definition_version(db, definition_id)
    assert record.status.value == "draft" and record.review_note == "دلیل حقوقی را بنویسید"
    assert "دلیل حقوقی را بنویسید" in designer.get(f"{BASE}/{definition_id}").text
    assert (
        _post(designer, f"{BASE}/{definition_id}/submit", page=f"{BASE}/{definition_id}").status_code == 303
    )
    assert _post(reviewer, f"{BASE}/{definition_id}/publish", page=review).status_code == 303
    db.expire_all()
    assert delivery_selectors.published_definition(db, SLUG).id == definition_id
    actions = {entry.action for entry in staff_selectors.audit_trail(db, AGENCY)}
    assert {"definition.create", "definition.submit", "definition.reject", "definition.publish"} <= actions
    # A published version never changes: saving it is refused; a change is a new draft.
    record = delivery_selectors.definition_version(db, definition_id)
    page = f"{BASE}/{definition_id}"
    response = _post(
        designer, page, {"document": document_yaml(record.body), "model": model_json(record.model)}, page=page
    )
    assert response.status_code == 409
    response = _post(designer, f"{page}/new-version", page=page)
    assert response.status_code == 303
    draft = delivery_selectors.definition_version(db, response.headers["location"].rsplit("/", 1)[-1])
    assert (draft.version, draft.status.value) == (record.version + 1, "draft")
    # The review page shows what changed against the published version.
    text = reviewer.get(f"{BASE}/{definition_id}/review").text
    assert "diff-" in text or "بی‌تغییر" in text


# --- The dry run ------------------------------------------------------------------------------------


def test_a_dry_run_asks_the_registries_for_a_persona_in_the_sandbox(
    people, db: Session, app: FastAPI
) -> None:
    designer = people(DESIGNER)
    definition_id = _blank(designer)
    page = f"{BASE}/{definition_id}"
    window = (utcnow() - timedelta(days=1), utcnow() + timedelta(days=1))
    before = exchange_selectors.ledger_count(db, "0499370899"), exchange_selectors.inquiry_stats(db, *window)
    response = _post(designer, f"{page}/dry-run", {"persona": "demo"}, page=page)
    assert response.status_code == 200
    assert 'data-dry-run="approve"' in response.text, response.text[:2000]
    assert "0499370899" in response.text  # the registries answered for the persona
    app.state.exchange.flush()
    db.expire_all()
    # Neither in the citizen's ledger nor in the exchange's figures.
    after = exchange_selectors.ledger_count(db, "0499370899"), exchange_selectors.inquiry_stats(db, *window)
    assert after == before
    # The calls are in the log, flagged sandbox by the platform's sandbox client (no purpose prefix).
    calls = db.execute(
        select(LogEntry.client_id, LogEntry.purpose, LogEntry.sandbox).where(
            LogEntry.case_ref == f"dry-run:{definition_id}"
        )
    ).all()
    assert calls and all(call == ("ito-platform-sandbox", f"delivery:{SLUG}", True) for call in calls)
    # Kept as a sandbox request of the draft version: in no citizen's list and no figure.
    tracking = re.search(r'data-sandbox-request="([0-9A-Z]+)"', response.text)
    assert tracking, response.text[:2000]
    kept = delivery_selectors.request_by_tracking_code(db, tracking.group(1), sandbox=True)
    assert (kept.sandbox, kept.definition_id, kept.national_code, kept.state.value) == (
        True,
        definition_id,
        "0499370899",
        "approved",
    )
    assert kept.id not in {r.id for r in delivery_selectors.requests_of(db, "0499370899")}
    assert SLUG not in {s.slug for s in delivery_selectors.request_stats(db, *window)}
    response = _post(designer, f"{page}/dry-run", {"persona": "nobody"}, page=page)
    assert 'data-dry-run="error"' in response.text


def test_the_sandbox_personas_are_the_registries_personas() -> None:
    assert {(p.key, p.national_code) for p in PERSONAS} == {
        (p.key, p.national_code) for p in REGISTRY_PERSONAS
    }


def test_each_template_has_a_form() -> None:
    names = [item["name"] for item in blueprints.catalogue()]
    assert names[-1] == blueprints.BLANK
    assert {"certificate_from_registry", "eligibility_from_answers", "change_in_registry"} <= set(names)


def test_the_workspace_home_opens_the_service_definitions_to_their_roles(people) -> None:
    assert 'data-part="services"' in people(DESIGNER).get(f"/workspace/{AGENCY}").text
    assert 'data-part="services"' in people(REVIEWER).get(f"/workspace/{AGENCY}").text
    assert 'data-part="services"' not in people(OFFICER).get(f"/workspace/{AGENCY}").text
