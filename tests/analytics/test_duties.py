"""What stands between an agency and this year's duties: each kind of entry appears on the data that causes
it, and disappears when the cause is fixed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.analytics import duties
from panjereh.analytics.exceptions import AgencyNotOnDashboard
from panjereh.conformance import service as conformance_service
from panjereh.conformance.constants import CheckStatus, RunTrigger, RunVerdict
from panjereh.conformance.models import ConformanceResult, ConformanceRun
from panjereh.core.db import utcnow
from panjereh.delivery import definitions as defs
from panjereh.delivery import service as delivery_service
from panjereh.delivery.models import DefinitionRecord
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange import service as exchange_service
from tests.support.factories import create_agency, create_card, create_system

AUTHOR, REVIEWER = "1111111111", "3333333333"
SHIPPED = defs.bundled()["no-criminal-record"]


def _document(slug: str, *, upload: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shipped certificate under another slug; with `upload`, the criminal record asked of the citizen."""
    body = SHIPPED.definition.model_dump(mode="json")
    body["slug"] = slug
    if upload:
        criminal = next(item for item in body["evidence"] if item["key"] == "criminal")
        criminal.update(source="upload", service=None, path_params={})
    return body, copy.deepcopy(SHIPPED.model)


def _reads_the_civil_registry(db: Session) -> None:
    """The judiciary holds the grant its certificates need to ask the civil registry (publishing checks)."""
    exchange_service.record_agreements(
        db, {("judiciary", "civil-registry.person"): ["delivery:test"]}, legal_basis="test", by="test"
    )


def _publish(db: Session, slug: str, *, upload: bool = False) -> DefinitionRecord:
    _reads_the_civil_registry(db)
    body, model = _document(slug, upload=upload)
    record = delivery_service.create_draft(
        db, agency_code="judiciary", author=AUTHOR, document=body, model=model
    )
    delivery_service.submit_for_review(db, record, by=AUTHOR)
    return delivery_service.publish(db, record, by=REVIEWER)


def _entry(db: Session, agency: str, kind: str) -> duties.Entry | None:
    return duties.todo(db, agency, 1402).get(kind)


def test_an_unknown_agency_is_not_found(seeded: Session) -> None:
    with pytest.raises(AgencyNotOnDashboard):
        duties.todo(seeded, "no-such-agency")


def test_cards_not_through_the_window_and_the_distance_to_the_duty(seeded: Session) -> None:
    offline = create_card(seeded, "judiciary", slug="court-copy", offered_through_window=False)
    create_card(seeded, "judiciary", slug="court-date", offered_through_window=True)
    entry = _entry(seeded, "judiciary", "not_through_window")
    assert entry is not None and entry.count == 1
    assert [item.href for item in entry.items] == ["/services/court-copy"]
    duty = _entry(seeded, "judiciary", "duty_through_window")
    assert duty is not None and (duty.total, duty.now, duty.needed, duty.count) == (2, 1, 2, 1)

    offline.offered_through_window = True
    seeded.flush()
    assert _entry(seeded, "judiciary", "not_through_window") is None
    assert _entry(seeded, "judiciary", "duty_through_window") is None


def test_evidence_uploaded_although_a_data_service_provides_it(seeded: Session) -> None:
    card = create_card(seeded, "judiciary", slug="clean-record", offered_through_window=True)
    _publish(seeded, "clean-record", upload=True)
    entry = _entry(seeded, "judiciary", "uploaded_but_provided")
    assert entry is not None and entry.count == 1
    assert entry.items[0].note_en.endswith("judiciary.criminal-record")
    assert entry.items[0].href.startswith("/workspace/judiciary/services/")
    inquiries = _entry(seeded, "judiciary", "duty_inquiries_online")
    assert inquiries is not None and (inquiries.total, inquiries.now, inquiries.count) == (1, 0, 1)
    # A template could ask the service instead; the card is not smart yet.
    could = _entry(seeded, "judiciary", "template_could_make_smart")
    # Named for people: the template's title and the data service's, never their codes.
    assert could is not None
    assert (
        could.items[0].note_en
        == "the template “Eligibility from several answers” with Criminal record summary"
    )
    assert could.items[0].note_fa == "الگوی «احراز شرایط از چند پاسخ» با استعلام سوء پیشینه کیفری"
    assert card.derived_maturity_level == 3

    _publish(seeded, "clean-record")  # the next version asks the judiciary instead
    for kind in ("uploaded_but_provided", "duty_inquiries_online", "template_could_make_smart"):
        assert _entry(seeded, "judiciary", kind) is None, kind


