"""A request never hangs: whatever the platform cannot finish by itself goes to people, and the citizen is
told (issue 13, item 2)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import definitions as defs
from panjereh.delivery import loading, processing, service
from panjereh.delivery.constants import DefinitionStatus, RequestState
from panjereh.delivery.exceptions import InvalidTransition
from panjereh.delivery.models import DefinitionRecord, ServiceRequest
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.models import DataService
from panjereh.identity import selectors as identity_selectors
from panjereh.jobs import Job, JobStatus
from panjereh.notify import selectors as notify_selectors
from tests.delivery.conftest import DEMO, run_jobs
from tests.support.factories import create_citizen, create_officer

SLUG = "no-criminal-record"
JUDICIARY_OFFICER = "0068415941"


def _with_model(change: Callable[[dict[str, Any]], None]) -> defs.LoadedDefinition:
    """Make a changed version of the no-criminal-record definition the active one."""
    bundled = defs.bundled()[SLUG]
    model = copy.deepcopy(bundled.model)
    change(model)
    loaded = defs.LoadedDefinition(
        definition=bundled.definition, model=model, digest=f"test-{id(model):x}", path=bundled.path
    )
    return loaded


def _activate(seeded: Session, loaded: defs.LoadedDefinition) -> None:
    loading.sync_definitions(seeded, {SLUG: loaded})
    seeded.commit()


def _undecidable(model: dict[str, Any]) -> None:
    """The decision node answers "maybe" for one purpose: no decision the platform knows."""
    for node in model["nodes"]:
        if node["id"] == "decision":
            node["content"]["expressions"][0]["value"] = (
                "inputs.purpose == 'other' ? 'maybe' : (len(reasons) == 0 ? 'approve' : 'refuse')"
            )


def _submit(seeded: Session, settings: Settings, purpose: str = "other", key: str = "k1") -> ServiceRequest:
    if identity_selectors.get_citizen_by_national_code(seeded, DEMO) is None:
        create_citizen(seeded, DEMO)
    request, _ = service.submit(
        seeded, settings, national_code=DEMO, slug=SLUG, inputs={"purpose": purpose}, idempotency_key=key
    )
    seeded.commit()
    return request


def _fresh(seeded: Session, request: ServiceRequest) -> ServiceRequest:
    seeded.expire_all()
    stored = seeded.get(ServiceRequest, request.id)
    assert stored is not None
    return stored


def _kinds(request: ServiceRequest) -> list[str]:
    return [event.kind for event in request.events]


def _job(seeded: Session) -> Job:
    job = seeded.scalar(select(Job).where(Job.kind == service.PROCESS_JOB))
    assert job is not None
    return job


def _ledger_for(seeded: Session, request: ServiceRequest) -> list[exchange_selectors.LedgerRow]:
    return [
        r for r in exchange_selectors.ledger_for_subject(seeded, DEMO) if r.case_ref == request.tracking_code
    ]


def test_input_the_model_cannot_decide_goes_to_the_agencys_queue_at_once(seeded, settings, worker) -> None:
    create_officer(seeded, JUDICIARY_OFFICER, "judiciary")
    _activate(seeded, _with_model(_undecidable))
    request = _submit(seeded, settings)
    run_jobs(worker)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.IN_QUEUE
    assert _kinds(stored) == ["submitted", "processing", "handed_to_officer"]
    handed = stored.events[-1]
    assert handed.detail["reason"] == "undecidable" and "maybe" in handed.detail["error"]
    assert stored.recommendation is not None and stored.recommendation["technical"]["reason"] == "undecidable"
    assert stored.facts  # the evidence fetched is kept for the officer
    job = _job(seeded)
    assert job.status == JobStatus.DONE and job.attempts == 1  # decided once: no retry asks again
    assert any("کارتابل کارشناس" in m.body_fa for m in notify_selectors.inbox(seeded, DEMO))
    # Each registry was asked once for this request.
    assert sorted((r.service_code, r.count) for r in _ledger_for(seeded, stored)) == [
        ("civil-registry.person", 1),
        ("judiciary.criminal-record", 1),
    ]
    assert stored.id in {item.id for item in service_queue(seeded, "judiciary")}


def service_queue(seeded: Session, agency: str) -> list[ServiceRequest]:
    from panjereh.delivery import workbench

    return list(workbench.queue(seeded, agency))


def test_without_anyone_to_work_the_queue_it_is_refused_as_a_technical_failure(
    seeded, settings, worker
) -> None:
    _activate(seeded, _with_model(_undecidable))
    request = _submit(seeded, settings)
    run_jobs(worker)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.REFUSED and stored.decided_at is not None
    assert _kinds(stored)[-1] == "technical_failure"
    assert stored.decision is not None and stored.decision["technical_failure"]["reason"] == "undecidable"
    assert [r["code"] for r in stored.decision["reasons"]] == ["technical_failure"]
    assert "خطای فنی" in stored.events[-1].message_fa and stored.events[-1].message_en
    assert stored.decided_automatically is False and stored.document_number is None
    with pytest.raises(InvalidTransition):  # not a decision on eligibility: nothing to review
        service.request_review(seeded, settings, stored)
    seeded.rollback()


def _broken_model(model: dict[str, Any]) -> None:
    model["edges"].append({"id": "e9", "type": "edge", "sourceId": "output", "targetId": "nowhere"})


def test_a_model_that_does_not_compile_is_caught_before_any_inquiry(seeded, settings, worker) -> None:
    create_officer(seeded, JUDICIARY_OFFICER, "judiciary")
    loaded = _with_model(_broken_model)
    with pytest.raises(Exception):  # noqa: B017, PT011 - zen's own error type
        processing.engine.compiled_for(loaded)
    # Stored as a broken version would be (an editor or a migration that wrote it), bypassing the checks.
    _activate(seeded, _with_model(lambda model: None))
    seeded.execute(
        update(DefinitionRecord)
        .where(DefinitionRecord.slug == SLUG, DefinitionRecord.status == DefinitionStatus.PUBLISHED)
        .values(model=loaded.model, digest="broken-model")
    )  # fmt: skip
    seeded.commit()
    request = _submit(seeded, settings, purpose="employment")
    run_jobs(worker)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.IN_QUEUE
    assert _kinds(stored) == ["submitted", "handed_to_officer"]  # never "asking the registries"
    assert stored.events[-1].detail["reason"] == "definition_error"
    assert "compile" in stored.events[-1].detail["error"]
    worker.services["exchange"].flush()
    assert _ledger_for(seeded, stored) == []
    assert _job(seeded).status == JobStatus.DONE


def test_a_data_service_the_exchange_does_not_publish_is_caught_before_any_inquiry(
    seeded, settings, worker
) -> None:
    create_officer(seeded, JUDICIARY_OFFICER, "judiciary")
    seeded.execute(
        update(DataService).where(DataService.code == "judiciary.criminal-record").values(active=False)
    )
    seeded.commit()
    request = _submit(seeded, settings, purpose="employment")
    run_jobs(worker)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.IN_QUEUE
    assert _kinds(stored) == ["submitted", "handed_to_officer"]
    assert stored.events[-1].detail == {
        **stored.events[-1].detail,
        "reason": "definition_error",
        "service": "judiciary.criminal-record",
    }
    worker.services["exchange"].flush()
    assert _ledger_for(seeded, stored) == []  # not even the civil registry was asked
    assert _job(seeded).status == JobStatus.DONE


def test_a_registry_down_through_every_attempt_hands_the_request_over(
    seeded, settings, worker, faults
) -> None:
    create_officer(seeded, JUDICIARY_OFFICER, "judiciary")
    request = _submit(seeded, settings, purpose="employment")
    seeded.execute(update(Job).where(Job.kind == service.PROCESS_JOB).values(max_attempts=3))
    seeded.commit()
    faults("judiciary", down=True)
    # Each attempt runs once its back-off (base 0.05 s in tests) has passed; on a loaded machine a pass of
    # the worker may come before that, so the test runs passes until the job is spent (bounded).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seeded.commit()  # end the read's transaction: the next read sees what the worker committed
        if _fresh(seeded, request).state == RequestState.IN_QUEUE:
            break
        run_jobs(worker)
        time.sleep(0.2)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.IN_QUEUE
    kinds = _kinds(stored)
    assert kinds.count("waiting") == 2 and kinds[-1] == "handed_to_officer"
    assert stored.events[-1].detail["reason"] == "retries_exhausted"
    assert stored.events[-1].detail["service"] == "judiciary.criminal-record"
    job = _job(seeded)
    assert job.status == JobStatus.FAILED and job.attempts == 3
    # The civil registry answered on each attempt: one look in the citizen's ledger, asked three times.
    assert [(r.service_code, r.count) for r in _ledger_for(seeded, stored)] == [("civil-registry.person", 3)]


def test_a_job_that_fails_on_its_last_attempt_hands_the_request_over(seeded, settings, worker) -> None:
    request = _submit(seeded, settings, purpose="employment")
    # A stored version whose body no longer reads (a fault nobody foresaw): the job raises each time.
    seeded.execute(
        update(DefinitionRecord)
        .where(DefinitionRecord.slug == SLUG, DefinitionRecord.status == DefinitionStatus.PUBLISHED)
        .values(body={"slug": SLUG}, digest="unreadable")
    )  # fmt: skip
    seeded.execute(update(Job).where(Job.kind == service.PROCESS_JOB).values(max_attempts=1))
    seeded.commit()
    run_jobs(worker)
    stored = _fresh(seeded, request)
    assert stored.state == RequestState.REFUSED  # no judiciary officer in this test: a technical refusal
    assert stored.events[-1].kind == "technical_failure"
    assert (
        stored.events[-1].detail["reason"] == "job_failed"
        and "ValidationError" in stored.events[-1].detail["error"]
    )
    assert _job(seeded).status == JobStatus.FAILED


def test_the_sweep_hands_over_what_stayed_with_the_platform_too_long(
    seeded, settings, session_factory
) -> None:
    create_officer(seeded, JUDICIARY_OFFICER, "judiciary")
    old = _submit(seeded, settings, key="old")
    new = _submit(seeded, settings, key="new")
    past = utcnow() - timedelta(seconds=settings.delivery_stuck_after_seconds + 60)
    seeded.execute(update(ServiceRequest).where(ServiceRequest.id == old.id).values(created_at=past))
    seeded.commit()
    assert processing.sweep_stuck(session_factory, settings) == 1
    assert _fresh(seeded, old).state == RequestState.IN_QUEUE
    assert _fresh(seeded, old).events[-1].detail["reason"] == "stuck"
    assert _fresh(seeded, new).state == RequestState.SUBMITTED
    assert processing.sweep_stuck(session_factory, settings) == 0  # once is enough
