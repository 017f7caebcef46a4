"""The provider's jobs: back-channel logout notices (OIDC Back-Channel Logout 1.0 §2.5)."""

from __future__ import annotations

import asyncio

import httpx

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work
from panjereh.core.logging import get_logger
from panjereh.jobs import JobContext, Retry, handler
from panjereh.oidc import clients
from panjereh.oidc.keys import load_keyring
from panjereh.oidc.logout import BACKCHANNEL_JOB, logout_token

log = get_logger(__name__)

SEND_TIMEOUT_SECONDS = 5.0


def _prepare(ctx: JobContext, settings: Settings) -> tuple[str, str] | None:
    """The client's logout URI and a fresh logout token; None when the client is gone or unregistered."""
    payload = ctx.job.payload
    with unit_of_work(ctx.sessionmaker) as session:
        client = clients.get_client(session, payload["client_id"])
        if client is None or not client.backchannel_logout_uri:
            return None
        token = logout_token(settings, load_keyring(settings), client, payload["citizen_id"], payload["sid"])
        return client.backchannel_logout_uri, token


@handler(BACKCHANNEL_JOB)
async def send_backchannel_logout(ctx: JobContext) -> None:
    """POST `logout_token` to the client (§2.5); anything but 200 is retried with the job's back-off."""
    prepared = await asyncio.to_thread(_prepare, ctx, ctx.services["settings"])
    if prepared is None:
        return
    uri, token = prepared
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT_SECONDS, follow_redirects=False) as http:
            response = await http.post(
                uri, data={"logout_token": token}, headers={"Cache-Control": "no-store"}
            )
    except httpx.HTTPError as exc:
        log.warning("oidc.backchannel_failed", client=ctx.job.payload["client_id"], error=str(exc))
        raise Retry(f"{type(exc).__name__}: {exc}") from None
    if response.status_code not in (200, 204):  # §2.8: 200 (204 is common too)
        log.warning(
            "oidc.backchannel_refused", client=ctx.job.payload["client_id"], status=response.status_code
        )
        raise Retry(f"HTTP {response.status_code}")
