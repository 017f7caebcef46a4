"""A simulated SMS gateway that speaks Kavenegar's REST API (the subset the platform uses).

`POST /v1/{apikey}/sms/send.json` (form: receptor, message, sender, localid) and
`POST /v1/{apikey}/sms/status.json` (form: messageid, comma separated), answered as Kavenegar answers:
`{"return": {"status", "message"}, "entries": [...]}` with the HTTP status equal to the return status.
The API key is the registries' token. A message to a number the simulated population holds is
delivered (status 10) when first asked about; to any other number it is undelivered (11), as an operator
reports a number with no subscriber. The same `localid` twice returns the first message (Kavenegar's
idempotency). `GET /_messages` (admin token) lists what was sent, for the demo and the tests.

Delivery reports are also called back, as Kavenegar does to the address set in its panel: `PUT
/_callback` (admin token; the simulated panel) sets that address, and each message's report is then
POSTed to it (form: messageid, status) `after_seconds` after the send, tried again with back-off while
the platform answers other than 2xx (a callback can arrive before the platform recorded the message id).
`POST /_callbacks` (admin token) calls back at once every message not yet taken, for the tests.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Form, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from panjereh.core.identifiers import InvalidIdentifier, normalize_mobile
from panjereh.registries.faults import FaultMiddleware
from panjereh.registries.http import Context, bearer_guard

CODE = "sms-gateway"
PREFIX = "/sms-gateway"
MAX_MESSAGE = 900  # characters Kavenegar accepts in one message (status 413 beyond)
MAX_RECEPTORS = 200  # numbers in one call (status 414 beyond)
SENDERS_PREFIXES = ("1000", "2000", "3000", "9000", "0098")  # the shapes of dedicated lines
# A report not taken is tried again after 2, 4, 8, 16 × after_seconds (at least 1, 2, 4, 8 s).
CALLBACK_TRIES = 5
CALLBACK_TIMEOUT = 10.0

QUEUED, DELIVERED, UNDELIVERED, UNKNOWN = 1, 10, 11, 100
STATUS_TEXT = {
    QUEUED: "در صف ارسال",
    DELIVERED: "رسیده به گیرنده",
    UNDELIVERED: "نرسیده به گیرنده",
    UNKNOWN: "شناسه پیامک نامعتبر است",
}
RETURN_TEXT = {
    200: "تایید شد",
    403: "کد شناسائی API-Key معتبر نمی‌باشد",
    411: "دریافت کننده نامعتبر است",
    412: "ارسال کننده نامعتبر است",
    413: "پیام خالی است و یا طول پیام بیش از حد مجاز می‌باشد",
    414: "حجم درخواست بیشتر از حد مجاز است",
    424: "شناسه پیامک نامعتبر است",
}


@dataclass
class SentSms:
    messageid: int
    receptor: str
    sender: str
    message: str
    localid: str | None
    status: int
    date: int
    callback_answers: list[int] = field(default_factory=list)  # the platform's HTTP answers (0: none)
    reported: bool = False  # a callback was taken (answered 2xx)


class CallbackSetting(BaseModel):
    """The simulated panel's «آدرس دریافت گزارش تحویل»: where delivery reports are POSTed, and when."""

    url: str | None = Field(default=None, max_length=500)
    # Seconds after a send before its report is called back; None: only when `POST /_callbacks` asks.
    after_seconds: float | None = Field(default=None, ge=0, le=60)


