"""Reads: a citizen's requests (only their own), an agency's queue, and the figures analytics uses."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session, selectinload

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound as CardNotFound
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import tracking
from panjereh.delivery.constants import DefinitionStatus, RequestState
from panjereh.delivery.definitions import concept_providers
from panjereh.delivery.exceptions import DefinitionNotFound, RequestNotFound, ServiceNotExecutable
from panjereh.delivery.grants import MissingGrant, missing_grants
from panjereh.delivery.models import DefinitionRecord, RequestEvent, ServiceRequest
from panjereh.identity import constants as levels

# What a definition reads that its agency holds no grant for (the editor's warning): a read, named here for
# the pages; the rule lives in `delivery.grants`.
__all__ = ["MissingGrant", "missing_grants"]

QUEUE_STATES = (RequestState.IN_QUEUE, RequestState.IN_REVIEW, RequestState.NEEDS_INFO)


def _mine(national_code: str) -> ColumnElement[bool]:
    """A request is the subject's and, when someone acted for the subject, that actor's too."""
    return or_(ServiceRequest.national_code == national_code, ServiceRequest.acted_by == national_code)


def requests_for_subject(session: Session, subject_code: str, limit: int = 100) -> Sequence[ServiceRequest]:
    """Every request whose subject this is (a child's, a company's), by whomever made it, newest first.
    The caller has checked that the reader may act for the subject."""
    return session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.national_code == subject_code, ServiceRequest.sandbox.is_(False))
        .order_by(ServiceRequest.created_at.desc())
        .limit(limit)
    ).all()


def requests_of(session: Session, national_code: str, limit: int = 100) -> Sequence[ServiceRequest]:
    """The citizen's requests, those made for him and those he made for others, newest first (never a
    sandbox request: a dry run for a test persona)."""
    return session.scalars(
        select(ServiceRequest)
        .where(_mine(national_code), ServiceRequest.sandbox.is_(False))
        .order_by(ServiceRequest.created_at.desc())
        .limit(limit)
    ).all()


def request_of(
    session: Session, national_code: str, tracking_code: str, *, for_update: bool = False
) -> ServiceRequest:
    """One of the citizen's requests with its timeline; someone else's is simply not found.

    `for_update`: locked for the caller's transaction, for a change made from the state read here (an
    answer, a payment started): a withdrawal or a decision committed meanwhile is waited for and seen."""
    code = tracking.normalize(tracking_code)
    query = (
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.events))
        .where(
            ServiceRequest.tracking_code == code,
            _mine(national_code),
            ServiceRequest.sandbox.is_(False),
        )
    )
    request = session.scalar(query.with_for_update() if for_update else query)
    if request is None:
        raise RequestNotFound()
    return request


def request_by_tracking_code(
    session: Session, tracking_code: str, *, sandbox: bool = False, for_update: bool = False
) -> ServiceRequest:
    """Any request of one environment by its code (officers and jobs: production's; the authoring side:
    `sandbox=True`); never shown to a citizen without an owner check. An officer never reaches a dry run.
    `for_update` as for `request_of` (an officer's act: a withdrawal committed meanwhile is seen)."""
    query = (
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.events))
        .where(
            ServiceRequest.tracking_code == tracking.normalize(tracking_code),
            ServiceRequest.sandbox.is_(sandbox),
        )
    )
    request = session.scalar(query.with_for_update() if for_update else query)
    if request is None:
        raise RequestNotFound()
    return request


def published_definitions(session: Session) -> Sequence[DefinitionRecord]:
    """Every service's published version (what citizens apply to), by slug."""
    return session.scalars(
        select(DefinitionRecord)
        .where(DefinitionRecord.status == DefinitionStatus.PUBLISHED)
        .order_by(DefinitionRecord.slug)
    ).all()


def published_definition(session: Session, slug: str) -> DefinitionRecord:
    """The published version of a service's definition; a service without one is not executable."""
    record = session.scalar(
        select(DefinitionRecord).where(
            DefinitionRecord.slug == slug, DefinitionRecord.status == DefinitionStatus.PUBLISHED
        )
    )
    if record is None:
        raise ServiceNotExecutable(
            f"no published definition for {slug!r}", f"خدمت «{slug}» تعریف اجرایی منتشرشده ندارد"
        )
    return record


def definitions_of_agency(session: Session, agency_code: str) -> Sequence[DefinitionRecord]:
    """Every version of an agency's definitions (drafts included), by slug, newest version first."""
    return session.scalars(
        select(DefinitionRecord)
        .where(DefinitionRecord.agency_code == agency_code)
        .order_by(DefinitionRecord.slug, DefinitionRecord.version.desc())
    ).all()


def definition_version(session: Session, definition_id: str) -> DefinitionRecord:
    """One stored version by its id, whatever its status (the caller checks the agency)."""
    record = session.get(DefinitionRecord, definition_id)
    if record is None:
        raise DefinitionNotFound()
    return record


