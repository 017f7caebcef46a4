"""Request journeys through the API on the real exchange and registries: smart, refused, human, down."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from panjereh.delivery import proactive, service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import DefinitionRecord, ServiceRequest
from panjereh.documents import selectors as documents_selectors
from panjereh.exchange.selectors import ledger_for_subject
from panjereh.jobs import Job
from panjereh.notify import selectors as notify_selectors
from tests.delivery.conftest import CONVICTED, DEMO, OFFICER, TAX_DEBTOR, run_jobs
from tests.support.browsers import csrf_token
from tests.support.factories import create_demo_agencies
from tests.support.loop import statements_on_an_event_loop


def _apply(client, slug, inputs, key="k-1"):
    return client.post(
        f"/api/v1/services/{slug}/requests", json={"inputs": inputs}, headers={"Idempotency-Key": key}
    )


def test_a_request_never_loads_a_definition(client, db) -> None:
    """Loading stores a version and records its maturity in the catalog; a citizen's request only reads."""
    create_demo_agencies(db)
    db.commit()
    answer = client.get("/api/v1/services/no-criminal-record/preview")
    assert answer.status_code == 404
    assert answer.json()["code"] == "delivery.service_not_executable"
    assert db.scalar(select(func.count()).select_from(DefinitionRecord)) == 0


def test_preview_names_each_registry_and_why(client, seeded) -> None:
    body = client.get("/api/v1/services/no-criminal-record/preview").json()
    assert body["smart"] is True and body["derived_level"] == 5
    services = {e["data_service"]: e for e in body["evidence"]}
    assert set(services) == {"civil-registry.person", "judiciary.criminal-record"}
    assert services["judiciary.criminal-record"]["provider_agency"] == "judiciary"
    assert all(e["why_fa"] for e in body["evidence"])


def test_smart_request_is_decided_and_documented_without_a_human(login, worker, seeded: Session) -> None:
    client = login(DEMO)
    response = _apply(client, "no-criminal-record", {"purpose": "employment"})
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    assert response.json()["state"] == "submitted"
    assert run_jobs(worker) == 2  # the request's job, then the job that texts its decision
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "approved"
    assert body["decided_automatically"] is True and body["human_touched"] is False
    assert body["decision"]["rule_version"] == "no-criminal-record/1402.1"
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "processing", "approved"]
    document = documents_selectors.get_document(seeded, body["document_number"])
    assert document.subject_national_code == DEMO and document.request_tracking_code == code
    assert document.claims["purpose"] == "استخدام"  # the choice's label, as a reader needs it
    ledger = ledger_for_subject(seeded, DEMO)
    assert {row.service_code for row in ledger} >= {"civil-registry.person", "judiciary.criminal-record"}
    assert any("ثبت شد" in m.body_fa for m in notify_selectors.inbox(seeded, DEMO))


def test_the_timeline_reads_in_the_pages_language(login, worker) -> None:
    client = login(DEMO)
    code = _apply(client, "no-criminal-record", {"purpose": "employment"}).json()["tracking_code"]
    run_jobs(worker)
    persian = client.get(f"/account/requests/{code}").text
    shown = "-".join(code[i : i + 4] for i in range(0, 12, 4)).translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    )
    # Stored with Latin digits, shown in Persian ones, kept left to right inside the sentence.
    assert f"کد رهگیری \u2066{shown}\u2069" in persian
    english = client.get(f"/account/requests/{code}?lang=en").text
    assert "received" in english and "Asking the registries" in english


def test_the_decision_also_reaches_the_citizen_by_sms(login, worker, settings) -> None:
    outbox = settings.home / "outbox.jsonl"
    before = outbox.read_text(encoding="utf-8").count("\n") if outbox.exists() else 0
    client = login(DEMO)
    code = _apply(client, "no-criminal-record", {"purpose": "employment"}, key="sms-1").json()[
        "tracking_code"
    ]
    run_jobs(worker)
    new = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()[before:]]
    sms = [m for m in new if m["channel"] == "sms" and m["kind"] in {"delivery.request", "documents.issued"}]
    # Only the decision goes by SMS; "submitted" and "processing" stay in the inbox. A decision that
    # issued a document is a notice of the kind «documents issued».
    assert len(sms) == 1 and sms[0]["kind"] == "documents.issued"
    assert sms[0]["to"] == "09121234567" and sms[0]["link"] == f"{settings.base_url}/account/requests/{code}"


