"""ثبت احوال: identity details, identity match and the life-events feed."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from panjereh.registries.events import tehran_midnight
from panjereh.registries.family import FamilyLink, link_out
from panjereh.registries.http import Context, RegistryError, bearer_guard, national_code
from panjereh.registries.population import Person
from panjereh.registries.schemas import (
    EventIn,
    EventOut,
    EventPage,
    FamilyLinkIn,
    FamilyOut,
    IdentityMatchIn,
    IdentityMatchOut,
    PersonOut,
)


def person_out(ctx: Context, person: Person) -> dict[str, Any]:
    """The civil registry's view of a person (deaths injected through the feed included)."""
    death = ctx.death_date(person)
    return {
        "national_code": person.national_code,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "father_name": person.father_name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "alive": death is None,
        "death_date": death,
        "address": person.address.as_dict(),
    }


def family_out(ctx: Context, person: Person) -> dict[str, Any]:
    """A person's recorded children and guardians, each named, with whether they are alive."""

    def named(link: FamilyLink, code: str) -> dict[str, Any] | None:
        other = ctx.population.person(code)
        return None if other is None else link_out(link, other, ctx.death_date(other))

    children = [named(link, link.child) for link in ctx.family.children_of(person.national_code)]
    guardians = [named(link, link.guardian) for link in ctx.family.guardians_of(person.national_code)]
    return {
        "national_code": person.national_code,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date,
        "alive": ctx.death_date(person) is None,
        "children": [c for c in children if c is not None],
        "guardians": [g for g in guardians if g is not None],
    }


def _instant(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        if len(raw) == 10:  # a bare date means the day as Tehran sees it, like `occurred_on`
            return tehran_midnight(date.fromisoformat(raw))
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise RegistryError(
            400, f"invalid_{name}", f"Invalid `{name}`", "Expected an ISO 8601 date or time."
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def router(ctx: Context) -> APIRouter:
    """The data routes, behind the registry token."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["civil-registry"])

    @api.get("/persons/{national_code}", response_model=PersonOut, summary="Identity details of a person")
    def get_person(national_code: str) -> dict[str, Any]:
        return person_out(ctx, ctx.person(national_code))

    @api.get("/family/{national_code}", response_model=FamilyOut, summary="A person's children and guardians")
    def family(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return family_out(ctx, person)

    @api.post(
        "/identity-match", response_model=IdentityMatchOut, summary="Does this birth date match this code?"
    )
    def identity_match(body: IdentityMatchIn) -> dict[str, Any]:
        person = ctx.population.person(national_code(body.national_code))
        if person is None or person.birth_date != body.birth_date:
            return {"matched": False, "alive": None}
        return {"matched": True, "alive": ctx.death_date(person) is None}

    @api.get("/events", response_model=EventPage, summary="Life events published so far, oldest first")
    def events(
        since: Annotated[
            str | None, Query(description="ISO date or time; events that occurred then or later")
        ] = None,
        after: Annotated[
            int | None, Query(description="Only events with a greater id (the paging cursor)")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        types: Annotated[str | None, Query(description="Comma-separated event types to keep")] = None,
    ) -> dict[str, Any]:
        wanted = {t.strip() for t in types.split(",") if t.strip()} if types else None
        page, has_more = ctx.events.page(_instant(since, "since"), after, limit, wanted)
        return {
            "events": [e.as_dict() for e in page],
            "last_id": page[-1].id if page else after,
            "has_more": has_more,
        }

    return api


def admin_router(ctx: Context) -> APIRouter:
    """Test hooks, behind the admin token."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.admin_token))], tags=["admin"])

    @api.post("/_admin/events", response_model=EventOut, status_code=201, summary="Publish a life event now")
    def inject_event(body: EventIn) -> dict[str, Any]:
        code = national_code(body.national_code)
        occurred = body.occurred_at
        if occurred is not None and occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        return ctx.events.inject(body.type, code, occurred, body.data).as_dict()

    @api.put(
        "/_admin/family-links", summary="Record a family link (or end a guardianship), as a court orders"
    )
    def record_link(body: FamilyLinkIn) -> dict[str, Any]:
        child, guardian = ctx.person(body.child), ctx.person(body.guardian)
        link = FamilyLink(
            child.national_code, guardian.national_code, body.relation, body.since, body.ended_on
        )
        ctx.family.record(link)
        return {
            "child": link.child,
            "guardian": link.guardian,
            "relation": link.relation,
            "since": link.since,
            "ended_on": link.ended_on,
        }

    return api