def versions_of(session: Session, slug: str) -> Sequence[DefinitionRecord]:
    """Every version of one service's definition, newest first."""
    return session.scalars(
        select(DefinitionRecord)
        .where(DefinitionRecord.slug == slug)
        .order_by(DefinitionRecord.version.desc())
    ).all()


def smart_slugs(session: Session) -> frozenset[str]:
    """The services whose published definition derives level 5: the only ones badged smart."""
    return frozenset(
        session.scalars(
            select(DefinitionRecord.slug).where(
                DefinitionRecord.status == DefinitionStatus.PUBLISHED, DefinitionRecord.derived_level == 5
            )
        )
    )


@dataclass(frozen=True)
class RequestStats:
    """Per service: how many requests, decided by the engine alone, touched by a human, median time."""

    slug: str
    agency_code: str
    requests: int
    decided_automatically: int
    human_touched: int
    median_seconds_to_decision: float | None


def request_stats(session: Session, since: datetime, until: datetime) -> list[RequestStats]:
    """Figures per service slug for requests created in [since, until); sandbox requests are no figures."""
    rows = session.execute(
        select(
            ServiceRequest.slug,
            ServiceRequest.agency_code,
            ServiceRequest.decided_automatically,
            ServiceRequest.human_touched,
            ServiceRequest.created_at,
            ServiceRequest.decided_at,
        ).where(
            ServiceRequest.created_at >= since,
            ServiceRequest.created_at < until,
            ServiceRequest.sandbox.is_(False),
        )
    ).all()
    grouped: dict[tuple[str, str], list[tuple[bool, bool, float | None]]] = {}
    for slug, agency, auto, human, created, decided in rows:
        seconds = (decided - created).total_seconds() if decided is not None else None
        grouped.setdefault((slug, agency), []).append((auto, human, seconds))
    stats = []
    for (slug, agency), items in sorted(grouped.items()):
        durations = [s for _, _, s in items if s is not None]
        stats.append(
            RequestStats(
                slug=slug,
                agency_code=agency,
                requests=len(items),
                decided_automatically=sum(1 for a, _, _ in items if a),
                human_touched=sum(1 for _, h, _ in items if h),
                median_seconds_to_decision=statistics.median(durations) if durations else None,
            )
        )
    return stats


@dataclass(frozen=True)
class DecisionTimes:
    """Per agency: requests decided, and the median seconds from submission to decision over them."""

    agency_code: str
    decided: int
    median_seconds: float


def decision_times(session: Session, since: datetime, until: datetime) -> list[DecisionTimes]:
    """Time to decision per agency for requests created in [since, until) that have been decided.

    The median over the agency's requests themselves (not a median of per-service medians): a busy
    service weighs as much as its requests do. Requests still undecided are left out, so a month's
    figure can still grow as late decisions arrive."""
    rows = session.execute(
        select(ServiceRequest.agency_code, ServiceRequest.created_at, ServiceRequest.decided_at).where(
            ServiceRequest.created_at >= since,
            ServiceRequest.created_at < until,
            ServiceRequest.decided_at.is_not(None),
            ServiceRequest.sandbox.is_(False),
        )
    ).all()
    durations: dict[str, list[float]] = {}
    for agency, created, decided in rows:
        if decided is not None:  # the query says so; the type does not
            durations.setdefault(agency, []).append(max((decided - created).total_seconds(), 0.0))
    return [
        DecisionTimes(agency_code=agency, decided=len(items), median_seconds=statistics.median(items))
        for agency, items in sorted(durations.items())
    ]


@dataclass(frozen=True)
class EvidenceSources:
    """Per agency: the evidence its published service definitions ask for, counted by source."""

    agency_code: str
    counts: dict[str, int]  # Source value → pieces of evidence ("inquiry", "upload", "in_person", …)

    def count(self, *sources: str) -> int:
        return sum(self.counts.get(source, 0) for source in sources)


def evidence_sources(session: Session) -> list[EvidenceSources]:
    """How each agency's executable services obtain their evidence, from the published definitions."""
    counts: dict[str, dict[str, int]] = {}
    for record in published_definitions(session):
        per_agency = counts.setdefault(record.agency_code, {})
        for item in record.body.get("evidence", []):
            per_agency[item["source"]] = per_agency.get(item["source"], 0) + 1
    return [EvidenceSources(agency, dict(sorted(c.items()))) for agency, c in sorted(counts.items())]


# Evidence asked of the person applying (a field, a document, a visit); an officer's decision ("human")
# is a step of the process, not evidence the citizen brings.
ASKED_OF_CITIZEN = ("citizen", "upload", "in_person")


@dataclass(frozen=True)
class NotByInquiry:
    """One piece of evidence a published definition does not obtain by inquiry, and the data service whose
    concept it is (None when no data service provides it)."""

    slug: str
    definition_id: str
    title_fa: str
    title_en: str
    key: str
    label_fa: str
    label_en: str
    source: str
    provider: str | None

    @property
    def asked_of_citizen(self) -> bool:
        return self.source in ASKED_OF_CITIZEN


