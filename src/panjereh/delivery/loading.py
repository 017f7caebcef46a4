"""Definitions into the database: one row per distinct version, the newest active, maturity derived."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog import service as catalog_service
from panjereh.catalog.exceptions import ServiceNotFound as CatalogServiceNotFound
from panjereh.delivery import definitions as defs
from panjereh.delivery.definitions import LoadedDefinition, derive_maturity
from panjereh.delivery.exceptions import ServiceNotExecutable
from panjereh.delivery.models import DefinitionRecord


def sync_definitions(
    session: Session, loaded: dict[str, LoadedDefinition] | None = None
) -> list[DefinitionRecord]:
    """Store each definition's current version (idempotent) and record the maturity it supports."""
    records = []
    for item in (loaded if loaded is not None else defs.bundled()).values():
        records.append(_store(session, item))
    return records


def _store(session: Session, item: LoadedDefinition) -> DefinitionRecord:
    definition = item.definition
    declared = _declared_level(session, definition.slug)
    derivation = derive_maturity(definition, declared_level=declared)
    record = session.scalar(
        select(DefinitionRecord).where(
            DefinitionRecord.slug == definition.slug, DefinitionRecord.digest == item.digest
        )
    )
    if record is None:
        session.execute(
            update(DefinitionRecord)
            .where(DefinitionRecord.slug == definition.slug, DefinitionRecord.active.is_(True))
            .values(active=False)
            .execution_options(synchronize_session=False)
        )
        record = DefinitionRecord(
            slug=definition.slug,
            version=definition.version,
            digest=item.digest,
            agency_code=definition.agency,
            title_fa=definition.title.fa,
            title_en=definition.title.en,
            body=definition.model_dump(mode="json"),
            model=item.model,
            derived_level=derivation.level,
            flags=derivation.flags,
            is_smart=definition.is_smart,
            active=True,
        )
        session.add(record)
    else:
        record.derived_level = derivation.level
        record.flags = derivation.flags
    session.flush()
    _record_in_catalog(session, definition.slug, derivation.level, derivation.flags)
    return record


def _card(session: Session, slug: str) -> Any:
    try:
        return catalog_selectors.get_service_by_slug(session, slug)
    except CatalogServiceNotFound:  # an uncarded service: nothing declared to compare
        return None


def _declared_level(session: Session, slug: str) -> int | None:
    """The level the agency declared on the service card, when the catalog has the service."""
    card = _card(session, slug)
    return None if card is None else int(card.declared_maturity_level)


def _record_in_catalog(session: Session, slug: str, level: int, flags: list[str]) -> None:
    if _card(session, slug) is not None:
        catalog_service.record_derived_maturity(
            session, slug, level, source="delivery-definition", flags=flags
        )


def active_record(session: Session, slug: str) -> DefinitionRecord:
    """The active version of a service's definition, as loaded (`sync_definitions`).

    Only loading writes: a version is stored and its maturity recorded in the catalog when definitions
    are loaded (`panjereh seed`, `panjereh delivery load`), never on a citizen's request, so a request
    reads and writes delivery's own tables alone. A service whose definition was never loaded is not
    executable."""
    record = session.scalar(
        select(DefinitionRecord).where(DefinitionRecord.slug == slug, DefinitionRecord.active.is_(True))
    )
    if record is None:
        raise ServiceNotExecutable(
            f"no executable definition for {slug!r}", f"خدمت «{slug}» تعریف اجرایی ندارد"
        )
    return record


def loaded_from_record(record: DefinitionRecord) -> LoadedDefinition:
    """The validated definition a stored version holds.

    Cached by (slug, digest): a stored version never changes (its digest is of its body and model, and a
    change is a new row), so its body and model are read and validated once per process, not on every
    request. One entry per stored version: few, and never stale.
    """
    key = (record.slug, record.digest)
    loaded = _LOADED.get(key)
    if loaded is None:
        definition = defs.ServiceDefinition.model_validate(record.body)
        loaded = _LOADED[key] = LoadedDefinition(
            definition=definition,
            model=copy.deepcopy(record.model),  # the session's object stays the session's
            digest=record.digest,
            path=defs.DEFINITIONS_DIR / f"{record.slug}.yaml",
        )
    return loaded


_LOADED: dict[tuple[str, str], LoadedDefinition] = {}
