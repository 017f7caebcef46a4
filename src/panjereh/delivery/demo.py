"""The demo's smart services: one definition per chosen catalog card, rendered from a template and the
card's agency's data service, and published through the definitions store like any other.

The article's duty for 1402 is that 20% of services be smart; the demo reaches it for real: every card the
agency declared smart (level 5), and then its most-used level-4 cards, until `DEMO_SMART_TARGET` cards have
a published definition deriving level 5 (1,246 cards → at least 250). A card whose agency has no data
service in the exchange's directory is skipped: it stays unbadged, whatever it declares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from panjereh.delivery import templates
from panjereh.delivery.definitions import SLUG, Text

DEMO_SMART_TARGET = 260
DEMO_CITIZEN = "0499370899"  # the registries' clean adult persona (docs/protocols/registries.md)


@dataclass(frozen=True)
class Source:
    """How a smart certificate of an agency reads the agency's data service."""

    service: str
    key: str
    label: Text
    why_fa: str
    found: str  # the zen expression: the registry holds what the certificate attests
    approve_fact: dict[str, Any]
    claims: dict[str, str]
    concept: str | None = None


# Agencies with a dedicated registry (registries/services.yaml): the service their certificates read.
DEDICATED: dict[str, Source] = {
    "nocr": Source(
        "civil-registry.person",
        "person",
        Text(fa="مشخصات هویتی", en="Identity details"),
        "برای صدور گواهی از روی ثبت احوال",
        "person.alive == true",
        {"alive": True},
        {"birth_date": "birth_date"},
        "identity",
    ),
    "cra": Source(
        "shahkar.sims",
        "sims",
        Text(fa="سیم‌کارت‌های به نام شما", en="SIM cards"),
        "برای گواهی سیم‌کارت‌های ثبت‌شده به نام شما",
        "sims.found == true",
        {"found": True},
        {},
        "mobile_ownership",
    ),
    "tax": Source(
        "tax.clearance",
        "tax",
        Text(fa="وضعیت مالیاتی", en="Tax standing"),
        "گواهی فقط برای مؤدی بی‌بدهی صادر می‌شود",
        "tax.cleared == true",
        {"cleared": True, "debt_rials": 0},
        {"debt_rials": "debt_rials"},
        "tax_clearance",
    ),
    "police": Source(
        "police.driving-licence",
        "licence",
        Text(fa="گواهینامهٔ رانندگی", en="Driving licence"),
        "برای گواهی بر پایهٔ گواهینامهٔ ثبت‌شده در فراجا",
        "licence.has_licence == true",
        {"has_licence": True},
        {"valid": "valid"},
        "driving_licence",
    ),
    "judiciary": Source(
        "judiciary.criminal-record",
        "criminal",
        Text(fa="سوابق کیفری", en="Criminal records"),
        "گواهی فقط بی محکومیت کیفری مؤثر صادر می‌شود",
        "criminal.has_criminal_record == false",
        {"has_criminal_record": False},
        {},
        "criminal_record",
    ),
    "ihio": Source(
        "health-insurance.coverage",
        "coverage",
        Text(fa="پوشش بیمهٔ سلامت", en="Health insurance"),
        "برای گواهی بر پایهٔ بیمهٔ سلامت فعال",
        "coverage.active == true",
        {"active": True},
        {"insurer": "insurer", "valid_until": "valid_until"},
        "health_insurance",
    ),
    "education": Source(
        "education.enrollment",
        "enrollment",
        Text(fa="ثبت‌نام تحصیلی", en="Enrollment"),
        "برای گواهی بر پایهٔ ثبت‌نام در آموزش و پرورش",
        "enrollment.enrolled == true",
        {"enrolled": True},
        {},
        "enrollment",
    ),
    "welfare": Source(
        "welfare.disability",
        "disability",
        Text(fa="پروندهٔ توان‌خواهی", en="Disability record"),
        "برای گواهی بر پایهٔ پروندهٔ بهزیستی",
        "disability.has_disability_record == true",
        {"has_disability_record": True},
        {},
        "disability",
    ),
    "deeds": Source(
        "deeds.properties",
        "deeds",
        Text(fa="املاک به نام شما", en="Properties"),
        "برای گواهی بر پایهٔ اسناد ثبت‌شده به نام شما",
        "len(deeds.properties ?? []) > 0",
        {"properties": [{"id": "1"}]},
        {},
        "property_deed",
    ),
    "sso": Source(
        "social-security.insurance-record",
        "insurance",
        Text(fa="سابقهٔ بیمه", en="Insurance record"),
        "برای گواهی بر پایهٔ سابقهٔ بیمهٔ تأمین اجتماعی",
        "insurance.insured == true",
        {"insured": True},
        {"months": "months"},
        "insurance_record",
    ),
}


