"""Reads: a citizen's requests (only their own), an agency's queue, and the figures analytics uses."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog.exceptions import ServiceNotFound as CardNotFound
from panjereh.core.db import utcnow
from panjereh.delivery import loading, tracking
from panjereh.delivery.constants import DefinitionStatus, RequestState
from panjereh.delivery.definitions import Evidence
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


def people_of(request: ServiceRequest) -> frozenset[str]:
    """Whom a request is about: the applicant, and anyone its inputs name for an inquiry about them (a
    `{inputs.key}` national-code path parameter of its evidence, such as a child's)."""
    inquiries = loading.loaded_from_record(request.definition).definition.inquiries
    return people_named(request.national_code, request.inputs, inquiries)


def people_named(national_code: str, inputs: dict[str, Any], inquiries: Iterable[Evidence]) -> frozenset[str]:
    """The applicant and the people the inputs name in the inquiries' national-code parameters."""
    named = {
        str(inputs.get(template.strip("{}").split(".", 1)[1], ""))
        for item in inquiries
        for name, template in item.path_params.items()
        if template.startswith("{inputs.") and "national_code" in name  # a person, not an address
    }
    return frozenset({national_code, *(code for code in named if code)})


def queue(
    session: Session, agency_code: str, limit: int = 200, *, officer_national_code: str | None = None
) -> Sequence[ServiceRequest]:
    """The agency's work queue: waiting, taken and waiting-for-the-citizen, oldest first.

    For an officer (`officer_national_code`), without the requests they applied for or are the subject of
    (separation of duties: `service.take` refuses those anyway)."""
    query = select(ServiceRequest).where(
        ServiceRequest.agency_code == agency_code, ServiceRequest.state.in_(QUEUE_STATES)
    )
    if officer_national_code is not None:
        query = query.where(ServiceRequest.national_code != officer_national_code)
    rows = session.scalars(query.order_by(ServiceRequest.created_at).limit(limit)).all()
    if officer_national_code is None:
        return rows
    return [row for row in rows if officer_national_code not in people_of(row)]


@dataclass(frozen=True)
class WorkItem:
    """A request as the officer's workbench lists it: who applied, how old, by when, and for whom."""

    request: ServiceRequest
    title_fa: str
    title_en: str
    applicant_name: str
    age_seconds: float
    deadline: datetime
    overdue: bool
    assigned_to: str | None


def applicant_name(request: ServiceRequest) -> str:
    """The applicant's name: the registered citizen's, else the civil registry's answer, else the code."""
    if request.citizen is not None:
        return str(request.citizen.display_name)
    person = (request.facts or {}).get("person") or {}
    name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
    return name or request.national_code


def deadline_of(request: ServiceRequest) -> datetime:
    """When the request is due: its submission plus the service's time objective."""
    loaded = loading.loaded_from_record(request.definition)
    return request.created_at + timedelta(seconds=loaded.definition.time_objective.seconds)


def workbench(
    session: Session,
    agency_code: str,
    officer_national_code: str,
    *,
    state: str | None = None,
    slug: str | None = None,
    overdue: bool = False,
    mine: bool = False,
    now: datetime | None = None,
    limit: int = 200,
) -> list[WorkItem]:
    """The agency's queue for one officer (never a request about them), with filters: a state of the queue,
    a service, only past the service's time objective, only those assigned to this officer."""
    now = now or utcnow()
    query = (
        select(ServiceRequest)
        .options(joinedload(ServiceRequest.citizen), joinedload(ServiceRequest.definition))
        .where(
            ServiceRequest.agency_code == agency_code,
            ServiceRequest.state.in_(QUEUE_STATES),
            ServiceRequest.national_code != officer_national_code,
        )
    )
    if state in {s.value for s in QUEUE_STATES}:
        query = query.where(ServiceRequest.state == RequestState(state))
    if slug:
        query = query.where(ServiceRequest.slug == slug)
    if mine:
        query = query.where(ServiceRequest.officer_national_code == officer_national_code)
    items = []
    for request in session.scalars(query.order_by(ServiceRequest.created_at).limit(limit)).unique():
        if officer_national_code in people_of(request):
            continue
        due = deadline_of(request)
        if overdue and due > now:
            continue
        items.append(
            WorkItem(
                request=request,
                title_fa=request.definition.title_fa,
                title_en=request.definition.title_en,
                applicant_name=applicant_name(request),
                age_seconds=(now - request.created_at).total_seconds(),
                deadline=due,
                overdue=due <= now,
                assigned_to=request.officer_national_code,
            )
        )
    return items


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