def test_evidence_no_data_service_provides_is_not_a_once_only_breach(seeded: Session) -> None:
    create_card(seeded, "judiciary", slug="clean-record", offered_through_window=True)
    body, model = _document("clean-record", upload=True)
    body["evidence"][1]["concept"] = "something_no_registry_holds"
    _reads_the_civil_registry(seeded)
    record = delivery_service.create_draft(
        seeded, agency_code="judiciary", author=AUTHOR, document=body, model=model
    )
    delivery_service.submit_for_review(seeded, record, by=AUTHOR)
    delivery_service.publish(seeded, record, by=REVIEWER)
    assert _entry(seeded, "judiciary", "uploaded_but_provided") is None
    assert _entry(seeded, "judiciary", "template_could_make_smart") is None
    assert _entry(seeded, "judiciary", "duty_inquiries_online") is not None  # still asked of the citizen


def test_the_smart_duty_counts_cards_and_a_template_could_close_it(seeded: Session) -> None:
    for number in range(4):
        create_card(seeded, "judiciary", slug=f"record-{number}", offered_through_window=True)
    create_card(seeded, "judiciary", slug="record-copy", offered_through_window=True, maturity_level=4)
    duty = _entry(seeded, "judiciary", "duty_smart")
    assert duty is not None and (duty.total, duty.now, duty.needed, duty.count) == (5, 0, 1, 1)
    could = _entry(seeded, "judiciary", "template_could_make_smart")
    assert could is not None and could.count == 1  # declared level 4, and the judiciary has a service
    assert could.items[0].href == "/services/record-copy"
    assert (
        could.items[0].note_en
        == "the template “A certificate from one registry's answer” with Criminal record summary"
    )

    _publish(seeded, "record-copy")
    assert _entry(seeded, "judiciary", "duty_smart") is None
    assert _entry(seeded, "judiciary", "template_could_make_smart") is None


def test_an_agency_without_a_data_service_to_read_gets_no_template_suggestion(seeded: Session) -> None:
    create_agency(seeded, "alpha")
    create_card(seeded, "alpha", slug="alpha-copy", maturity_level=5)
    assert _entry(seeded, "alpha", "template_could_make_smart") is None
    assert _entry(seeded, "alpha", "duty_smart") is not None


def _run(db: Session, agency_code: str, verdict: RunVerdict, *failures: tuple[str, str]) -> ConformanceRun:
    agency = agency_selectors.get_agency_by_code(db, agency_code)
    now = utcnow()
    run = ConformanceRun(
        agency_id=agency.id,
        trigger=RunTrigger.MANUAL,
        started_at=now,
        finished_at=now,
        verdict=verdict,
        failed=len(failures),
        status_before=agency.connection_status,
        status_after=agency.connection_status,
    )
    for position, (system, reason) in enumerate(failures):
        run.results.append(
            ConformanceResult(
                position=position,
                system_code=system,
                check_id="health",
                status=CheckStatus.FAIL,
                reason_en=reason,
                reason_fa=reason,
            )
        )
    run.results.append(
        ConformanceResult(position=99, system_code="alpha.ok", check_id="health", status=CheckStatus.PASS)
    )
    db.add(run)
    db.flush()
    return run


