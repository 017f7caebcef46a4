"""Reads for the officers' workbench: whom a request is about (separation of duties), the queue with
age, deadline and filters. Apart from `selectors` because they read the definition a request was
decided under (`loading`), which itself reads through `selectors`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from panjereh.core.db import utcnow
from panjereh.delivery import loading
from panjereh.delivery.constants import RequestState
from panjereh.delivery.definitions import Evidence
from panjereh.delivery.models import ServiceRequest
from panjereh.delivery.selectors import QUEUE_STATES


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
        ServiceRequest.agency_code == agency_code,
        ServiceRequest.state.in_(QUEUE_STATES),
        ServiceRequest.sandbox.is_(False),  # a dry run's referral is no officer's work
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
            ServiceRequest.sandbox.is_(False),
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
