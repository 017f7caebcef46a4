"""The definitions store: service definitions as versioned data (draft → in review → published → retired).

The database is the source of truth. Files (`<slug>.yaml` + `<slug>.decision.json`) are an import and
export format, validated exactly as a draft is (`definitions.parse_definition`). The rules kept here, for
every caller (pages, API, CLI, seed):

- only a draft changes; a published or retired version never does (a change is a new draft);
- at most one version of a slug is published; publishing retires the one before;
- four eyes: the publisher is neither the draft's author nor its last editor;
- a slug belongs to one agency (its catalog card's, and its first version's);
- a version goes to review, and is published (by a reviewer or an import), only when its agency holds every
  data service its evidence reads: its own, or under an approved production grant in force (a draft may
  read any, and the editor shows what is missing);
- a published service has a catalog card: publishing makes one when the catalog has none, and records the
  level the definition derives on it (the smart badge); retiring the last published version takes it away.

Who may do what (designer, reviewer) is the pages' check (the staff domain); the store only knows names.
Everything flushes, nothing commits (the caller owns the transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog import service as catalog_service
from panjereh.core.db import utcnow
from panjereh.delivery import definitions as defs
from panjereh.delivery import grants
from panjereh.delivery.constants import DefinitionStatus
from panjereh.delivery.exceptions import (
    DefinitionLifecycleConflict,
    DefinitionNotEditable,
    FourEyesRequired,
    InvalidDefinition,
    SlugOfAnotherAgency,
)
from panjereh.delivery.models import DefinitionRecord
from panjereh.exchange import selectors as exchange_selectors

Status = DefinitionStatus
OPEN = (Status.DRAFT, Status.IN_REVIEW)
CATALOG_SOURCE = "delivery-definition"


@dataclass(frozen=True)
class Checked:
    """A document that passed validation, with what the store derives from it."""

    definition: defs.ServiceDefinition
    model: dict[str, Any]
    digest: str
    derivation: defs.Derivation


def known_data_services(session: Session) -> frozenset[str]:
    """The data services a definition may inquire: those delivery understands and the exchange's directory."""
    return defs.data_service_codes() | {s.code for s in exchange_selectors.list_services(session)}


def check(
    session: Session,
    document: dict[str, Any],
    model: dict[str, Any],
    *,
    where: str,
    known: frozenset[str] | None = None,
    declared: dict[str, int] | None = None,
) -> Checked:
    """Validate a document and its decision model as a file is validated; derive its maturity."""
    if not isinstance(document, dict) or not isinstance(model, dict):
        raise InvalidDefinition(
            f"{where}: a definition and its decision model are JSON objects",
            f"{where}: تعریف خدمت و مدل تصمیم باید شیء JSON باشند",
            file=where,
        )
    definition = defs.parse_definition(
        document, model, where=where, known=known if known is not None else known_data_services(session)
    )
    level = (
        declared.get(definition.slug) if declared is not None else _declared_level(session, definition.slug)
    )
    derivation = defs.derive_maturity(definition, declared_level=level)
    return Checked(definition, model, defs.content_digest(definition, model), derivation)


def _declared_level(session: Session, slug: str) -> int | None:
    card = catalog_selectors.cards_by_slug(session, [slug]).get(slug)
    return None if card is None else int(card.declared_maturity_level)


def _owner_check(session: Session, slug: str, agency_code: str) -> None:
    """A slug belongs to its card's agency and to the agency of its first version."""
    card = catalog_selectors.cards_by_slug(session, [slug]).get(slug)
    owners = {card.agency_code} if card is not None else set()
    owners |= set(
        session.scalars(select(DefinitionRecord.agency_code).where(DefinitionRecord.slug == slug).limit(1))
    )
    if owners - {agency_code}:
        raise SlugOfAnotherAgency(
            f"{slug!r} belongs to {', '.join(sorted(owners))}, not {agency_code}",
            f"شناسهٔ «{slug}» از آنِ دستگاه دیگری است",
        )


def _executable_service(definition: defs.ServiceDefinition) -> catalog_service.ExecutableService:
    """The card a published definition gets when its service has none (`catalog_service.ensure_cards`)."""
    return catalog_service.ExecutableService(
        slug=definition.slug,
        agency_code=definition.agency,
        title_fa=definition.title.fa,
        title_en=definition.title.en,
        summary_fa=definition.summary_fa,
        # A definition states no fee (the card does): a service the catalog did not know costs nothing.
        cost_rials=0,
        business=definition.audience == "business",
        proactive=definition.proactive is not None,
        duration_minutes=definition.time_objective.seconds // 60,
        in_person_visits=sum(e.source == defs.Source.IN_PERSON for e in definition.evidence),
    )


