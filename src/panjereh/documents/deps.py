"""Dependencies of the documents' endpoints: the per-address limit on public verification."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from panjereh.core.persian import to_persian_digits
from panjereh.core.ratelimit import Limiter, Window, make_storage
from panjereh.documents.exceptions import VerificationThrottled


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


def throttle_verification(request: Request) -> None:
    """Count one verification against the caller's address; refuse past the limit (page and API alike).

    Verification is public and answers whether a number exists, so without a limit it is an oracle for
    walking the number space; the address is the peer's, or the client a trusted proxy names.
    """
    window = Window(request.app.state.settings.verify_per_minute, 60)
    address = request.client.host if request.client else "unknown"
    wait = limiter(request).hit(f"verify:{address}", window)
    if wait is not None:
        retry_after = max(math.ceil(wait), 1)
        raise VerificationThrottled(
            f"At most {window.limit} verifications a minute; retry after {retry_after} s",
            to_persian_digits(
                f"حداکثر {window.limit} استعلام در دقیقه؛ {retry_after} ثانیهٔ دیگر دوباره تلاش کنید"
            ),
            headers={"Retry-After": str(retry_after)},
        )


VerificationThrottle = Annotated[None, Depends(throttle_verification)]
