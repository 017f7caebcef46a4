"""Dependencies of the feedback forms: the per-citizen limit on ratings and on problem reports."""

from __future__ import annotations

import math

from fastapi import Request

from panjereh.core.persian import to_persian_digits
from panjereh.core.ratelimit import Limiter, Window, make_storage
from panjereh.feedback.exceptions import FeedbackThrottled


def limiter(request: Request) -> Limiter:
    """The app's limiter for feedback (moving windows, in Redis when configured), made on first use."""
    state = request.app.state
    found: Limiter | None = getattr(state, "feedback_limiter", None)
    if found is None:
        settings = state.settings
        found = state.feedback_limiter = Limiter(
            make_storage(settings.redis_url, settings.redis_prefix), moving=True
        )
    return found


def throttle(request: Request, kind: str, national_code: str) -> None:
    """Count one rating or report (`kind`) of this citizen; refuse past the hourly limit."""
    window = Window(request.app.state.settings.feedback_per_hour, 3600)
    wait = limiter(request).hit(f"feedback:{kind}:{national_code}", window)
    if wait is not None:
        minutes = max(math.ceil(wait / 60), 1)
        raise FeedbackThrottled(
            f"At most {window.limit} an hour; try again in {minutes} min",
            to_persian_digits(f"حداکثر {window.limit} بار در ساعت؛ {minutes} دقیقهٔ دیگر دوباره تلاش کنید"),
            headers={"Retry-After": str(max(math.ceil(wait), 1))},
        )
