"""The userinfo endpoint's limits: calls a minute per client, and per client and citizen.

A relying party that polls userinfo with verified-attribute scopes would make the registries answer
again and again and fill the citizen's data-access ledger with the same inquiry; the release cache
(`oidc.release_cache`) answers a repeated call with one token, these limits bound the rest (new tokens
in a loop, many citizens at once). Moving windows on `core.ratelimit` (Redis when configured, so every
worker shares the count; memory otherwise). Only calls with a live token are counted: the client and
the citizen are known only then, and a forged or revoked token is refused as before without touching
anyone's budget.
"""

from __future__ import annotations

import math

from panjereh.core.config import Settings
from panjereh.core.persian import to_persian_digits
from panjereh.core.ratelimit import Limiter, Window, make_storage
from panjereh.oidc.exceptions import OAuthError

__all__ = ["THROTTLED", "UserinfoLimits"]

THROTTLED = "too_many_requests"  # the code Auth0's authentication API answers its rate limits with
MINUTE = 60


class UserinfoLimits:
    """Counts userinfo calls of a client, and of a client for one citizen, against the settings."""

    def __init__(self, settings: Settings) -> None:
        self.limiter = Limiter(make_storage(settings.redis_url, settings.redis_prefix), moving=True)
        self.per_client = Window(settings.oidc_userinfo_per_minute, MINUTE)
        self.per_citizen = Window(settings.oidc_userinfo_per_citizen_per_minute, MINUTE)

    def check(self, client_id: str, citizen_id: str) -> None:
        """Count one call; past a limit, `OAuthError` 429 `too_many_requests` with `Retry-After`.

        The citizen's window is counted first: a client polling one citizen spends that citizen's budget
        and, once refused there, not the budget the client's other users share.
        """
        wait = self.limiter.hit(f"oidc-userinfo:citizen:{client_id}:{citizen_id}", self.per_citizen)
        if wait is not None:
            raise _throttled(wait, self.per_citizen, "for one citizen", "برای یک شهروند")
        wait = self.limiter.hit(f"oidc-userinfo:client:{client_id}", self.per_client)
        if wait is not None:
            raise _throttled(wait, self.per_client, "for this client", "برای این برنامه")


def _throttled(wait: float, window: Window, whom_en: str, whom_fa: str) -> OAuthError:
    retry_after = max(math.ceil(wait), 1)
    return OAuthError(
        THROTTLED,
        f"At most {window.limit} userinfo calls a minute {whom_en}; retry after {retry_after} s",
        429,
        description_fa=to_persian_digits(
            f"حداکثر {window.limit} بار در دقیقه {whom_fa}؛ {retry_after} ثانیهٔ دیگر دوباره تلاش کنید"
        ),
        headers={"Retry-After": str(retry_after)},
    )
