"""Demo inventory: the flagship cards by hand, then ≥1,000 cards generated from each agency's field.

Generation is deterministic (seeded per agency) and its shares reproduce the article; loading is
idempotent: a card that already says the same thing gets no new version.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.service import load_agency_records
from panjereh.catalog import service
from panjereh.catalog.constants import Channel, Initiation, LifeEvent, ServiceKind
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import ServiceCardIn
from panjereh.core.config import Settings
from panjereh.core.seeding import Advance

DATA = Path(__file__).resolve().parent / "data"
FLAGSHIP_FILE = DATA / "flagship.yaml"
GENERATED_FILE = DATA / "generated.yaml"
SEED_ACTOR = "seed"
LIFE_EVENTS = list(LifeEvent)


def load_flagship() -> list[dict[str, Any]]:
    """The hand-written flagship cards (each with its agency code)."""
    with FLAGSHIP_FILE.open(encoding="utf-8") as handle:
        records: list[dict[str, Any]] = yaml.safe_load(handle)
    return records


def load_templates() -> dict[str, dict[str, Any]]:
    """Per-agency title templates and target shares."""
    with GENERATED_FILE.open(encoding="utf-8") as handle:
        templates: dict[str, dict[str, Any]] = yaml.safe_load(handle)
    return templates


@dataclass(frozen=True)
class _Pair:
    fa: str
    en: str
    life_event: str = "other"


def _pairs(lines: list[str]) -> list[_Pair]:
    result = []
    for line in lines:
        parts = [part.strip() for part in line.split("|")]
        result.append(_Pair(*parts))
    return result


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:90]


def generated_cards() -> list[tuple[str, ServiceCardIn]]:
    """The generated part of the demo inventory as (agency code, card), the same on every run."""
    flagship = load_flagship()
    records = load_agency_records()
    ordinals = {record["code"]: number for number, record in enumerate(records)}
    # Agencies never connected to the window offer nothing through it yet.
    unconnected = {record["code"] for record in records if record.get("status") == "not_connected"}
    cards: list[tuple[str, ServiceCardIn]] = []
    slugs: set[str] = {record["slug"] for record in flagship}
    for code, spec in load_templates().items():
        rng = random.Random(zlib.crc32(code.encode()))  # noqa: S311 — demo data, reproducible on purpose
        spec = {**spec, "window": code not in unconnected}
        actions, subjects = _pairs(spec["actions"]), _pairs(spec["subjects"])
        combos = [(a, s) for s in subjects for a in actions]
        chosen = rng.sample(combos, spec["count"])
        own = [record for record in flagship if record["agency"] == code]
        total = len(chosen) + len(own)
        flag_online = sum(record["maturity_level"] >= 3 for record in own)
        flag_smart = sum(record["maturity_level"] == 5 for record in own)
        online = max(0, min(len(chosen), round(spec["online"] * total) - flag_online))
        smart = max(0, min(online, round(spec["smart"] * total) - flag_smart))
        levels = [5] * smart + [rng.choice((3, 4)) for _ in range(online - smart)]
        levels += [rng.choice((0, 1, 2, 2)) for _ in range(len(chosen) - online)]
        rng.shuffle(levels)
        own_cards: list[ServiceCardIn] = []
        for sequence, ((action, subject), level) in enumerate(zip(chosen, levels, strict=True), start=1):
            event = LifeEvent(subject.life_event)
            title_en = action.en.format(subject.en)
            title_en = title_en[:1].upper() + title_en[1:]
            slug = f"{code}-{_slugify(title_en)}"
            while slug in slugs:
                slug += "-x"
            slugs.add(slug)
            service_id = f"{10 + ordinals[code]:02d}{LIFE_EVENTS.index(event):02d}{sequence:07d}"
            own_cards.append(_card(rng, spec, service_id, slug, action, subject, title_en, event, level))
        if "through_window" in spec and spec["window"]:
            flag_window = sum(bool(record.get("offered_through_window")) for record in own)
            _offer_through_window(own_cards, round(spec["through_window"] * total) - flag_window)
        cards += [(code, card) for card in own_cards]
    return cards


def _offer_through_window(cards: list[ServiceCardIn], wanted: int) -> None:
    """Offer exactly `wanted` of the cards through the window: the most mature first, in file order."""
    ranked = sorted(range(len(cards)), key=lambda i: -cards[i].maturity_level)  # stable: ties keep order
    offered = set(ranked[: max(0, min(len(cards), wanted))])
    for index, card in enumerate(cards):
        card.offered_through_window = index in offered


def _card(
    rng: random.Random,
    spec: dict[str, Any],
    service_id: str,
    slug: str,
    action: _Pair,
    subject: _Pair,
    title_en: str,
    event: LifeEvent,
    level: int,
) -> ServiceCardIn:
    title_fa = action.fa.format(subject.fa)
    connected = spec.get("window", True)
    if level == 5:
        documents = ["اطلاعات هویتی (از سامانهٔ ثبت احوال استعلام می‌شود)"]
        channels, visits, minutes = ["web", "app"], 0, 0
        mode = "این خدمت هوشمند است: بی‌مراجعه و بی‌مدرک، و نتیجه بی‌درنگ اعلام می‌شود."
    elif level >= 3:
        documents = rng.sample(spec["documents"], k=min(len(spec["documents"]), rng.randint(1, 2)))
        channels = (
            ["web"] + (["app"] if rng.random() < 0.6 else []) + (["counter"] if rng.random() < 0.4 else [])
        )
        visits = 0 if level == 4 else rng.choice((0, 0, 1))
        minutes = rng.choice((60, 240, 1440, 4320))
        mode = "درخواست برخط ثبت و با کد رهگیری پیگیری می‌شود."
    else:
        documents = rng.sample(spec["documents"], k=min(len(spec["documents"]), rng.randint(1, 3)))
        channels = (
            ["in_person"]
            + (["counter"] if rng.random() < 0.5 else [])
            + (["post"] if rng.random() < 0.1 else [])
        )
        visits = rng.randint(1, 3)
        minutes = rng.choice((4320, 10080, 20160, 43200))
        mode = "این خدمت هنوز حضوری است و مدارک باید در محل تحویل شود."
    return ServiceCardIn(
        service_id=service_id,
        slug=slug,
        title_fa=title_fa,
        title_en=title_en,
        description_fa=f"{title_fa}. {mode}",
        kind=ServiceKind.G2B if event is LifeEvent.BUSINESS else ServiceKind.G2C,
        life_event=event,
        category=subject.fa,
        initiation=Initiation.EVENT
        if event in (LifeEvent.BIRTH, LifeEvent.DEATH) and level == 5
        else Initiation.CITIZEN_REQUEST,
        required_documents=documents,
        in_person_visits=visits,
        cost_rials=rng.choice((0, 0, 0, 150_000, 500_000, 1_200_000, 3_500_000)),
        channels=[Channel(channel) for channel in channels],
        duration_minutes=minutes,
        offered_through_window=connected and (level >= 3 or rng.random() < 0.3),
        window_url=None,
        legal_basis=rng.choice(spec["laws"]),
        keywords=[subject.fa],
        assurance_level=2 if level >= 4 else 1,
        yearly_requests=int(rng.lognormvariate(10, 1.6)),
        maturity_level=level,
    )


def inventory_size() -> int:
    """How many cards the demo loads (the progress bar's size)."""
    return len(load_flagship()) + sum(spec["count"] for spec in load_templates().values())


def seed_catalog(session: Session, settings: Settings, advance: Advance) -> None:
    """Load (or refresh) the flagship cards and the generated inventory."""
    load_cards(session, flagship_cards(), advance)
    load_cards(session, generated_cards(), advance)


def flagship_cards() -> list[tuple[str, ServiceCardIn]]:
    """The hand-written flagship cards, each with its agency's code."""
    return [
        (record["agency"], ServiceCardIn(**{key: value for key, value in record.items() if key != "agency"}))
        for record in load_flagship()
    ]


def load_cards(
    session: Session, cards: list[tuple[str, ServiceCardIn]], advance: Callable[[int], None] | None = None
) -> int:
    """Upsert cards by agency code; returns how many changed (a second run changes none)."""
    session.scalars(select(ServiceCard)).all()  # one query fills the identity map for the lookups below
    agencies = {agency.code: agency for agency in agency_selectors.list_agencies(session)}
    changed = 0
    for number, (code, card) in enumerate(cards, start=1):
        _, did_change = service.upsert_card(session, card, agency=agencies[code], actor=SEED_ACTOR)
        changed += did_change
        if advance is not None and number % 50 == 0:
            advance(50)
    if advance is not None:
        advance(len(cards) % 50)
    return changed
