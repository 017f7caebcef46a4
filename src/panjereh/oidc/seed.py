"""Demo data for the OIDC provider: «بانک نمونه», a bank signing citizens in and asking for verified
attributes (docs/protocols/oidc.md § Verified attributes; README's tour)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance, SeedStep
from panjereh.oidc import clients
from panjereh.oidc.models import OidcClient

BANK_CLIENT_ID = "bank.sample"
BANK_REDIRECT_URI = "https://bank.example.ir/callback"
BANK_PURPOSES: dict[str, list[str]] = {
    "address": ["برای فرستادن کارت بانکی به نشانی شما", "To post your bank card to your address"],
    "education": ["برای سنجش شرایط وام دانشجویی", "To assess a student loan"],
    "vehicles": ["برای وام با وثیقهٔ خودرو", "For a loan secured on your car"],
    "insurance": ["برای سنجش درآمد در پروندهٔ وام", "To assess your income for a loan"],
}


def seed_oidc(session: Session, settings: Settings, advance: Advance) -> None:
    """Register the demo bank (idempotent), its attributes approved as an operator would. It shows the
    per-attribute consent screen; its secret is random and kept nowhere, so the demo stops at the bank's
    (unreachable) address: the whole flow is walked by tests/oidc/test_attributes.py."""
    if session.get(OidcClient, BANK_CLIENT_ID) is None:
        clients.register(
            session,
            client_id=BANK_CLIENT_ID,
            name_fa="بانک نمونه",
            name_en="Sample Bank",
            redirect_uris=[BANK_REDIRECT_URI],
            scopes=[*clients.BASE_SCOPES, *BANK_PURPOSES],
            attribute_purposes=BANK_PURPOSES,
            approve_attributes=True,
        )
    advance(1)


def oidc_step() -> SeedStep:
    return SeedStep("oidc demo apps", 1, seed_oidc)
