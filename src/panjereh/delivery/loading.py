"""The shipped definitions into the store, and a stored version back into a validated definition."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.delivery import definitions as defs
from panjereh.delivery import grants, selectors, store
from panjereh.delivery.definitions import LoadedDefinition
from panjereh.delivery.models import DefinitionRecord
from panjereh.exchange import service as exchange_service

SEED_ACTOR = "seed"
DEMO_AGREEMENT = "آیین‌نامه اجرایی خدمات دولت هوشمند (۱۴۰۲): توافق‌نامهٔ تبادل داده (داده‌های نمایشی)"


def sync_definitions(
    session: Session, loaded: dict[str, LoadedDefinition] | None = None, *, settings: Settings | None = None
) -> list[DefinitionRecord]:
    """Import the shipped definitions (or these), published; idempotent. Returns the published versions.

    The shipped files are the demo's import set, not the source of truth: the store is
    (`delivery.store`); this is `panjereh definitions import` of `definitions/` in code. `settings`: the
    running platform's (the seed and the CLI pass theirs); without them (tests) it is no production."""
    items = list((loaded if loaded is not None else defs.bundled()).values())
    agree_demo_grants(session, (item.definition.model_dump(mode="json") for item in items), settings=settings)
    store.import_loaded(session, items, by=SEED_ACTOR)
    return [selectors.published_definition(session, item.slug) for item in items]


def agree_demo_grants(
    session: Session, documents: Iterable[dict[str, Any]], *, settings: Settings | None = None
) -> int:
    """The demo's data-sharing agreements: every grant its definitions need (what they read from other
    agencies), recorded as requested and approved by the exchange; returns how many were made (none in
    production).

    Importing publishes, and publishing needs the grants (delivery.grants), so the demo's import set comes
    with the agreements its agencies would have signed, as demo data of its own: nothing grants itself on
    publishing. Each grant names the definitions that read the service (`delivery:<slug>`)."""
    if settings is not None and settings.env == "production":
        # These agreements are invented for the demo and approved in the providers' names
        # (`seed:<provider>`). In production a grant is asked for and decided by the provider's own
        # officers (docs/protocols/exchange.md); a seed or `definitions load` that approved them would
        # grant access no provider agreed to. There, a definition lacking its grants is refused instead.
        return 0
    wanted: dict[tuple[str, str], set[str]] = {}
    for body in documents:
        for code in grants.inquired_services(body):
            wanted.setdefault((str(body["agency"]), code), set()).add(f"delivery:{body['slug']}")
    made = exchange_service.record_agreements(
        session,
        {pair: sorted(purposes) for pair, purposes in wanted.items()},
        legal_basis=DEMO_AGREEMENT,
        by=SEED_ACTOR,
    )
    return len(made)


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
