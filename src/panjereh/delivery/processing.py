"""The smart engine at work: a request's evidence fetched in parallel through the exchange, the model
evaluated, the outcome recorded (document, queue or refusal) — as a durable, resumable job."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from panjereh.agencies.models import Agency
from panjereh.core.config import Settings
from panjereh.core.db import one_statement, unit_of_work, utcnow
from panjereh.core.jalali import TEHRAN
from panjereh.delivery import engine, jobs, loading, service
from panjereh.delivery.definitions import Evidence, LoadedDefinition
from panjereh.delivery.models import DefinitionRecord, RequestState, ServiceRequest
from panjereh.exchange.client import PlatformClient
from panjereh.exchange.exceptions import GrantMissing, ProviderUnavailable
from panjereh.identity.models import Citizen

S = RequestState


class EvidenceUnavailable(Exception):  # noqa: N818 — carries which data service failed
    """A data service could not answer now; the request waits and retries."""

    def __init__(self, evidence: Evidence, detail: str) -> None:
        super().__init__(f"{evidence.service}: {detail}")
        self.evidence = evidence
        self.detail = detail


def path_params(item: Evidence, national_code: str, inputs: dict[str, Any]) -> dict[str, str]:
    """Fill an evidence item's path parameters from the subject and the citizen's inputs."""
    values: dict[str, str] = {}
    for name, template in item.path_params.items():
        root, key = template.strip("{}").split(".", 1)
        source = {"national_code": national_code} if root == "subject" else inputs
        values[name] = str(source.get(key, ""))
    return values


async def fetch_evidence(
    client: PlatformClient,
    loaded: LoadedDefinition,
    *,
    national_code: str,
    inputs: dict[str, Any],
    case: str,
) -> dict[str, Any]:
    """Every inquiry of the definition, in parallel; 404 is a fact, an unavailable provider is not."""
    items = loaded.definition.inquiries

    async def one(item: Evidence) -> tuple[str, Any]:
        assert item.service is not None
        try:
            result = await client.ainquire(
                item.service,
                subject=national_code,
                purpose=f"delivery:{loaded.slug}",
                case=case,
                path_params=path_params(item, national_code, inputs),
            )
        except ProviderUnavailable as exc:
            raise EvidenceUnavailable(item, exc.detail_en or exc.title_en) from exc
        if result.ok:
            data = result.data
            return item.key, (
                {"found": True, **data} if isinstance(data, dict) else {"found": True, "items": data}
            )
        if result.status == 404 and item.not_found_is_fact:
            return item.key, {"found": False}
        raise EvidenceUnavailable(item, f"answered {result.status}")

    pairs = await asyncio.gather(*(one(item) for item in items))
    return dict(pairs)


@dataclass(frozen=True)
class Snapshot:
    """What the inquiries need, read before them; `started_at` dates the "processing" timeline line."""

    request_id: str
    national_code: str
    tracking_code: str
    inputs: dict[str, Any]
    loaded: LoadedDefinition
    started_at: datetime


def today_in_tehran() -> date:
    return utcnow().astimezone(TEHRAN).date()


def decide_and_record(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    loaded: LoadedDefinition,
    facts: dict[str, Any],
) -> engine.Decision:
    """Evaluate the model on the facts and move the request: approved, refused, or to the agency's queue."""
    context = engine.decision_context(
        request.inputs, facts, national_code=request.national_code, today=today_in_tehran()
    )
    decision = engine.evaluate(loaded, context)
    with session.no_autoflush:  # the lookups below need none of it: the request is written once, at the end
        return _record(session, settings, request, loaded, facts, decision)


def _record(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    loaded: LoadedDefinition,
    facts: dict[str, Any],
    decision: engine.Decision,
) -> engine.Decision:
    request.facts = facts
    explained = decision.as_dict()
    detail = {"rules_fired": decision.rules_fired, "rule_version": decision.rule_version}
    outcomes = loaded.definition.outcomes
    if decision.decision == "refer" or (decision.decision == "approve" and not loaded.definition.is_smart):
        request.recommendation = explained
        service.transition(
            session,
            settings,
            request,
            S.IN_QUEUE,
            kind="queued",
            message_fa="مدارک برخط گردآوری شد؛ درخواست در کارتابل کارشناس دستگاه است",
            message_en="Evidence gathered; the request is in the agency's queue",
            detail=detail,
        )
        return decision
    request.decision = explained
    request.decided_automatically = True
    if decision.decision == "approve":
        name = service.subject_name(session, request)
        service.issue_outcome_document(session, settings, request, loaded, name)
        service.transition(
            session,
            settings,
            request,
            S.APPROVED,
            kind="approved",
            message_fa=outcomes.approve.fa,
            message_en=outcomes.approve.en,
            detail=detail,
        )
    else:
        reasons = "؛ ".join(r.reason_fa for r in decision.reasons) or "شرایط خدمت فراهم نیست"
        service.transition(
            session,
            settings,
            request,
            S.REFUSED,
            kind="refused",
            message_fa=f"{outcomes.refuse.fa} دلیل: {reasons}",
            message_en=outcomes.refuse.en,
            detail=detail,
        )
    return decision


PENDING = (S.SUBMITTED, S.WAITING, S.PROCESSING)