def test_failing_systems_and_a_lost_connection(seeded: Session) -> None:
    alpha = create_agency(seeded, "alpha")
    create_system(seeded, alpha, "http://alpha.example")
    assert _entry(seeded, "alpha", "systems_failing") is None
    assert not [kind for kind in duties.todo(seeded, "alpha").kinds if kind.startswith("connection_")]

    run = _run(seeded, "alpha", RunVerdict.FAILING, ("alpha.system", "HTTP 500 on /health"))
    conformance_service.change_status(
        seeded, alpha, ConnectionStatus.STANDARD_LOST, reason_en="Failing 3 runs", reason_fa="۳ بار", run=run
    )
    entry = _entry(seeded, "alpha", "systems_failing")
    assert entry is not None and entry.count == 1
    assert entry.items[0].title_en == "alpha.system" and "HTTP 500" in entry.items[0].note_en
    assert entry.items[0].href == f"/conformance/alpha/runs/{run.id}"
    assert entry.action_href == "/workspace/alpha/connection"
    lost = _entry(seeded, "alpha", "connection_standard_lost")
    assert lost is not None and lost.items[0].note_en == "Failing 3 runs"

    _run(seeded, "alpha", RunVerdict.PASSING)
    conformance_service.change_status(
        seeded, alpha, ConnectionStatus.CONNECTED, reason_en="passed", reason_fa="گذراند"
    )
    assert _entry(seeded, "alpha", "systems_failing") is None
    assert _entry(seeded, "alpha", "connection_standard_lost") is None


def test_an_agency_with_no_system_is_not_connected_and_told_why(seeded: Session) -> None:
    create_agency(seeded, "alpha", ConnectionStatus.NOT_CONNECTED)
    entry = _entry(seeded, "alpha", "connection_not_connected")
    assert entry is not None and "No system registered" in entry.items[0].note_en


def test_grants_waiting_on_either_side(seeded: Session) -> None:
    grant = exchange_service.request_grant(
        seeded,
        client_agency=agency_selectors.get_agency_by_code(seeded, "tax"),
        service=exchange_selectors.get_service_by_code(seeded, "judiciary.criminal-record"),
        purposes=["tax-clearance"],
        legal_basis="Direct Taxes Act, art. 231",
    )
    to_decide = _entry(seeded, "judiciary", "grants_to_decide")
    assert to_decide is not None and to_decide.count == 1
    assert to_decide.items[0].note_en == "judiciary.criminal-record"
    waiting = _entry(seeded, "tax", "grants_waiting")
    assert waiting is not None and waiting.items[0].href == "/exchange/grants/tax"
    assert _entry(seeded, "tax", "grants_to_decide") is None

    exchange_service.approve_grant(seeded, grant, provider_agency_code="judiciary")
    assert _entry(seeded, "judiciary", "grants_to_decide") is None
    assert _entry(seeded, "tax", "grants_waiting") is None


def test_an_agency_with_nothing_left_has_an_empty_list(seeded: Session) -> None:
    create_agency(seeded, "alpha")
    agency = agency_selectors.get_agency_by_code(seeded, "alpha")
    create_system(seeded, agency, "http://alpha.example")
    assert duties.todo(seeded, "alpha").entries == []


def test_the_scorecard_shows_the_list_in_persian_and_english(seeded: Session, client: TestClient) -> None:
    create_card(seeded, "judiciary", slug="court-copy", offered_through_window=False)
    seeded.commit()
    page = client.get("/dashboard/agencies/judiciary")
    assert page.status_code == 200
    assert 'data-todo="not_through_window" data-count="1"' in page.text
    assert 'href="/services/court-copy"' in page.text
    assert "خدمت‌هایی که از طریق پنجره ارائه نمی‌شوند" in page.text
    english = client.get("/dashboard/agencies/judiciary?lang=en")
    assert "Services not offered through the window" in english.text
    assert '<span class="badge text-bg-warning">۱</span>' in page.text  # Persian digits on a Persian page


def test_a_sandbox_grant_request_is_no_duty(seeded: Session) -> None:
    exchange_service.request_grant(
        seeded,
        client_agency=agency_selectors.get_agency_by_code(seeded, "tax"),
        service=exchange_selectors.get_service_by_code(seeded, "judiciary.criminal-record"),
        purposes=["tax-clearance"],
        legal_basis="Direct Taxes Act, art. 231",
        sandbox=True,
    )
    assert _entry(seeded, "judiciary", "grants_to_decide") is None
    assert _entry(seeded, "tax", "grants_waiting") is None
