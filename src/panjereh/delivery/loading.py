"""The shipped definitions into the store, and a stored version back into a validated definition."""

from __future__ import annotations

import copy
from pathlib import Path

from sqlalchemy.orm import Session

from panjereh.delivery import definitions as defs
from panjereh.delivery import selectors, store
from panjereh.delivery.definitions import LoadedDefinition
from panjereh.delivery.models import DefinitionRecord

SEED_ACTOR = "seed"


def sync_definitions(
    session: Session, loaded: dict[str, LoadedDefinition] | None = None
) -> list[DefinitionRecord]:
    """Import the shipped definitions (or these), published; idempotent. Returns the published versions.

    The shipped files are the demo's import set, not the source of truth: the store is
    (`delivery.store`); this is `panjereh definitions import` of `definitions/` in code."""
    items = list((loaded if loaded is not None else defs.bundled()).values())
    store.import_loaded(session, items, by=SEED_ACTOR)
    return [selectors.published_definition(session, item.slug) for item in items]


def loaded_from_record(record: DefinitionRecord) -> LoadedDefinition:
    """The validated definition a stored version holds.

    Cached by (id, digest): a published version never changes, so its body and model are read and
    validated once per process, not on every request (a draft's digest moves with each edit, so a
    cached entry is never stale). One entry per stored version: few, and never stale.
    """
    key = (record.id, record.digest)
    loaded = _LOADED.get(key)
    if loaded is None:
        definition = defs.ServiceDefinition.model_validate(record.body)
        loaded = _LOADED[key] = LoadedDefinition(
            definition=definition,
            model=copy.deepcopy(record.model),  # the session's object stays the session's
            digest=record.digest,
            path=Path(f"{record.slug}.yaml"),
        )
    return loaded


_LOADED: dict[tuple[str, str], LoadedDefinition] = {}
