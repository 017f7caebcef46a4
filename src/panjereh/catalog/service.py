"""Writes to the catalog: create and change service cards, each change kept as a version (flush only)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import search, selectors
from panjereh.catalog.constants import Channel, Initiation, LifeEvent, ServiceKind
from panjereh.catalog.exceptions import InvalidServiceCard
from panjereh.catalog.models import ServiceCard, ServiceCardVersion
from panjereh.catalog.schemas import ServiceCardIn
from panjereh.core.db import utcnow

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

# The fields a card's author writes; a version snapshot holds these and the derived ones.
AUTHORED_FIELDS = (
    "slug",
    "title_fa",
    "title_en",
    "description_fa",
    "kind",
    "life_event",
    "category",
    "initiation",
    "required_documents",
    "in_person_visits",
    "cost_rials",
    "channels",
    "duration_minutes",
    "offered_through_window",
    "window_url",
    "legal_basis",
    "keywords",
    "assurance_level",
    "yearly_requests",
)
DERIVED_FIELDS = ("derived_maturity_level", "derived_source", "derived_flags")


def snapshot(card: ServiceCard) -> dict[str, Any]:
    """The card's content as plain JSON values (enums as their values)."""
    data: dict[str, Any] = {"service_id": card.service_id, "agency": card.agency.code}
    for field in (*AUTHORED_FIELDS, "declared_maturity_level", *DERIVED_FIELDS):
        value = getattr(card, field)
        data[field] = value.value if hasattr(value, "value") else value
    if isinstance(data.get("channels"), list):
        data["channels"] = [getattr(c, "value", c) for c in data["channels"]]
    return data


def _authored_values(data: ServiceCardIn) -> dict[str, Any]:
    values = {field: getattr(data, field) for field in AUTHORED_FIELDS}
    values["channels"] = [channel.value for channel in data.channels]
    values["declared_maturity_level"] = data.maturity_level
    return values


def new_service_id(session: Session) -> str:
    """A fresh 11-digit service id no card uses yet."""
    while True:
        candidate = str(10_000_000_000 + secrets.randbelow(89_999_999_999))
        if session.get(ServiceCard, candidate) is None:
            return candidate


def upsert_card(
    session: Session, data: ServiceCardIn, *, agency: Agency, actor: str, note: str = ""
) -> tuple[ServiceCard, bool]:
    """Create or change a card (by service id, else by slug); returns the card and whether it changed."""
    card = None
    if data.service_id:
        card = session.get(ServiceCard, data.service_id)
    adopted = ""
    if card is None:
        card = session.scalars(select(ServiceCard).where(ServiceCard.slug == data.slug)).one_or_none()
        if card is not None and data.service_id and card.service_id != data.service_id:
            if not can_adopt(session, card, agency.code, data.service_id):
                raise InvalidServiceCard(
                    f"Slug {data.slug!r} already belongs to service {card.service_id}.",
                    f"نشانی «{data.slug}» از آنِ خدمت {card.service_id} است.",
                )
            adopted = f"took the inventory's id (was {card.service_id})"
            card = _adopt_service_id(session, card, data.service_id)
    values = _authored_values(data)
    if card is None:
        card = ServiceCard(service_id=data.service_id or new_service_id(session), agency=agency, version=0)
        session.add(card)
        changed = True
    else:
        before = snapshot(card)
        # An adoption alone is a change: the id moved, so a version records it and the search index,
        # which keys its entries by id, hears of it.
        changed = (
            bool(adopted) or card.agency_id != agency.id or any(before.get(k) != v for k, v in values.items())
        )
    if not changed:
        return card, False
    card.agency = agency
    for field, value in values.items():
        setattr(card, field, value)
    _record_version(session, card, actor, note or adopted or ("created" if card.version == 0 else "changed"))
    return card, True


_CARDS: Table = ServiceCard.__table__  # type: ignore[assignment]
_CARD_VERSIONS: Table = ServiceCardVersion.__table__  # type: ignore[assignment]

