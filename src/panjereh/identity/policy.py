"""The identity numbers in one place; docs/security.md states each with its source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from panjereh.core.ratelimit import Window
from panjereh.identity.constants import LEVEL_SMS, LEVEL_TWO_FACTOR

CODE_DIGITS = 6
MAX_WRONG_CODES_PER_ATTEMPT = 5
MAX_CONSECUTIVE_FAILURES = 100  # NIST SP 800-63B §5.2.2
BACKOFF_AFTER_FAILURES = 5
BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 3600
LOCK_SECONDS = 24 * 3600
FAILURE_WINDOW_SECONDS = 24 * 3600

MINIMUM_AGE = 18


SENDS_PER_MOBILE = (Window(3, 600), Window(10, 86400))
SENDS_PER_NATIONAL_CODE = (Window(3, 600), Window(10, 86400))
SENDS_PER_ADDRESS = (Window(20, 600), Window(200, 86400))
STARTS_PER_ADDRESS = (Window(30, 600),)


@dataclass(frozen=True)
class SessionTimeouts:
    idle: timedelta
    absolute: timedelta


SESSION_TIMEOUTS = {
    LEVEL_SMS: SessionTimeouts(idle=timedelta(minutes=60), absolute=timedelta(hours=24)),
    LEVEL_TWO_FACTOR: SessionTimeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12)),
}
SESSION_TOUCH_SECONDS = 60  # last_seen is written at most once a minute per session


def backoff_seconds(consecutive_failures: int) -> int:
    """Growing back-off: none for the first few failures, then doubling up to an hour; a lock at 100."""
    if consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
        return LOCK_SECONDS
    if consecutive_failures < BACKOFF_AFTER_FAILURES:
        return 0
    exponent = consecutive_failures - BACKOFF_AFTER_FAILURES
    return int(min(BACKOFF_BASE_SECONDS * 2 ** min(exponent, 20), BACKOFF_MAX_SECONDS))