def not_by_inquiry(session: Session, agency_code: str) -> list[NotByInquiry]:
    """Every piece of evidence the agency's published definitions obtain otherwise than by inquiry."""
    providers = concept_providers()
    found = []
    for record in session.scalars(
        select(DefinitionRecord)
        .where(
            DefinitionRecord.agency_code == agency_code, DefinitionRecord.status == DefinitionStatus.PUBLISHED
        )
        .order_by(DefinitionRecord.slug)
    ):
        for item in record.body.get("evidence", []):
            if item["source"] == "inquiry":
                continue
            label = item.get("label") or {}
            concept = item.get("concept")
            found.append(
                NotByInquiry(
                    slug=record.slug,
                    definition_id=record.id,
                    title_fa=record.title_fa,
                    title_en=record.title_en,
                    key=item["key"],
                    label_fa=label.get("fa", item["key"]),
                    label_en=label.get("en") or label.get("fa", item["key"]),
                    source=item["source"],
                    provider=providers.get(concept) if concept else None,
                )
            )
    return found


def observed_flags(stats: RequestStats, *, is_smart: bool, objective_seconds: int) -> list[str]:
    """What requests actually did, against what the definition promises (smart: instant, no human)."""
    flags = []
    if is_smart and stats.human_touched:
        flags.append("smart_but_human_touched")
    if stats.median_seconds_to_decision is not None and stats.median_seconds_to_decision > objective_seconds:
        flags.append("time_objective_missed")
    return flags


def required_level(session: Session, slug: str) -> int:
    """The assurance level a service's catalog card requires to apply (an uncarded one: the default)."""
    try:
        return catalog_selectors.get_service_by_slug(session, slug).assurance_level
    except CardNotFound:
        return levels.LEVEL_SMS


def fee_of(session: Session, slug: str) -> int:
    """The fee in rials a service's catalog card states (an uncarded service: none)."""
    try:
        return int(catalog_selectors.get_service_by_slug(session, slug).cost_rials or 0)
    except CardNotFound:
        return 0


def review_can_be_asked(settings: Settings, request: ServiceRequest, now: datetime | None = None) -> bool:
    """An automatic refusal the citizen may still send to a human: within `review_window_days` of the
    decision (once: a reviewed refusal is an officer's, not automatic)."""
    if request.state is not RequestState.REFUSED or not request.decided_automatically:
        return False
    if request.decided_at is None:
        return True
    return request.decided_at >= (now or utcnow()) - timedelta(days=settings.review_window_days)


def finally_refused(settings: Settings, among: Select[Any], now: datetime | None = None) -> Select[Any]:
    """The ids, among the request ids `among` selects (another domain's rows: payments), of requests whose
    refusal is final: refused by an officer, or refused automatically and past the review window (no
    review can still be asked: `review_can_be_asked`). A statement, so the caller pages it in SQL."""
    bound = (now or utcnow()) - timedelta(days=settings.review_window_days)
    return select(ServiceRequest.id).where(
        ServiceRequest.id.in_(among),
        ServiceRequest.state == RequestState.REFUSED,
        or_(
            ServiceRequest.decided_automatically.is_(False),
            and_(ServiceRequest.decided_at.is_not(None), ServiceRequest.decided_at < bound),
        ),
    )


def withdrawn(among: Select[Any]) -> Select[Any]:
    """The ids, among the request ids `among` selects, of withdrawn requests (final at once: a withdrawal
    is the citizen's own act, with no review window to wait for)."""
    return select(ServiceRequest.id).where(
        ServiceRequest.id.in_(among), ServiceRequest.state == RequestState.WITHDRAWN
    )


def approved(among: Select[Any]) -> Select[Any]:
    """The ids, among the request ids `among` selects, of approved requests (a fee paid for them is kept)."""
    return select(ServiceRequest.id).where(
        ServiceRequest.id.in_(among), ServiceRequest.state == RequestState.APPROVED
    )


def fee_refunded(session: Session, request: ServiceRequest) -> bool:
    """The request's fee was given back: its latest payment line on the timeline is a reversal (a later
    payment would be a «paid» line)."""
    kind = session.scalar(
        select(RequestEvent.kind)
        .where(RequestEvent.request_id == request.id, RequestEvent.kind.in_(("paid", "payment_reversed")))
        .order_by(RequestEvent.seq.desc())
        .limit(1)
    )
    return kind == "payment_reversed"


def requests_by_ids(session: Session, ids: list[str]) -> dict[str, ServiceRequest]:
    """Requests by id (another domain's rows that name them: payments)."""
    if not ids:
        return {}
    rows = session.scalars(select(ServiceRequest).where(ServiceRequest.id.in_(ids)))
    return {row.id: row for row in rows}


def request_for_update(session: Session, request_id: str) -> ServiceRequest | None:
    """One request by id, locked for the caller's transaction (SQLite's writer lock serializes anyway)."""
    return session.scalars(
        select(ServiceRequest).where(ServiceRequest.id == request_id).with_for_update()
    ).first()