# The note of a card's first version when publishing made it (`ensure_cards`): until its agency or the
# inventory writes the card, it is provisional.
MADE_ON_PUBLISHING = "made on publishing"


def _provisional(card: ServiceCard) -> bool:
    """Made by publishing and written by nobody since (only the derived level recorded on it)."""
    notes = [(version.note, version.changed_by) for version in card.versions]
    return (
        bool(notes)
        and notes[0][0] == MADE_ON_PUBLISHING
        and all(by.startswith("derived:") for _, by in notes[1:])
    )


def can_adopt(session: Session, card: ServiceCard, agency_code: str, service_id: str) -> bool:
    """Whether the inventory's row (`agency_code`, `service_id`) may give `card`, found by its slug, that id:
    the card is provisional, of the same agency, and no other card has the id yet.

    The one rule of adoption: the import's row check (`catalog.spreadsheet`) asks it before writing
    anything, and `upsert_card` before moving the card, so the two never disagree."""
    return (
        card.service_id != service_id
        and card.agency_code == agency_code
        and _provisional(card)
        and session.get(ServiceCard, service_id) is None
    )


def _adopt_service_id(session: Session, card: ServiceCard, service_id: str) -> ServiceCard:
    """The provisional card under the id the inventory gives its service, its history kept.

    A service published before the national inventory named it (a new agency's, from its workspace) has a
    card with a made-up id; the inventory's import (`panjereh catalog import`, the demo's seed) then names
    the same slug with the official id. Refusing would leave the agency unable to import its own inventory;
    a second card cannot share the slug. So the row moves: the slug freed, the card inserted under the new
    id, its versions re-pointed, the old row deleted (foreign keys hold at every step, on SQLite and
    PostgreSQL alike, so no deferred constraint is needed)."""
    session.flush()
    table, versions = _CARDS, _CARD_VERSIONS
    old_id = card.service_id
    row = {column.key: getattr(card, column.key) for column in table.columns}
    for version in list(card.versions):
        session.expunge(version)
    session.expunge(card)
    session.execute(update(table).where(table.c.service_id == old_id).values(slug=f"~{old_id}"))
    session.execute(insert(table).values({**row, "service_id": service_id}))
    session.execute(update(versions).where(versions.c.service_id == old_id).values(service_id=service_id))
    session.execute(delete(table).where(table.c.service_id == old_id))
    adopted = session.get(ServiceCard, service_id)
    assert adopted is not None
    return adopted


@dataclass(frozen=True)
class ExecutableService:
    """What a published service definition says of its service: enough for a card when it has none."""

    slug: str
    agency_code: str
    title_fa: str
    title_en: str
    summary_fa: str = ""
    cost_rials: int = 0
    business: bool = False  # for companies (G2B)
    proactive: bool = False  # started by a life event, not by the citizen
    duration_minutes: int = 0  # the definition's time objective (0: decided at once)
    in_person_visits: int = 0


def _card_of(service: ExecutableService) -> ServiceCardIn:
    return ServiceCardIn(
        slug=service.slug,
        title_fa=service.title_fa,
        title_en=service.title_en,
        description_fa=service.summary_fa or service.title_fa,
        kind=ServiceKind.G2B if service.business else ServiceKind.G2C,
        # A definition names no life event; a company's service is browsed under business.
        life_event=LifeEvent.BUSINESS if service.business else LifeEvent.OTHER,
        initiation=Initiation.EVENT if service.proactive else Initiation.CITIZEN_REQUEST,
        in_person_visits=service.in_person_visits,
        cost_rials=service.cost_rials,
        # "Online": the window's own web pages run it (`/services/{slug}/apply`), so no window_url either.
        channels=[Channel.WEB],
        duration_minutes=service.duration_minutes,
        offered_through_window=True,
        # Nothing declared: while a definition is published the card shows the level it derives; once the
        # last one retires the card shows 0 and no badge (it is no longer offered anywhere).
        maturity_level=0,
    )