class Gateway:
    """The gateway's memory: every message sent, by id and by local id."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.lock = threading.Lock()
        self.ids = itertools.count(80_000_001)
        self.by_id: dict[int, SentSms] = {}
        self.by_localid: dict[str, SentSms] = {}
        self.callback = CallbackSetting()

    def send(self, receptor: str, sender: str, message: str, localid: str | None) -> SentSms:
        with self.lock:
            if localid and localid in self.by_localid:
                return self.by_localid[localid]
            sms = SentSms(
                next(self.ids), receptor, sender, message, localid, QUEUED, int(self.ctx.clock().timestamp())
            )
            self.by_id[sms.messageid] = sms
            if localid:
                self.by_localid[localid] = sms
        if self.callback.url and self.callback.after_seconds is not None:
            self._call_back_later(sms.messageid, self.callback.after_seconds, CALLBACK_TRIES)
        return sms

    def status(self, messageid: int) -> int:
        with self.lock:
            sms = self.by_id.get(messageid)
            if sms is None:
                return UNKNOWN
            return self._settle(sms)

    def _settle(self, sms: SentSms) -> int:
        if sms.status == QUEUED:  # the operator's report has come in by the time anyone asks
            known = self.ctx.population.owner_of(sms.receptor) is not None
            sms.status = DELIVERED if known else UNDELIVERED
        return sms.status

    def call_back(self, messageid: int) -> int:
        """POST one message's delivery report to the callback address; the platform's HTTP status."""
        with self.lock:
            sms = self.by_id[messageid]
            status = self._settle(sms)
            url = self.callback.url
        answer = 0
        if url:
            try:
                answer = httpx.post(
                    url, data={"messageid": str(messageid), "status": str(status)}, timeout=CALLBACK_TIMEOUT
                ).status_code
            except httpx.HTTPError:
                answer = 0
        with self.lock:
            sms.callback_answers.append(answer)
            sms.reported = sms.reported or 200 <= answer < 300
        return answer

    def call_back_pending(self) -> list[dict[str, int]]:
        """Call back, now, every message whose report was not yet taken."""
        with self.lock:
            pending = [sms.messageid for sms in self.by_id.values() if not sms.reported]
        return [{"messageid": messageid, "answer": self.call_back(messageid)} for messageid in pending]

    def _call_back_later(self, messageid: int, delay: float, tries_left: int) -> None:
        def run() -> None:
            answer = self.call_back(messageid)
            if not 200 <= answer < 300 and tries_left > 1:
                self._call_back_later(messageid, max(delay, 0.5) * 2, tries_left - 1)

        timer = threading.Timer(delay, run)
        timer.daemon = True
        timer.start()


def _answer(status: int, entries: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse(
        {"return": {"status": status, "message": RETURN_TEXT.get(status, "")}, "entries": entries},
        status_code=status,
    )


def _entry(sms: SentSms) -> dict[str, Any]:
    return {
        "messageid": sms.messageid,
        "message": sms.message,
        "status": sms.status,
        "statustext": STATUS_TEXT[sms.status],
        "sender": sms.sender,
        "receptor": sms.receptor,
        "date": sms.date,
        "cost": 120 * max(1, -(-len(sms.message) // 67)),
    }


def create_app(ctx: Context) -> FastAPI:
    """The gateway as its own sub-app (its own OpenAPI document and fault switch)."""
    app = FastAPI(
        title="SMS gateway, Kavenegar-compatible (simulated) — درگاه پیامک",
        description="Kavenegar's sms/send and sms/status, for the demo and the tests.",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    gateway = Gateway(ctx)
    app.state.gateway = gateway

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "registry": CODE}

    @app.post("/v1/{apikey}/sms/send.json", tags=["sms"], summary="Send one message (Kavenegar sms/send)")
    def send(
        apikey: str,
        receptor: str = Form("", max_length=20_000),
        message: str = Form("", max_length=20_000),
        sender: str = Form("", max_length=40),
        localid: str | None = Form(None, max_length=40),
    ) -> JSONResponse:
        if apikey != ctx.token:
            return _answer(403)
        numbers = [item.strip() for item in receptor.split(",") if item.strip()]
        if len(numbers) > MAX_RECEPTORS:
            return _answer(414)
        try:
            mobiles = [normalize_mobile(number) for number in numbers]
        except InvalidIdentifier:
            return _answer(411)
        if not mobiles:
            return _answer(411)
        if not sender.isdigit() or not sender.startswith(SENDERS_PREFIXES):
            return _answer(412)
        if not message.strip() or len(message) > MAX_MESSAGE:
            return _answer(413)
        sent = [
            gateway.send(mobile, sender, message, f"{localid}:{index}" if localid and index else localid)
            for index, mobile in enumerate(mobiles)
        ]
        return _answer(200, [_entry(sms) for sms in sent])

    @app.post("/v1/{apikey}/sms/status.json", tags=["sms"], summary="Delivery status (Kavenegar sms/status)")
    def status(apikey: str, messageid: str = Form("", max_length=6_000)) -> JSONResponse:
        if apikey != ctx.token:
            return _answer(403)
        ids = [item.strip() for item in messageid.split(",") if item.strip()]
        if not ids or len(ids) > 500 or not all(item.isascii() and item.isdigit() for item in ids):
            return _answer(424)
        entries = []
        for item in ids:
            code = gateway.status(int(item))
            entries.append({"messageid": int(item), "status": code, "statustext": STATUS_TEXT[code]})
        return _answer(200, entries)

    @app.get(
        "/_messages",
        tags=["admin"],
        summary="Every message sent (the demo and the tests)",
        dependencies=[Depends(bearer_guard(ctx.admin_token))],
    )
    def messages() -> list[dict[str, Any]]:
        with gateway.lock:
            return [asdict(sms) for sms in gateway.by_id.values()]

    @app.put(
        "/_callback",
        tags=["admin"],
        summary="Set the delivery-report callback address (Kavenegar's panel setting)",
        dependencies=[Depends(bearer_guard(ctx.admin_token))],
    )
    def set_callback(setting: CallbackSetting) -> CallbackSetting:
        gateway.callback = setting
        return setting

    @app.post(
        "/_callbacks",
        tags=["admin"],
        summary="Call back every delivery report not yet taken, now (the tests)",
        dependencies=[Depends(bearer_guard(ctx.admin_token))],
    )
    def call_back_now(messageid: list[int] | None = Query(None, max_length=500)) -> list[dict[str, int]]:
        """Every pending report, or those of the `messageid`s named (the same message may be named again:
        a report already taken is called back once more, as a provider's retry would)."""
        if messageid is None:
            return gateway.call_back_pending()
        known = [item for item in messageid if item in gateway.by_id]
        return [{"messageid": item, "answer": gateway.call_back(item)} for item in known]

    app.add_middleware(FaultMiddleware, board=ctx.faults, registry=CODE)
    return app