def test_refusal_explains_itself_and_goes_to_a_human_in_one_click(login, worker) -> None:
    client = login(CONVICTED)
    code = _apply(client, "no-criminal-record", {"purpose": "other"}).json()["tracking_code"]
    run_jobs(worker)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "refused" and body["document_number"] is None
    assert [r["code"] for r in body["decision"]["reasons"]] == ["has_record"]
    assert body["decision"]["reasons"][0]["reason_fa"]
    assert [f["rule"] for f in body["decision"]["rules_fired"]] == ["R-record"]
    reviewed = client.post(f"/api/v1/requests/{code}/review").json()
    assert reviewed["state"] == "in_queue"
    again = client.post(f"/api/v1/requests/{code}/review")
    assert again.status_code == 409 and again.json()["code"] == "delivery.invalid_transition"


def test_same_submission_twice_is_one_request(login, worker, seeded: Session) -> None:
    client = login(DEMO)
    first = _apply(client, "tax-clearance", {}, key="same")
    second = _apply(client, "tax-clearance", {}, key="same")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["tracking_code"] == second.json()["tracking_code"]
    assert seeded.scalar(select(func.count()).select_from(ServiceRequest)) == 1
    assert seeded.scalar(select(func.count()).select_from(Job).where(Job.kind == service.PROCESS_JOB)) == 1
    conflict = _apply(client, "utility-address-change", {"postal_code": "1193653471"}, key="same")
    assert conflict.status_code == 409 and conflict.json()["code"] == "delivery.idempotency_conflict"


def test_invalid_inputs_are_refused_in_both_languages(login) -> None:
    client = login(DEMO)
    response = _apply(client, "utility-address-change", {"postal_code": "123"})
    assert response.status_code == 422
    assert response.json()["code"] == "delivery.invalid_application" and response.json()["detail_fa"]
    assert _apply(client, "no-criminal-record", {"purpose": "x", "extra": 1}, key="b").status_code == 422
    assert _apply(client, "no-such-service", {}, key="c").status_code == 404


def test_one_citizen_never_sees_anothers_requests(login, worker) -> None:
    alice = login(DEMO)
    code = _apply(alice, "tax-clearance", {}).json()["tracking_code"]
    bob = login(TAX_DEBTOR)
    assert bob.get(f"/api/v1/requests/{code}").status_code == 404
    assert bob.get("/api/v1/requests").json() == []
    assert bob.post(f"/api/v1/requests/{code}/review").status_code == 404
    assert bob.get(f"/account/requests/{code}").status_code == 404
    assert [r["tracking_code"] for r in alice.get("/api/v1/requests").json()] == [code]


def test_anonymous_callers_are_refused(client, seeded) -> None:
    assert client.get("/api/v1/requests").status_code == 401
    assert _apply(client, "tax-clearance", {}).status_code == 401


def test_a_registry_down_mid_request_makes_it_wait_then_complete(login, worker, faults, seeded) -> None:
    client = login(TAX_DEBTOR)
    code = _apply(client, "tax-clearance", {}).json()["tracking_code"]
    faults("tax", down=True)
    ran = asyncio_run_once(worker)
    assert ran == 1
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "waiting"
    assert (
        "tax" in str([e for e in body["timeline"] if e["kind"] == "waiting"])
        or body["timeline"][-1]["message_fa"]
    )
    job = seeded.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
    seeded.refresh(job)
    assert job.status.value == "queued" and job.attempts == 1 and job.last_error
    faults("tax", down=False)
    import time

    time.sleep(0.3)  # the back-off (base 0.05 s in tests) has passed
    reset_circuits(worker)
    run_jobs(worker)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "refused"  # a tax debtor: decided once the registry answered
    assert [r["code"] for r in body["decision"]["reasons"]] == ["tax_debt"]
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[:3] == ["submitted", "processing", "waiting"] and kinds[-1] == "refused"
    assert kinds.count("refused") == 1


def asyncio_run_once(worker) -> int:
    import asyncio

    async def go() -> int:
        try:
            return await worker.run_due()
        finally:
            await worker.services["exchange"].aclose()

    return asyncio.run(go())


def reset_circuits(worker) -> None:
    breaker = getattr(worker.services["exchange"].exchange, "breaker", None)
    if breaker is not None:
        breaker.reset()


