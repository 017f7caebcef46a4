"""Reads: what stands between an agency and this year's duties (issue 16, item 7), computed from data.

Each entry is one kind of work with its count, the first few items it concerns (each with a link) and
where to act. Every entry is measured from the other domains' selectors as they are now (the catalog's
cards, the published definitions, the exchange's directory and grants, the connection standard's latest
run), never from the dashboard's reported or modelled figures: an entry disappears the moment its cause
is fixed. The pages word each kind (Persian and English, `dashboard/_duties.html`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.analytics.exceptions import AgencyNotOnDashboard
from panjereh.analytics.mandates import EPSILON, dashboard_year, load_mandate
from panjereh.catalog import selectors as catalog_selectors
from panjereh.conformance import selectors as conformance_selectors
from panjereh.conformance.constants import CheckStatus, RunVerdict
from panjereh.delivery import constants as delivery_constants
from panjereh.delivery import selectors as delivery_selectors
from panjereh.exchange import selectors as exchange_selectors

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency
    from panjereh.catalog.models import ServiceCard

FIRST_FEW = 5
# The duties counted in cards here; "connected" is the connection entries' business.
CARD_DUTIES = ("through_window", "smart", "inquiries_online")
# Entry kinds, in the order the list shows them (the duties first: they say how far; the rest say where).
KINDS = (
    "duty_through_window",
    "duty_inquiries_online",
    "duty_smart",
    "connection_standard_lost",
    "connection_disconnected",
    "connection_not_connected",
    "systems_failing",
    "not_through_window",
    "uploaded_but_provided",
    "template_could_make_smart",
    "grants_to_decide",
    "grants_waiting",
)


@dataclass(frozen=True)
class Item:
    """One thing an entry concerns: a card, a definition, a system, a grant."""

    title_fa: str
    title_en: str
    href: str
    note_fa: str = ""
    note_en: str = ""


@dataclass(frozen=True)
class Entry:
    """One kind of work: how many, the first few, and where to do it."""

    kind: str
    count: int
    items: tuple[Item, ...]
    action_href: str
    # A duty's figures in cards: target share, cards now, cards the target needs, cards still missing.
    target: float | None = None
    now: int | None = None
    needed: int | None = None
    total: int | None = None


@dataclass
class DutiesTodo:
    agency_code: str
    year: int
    entries: list[Entry] = field(default_factory=list)

    def get(self, kind: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.kind == kind), None)

    @property
    def kinds(self) -> list[str]:
        return [entry.kind for entry in self.entries]


def _card_item(card: ServiceCard, note_fa: str = "", note_en: str = "") -> Item:
    return Item(card.title_fa, card.title_en or card.slug, f"/services/{card.slug}", note_fa, note_en)


def _entry(kind: str, items: Sequence[Item], action_href: str) -> Entry:
    return Entry(kind, len(items), tuple(items[:FIRST_FEW]), action_href)


def current_year() -> int:
    """The duties' year the pages open on: the dashboard's (`mandates.dashboard_year`)."""
    return dashboard_year()


def cards_needed(target: float, total: int) -> int:
    """The cards a share target asks of an inventory of `total` (20% of 12 is 3: a part card counts whole)."""
    return math.ceil(target * total - EPSILON) if total else 0


def todo(session: Session, agency_code: str, year: int = 1402) -> DutiesTodo:
    """What stands between the agency and the year's duties, now (AgencyNotOnDashboard for no agency)."""
    agency = agency_selectors.find_agency_by_code(session, agency_code)
    if agency is None:
        raise AgencyNotOnDashboard(f"No agency {agency_code!r}.", f"دستگاه «{agency_code}» پیدا نشد.")
    result = DutiesTodo(agency.code, year)
    workspace = f"/workspace/{agency.code}"
    cards = list(catalog_selectors.services_of_agency(session, agency.id))
    directory = {service.code for service in exchange_selectors.list_services(session)}
    evidence = delivery_selectors.not_by_inquiry(session, agency.code)
    by_slug = {card.slug: card for card in cards}

    offline = [card for card in cards if not card.offered_through_window]
    # Once-only: a document, field or visit asked of the citizen about a concept a data service in the
    # directory provides (inactive or unknown services do not count: there is nothing to call yet).
    provided = [item for item in evidence if item.asked_of_citizen and item.provider in directory]
    asking = sorted({item.slug for item in evidence if item.asked_of_citizen})
    candidates = _template_candidates(session, agency, cards, evidence, directory)

    mandate = load_mandate(year)
    for duty in mandate.duties:
        if duty.metric not in CARD_DUTIES:
            continue
        if duty.metric == "through_window":
            total, now = len(cards), len(cards) - len(offline)
            items = [_card_item(card) for card in offline]
            action = f"/agencies/{agency.code}"
        elif duty.metric == "smart":
            total, now = len(cards), sum(1 for card in cards if card.is_smart)
            items = [_card_item(card, *why) for card, why in candidates]
            action = f"{workspace}/services/new"
        else:
            # In cards: an executable service meets it when no evidence is asked of the citizen.
            executable = [card for card in cards if card.derived_maturity_level is not None]
            total, now = len(executable), len(executable) - len([s for s in asking if s in by_slug])
            items = [_card_item(by_slug[slug]) for slug in asking if slug in by_slug]
            action = f"{workspace}/services"
        needed = cards_needed(duty.target, total)
        if now < needed:
            result.entries.append(
                Entry(
                    f"duty_{duty.metric}",
                    needed - now,
                    tuple(items[:FIRST_FEW]),
                    action,
                    target=duty.target,
                    now=now,
                    needed=needed,
                    total=total,
                )
            )

    result.entries.extend(_connection_entries(session, agency))
    if offline:
        result.entries.append(
            _entry("not_through_window", [_card_item(card) for card in offline], f"/agencies/{agency.code}")
        )
    if provided:
        items = [
            Item(
                item.title_fa,
                item.title_en,
                f"{workspace}/services/{item.definition_id}",
                f"{item.label_fa} ← {item.provider}",
                f"{item.label_en} ← {item.provider}",
            )
            for item in provided
        ]
        result.entries.append(_entry("uploaded_but_provided", items, f"{workspace}/services"))
    if candidates:
        items = [_card_item(card, *why) for card, why in candidates]
        result.entries.append(_entry("template_could_make_smart", items, f"{workspace}/services/new"))
    result.entries.extend(_grant_entries(session, agency))
    return result


