"""Notify's machine endpoint (under /api/v1): the SMS provider's delivery-report callback.

Kavenegar calls the address set in its panel,
`PANJEREH_PUBLIC_URL/api/v1/notify/kavenegar/delivery/<secret>`, with a form of `messageid` and `status`
when an operator reports what became of a message. Kept out of the OpenAPI document: its path holds a
secret and only the provider calls it (docs/protocols/notifications.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from panjereh.core.deps import AppSettings, DbSession
from panjereh.notify import service

router = APIRouter(include_in_schema=False)

FIELD_MAX = 40  # a Kavenegar message id is a number of about ten digits; anything longer is refused


@router.post("/notify/kavenegar/delivery/{secret}")
async def kavenegar_delivery(
    secret: str, request: Request, db: DbSession, settings: AppSettings
) -> dict[str, Any]:
    """Take one delivery report; 200 also when it changed nothing (a replay), so the provider stops."""
    form = await request.form(max_files=0, max_fields=20)
    fields = {key: value[:FIELD_MAX] for key, value in form.items() if isinstance(value, str)}
    messageid, status = fields.get("messageid", ""), fields.get("status", "")
    changed = await run_in_threadpool(
        service.kavenegar_delivery_callback,
        db,
        settings,
        secret=secret[:200],
        messageid=messageid,
        status=status,
    )
    return {"messageid": messageid, "changed": changed}