def test_human_service_goes_through_the_officer_queue(login, worker, officer, seeded) -> None:
    citizen = login(DEMO)
    code = _apply(citizen, "business-licence", {"trade": "نانوایی", "shop_postal_code": "1193653471"}).json()[
        "tracking_code"
    ]
    run_jobs(worker)
    body = citizen.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "in_queue" and body["decision"] is None
    staff = login(OFFICER)
    page = staff.get("/agency/queue")
    assert page.status_code == 200 and code[:4] in page.text.replace("-", "")
    csrf = csrf_token(staff, f"/agency/queue/{code}")
    assert (
        staff.post(
            f"/agency/queue/{code}/take", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    staff.post(f"/agency/queue/{code}/ask", data={"csrf_token": csrf, "text": "اجاره‌نامه را بفرستید"})
    assert citizen.get(f"/api/v1/requests/{code}").json()["state"] == "needs_info"
    csrf_c = csrf_token(citizen, f"/account/requests/{code}")
    citizen.post(f"/account/requests/{code}/answer", data={"csrf_token": csrf_c, "answer": "فرستادم"})
    staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf})
    staff.post(f"/agency/queue/{code}/approve", data={"csrf_token": csrf, "text": "مدارک کامل است"})
    body = citizen.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "approved" and body["human_touched"] is True and body["document_number"]
    assert body["decided_automatically"] is False
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds == [
        "submitted",
        "processing",
        "queued",
        "taken",
        "info_requested",
        "info_given",
        "taken",
        "approved",
    ]


def test_only_the_agencys_officers_work_its_queue(login, worker, officer) -> None:
    citizen = login(DEMO)
    code = _apply(citizen, "farmer-card", {"crop": "گندم", "area_hectares": "3"}).json()["tracking_code"]
    run_jobs(worker)
    assert citizen.get("/agency/queue").status_code == 403
    staff = login(OFFICER)  # an officer of `industry`, not `agriculture`
    assert staff.get(f"/agency/queue/{code}").status_code == 403
    csrf = csrf_token(staff, "/services/tax-clearance/apply")
    assert staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf}).status_code == 403


def test_proactive_service_runs_on_a_life_event(
    app, worker, seeded, registries_url, session_factory, settings
) -> None:
    import asyncio

    import httpx

    client = worker.services["exchange"]
    asyncio.run(proactive.poll_life_events(client, session_factory, settings))  # cursor at "now"
    httpx.post(
        f"{registries_url}/civil-registry/_admin/events",
        json={"type": "turned_18", "national_code": "2540201288"},
        headers={"Authorization": "Bearer test-registry-token"},
        timeout=60,
    ).raise_for_status()
    started = asyncio.run(proactive.poll_life_events(client, session_factory, settings))
    assert started == 1
    assert asyncio.run(proactive.poll_life_events(client, session_factory, settings)) == 0  # not twice
    run_jobs(worker)
    request = seeded.scalar(select(ServiceRequest).where(ServiceRequest.origin == "proactive"))
    seeded.refresh(request)
    assert request.slug == "social-security-record" and request.state == RequestState.APPROVED
    inbox = notify_selectors.inbox(seeded, "2540201288")
    assert any("صادر شد" in m.body_fa for m in inbox)


@pytest.mark.parametrize(
    ("slug", "inputs", "national_code", "state"),
    [
        ("my-sim-cards", {}, DEMO, "approved"),
        ("utility-address-change", {"postal_code": "1193653471"}, DEMO, "approved"),
        ("property-ownership", {}, "4032152314", "approved"),
        ("vehicle-ownership", {}, "0067749828", "approved"),
        ("student-enrollment", {}, "0076229645", "approved"),
        ("health-insurance-coverage", {}, "0068415941", "refused"),
        ("disability-record", {}, "7400076205", "approved"),
        ("driving-licence-status", {}, "0067749828", None),  # valid or expired depends on today
    ],
)
def test_each_smart_flagship_decides_on_real_registry_answers(
    login, worker, slug, inputs, national_code, state
) -> None:
    client = login(national_code)
    code = _apply(client, slug, inputs).json()["tracking_code"]
    run_jobs(worker)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] in ("approved", "refused") and body["decided_automatically"] is True, body
    assert state is None or body["state"] == state, body


