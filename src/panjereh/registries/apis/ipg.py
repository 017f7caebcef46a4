"""درگاه پرداخت اینترنتی: a simulated internet payment gateway (IPG), shaped like a Shaparak PSP's.

The flow (docs/protocols/payments.md): the merchant asks for a **token** server to server (amount in
rials, its order id, its callback URL) → the citizen's browser is sent to the gateway's **payment page**
(`/ipg/pay/{token}`: card, «پرداخت» or «انصراف») → the gateway sends the browser back to the **callback**
with the result, a reference (RRN) and an HMAC signature → the merchant **verifies** and then **settles**
server to server, or **reverses** (refunds). `/ipg/report` lists a day's transactions for reconciliation.

Server-to-server routes take the registry token; the payment page is public (the citizen's browser).
Transactions live in memory (a simulator); faults apply through the registries' fault board (`ipg`).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from panjereh.registries.http import Context, RegistryError, bearer_guard, install_problem_handlers

CODE = "ipg"
TOKEN_TTL = timedelta(minutes=20)
# Test cards (the personas of the gateway): one that pays, one the issuing bank declines.
GOOD_CARD = "6037991000000001"
DECLINED_CARD = "6037990000000002"
MAX_AMOUNT = 5_000_000_000  # rials: Shaparak's per-transaction ceiling is far below; a sanity bound


def callback_key(registry_token: str) -> bytes:
    """The merchant's callback-signing key. A real PSP hands it to the merchant; the simulator derives it
    from the shared registry token (both sides know it), never sending it over the wire."""
    return hmac.new(registry_token.encode(), b"ipg-callback-v1", hashlib.sha256).digest()


def sign_callback(key: bytes, fields: dict[str, str]) -> str:
    """HMAC-SHA256 over the callback's fields in a fixed order, joined by `|` (hex)."""
    message = "|".join(fields.get(name, "") for name in SIGNED_FIELDS)
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


SIGNED_FIELDS = ("token", "order_id", "status", "reference", "amount")


@dataclass
class Transaction:
    token: str
    merchant_id: str
    order_id: str
    amount: int
    callback_url: str
    created_at: datetime
    state: str = "issued"  # issued → paid | canceled | declined → verified → settled; reversed
    reference: str | None = None
    card: str | None = None
    paid_at: datetime | None = None
    verified_at: datetime | None = None
    settled_at: datetime | None = None
    reversed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        row = asdict(self)
        for key in ("created_at", "paid_at", "verified_at", "settled_at", "reversed_at"):
            row[key] = row[key].isoformat() if row[key] else None
        row.pop("callback_url")
        return row


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: str = Field(min_length=1, max_length=40)
    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    amount: int = Field(gt=0, le=MAX_AMOUNT, description="Rials")
    callback_url: str = Field(min_length=1, max_length=500)


class TokenRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: str = Field(min_length=1, max_length=40)
    token: str = Field(min_length=1, max_length=64)


class VerifyIn(TokenRef):
    reference: str = Field(min_length=1, max_length=40)