def ensure_cards(session: Session, services: Sequence[ExecutableService], *, actor: str) -> list[ServiceCard]:
    """A card for each service that has none yet (its definition is being published); returns the cards
    made. A card that exists is left as its agency wrote it: a definition says how the service runs, the
    card what the agency declares (its id, life event, fee ...), and publishing must not overwrite that.

    The one way a service the catalog did not know gets its card (delivery.store calls it on publishing
    and on import): then the citizen finds it, it carries its badge and it counts in the duties."""
    have = selectors.cards_by_slug(session, [service.slug for service in services])
    made = []
    for service in services:
        if service.slug in have:
            continue
        try:
            data = _card_of(service)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidServiceCard(
                f"{service.slug}: no catalog card can be made from the definition ({problems}).",
                f"{service.slug}: از این تعریف خدمت شناسنامهٔ خدمت ساخته نمی‌شود ({problems}).",
            ) from exc
        agency = agency_selectors.get_agency_by_code(session, service.agency_code)
        card, _ = upsert_card(session, data, agency=agency, actor=actor, note=MADE_ON_PUBLISHING)
        have[service.slug] = card
        made.append(card)
    return made


def _record_version(session: Session, card: ServiceCard, actor: str, note: str) -> None:
    card.version = (card.version or 0) + 1
    card.updated_by = actor
    card.updated_at = utcnow()
    session.flush()
    session.add(
        ServiceCardVersion(
            service_id=card.service_id,
            version=card.version,
            changed_by=actor,
            note=note[:300],
            snapshot=snapshot(card),
        )
    )
    session.flush()
    search.mark_changed(session)


def record_derived_maturity(
    session: Session, slug: str, level: int, *, source: str, flags: list[str]
) -> None:
    """Store the level derived from an executable definition (and its flags); the card then shows it."""
    if not 0 <= level <= 5:
        raise InvalidServiceCard(
            f"Maturity level {level} is outside 0..5.", f"سطح بلوغ {level} خارج از بازهٔ ۰ تا ۵ است."
        )
    card = selectors.get_service_by_slug(session, slug)
    flags = sorted(set(flags))
    if card.derived_maturity_level == level and card.derived_source == source and card.derived_flags == flags:
        return
    card.derived_maturity_level = level
    card.derived_source = source
    card.derived_flags = flags
    card.derived_at = utcnow()
    _record_version(session, card, f"derived:{source}"[:120], f"derived maturity {level}")


def record_derived_maturities(
    session: Session, derived: dict[str, tuple[int, list[str]] | None], *, source: str
) -> int:
    """For many cards at once (one query, one flush): slug → (level, flags) derived from the published
    definition, or None when the card has none any more (it shows its declared level and no badge).

    Slugs without a card are left out (an uncarded service); returns how many cards changed."""
    for slug, value in derived.items():
        if value is not None and not 0 <= value[0] <= 5:
            raise InvalidServiceCard(
                f"{slug}: maturity level {value[0]} is outside 0..5.",
                f"{slug}: سطح بلوغ {value[0]} خارج از بازهٔ ۰ تا ۵ است.",
            )
    if not derived:
        return 0
    cards = session.scalars(select(ServiceCard).where(ServiceCard.slug.in_(list(derived)))).all()
    actor = f"derived:{source}"[:120]
    changed = 0
    for card in cards:
        value = derived[card.slug]
        level, flags = (None, []) if value is None else (value[0], sorted(set(value[1])))
        card_source = None if value is None else source
        if (card.derived_maturity_level, card.derived_source, card.derived_flags) == (
            level,
            card_source,
            flags,
        ):
            continue
        card.derived_maturity_level = level
        card.derived_source = card_source
        card.derived_flags = flags
        card.derived_at = None if value is None else utcnow()
        card.version = (card.version or 0) + 1
        card.updated_by = actor
        card.updated_at = utcnow()
        note = "derived maturity withdrawn" if level is None else f"derived maturity {level}"
        session.add(
            ServiceCardVersion(
                service_id=card.service_id,
                version=card.version,
                changed_by=actor,
                note=note,
                snapshot=snapshot(card),
            )
        )
        changed += 1
    if changed:
        session.flush()
        search.mark_changed(session)
    return changed
