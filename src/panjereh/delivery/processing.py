"""The smart engine at work: a request's evidence fetched in parallel through the exchange, the model
evaluated, the outcome recorded (document, queue or refusal) — as a durable, resumable job."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import one_statement, take_wait_slot, unit_of_work, utcnow
from panjereh.core.jalali import tehran_today
from panjereh.delivery import engine, loading, service
from panjereh.delivery.constants import RequestState
from panjereh.delivery.definitions import Evidence, LoadedDefinition
from panjereh.delivery.exceptions import DecisionModelFailed
from panjereh.delivery.models import DefinitionRecord, ServiceRequest
from panjereh.delivery.service import Snapshot
from panjereh.documents import service as documents_service
from panjereh.exchange.exceptions import (
    GrantMissing,
    InvalidInquiry,
    ProviderUnavailable,
    ServiceNotFound,
    SubjectMismatch,
    WrongMethod,
)

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency
    from panjereh.exchange.client import PlatformClient
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


class DefinitionBroken(Exception):  # noqa: N818 — carries what is wrong with the definition
    """The definition cannot run (a model that does not compile, a data service the exchange does not
    publish, parameters it refuses): found before any inquiry is made; no retry can mend it."""

    def __init__(self, detail: str, service: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.service = service


async def prepare_evidence(
    client: PlatformClient,
    loaded: LoadedDefinition,
    *,
    national_code: str,
    inputs: dict[str, Any],
    case: str,
    purpose: str | None = None,
) -> list[tuple[Evidence, Any]]:
    """Check the model and every inquiry of the definition before any is sent.

    `purpose` is the service's own (`delivery:<slug>`) unless a dry run names a sandbox one.

    Raises DefinitionBroken for what no retry mends, GrantMissing for a grant that may yet be given."""
    try:
        engine.compiled_for(loaded)
    except Exception as exc:  # zen reports a model it cannot load as a plain runtime error
        raise DefinitionBroken(f"the decision model does not compile: {exc}") from exc

    async def one(item: Evidence) -> tuple[Evidence, Any]:
        assert item.service is not None
        try:
            call = await client.aprepare(
                item.service,
                subject=national_code,
                purpose=purpose or f"delivery:{loaded.slug}",
                case=case,
                path_params=path_params(item, national_code, inputs),
            )
        except (ServiceNotFound, WrongMethod, InvalidInquiry, SubjectMismatch) as exc:
            raise DefinitionBroken(f"{item.service}: {exc.detail_en or exc.title_en}", item.service) from exc
        return item, call

    return list(await asyncio.gather(*(one(item) for item in loaded.definition.inquiries)))


async def send_evidence(client: PlatformClient, calls: list[tuple[Evidence, Any]]) -> dict[str, Any]:
    """Every prepared inquiry, in parallel; 404 is a fact, an unavailable provider is not."""

    async def one(item: Evidence, call: Any) -> tuple[str, Any]:
        try:
            result = await client.asend(call)
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

    pairs = await asyncio.gather(*(one(item, call) for item, call in calls))
    return dict(pairs)


async def fetch_evidence(
    client: PlatformClient,
    loaded: LoadedDefinition,
    *,
    national_code: str,
    inputs: dict[str, Any],
    case: str,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Every inquiry of the definition: all checked first (`prepare_evidence`), then sent in parallel."""
    calls = await prepare_evidence(
        client, loaded, national_code=national_code, inputs=inputs, case=case, purpose=purpose
    )
    return await send_evidence(client, calls)


def decide_and_record(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    loaded: LoadedDefinition,
    facts: dict[str, Any],
    *,
    document_number: str | None = None,
) -> engine.Decision | None:
    """Evaluate the model on the facts and move the request: approved, refused, or to the agency's queue.

    None when the model cannot decide on these facts (an error, an answer that is no decision): the
    request is handed to people (`service.hand_to_people`) instead of failing on every retry.
    `document_number`: the number for the document an approval issues, if taken beforehand."""
    context = engine.decision_context(
        request.inputs, facts, national_code=request.national_code, today=tehran_today(utcnow())
    )
    try:
        decision = engine.evaluate(loaded, context)
    except DecisionModelFailed as exc:  # the same facts would fail again: people decide instead
        request.facts = facts
        service.hand_to_people(session, settings, request, reason="undecidable", detail={"error": str(exc)})
        return None
    with session.no_autoflush:  # the lookups below need none of it: the request is written once, at the end
        return _record(session, settings, request, loaded, facts, decision, document_number)


