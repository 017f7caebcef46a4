"""Demo data: the demo citizen's notice preferences, so `/account/notices` and the notices show choices."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.seeding import Advance
from panjereh.notify import service
from panjereh.notify.constants import DATA_ACCESS, INBOX, SMS

DEMO_CITIZEN = "0499370899"  # registries.personas: the demo citizen
# He hears when an agency looks at his data (in the inbox) and of proactive services by SMS too.
DEMO_CHOICES = {DATA_ACCESS: frozenset({INBOX}), "proactive": frozenset({INBOX, SMS})}


def step_size() -> int:
    return len(DEMO_CHOICES)


def seed_notices(session: Session, settings: Settings, advance: Advance) -> None:
    """Set the demo citizen's choices (idempotent: the same choices set again)."""
    for topic, channels in DEMO_CHOICES.items():
        service.set_topic_channels(session, DEMO_CITIZEN, topic, channels)
        advance(1)
