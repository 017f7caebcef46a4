"""The platform's application with one slow route: tests stop a server while a request is in flight."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from panjereh.app import create_app as create_platform_app
from panjereh.core.config import get_settings


def create_app() -> FastAPI:
    """The platform's app (settings from the environment), plus GET /_test/slow?seconds=N."""
    app = create_platform_app()
    arrived = get_settings().home / "slow-request-arrived"

    @app.get("/_test/slow")
    async def slow(seconds: float) -> dict[str, float]:
        arrived.touch()  # the test sends SIGTERM once the request is known to be in flight
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    return app