def _record(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    loaded: LoadedDefinition,
    facts: dict[str, Any],
    decision: engine.Decision,
    document_number: str | None,
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
        service.issue_outcome_document(session, settings, request, loaded, name, number=document_number)
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

    Only for a job that was claimed: one handed over by the submission carries its snapshot (see
    `service.submit`). A read, not a write: the "processing" line is written with the outcome (see
    `_mark_processing`), so the inquiries start after one SELECT (outside a transaction on PostgreSQL).
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


async def process_request(ctx: jobs.JobContext) -> None:
    """Fetch, decide, record; a registry that is down makes the request wait and retry with back-off.

    While the registries are being asked, the transaction that will record the outcome is opened
    beside them (see `_Outcome`), so that once the facts are in only the decision itself is left.
    Database work runs in threads so that many requests in flight overlap their commits too."""
    settings: Settings = ctx.services["settings"]
    client: PlatformClient = ctx.services["exchange"]
    snapshot = ctx.job.hint if isinstance(ctx.job.hint, Snapshot) else None
    if snapshot is None:
        snapshot = await asyncio.to_thread(_read_snapshot, ctx, ctx.job.payload["request_id"])
    if snapshot is None:  # already decided: nothing to ask anyone
        await asyncio.to_thread(_finish_unneeded, ctx)
        return
    started_at = utcnow()
    try:
        calls = await prepare_evidence(
            client,
            snapshot.loaded,
            national_code=snapshot.national_code,
            inputs=snapshot.inputs,
            case=snapshot.tracking_code,
        )
    except DefinitionBroken as exc:  # nothing was asked of anyone, and no retry would mend it
        detail = {"error": exc.detail, **({"service": exc.service} if exc.service else {})}
        await asyncio.to_thread(_hand_over, ctx, settings, snapshot.request_id, "definition_error", detail)
        return
    except GrantMissing as exc:
        await asyncio.to_thread(_wait, ctx, settings, snapshot, started_at, exc)
        return
    inquiries = asyncio.ensure_future(send_evidence(client, calls))
    outcome = _Outcome(ctx, settings, snapshot, started_at)
    try:
        if outcome.opens_early:
            await asyncio.sleep(0)  # the inquiries leave first: the thread below competes for the GIL
            if not await asyncio.to_thread(outcome.open):  # no longer pending: nothing to decide
                await _abandon(inquiries)
                return
        facts = await inquiries
    except (EvidenceUnavailable, GrantMissing) as exc:
        await asyncio.to_thread(outcome.roll_back)
        await asyncio.to_thread(_wait, ctx, settings, snapshot, started_at, exc)
        return
    except BaseException:
        await _abandon(inquiries)
        await asyncio.to_thread(outcome.roll_back)
        raise
    await asyncio.to_thread(outcome.record, facts)


async def _abandon(inquiries: asyncio.Future[dict[str, Any]]) -> None:
    inquiries.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await inquiries


def _finish_unneeded(ctx: jobs.JobContext) -> None:
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.complete(session)


class _Outcome:
    """The transaction that records a request's outcome and finishes its job, in two halves.

    `open` locks the request, writes the "processing" line, marks the job done (which proves the
    lease) and takes a number for the document an approval would issue. `record` decides on the
    facts, writes the decision and commits. Where a transaction can stay open without holding back
    other writers (PostgreSQL: row locks), `open` runs while the registries are being asked; on
    SQLite, whose write lock is the whole database's, it runs just before `record`. Nothing is
    visible before the commit: a crash or a failed inquiry rolls all of it back, and the job's lease
    brings it back.
    """

    def __init__(self, ctx: jobs.JobContext, settings: Settings, snapshot: Snapshot, started_at: datetime):
        self.ctx = ctx
        self.settings = settings
        self.snapshot = snapshot
        self.started_at = started_at
        self._slot = take_wait_slot(ctx.sessionmaker)  # given back when the transaction ends
        self.opens_early = self._slot is not None
        self._transaction: contextlib.ExitStack | None = None
        self._session: Session | None = None
        self._document_number: str | None = None
        # The request with its citizen and agency: held so the session keeps them (see `_load_for_decision`).
        self._row: tuple[ServiceRequest, Citizen | None, Agency | None] | None = None

    def open(self) -> bool:
        """Begin, lock the request and finish the job; False (and committed) if it is no longer pending."""
        self._transaction = contextlib.ExitStack()
        session = self._session = self._transaction.enter_context(unit_of_work(self.ctx.sessionmaker))
        try:
            self._row = _load_for_decision(session, self.snapshot.request_id)
            pending = self._row is not None and self._row[0].state in PENDING
            if pending:
                assert self._row is not None
                _mark_processing(session, self.settings, self._row[0], self.started_at)
                if self.snapshot.loaded.definition.outcomes.document is not None:
                    self._document_number = documents_service.unused_number(session, utcnow())
            # In the same transaction as the decision: never decided twice. No lease renewal first:
            # this proves the lease, and the decision rolls back if another worker has taken the job.
            self.ctx.complete(session)
            session.flush()  # sent now, while the registries are being asked
        except BaseException:
            self.roll_back()
            raise
        if not pending:
            self._commit()
        return pending

    def record(self, facts: dict[str, Any]) -> None:
        """Decide on the facts, write the outcome, commit."""
        if self._transaction is None and not self.open():
            return
        assert self._session is not None and self._row is not None
        try:
            decide_and_record(
                self._session,
                self.settings,
                self._row[0],
                self.snapshot.loaded,
                facts,
                document_number=self._document_number,
            )
        except BaseException:
            self.roll_back()
            raise
        self._commit()

    def _commit(self) -> None:
        transaction, self._transaction, self._session, self._row = self._transaction, None, None, None
        try:
            if transaction is not None:
                transaction.close()  # the unit of work's normal end: commit
        finally:
            self._give_back_slot()

    def roll_back(self) -> None:
        transaction, self._transaction, self._session, self._row = self._transaction, None, None, None
        try:
            if transaction is not None:
                transaction.__exit__(_RolledBack, _RolledBack(), None)  # the unit of work rolls back
                self.ctx.finished = False  # the job's completion was rolled back with the rest
        finally:
            self._give_back_slot()

    def _give_back_slot(self) -> None:
        slot, self._slot = self._slot, None
        if slot is not None:
            slot()


class _RolledBack(Exception):
    """Ends an open outcome without committing it (the unit of work rolls back on any exception)."""


def _load_for_decision(
    session: Session, request_id: str
) -> tuple[ServiceRequest, Citizen | None, Agency | None] | None:
    """The request, locked, with the citizen it names and the agency that decides it, in one statement:
    the document and the notices look both up by code and find them in the session (see
    `core.db.already_loaded`) instead of asking the database twice more.

    The caller keeps the whole row while it works: the session's identity map holds unchanged objects
    only weakly, so a citizen and agency nobody references would be gone before the lookups ran. The
    lock keeps a citizen's or officer's change to the request from being overwritten by the decision."""
    request = session.scalars(
        select(ServiceRequest)
        .options(joinedload(ServiceRequest.citizen), joinedload(ServiceRequest.agency))
        .where(ServiceRequest.id == request_id)
        .with_for_update(of=ServiceRequest)
    ).first()
    return None if request is None else (request, request.citizen, request.agency)


def _wait(
    ctx: jobs.JobContext, settings: Settings, snapshot: Snapshot, started_at: datetime, exc: Exception
) -> None:
    delay = jobs.backoff(ctx.job.attempts, base=ctx.backoff_base)
    if isinstance(exc, EvidenceUnavailable):
        what = f"سامانهٔ «{exc.evidence.label.fa}» پاسخ نداد"
        detail = {"service": exc.evidence.service, "error": exc.detail, "retry_in_seconds": round(delay, 1)}
    else:
        what = "مجوز استعلام برقرار نیست"
        detail = {"error": str(exc), "retry_in_seconds": round(delay, 1)}
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        # Locked and read afresh: a withdrawal committed meanwhile is seen here, never overwritten.
        request = session.get(ServiceRequest, snapshot.request_id, with_for_update=True)
        if request is None:
            ctx.complete(session)
            return
        request.attempts += 1
        if ctx.job.attempts >= ctx.job.max_attempts:  # the last attempt: people take over, no more asking
            detail.pop("retry_in_seconds")
            service.hand_to_people(
                session,
                settings,
                request,
                reason="retries_exhausted",
                detail={**detail, "attempts": ctx.job.attempts},
            )
            ctx.fail(session, str(exc))
            return
        if request.state in PENDING:
            _mark_processing(session, settings, request, started_at)
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


def _hand_over(
    ctx: jobs.JobContext, settings: Settings, request_id: str, reason: str, detail: dict[str, Any]
) -> None:
    """Give the request to people (`service.hand_to_people`) and finish the job, in one transaction."""
    with unit_of_work(ctx.sessionmaker) as session:
        ctx.hold(session)
        request = session.get(ServiceRequest, request_id, with_for_update=True)  # see `_wait`
        if request is not None:
            service.hand_to_people(session, settings, request, reason=reason, detail=detail)
        ctx.complete(session)


def on_job_failed(session: Session, ctx: jobs.JobContext, reason: str) -> None:
    """The processing job's last attempt failed (a fault no one foresaw): the request goes to people."""
    request = session.get(ServiceRequest, ctx.job.payload["request_id"], with_for_update=True)  # see `_wait`
    if request is not None:
        settings: Settings = ctx.services["settings"]
        service.hand_to_people(
            session,
            settings,
            request,
            reason="job_failed",
            detail={"error": reason[:500], "attempts": ctx.job.attempts},
        )


def sweep_stuck(factory: sessionmaker[Session], settings: Settings) -> int:
    """Hand to people every request the platform has held past the bound, whatever held it; how many."""
    with unit_of_work(factory) as session:
        stuck = service.stuck_requests(session, settings)
    moved = 0
    for request_id in stuck:  # one transaction each: a request being decided right now is waited for
        with unit_of_work(factory) as session:
            moved += service.hand_over_if_stuck(session, settings, request_id)
    return moved
