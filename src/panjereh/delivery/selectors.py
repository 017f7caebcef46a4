"""Reads: a citizen's requests (only their own), an agency's queue, and the figures analytics uses."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound as CardNotFound
from panjereh.delivery import tracking
from panjereh.delivery.constants import DefinitionStatus, RequestState
from panjereh.delivery.exceptions import DefinitionNotFound, RequestNotFound, ServiceNotExecutable
from panjereh.delivery.models import DefinitionRecord, ServiceRequest
from panjereh.identity import constants as levels

QUEUE_STATES = (RequestState.IN_QUEUE, RequestState.IN_REVIEW, RequestState.NEEDS_INFO)


def requests_of(session: Session, national_code: str, limit: int = 100) -> Sequence[ServiceRequest]:
    """The citizen's own requests, newest first."""
    return session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.national_code == national_code)
        .order_by(ServiceRequest.created_at.desc())
        .limit(limit)
    ).all()


def request_of(session: Session, national_code: str, tracking_code: str) -> ServiceRequest:
    """One of the citizen's requests with its timeline; someone else's is simply not found."""
    code = tracking.normalize(tracking_code)
    request = session.scalar(
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.events))
        .where(ServiceRequest.tracking_code == code, ServiceRequest.national_code == national_code)
    )
    if request is None:
        raise RequestNotFound()
    return request


def request_by_tracking_code(session: Session, tracking_code: str) -> ServiceRequest:
    """Any request by its code (officers and jobs; never shown to a citizen without an owner check)."""
    request = session.scalar(
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.events))
        .where(ServiceRequest.tracking_code == tracking.normalize(tracking_code))
    )
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
    """Figures per service slug for requests created in [since, until)."""
    rows = session.execute(
        select(
            ServiceRequest.slug,
            ServiceRequest.agency_code,
            ServiceRequest.decided_automatically,
            ServiceRequest.human_touched,
            ServiceRequest.created_at,
            ServiceRequest.decided_at,
        ).where(ServiceRequest.created_at >= since, ServiceRequest.created_at < until)
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