def test_the_catalog_shows_the_level_the_definition_supports(seeded, settings) -> None:
    from panjereh.catalog import seed as catalog_seed
    from panjereh.catalog import selectors as catalog_selectors
    from panjereh.delivery import loading

    catalog_seed.seed_catalog(seeded, settings, lambda _n: None)
    loading.sync_definitions(seeded)
    seeded.commit()

    smart = catalog_selectors.get_service_by_slug(seeded, "no-criminal-record")
    assert smart.derived_maturity_level == 5 and smart.maturity_level == 5
    farmer = catalog_selectors.get_service_by_slug(seeded, "farmer-card")
    assert farmer.derived_maturity_level == 3 and "once_only_violation" in farmer.derived_flags
    if farmer.declared_maturity_level > 3:
        assert "declared_level_unsupported" in farmer.derived_flags


def test_form_posts_do_their_database_work_off_the_event_loop(
    login, worker, officer, committed_engine
) -> None:
    # The handlers read the form on the loop (they are async), then hand the rest to a worker thread.
    citizen = login(DEMO)
    form = {
        "csrf_token": csrf_token(citizen, "/services/business-licence/apply"),
        "trade": "نانوایی",
        "shop_postal_code": "1193653471",
        "idempotency_key": "l-1",
    }
    with statements_on_an_event_loop(committed_engine) as on_loop:
        applied = citizen.post("/services/business-licence/apply", data=form, follow_redirects=False)
    assert applied.status_code == 303
    code = applied.headers["location"].rsplit("/", 1)[-1]
    run_jobs(worker)
    staff = login(OFFICER)
    csrf = csrf_token(staff, f"/agency/queue/{code}")
    with statements_on_an_event_loop(committed_engine) as more:
        staff.post(f"/agency/queue/{code}/take", data={"csrf_token": csrf})
        staff.post(f"/agency/queue/{code}/ask", data={"csrf_token": csrf, "text": "اجاره‌نامه را بفرستید"})
    on_loop += more
    answer = {"csrf_token": csrf_token(citizen, f"/account/requests/{code}"), "answer": "فرستادم"}
    with statements_on_an_event_loop(committed_engine) as more:
        citizen.post(f"/account/requests/{code}/answer", data=answer)
    on_loop += more
    assert on_loop == []
    assert citizen.get(f"/api/v1/requests/{code}").json()["state"] == "in_queue"  # the work was done


def test_the_decision_reads_the_citizen_and_the_agency_once(login, worker, committed_engine) -> None:
    """They come with the request in one SELECT; the document and the notice find them in the session
    (a session holds unchanged objects weakly: the decision keeps them referenced while it works)."""
    client = login(DEMO)
    _apply(client, "no-criminal-record", {"purpose": "employment"})
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(committed_engine, "before_cursor_execute", seen)
    try:
        assert run_jobs(worker) == 2  # the request's job, then the job that texts its decision
    finally:
        event.remove(committed_engine, "before_cursor_execute", seen)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in reads if "FROM identity_citizen" in s]) == 0  # only joined, never alone
    assert len([s for s in reads if "FROM agency " in s or "FROM agency\n" in s]) == 0
    assert len([s for s in reads if "JOIN identity_citizen" in s]) == 1


@pytest.mark.skipif(
    not os.environ.get("PANJEREH_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL only: there the outcome's transaction opens while the registries are asked",
)
def test_while_the_registries_are_asked_the_request_is_locked_and_nothing_shows(
    login, worker, faults, seeded, session_factory
) -> None:
    client = login(DEMO)
    code = _apply(client, "no-criminal-record", {"purpose": "employment"}).json()["tracking_code"]
    faults("judiciary", latency_ms=1500)
    done = threading.Thread(target=run_jobs, args=(worker,))
    done.start()
    try:
        deadline = time.monotonic() + 10
        locked = False
        while not locked and time.monotonic() < deadline:
            with session_factory() as other:
                try:
                    other.execute(
                        select(ServiceRequest.id)
                        .where(ServiceRequest.tracking_code == code)
                        .with_for_update(nowait=True)
                    ).all()
                except OperationalError:  # lock not available: the outcome's transaction holds it
                    locked = True
                other.rollback()
            if not locked:
                time.sleep(0.02)
        assert locked, "the request was never locked while its registries were asked"
        body = client.get(f"/api/v1/requests/{code}").json()
        assert body["state"] == "submitted" and [e["kind"] for e in body["timeline"]] == ["submitted"]
        job = seeded.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
        seeded.refresh(job)
        assert job.status.value == "running"  # its completion is not committed yet either
    finally:
        done.join(timeout=30)
    body = client.get(f"/api/v1/requests/{code}").json()
    assert body["state"] == "approved"
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "processing", "approved"]