def _with_agency(document: dict[str, Any], agency_code: str, where: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise InvalidDefinition(
            f"{where}: a definition is a JSON object", f"{where}: تعریف خدمت باید شیء JSON باشد", file=where
        )
    document = dict(document)
    if document.setdefault("agency", agency_code) != agency_code:
        raise InvalidDefinition(
            f"{where}: the definition names agency {document['agency']!r}, not {agency_code!r}",
            f"{where}: دستگاه تعریف خدمت با دستگاه شما یکی نیست",
            file=where,
        )
    return document


def _next_version(session: Session, slug: str, wanted: int = 1) -> int:
    highest = session.scalar(select(func.max(DefinitionRecord.version)).where(DefinitionRecord.slug == slug))
    return max(wanted, (highest or 0) + 1)


def _fill(record: DefinitionRecord, checked: Checked) -> None:
    definition = checked.definition
    body = defs.stored_body(definition)
    body["version"] = record.version
    record.slug = definition.slug
    record.agency_code = definition.agency
    record.title_fa = definition.title.fa
    record.title_en = definition.title.en
    record.body = body
    record.model = checked.model
    record.digest = checked.digest
    record.derived_level = checked.derivation.level
    record.flags = checked.derivation.flags
    record.is_smart = definition.is_smart


def create_draft(
    session: Session, *, agency_code: str, author: str, document: dict[str, Any], model: dict[str, Any]
) -> DefinitionRecord:
    """A new draft (the next version of its slug); InvalidDefinition names every reason it is refused."""
    where = str(document.get("slug") or "draft") if isinstance(document, dict) else "draft"
    checked = check(session, _with_agency(document, agency_code, where), model, where=where)
    slug = checked.definition.slug
    _owner_check(session, slug, agency_code)
    open_version = session.scalar(
        select(DefinitionRecord.version).where(
            DefinitionRecord.slug == slug, DefinitionRecord.status.in_(OPEN)
        )
    )
    if open_version is not None:
        raise DefinitionLifecycleConflict(
            f"{slug!r} already has an open draft (version {open_version}); change that one",
            f"خدمت «{slug}» پیش‌نویس باز دارد (نسخهٔ {open_version})؛ همان را ویرایش کنید",
        )
    now = utcnow()
    record = DefinitionRecord(
        version=_next_version(session, slug),
        status=Status.DRAFT,
        created_by=author,
        updated_by=author,
        created_at=now,
        updated_at=now,
    )
    _fill(record, checked)
    session.add(record)
    session.flush()
    return record


def update_draft(
    session: Session,
    record: DefinitionRecord,
    *,
    editor: str,
    document: dict[str, Any],
    model: dict[str, Any],
) -> DefinitionRecord:
    """Change a draft (only a draft); its slug and agency stay."""
    _must_be_editable(record)
    where = record.slug
    checked = check(session, _with_agency(document, record.agency_code, where), model, where=where)
    if checked.definition.slug != record.slug:
        raise InvalidDefinition(
            f"{where}: a draft keeps its slug ({record.slug}); a new slug is a new service",
            f"{where}: شناسهٔ خدمت در پیش‌نویس تغییر نمی‌کند",
            file=where,
        )
    _fill(record, checked)
    record.updated_by = editor
    record.updated_at = utcnow()
    session.flush()
    return record


def _must_be_editable(record: DefinitionRecord) -> None:
    if record.status != Status.DRAFT:
        raise DefinitionNotEditable(
            f"{record.slug} version {record.version} is {record.status.value}",
            f"نسخهٔ {record.version} خدمت «{record.slug}» پیش‌نویس نیست",
        )


def _must_be(record: DefinitionRecord, *wanted: DefinitionStatus) -> None:
    if record.status not in wanted:
        raise DefinitionLifecycleConflict(
            f"{record.slug} version {record.version} is {record.status.value}, "
            f"not {' or '.join(w.value for w in wanted)}",
            f"نسخهٔ {record.version} خدمت «{record.slug}» در وضعیت «{record.status.value}» است",
        )


def submit_for_review(session: Session, record: DefinitionRecord, *, by: str) -> DefinitionRecord:
    """A draft goes to review, once its agency holds every data service it reads; it no longer changes
    unless a reviewer sends it back."""
    _must_be(record, Status.DRAFT)
    # Checked here as well as at publishing: a reviewer should not be handed what cannot be published.
    # The slug was free when the draft was made, but another agency's card may have taken it since.
    _owner_check(session, record.slug, record.agency_code)
    grants.require_grants(session, [(record.slug, record.agency_code, record.body)])
    record.status = Status.IN_REVIEW
    record.submitted_by = by
    record.submitted_at = utcnow()
    session.flush()
    return record


def reject(session: Session, record: DefinitionRecord, *, by: str, reason: str) -> DefinitionRecord:
    """Send a version in review back to draft, with the reviewer's reason."""
    _must_be(record, Status.IN_REVIEW)
    if not reason.strip():
        raise InvalidDefinition("a rejection needs a reason", "دلیل بازگرداندن را بنویسید")
    record.status = Status.DRAFT
    record.reviewed_by = by
    record.reviewed_at = utcnow()
    record.review_note = reason.strip()[:2000]
    session.flush()
    return record


def publish(session: Session, record: DefinitionRecord, *, by: str) -> DefinitionRecord:
    """Publish a version in review (by a second person); the slug's published version before it retires."""
    _must_be(record, Status.IN_REVIEW)
    if by in (record.created_by, record.updated_by):
        raise FourEyesRequired(
            f"{by} wrote or last edited {record.slug} version {record.version}",
            "شما این پیش‌نویس را نوشته یا ویرایش کرده‌اید؛ شخص دیگری باید آن را منتشر کند",
        )
    # The declared level may have changed since the draft was written: derive again at publishing.
    checked = check(session, record.body, record.model, where=record.slug, known=known_data_services(session))
    # Whose the slug is, again: a card of another agency written since review would otherwise get this
    # agency's definition behind its badge and its start button.
    _owner_check(session, record.slug, record.agency_code)
    # And the grants: one may have been revoked, or may have ended, since the draft went to review.
    grants.require_grants(session, [(record.slug, record.agency_code, record.body)])
    now = utcnow()
    _retire_published(session, [record.slug], by=by, at=now)
    record.derived_level = checked.derivation.level
    record.flags = checked.derivation.flags
    record.status = Status.PUBLISHED
    record.reviewed_by = by
    record.reviewed_at = now
    record.published_by = by
    record.published_at = now
    session.flush()
    catalog_service.ensure_cards(session, [_executable_service(checked.definition)], actor=f"publish:{by}")
    catalog_service.record_derived_maturities(
        session, {record.slug: (record.derived_level, record.flags)}, source=CATALOG_SOURCE
    )
    return record


def retire(session: Session, record: DefinitionRecord, *, by: str) -> DefinitionRecord:
    """Withdraw a published version (the service stops being executable) or discard an open draft."""
    _must_be(record, Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED)
    was_published = record.status == Status.PUBLISHED
    record.status = Status.RETIRED
    record.retired_by = by
    record.retired_at = utcnow()
    session.flush()
    if was_published:
        catalog_service.record_derived_maturities(session, {record.slug: None}, source=CATALOG_SOURCE)
    return record


def _retire_published(session: Session, slugs: Sequence[str], *, by: str, at: Any) -> None:
    if not slugs:
        return
    for record in session.scalars(
        select(DefinitionRecord).where(
            DefinitionRecord.slug.in_(list(slugs)), DefinitionRecord.status == Status.PUBLISHED
        )
    ):
        record.status = Status.RETIRED
        record.retired_by = by
        record.retired_at = at
    session.flush()  # before the next version is published: one published version per slug (the index)


# Import and export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did: new published versions, and slugs whose published version already said so."""

    published: list[DefinitionRecord]
    unchanged: list[str]


def read_files(source: Path) -> list[defs.LoadedDefinition]:
    """The definitions of a folder (every `*.yaml`) or of one `<slug>.yaml`, validated as files."""
    if source.is_dir():
        return list(defs.load_all(source).values())
    if source.is_file():
        return [defs.load_file(source)]
    raise InvalidDefinition(f"{source}: no such file or folder", f"{source}: پیدا نشد", file=str(source))


def import_definitions(
    session: Session, documents: Iterable[tuple[dict[str, Any], dict[str, Any]]], *, by: str
) -> ImportResult:
    """Publish each (document, decision model) as its slug's new version, unless the published version
    already says the same (idempotent). In bulk: a few statements for any number of definitions.

    An import is an operator's act (the CLI, the demo's seed): it publishes without a second person, and
    the versions record `import:<by>` as their author and publisher."""
    actor = f"import:{by}"[:120]
    known = known_data_services(session)
    items = list(documents)
    slugs = [str(doc.get("slug")) for doc, _ in items if isinstance(doc, dict)]
    cards = catalog_selectors.cards_by_slug(session, slugs)
    declared = {slug: int(card.declared_maturity_level) for slug, card in cards.items()}
    checked_items: dict[str, Checked] = {}
    for document, model in items:
        where = f"{document.get('slug')}.yaml" if isinstance(document, dict) else "definition"
        checked = check(session, document, model, where=where, known=known, declared=declared)
        slug = checked.definition.slug
        if slug in checked_items:
            raise InvalidDefinition(f"{where}: imported twice", f"{where}: دو بار آمده است", file=where)
        card = cards.get(slug)
        if card is not None and card.agency_code != checked.definition.agency:
            raise SlugOfAnotherAgency(
                f"{where}: the card {slug!r} is {card.agency_code}'s, not {checked.definition.agency}'s",
                f"{where}: کارت خدمت «{slug}» از آنِ دستگاه دیگری است",
            )
        checked_items[slug] = checked
    existing = session.execute(
        select(
            DefinitionRecord.slug,
            DefinitionRecord.agency_code,
            func.max(DefinitionRecord.version),
        )
        .where(DefinitionRecord.slug.in_(list(checked_items)))
        .group_by(DefinitionRecord.slug, DefinitionRecord.agency_code)
    ).all()
    highest: dict[str, int] = {}
    for slug, agency_code, version in existing:
        if agency_code != checked_items[slug].definition.agency:
            raise SlugOfAnotherAgency(
                f"{slug}.yaml: {slug!r} belongs to {agency_code}", f"شناسهٔ «{slug}» از آنِ دستگاه دیگری است"
            )
        highest[slug] = max(highest.get(slug, 0), int(version))
    published_digest = dict(
        session.execute(
            select(DefinitionRecord.slug, DefinitionRecord.digest).where(
                DefinitionRecord.slug.in_(list(checked_items)), DefinitionRecord.status == Status.PUBLISHED
            )
        ).all()
    )
    unchanged = sorted(slug for slug, c in checked_items.items() if published_digest.get(slug) == c.digest)
    fresh = {slug: c for slug, c in checked_items.items() if slug not in unchanged}
    # An import publishes, so it is held to publishing's grants: refused, naming each service, rather than
    # published with a flag. A flag would put a service before citizens that reads what its agency was never
    # granted, the very gap the check closes; the operator records the agreement first (docs/protocols/
    # service-definitions.md). Only what this import publishes is checked: an unchanged version stays.
    grants.require_grants(
        session, [(slug, c.definition.agency, defs.stored_body(c.definition)) for slug, c in fresh.items()]
    )
    now = utcnow()
    _retire_published(session, list(fresh), by=actor, at=now)
    records = []
    for slug, checked in fresh.items():
        record = DefinitionRecord(
            version=max(checked.definition.version, highest.get(slug, 0) + 1),
            status=Status.PUBLISHED,
            created_by=actor,
            updated_by=actor,
            published_by=actor,
            created_at=now,
            updated_at=now,
            published_at=now,
        )
        _fill(record, checked)
        records.append(record)
    session.add_all(records)
    session.flush()
    catalog_service.ensure_cards(
        session,
        [_executable_service(c.definition) for slug, c in checked_items.items() if slug not in cards],
        actor=actor,
    )
    catalog_service.record_derived_maturities(
        session,
        {slug: (c.derivation.level, c.derivation.flags) for slug, c in checked_items.items()},
        source=CATALOG_SOURCE,
    )
    return ImportResult(published=records, unchanged=unchanged)


def import_loaded(session: Session, loaded: Iterable[defs.LoadedDefinition], *, by: str) -> ImportResult:
    """Import definitions read from files (`read_files`)."""
    return import_definitions(
        session, ((item.definition.model_dump(mode="json"), item.model) for item in loaded), by=by
    )


def export_record(record: DefinitionRecord, directory: Path) -> list[Path]:
    """Write a version as `<slug>.yaml` and `<slug>.decision.json` (what `import` reads back)."""
    directory.mkdir(parents=True, exist_ok=True)
    body = defs.ServiceDefinition.model_validate(record.body).model_dump(mode="json", exclude_none=True)
    body["version"] = record.version
    body["decision"]["model"] = defs.model_file_name(record.slug)
    document = directory / f"{record.slug}.yaml"
    model = directory / defs.model_file_name(record.slug)
    document.write_text(
        f"# {record.title_fa}: version {record.version}, {record.status.value}"
        f" (exported from the definitions store)\n"
        + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110),
        encoding="utf-8",
    )
    model.write_text(json.dumps(record.model, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [document, model]
