"""Demo data for staff: the demo citizen runs the platform and one agency's workspace; a second person
reviews there, so the four-eyes path can be shown (README, «A short tour»)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.staff import service
from panjereh.staff.constants import Role

DEMO_AGENCY = "tax"  # the demo citizen's agency: administrator and service designer there
# (national code, agency or None for the platform, roles): personas of docs/protocols/registries.md.
DEMO_STAFF: tuple[tuple[str, str | None, tuple[Role, ...]], ...] = (
    ("0499370899", None, (Role.OPERATOR,)),
    ("0499370899", DEMO_AGENCY, (Role.ADMINISTRATOR, Role.DESIGNER, Role.DEVELOPER)),
    ("7400076205", DEMO_AGENCY, (Role.REVIEWER,)),
)


def seed_staff(session: Session, settings: Settings, advance: Advance) -> None:
    """Give the demo staff their roles (idempotent)."""
    for national_code, agency_code, roles in DEMO_STAFF:
        for role in roles:
            service.grant(session, national_code, role, agency_code)
    advance(len(DEMO_STAFF))


def step_size() -> int:
    return len(DEMO_STAFF)