def _template_candidates(
    session: Session,
    agency: Agency,
    cards: Sequence[ServiceCard],
    evidence: Sequence[delivery_selectors.NotByInquiry],
    directory: set[str],
) -> list[tuple[ServiceCard, tuple[str, str]]]:
    """Cards not smart that a template could make smart, most used first, with the template and why.

    - A published definition whose every piece of evidence not by inquiry is a concept a data service in
      the directory provides: `eligibility_from_answers` asks those services instead.
    - A card with no definition that the agency declares integrated (level 4 or 5: every document already
      replaced by an inquiry), when the agency has a data service to read (its own in the directory, or
      one it holds an approved grant for): `certificate_from_registry` on that service.
    """
    readable = sorted(s.code for s in exchange_selectors.list_services(session, agency.code))
    granted = sorted(
        {
            grant.service_code
            for grant in exchange_selectors.list_grants(session, client_agency_code=agency.code)
            if grant.status == "approved" and not grant.sandbox and grant.service_code in directory
        }
    )
    sources = readable + [code for code in granted if code not in readable]
    by_slug: dict[str, list[delivery_selectors.NotByInquiry]] = {}
    for item in evidence:
        by_slug.setdefault(item.slug, []).append(item)
    titles = {
        service.code: (service.title_fa, service.title_en)
        for service in exchange_selectors.list_services(session)
    }

    def suggestion(template: str, services: list[str]) -> tuple[str, str]:
        """What a person reads: the template's name and the data services' titles, never their codes."""
        template_fa, template_en = delivery_constants.TEMPLATE_TITLES[template]
        names_fa = "، ".join(titles.get(code, (code, code))[0] for code in services)
        names_en = ", ".join(titles.get(code, (code, code))[1] for code in services)
        return f"الگوی «{template_fa}» با {names_fa}", f"the template “{template_en}” with {names_en}"

    found = []
    for card in cards:
        if card.is_smart:
            continue
        if card.derived_maturity_level is not None:
            items = by_slug.get(card.slug, [])
            if items and all(item.provider in directory for item in items):
                services = sorted({str(item.provider) for item in items})
                found.append((card, suggestion("eligibility_from_answers", services)))
        elif card.declared_maturity_level >= 4 and sources:
            found.append((card, suggestion("certificate_from_registry", sources[:1])))
    return found


def _connection_entries(session: Session, agency: Agency) -> list[Entry]:
    """The agency not connected (lost, dropped, never), and the systems failing its latest run."""
    entries = []
    connection = f"/workspace/{agency.code}/connection"
    if agency.connection_status is not ConnectionStatus.CONNECTED:
        history = conformance_selectors.status_history(session, agency.id, limit=1)
        reason_fa = history[0].reason_fa if history else ""
        reason_en = history[0].reason_en if history else ""
        if not agency_selectors.list_systems(session, agency.id):
            reason_fa = "سامانه‌ای برای آزمون استاندارد اتصال ثبت نشده است."
            reason_en = "No system registered for the connection standard to test."
        item = Item(agency.name_fa, agency.name_en, f"/conformance/{agency.code}", reason_fa, reason_en)
        entries.append(_entry(f"connection_{agency.connection_status.value}", [item], connection))
    run = conformance_selectors.latest_run(session, agency.id)
    if run is not None and run.verdict in (RunVerdict.FAILING, RunVerdict.UNREACHABLE):
        failing: dict[str, Item] = {}
        for result in run.results:
            if result.status is not CheckStatus.FAIL:
                continue
            system = result.system_code or agency.code
            if system not in failing:
                failing[system] = Item(
                    system,
                    system,
                    f"/conformance/{agency.code}/runs/{run.id}",
                    f"{result.check_id}: {result.reason_fa}",
                    f"{result.check_id}: {result.reason_en}",
                )
        if failing:
            entries.append(_entry("systems_failing", list(failing.values()), connection))
    return entries


def _grant_entries(session: Session, agency: Agency) -> list[Entry]:
    """Grants of the agency's data services waiting for its decision, and its own requests waiting for
    their providers'."""
    entries = []
    grants_page = f"/exchange/grants/{agency.code}"
    to_decide = [
        Item(
            grant.client_agency.name_fa,
            grant.client_agency.name_en,
            grants_page,
            grant.service_code,
            grant.service_code,
        )
        for grant in exchange_selectors.list_grants(session, provider_agency_code=agency.code)
        if grant.status == "requested" and not grant.sandbox  # the sandbox's grants are no duty
    ]
    if to_decide:
        entries.append(_entry("grants_to_decide", to_decide, grants_page))
    waiting = [
        Item(
            grant.service.provider.name_fa,
            grant.service.provider.name_en,
            grants_page,
            grant.service_code,
            grant.service_code,
        )
        for grant in exchange_selectors.list_grants(session, client_agency_code=agency.code)
        if grant.status == "requested" and not grant.sandbox  # the sandbox's grants are no duty
    ]
    if waiting:
        entries.append(_entry("grants_waiting", waiting, grants_page))
    return entries