class Gateway:
    """The gateway's ledger of transactions, in memory, thread-safe."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.key = callback_key(ctx.token)
        self.by_token: dict[str, Transaction] = {}
        self.by_order: dict[tuple[str, str], str] = {}
        self.lock = threading.Lock()

    def now(self) -> datetime:
        return self.ctx.clock().astimezone(UTC)

    def issue(self, body: TokenIn) -> Transaction:
        parts = urlsplit(body.callback_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(400, "invalid_callback", "Invalid callback URL", "An absolute http(s) URL.")
        with self.lock:
            known = self.by_order.get((body.merchant_id, body.order_id))
            if known is not None:
                txn = self.by_token[known]
                # The same order asked again is the same token (a merchant's retry); a changed order is not.
                if txn.amount != body.amount or txn.callback_url != body.callback_url:
                    raise RegistryError(
                        409, "order_conflict", "Order id reused", "Different amount or callback."
                    )
                return txn
            txn = Transaction(
                token=secrets.token_urlsafe(24),
                merchant_id=body.merchant_id,
                order_id=body.order_id,
                amount=body.amount,
                callback_url=body.callback_url,
                created_at=self.now(),
            )
            self.by_token[txn.token] = txn
            self.by_order[(body.merchant_id, body.order_id)] = txn.token
            return txn

    def get(self, token: str, merchant_id: str | None = None) -> Transaction:
        txn = self.by_token.get(token)
        if txn is None or (merchant_id is not None and txn.merchant_id != merchant_id):
            raise RegistryError(404, "unknown_token", "Unknown token", "No such transaction.")
        return txn

    def pay(self, token: str, action: str, card: str) -> Transaction:
        with self.lock:
            txn = self.get(token)
            if txn.state != "issued":
                raise RegistryError(409, "already_done", "Already done", "This payment was already made.")
            if self.now() - txn.created_at > TOKEN_TTL:
                raise RegistryError(410, "token_expired", "Token expired", "Ask the merchant for a new one.")
            digits = "".join(ch for ch in card if ch.isascii() and ch.isdigit())
            if action == "cancel":
                txn.state = "canceled"
            elif digits == DECLINED_CARD or len(digits) != 16:
                txn.state = "declined"
            else:
                txn.state, txn.paid_at = "paid", self.now()
                txn.reference = f"{secrets.randbelow(10**12):012d}"
            if len(digits) == 16:
                txn.card = f"{digits[:6]}******{digits[-4:]}"
            return txn

    def callback_fields(self, txn: Transaction) -> dict[str, str]:
        status = {"paid": "OK", "canceled": "CANCELED", "declined": "DECLINED"}[txn.state]
        fields = {
            "token": txn.token,
            "order_id": txn.order_id,
            "status": status,
            "reference": txn.reference or "",
            "amount": str(txn.amount),
            "card": txn.card or "",
        }
        fields["signature"] = sign_callback(self.key, fields)
        return fields

    def verify(self, body: VerifyIn) -> Transaction:
        with self.lock:
            txn = self.get(body.token, body.merchant_id)
            if txn.reference is None or not hmac.compare_digest(txn.reference, body.reference):
                raise RegistryError(409, "not_paid", "Not paid", "No successful payment with this reference.")
            if txn.state == "paid":
                txn.state, txn.verified_at = "verified", self.now()
            elif txn.state not in ("verified", "settled"):
                raise RegistryError(
                    409, f"is_{txn.state}", "Cannot verify", f"The transaction is {txn.state}."
                )
            return txn

    def settle(self, body: TokenRef) -> Transaction:
        with self.lock:
            txn = self.get(body.token, body.merchant_id)
            if txn.state == "verified":
                txn.state, txn.settled_at = "settled", self.now()
            elif txn.state != "settled":
                raise RegistryError(
                    409, f"is_{txn.state}", "Cannot settle", f"The transaction is {txn.state}."
                )
            return txn

    def reverse(self, body: TokenRef) -> Transaction:
        """Give the money back (a paid, verified or settled transaction); an unpaid one has nothing to
        give back and answers as it is (the merchant then knows no money moved)."""
        with self.lock:
            txn = self.get(body.token, body.merchant_id)
            if txn.state in ("paid", "verified", "settled"):
                txn.state, txn.reversed_at = "reversed", self.now()
            elif txn.state == "issued":
                txn.state = "canceled"  # the token can no longer be paid
            return txn

    def report(self, merchant_id: str, day: date) -> list[Transaction]:
        with self.lock:
            return [
                txn
                for txn in self.by_token.values()
                if txn.merchant_id == merchant_id and txn.created_at.date() == day
            ]


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>",
        status_code=status,
    )


def _fa_digits(value: object) -> str:
    return str(value).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def create_app(ctx: Context) -> FastAPI:
    """The gateway's sub-app, mounted at `/ipg`."""
    gateway = Gateway(ctx)
    app = FastAPI(
        title="Internet payment gateway (simulated) — درگاه پرداخت اینترنتی",
        description="A Shaparak-style IPG: token, payment page, signed callback, verify, settle, reverse.",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    install_problem_handlers(app)
    app.state.gateway = gateway
    guarded = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["merchant"])

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "registry": CODE}

    @guarded.post("/tokens", summary="Ask for a payment token (idempotent per merchant and order id)")
    def token(body: TokenIn) -> dict[str, Any]:
        txn = gateway.issue(body)
        return {"token": txn.token, "state": txn.state, "payment_url": f"/ipg/pay/{txn.token}"}

    @guarded.post("/verify", summary="Verify a payment the callback reported")
    def verify(body: VerifyIn) -> dict[str, Any]:
        return gateway.verify(body).public()

    @guarded.post("/settle", summary="Settle a verified payment")
    def settle(body: TokenRef) -> dict[str, Any]:
        return gateway.settle(body).public()

    @guarded.post("/reverse", summary="Reverse (refund) a payment")
    def reverse(body: TokenRef) -> dict[str, Any]:
        return gateway.reverse(body).public()

    @guarded.get("/transactions/{token}", summary="One transaction as the gateway holds it")
    def transaction(token: str, merchant_id: str = Query(max_length=40)) -> dict[str, Any]:
        return gateway.get(token, merchant_id).public()

    @guarded.get("/report", summary="A day's transactions (UTC day of the token), for reconciliation")
    def report(merchant_id: str = Query(max_length=40), day: date = Query()) -> dict[str, Any]:
        return {
            "day": day.isoformat(),
            "transactions": [t.public() for t in gateway.report(merchant_id, day)],
        }

    app.include_router(guarded)

    @app.get("/pay/{token}", response_class=HTMLResponse, tags=["citizen"], summary="The payment page")
    def pay_page(token: str) -> HTMLResponse:
        txn = gateway.by_token.get(token)
        if txn is None:
            return _page("درگاه پرداخت", "<h1>تراکنش پیدا نشد</h1>", 404)
        if txn.state != "issued":
            return _page("درگاه پرداخت", "<h1>این پرداخت پیش‌تر انجام شده است</h1>", 409)
        toman = txn.amount // 10
        body = (
            "<h1>درگاه پرداخت اینترنتی (آزمایشی)</h1>"
            f"<p>پذیرنده: <strong>{html.escape(txn.merchant_id)}</strong></p>"
            f'<p>مبلغ: <strong id="amount">{_fa_digits(f"{txn.amount:,}").replace(",", "٬")} ریال</strong>'
            f" ({_fa_digits(f'{toman:,}').replace(',', '٬')} تومان)</p>"
            f'<form method="post" action="/ipg/pay/{html.escape(txn.token)}">'
            '<label for="card">شماره کارت</label> '
            f'<input id="card" name="card" dir="ltr" inputmode="numeric" maxlength="19" value="{GOOD_CARD}">'
            '<p><button type="submit" name="action" value="pay">پرداخت</button> '
            '<button type="submit" name="action" value="cancel">انصراف</button></p></form>'
            f'<p><small>کارت آزمایشی ردشده: <span dir="ltr">{DECLINED_CARD}</span></small></p>'
        )
        return _page("درگاه پرداخت", body)

    @app.post("/pay/{token}", tags=["citizen"], summary="Pay or cancel; back to the merchant's callback")
    def pay(
        token: str,
        action: str = Form(max_length=10),
        card: str = Form("", max_length=40),
    ) -> RedirectResponse:
        if action not in ("pay", "cancel"):
            raise RegistryError(400, "invalid_action", "Invalid action", "pay or cancel")
        txn = gateway.pay(token, action, card)
        query = urlencode(gateway.callback_fields(txn))
        separator = "&" if "?" in txn.callback_url else "?"
        # A 303 to the callback (GET): the citizen's SameSite=Lax session cookie travels with a top-level
        # GET, not with a cross-site POST; the signature, not the cookie, is what the merchant trusts.
        return RedirectResponse(f"{txn.callback_url}{separator}{query}", status_code=303)

    return app
