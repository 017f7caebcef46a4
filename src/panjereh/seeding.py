"""Demo data: each domain contributes idempotent steps; `panjereh seed` runs them in dependency order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from panjereh.agencies import seed as agencies_seed
from panjereh.analytics import national as analytics_national
from panjereh.analytics import seed as analytics_seed
from panjereh.catalog import seed as catalog_seed
from panjereh.conformance import seed as conformance_seed
from panjereh.core.seeding import SeedStep
from panjereh.delivery import seed as delivery_seed
from panjereh.exchange import seed as exchange_seed
from panjereh.feedback import seed as feedback_seed
from panjereh.notify import seed as notify_seed
from panjereh.oidc import seed as oidc_seed
from panjereh.representation import seed as representation_seed
from panjereh.staff import seed as staff_seed

SCALES = ("demo", "national")


def demo_steps(published_services: Mapping[str, Any], scale: str = "demo") -> list[SeedStep]:
    """The steps for a scale, in dependency order (agencies before services before requests).

    `published_services` is the document the simulated registries publish (their data services); the
    command that seeds hands it over, since the platform never reads the registries' files."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    return [
        SeedStep("agencies", agencies_seed.agency_count(), agencies_seed.seed_agencies),
        SeedStep("staff", staff_seed.step_size(), staff_seed.seed_staff),
        SeedStep("service catalog", catalog_seed.inventory_size(), catalog_seed.seed_catalog),
        exchange_seed.exchange_step(published_services),
        SeedStep("delivery", delivery_seed.definition_count(), delivery_seed.seed_delivery),
        SeedStep("conformance", conformance_seed.step_size(), conformance_seed.seed_conformance),
        SeedStep("feedback", feedback_seed.step_size(), feedback_seed.seed_feedback),
        SeedStep("delegations", representation_seed.step_size(), representation_seed.seed_delegations),
        oidc_seed.oidc_step(),
        SeedStep("notice preferences", notify_seed.step_size(), notify_seed.seed_notices),
        SeedStep("analytics shares", analytics_seed.shares_size(), analytics_seed.seed_shares),
        *_analytics_visit_steps(scale),
    ]


def _analytics_visit_steps(scale: str) -> list[SeedStep]:
    """The visit history at 1:1,000 for the demo; the full national month for `--scale national`."""
    if scale == "national":
        national = analytics_national.NATIONAL
        return [SeedStep("analytics national month", national.total, analytics_national.seed_national)]
    return [
        SeedStep("analytics history", analytics_seed.history_size(), analytics_seed.seed_history),
        SeedStep("analytics measured shares", 1, analytics_seed.seed_measured),
    ]
