"""Dependencies of the documents' endpoints: the per-address limits on public verification and shares."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from panjereh.core.errors import ProblemError
from panjereh.core.persian import to_persian_digits
from panjereh.core.ratelimit import Limiter, Window, make_storage
from panjereh.documents.exceptions import ShareOpeningsThrottled, VerificationThrottled


def limiter(request: Request) -> Limiter:
    """The app's limiter for verification (moving windows, in Redis when configured), made on first use."""
    state = request.app.state
    found: Limiter | None = getattr(state, "verification_limiter", None)
    if found is None:
        settings = state.settings
        found = state.verification_limiter = Limiter(
            make_storage(settings.redis_url, settings.redis_prefix), moving=True
        )
    return found


def _throttle(
    request: Request, key: str, limit: int, refused: type[ProblemError], what_en: str, what_fa: str
) -> None:
    """Count one call against the caller's address under `key`; past `limit` a minute, `refused` (429)."""
    window = Window(limit, 60)
    address = request.client.host if request.client else "unknown"
    wait = limiter(request).hit(f"{key}:{address}", window)
    if wait is not None:
        retry_after = max(math.ceil(wait), 1)
        raise refused(
            f"At most {window.limit} {what_en} a minute; retry after {retry_after} s",
            to_persian_digits(
                f"حداکثر {window.limit} {what_fa} در دقیقه؛ {retry_after} ثانیهٔ دیگر دوباره تلاش کنید"
            ),
            headers={"Retry-After": str(retry_after)},
        )


def throttle_verification(request: Request) -> None:
    """Count one verification against the caller's address; refuse past the limit (page and API alike).

    Verification is public and answers whether a number exists, so without a limit it is an oracle for
    walking the number space; the address is the peer's, or the client a trusted proxy names.
    """
    limit = request.app.state.settings.verify_per_minute
    _throttle(request, "verify", limit, VerificationThrottled, "verifications", "استعلام")


VerificationThrottle = Annotated[None, Depends(throttle_verification)]


def throttle_share_openings(request: Request) -> None:
    """Count one opening of a shared document against the caller's address (page and API alike): the
    tokens are unguessable, but the limit keeps a walk of the token space and a scraper slow and visible."""
    limit = request.app.state.settings.share_opens_per_minute
    _throttle(request, "share", limit, ShareOpeningsThrottled, "shared documents", "مدرک اشتراکی")


ShareOpeningThrottle = Annotated[None, Depends(throttle_share_openings)]