def agency_file(agency: str) -> Source:
    """The generic source: the agency's own file of the person (registries/apis/agency_files.py)."""
    return Source(
        f"{agency}-files.person", "file", Text(fa="پروندهٔ شما نزد دستگاه", en="Your file at the agency"),
        "گواهی بر پایهٔ پرونده‌ای صادر می‌شود که دستگاه از شما دارد", "file.in_good_standing == true",
        {"has_file": True, "in_good_standing": True}, {"file_number": "file_number"},
    )  # fmt: skip


def source_of(agency: str, known: frozenset[str]) -> Source | None:
    """The data service an agency's certificates read, if the exchange's directory has it."""
    source = DEDICATED.get(agency) or agency_file(agency)
    return source if source.service in known else None


@dataclass(frozen=True)
class CardView:
    """What the demo needs of a catalog card."""

    slug: str
    agency: str
    title_fa: str
    title_en: str
    declared_level: int
    yearly_requests: int


def choose(
    cards: Sequence[CardView], known: frozenset[str], taken: set[str], *, already_smart: int = 0
) -> list[CardView]:
    """The cards the demo makes smart: declared level 5 first, then the most-used level 4, to the target
    (`taken`: slugs with a definition of their own; `already_smart`: how many of those are smart)."""
    usable = [c for c in cards if c.slug not in taken and SLUG.match(c.slug) and source_of(c.agency, known)]
    declared = [c for c in usable if c.declared_level == 5]
    more = sorted((c for c in usable if c.declared_level == 4), key=lambda c: (-c.yearly_requests, c.slug))
    return declared + more[: max(0, DEMO_SMART_TARGET - already_smart - len(declared))]


def render_card(card: CardView, source: Source) -> tuple[dict[str, Any], dict[str, Any]]:
    """A card's definition, from the certificate template and its agency's data service."""
    title = Text(fa=card.title_fa, en=card.title_en or card.slug)
    nocr = source.key == "person"
    params = templates.CertificateFromRegistry(
        slug=card.slug,
        agency=card.agency,
        title=title,
        summary_fa=f"{card.title_fa}، بی‌مراجعه و بی‌مدرک: {source.label.fa} استعلام می‌شود.",
        answer=templates.Answer(
            key=source.key,
            service=source.service,
            label=source.label,
            why_fa=source.why_fa,
            concept=source.concept,
        ),
        found_expression=source.found,
        claims=source.claims,
        require_alive=not nocr,
        conditions=[templates.ALIVE] if nocr and source.found != templates.ALIVE.expression else [],
        tests=[
            templates.Case(
                name="the registry attests it",
                facts={
                    **({} if nocr else {"person": templates.ALIVE_FACTS}),
                    source.key: {"found": True, **source.approve_fact},
                },
                decision="approve",
                reasons=[],
            ),
            templates.Case(
                name="the registry has nothing",
                facts={**({} if nocr else {"person": templates.ALIVE_FACTS}), source.key: {"found": False}},
                decision="refuse",
            ),
        ],
    )
    return templates.render("certificate_from_registry", params)