def _read_snapshot(ctx: jobs.JobContext, request_id: str) -> Snapshot | None:
    """The request as the inquiries need it, or None if it is no longer pending (a duplicate job).

    A read, not a write: the "processing" line is written with the outcome (see `_mark_processing`),
    so the inquiries start after one SELECT (outside a transaction on PostgreSQL) instead of a
    transaction of five statements. While they
    run the request still reads as submitted (or waiting); only the lease holder moves it on.
    """
    with one_statement(ctx.sessionmaker, writes=False) as session:
        # The version's body and model are read only the first time (loading caches them by digest).
        version = joinedload(ServiceRequest.definition).load_only(
            DefinitionRecord.slug, DefinitionRecord.digest
        )
        request = session.get(ServiceRequest, request_id, options=[version])
        if request is None or request.state not in PENDING:
            return None
        return Snapshot(
            request.id,
            request.national_code,
            request.tracking_code,
            dict(request.inputs),
            loading.loaded_from_record(request.definition),
            utcnow(),
        )


def _mark_processing(session: Session, settings: Settings, request: ServiceRequest, at: datetime) -> None:
    """The timeline line for the start of the inquiries, dated when they started, written in the
    transaction that records their outcome (a decision, or a wait for a registry)."""
    if request.state == S.PROCESSING:  # resumed after a crash that happened past the old mark
        return
    message = "استعلام‌ها از دستگاه‌ها آغاز شد" if request.state == S.SUBMITTED else "استعلام‌ها دوباره آغاز شد"
    service.transition(
        session,
        settings,
        request,
        S.PROCESSING,
        kind="processing",
        message_fa=message,
        message_en="Asking the registries",
        notify=False,
        at=at,
    )


@jobs.handler(service.PROCESS_JOB)
async def process_request(ctx: jobs.JobContext) -> None:
    """Fetch, decide, record; a registry that is down makes the request wait and retry with back-off.
    Database work runs in threads so that many requests in flight overlap their commits too."""
    settings: Settings = ctx.services["settings"]
    client: PlatformClient = ctx.services["exchange"]
    request_id = ctx.job.payload["request_id"]
    snapshot = await asyncio.to_thread(_read_snapshot, ctx, request_id)
    if snapshot is None:  # already decided: nothing to ask anyone
        await asyncio.to_thread(_finish_unneeded, ctx)
        return
    try:
        facts = await fetch_evidence(
            client,
            snapshot.loaded,
            national_code=snapshot.national_code,
            inputs=snapshot.inputs,
            case=snapshot.tracking_code,
        )
    except (EvidenceUnavailable, GrantMissing) as exc:
        await asyncio.to_thread(_wait, ctx, settings, snapshot, exc)
        return
    await asyncio.to_thread(_decide, ctx, settings, request_id, snapshot, facts)


def _finish_unneeded(ctx: jobs.JobContext) -> None:
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.complete(session)


def _decide(
    ctx: jobs.JobContext, settings: Settings, request_id: str, snapshot: Snapshot, facts: dict[str, Any]
) -> None:
    with unit_of_work(ctx.sessionmaker) as session:
        # No lease renewal first: `complete` below proves the lease in the same transaction and rolls
        # the decision back if another worker has taken the job meanwhile.
        request = _load_for_decision(session, request_id)
        if request is not None and request.state in PENDING:
            _mark_processing(session, settings, request, snapshot.started_at)
            decide_and_record(session, settings, request, snapshot.loaded, facts)
        ctx.complete(session)  # in the same transaction as the decision: never decided twice


def _load_for_decision(session: Session, request_id: str) -> ServiceRequest | None:
    """The request with the citizen it names and the agency that decides it, in one statement: the
    document and the notices look both up by code and find them in the session (see
    `core.db.already_loaded`) instead of asking the database twice more."""
    row = session.execute(
        select(ServiceRequest, Citizen, Agency)
        .outerjoin(Citizen, Citizen.national_code == ServiceRequest.national_code)
        .outerjoin(Agency, Agency.code == ServiceRequest.agency_code)
        .where(ServiceRequest.id == request_id)
    ).first()
    return None if row is None else row[0]


def _wait(ctx: jobs.JobContext, settings: Settings, snapshot: Snapshot, exc: Exception) -> None:
    delay = jobs.backoff(ctx.job.attempts, base=ctx.backoff_base)
    if isinstance(exc, EvidenceUnavailable):
        what = f"سامانهٔ «{exc.evidence.label.fa}» پاسخ نداد"
        detail = {"service": exc.evidence.service, "error": exc.detail, "retry_in_seconds": round(delay, 1)}
    else:
        what = "مجوز استعلام برقرار نیست"
        detail = {"error": str(exc), "retry_in_seconds": round(delay, 1)}
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        request = session.get(ServiceRequest, snapshot.request_id)
        if request is None:
            ctx.complete(session)
            return
        request.attempts += 1
        if request.state in PENDING:
            _mark_processing(session, settings, request, snapshot.started_at)
            service.transition(
                session,
                settings,
                request,
                S.WAITING,
                kind="waiting",
                message_fa=f"{what}؛ درخواست شما محفوظ است و خودکار دوباره تلاش می‌شود",
                message_en="A registry did not answer; retrying automatically",
                detail=detail,
            )
        ctx.reschedule(session, str(exc), delay)
