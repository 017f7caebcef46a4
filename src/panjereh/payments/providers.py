"""Payment providers: what carries a fee from a citizen's card to the agency, behind one interface.

The settings name the provider (`PANJEREH_PAYMENT_PROVIDER`); `ipg-simulated` is the registries' internet
payment gateway, spoken to as a Shaparak PSP is (docs/protocols/payments.md): token → payment page →
signed callback → verify → settle, reverse, and a daily report. A provider answers or raises
`GatewayUnavailable` (down, slow, garbled): the caller decides what waits and what is retried.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import httpx

from panjereh.core.config import Settings
from panjereh.payments.exceptions import GatewayUnavailable

CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class Callback:
    """What the gateway sends back through the citizen's browser (every field a string, as received)."""

    token: str
    order_id: str
    status: str  # OK | CANCELED | DECLINED
    reference: str
    amount: str
    card: str
    signature: str


@dataclass(frozen=True)
class GatewayAnswer:
    """The gateway's view of one transaction after verify, settle or reverse."""

    ok: bool  # the step was done (or had been done already)
    state: str  # issued | paid | verified | settled | reversed | canceled | declined
    amount: int | None
    reference: str | None
    code: str | None = None  # the gateway's refusal code when not ok
    card: str | None = None  # the paying card's mask (verify's answer), e.g. 603799******0001


@dataclass(frozen=True)
class ReportRow:
    token: str
    order_id: str
    amount: int
    state: str
    reference: str | None


class PaymentProvider(Protocol):
    """A payment service provider (PSP) as the platform needs it."""

    name: str

    def request_token(self, *, order_id: str, amount_rials: int, callback_url: str) -> str:
        """A token for this order (the same order id again: the same token)."""
        ...

    def payment_url(self, token: str) -> str:
        """Where the citizen's browser pays with this token."""
        ...

    def callback_is_authentic(self, callback: Callback) -> bool:
        """Whether the callback's signature is the gateway's."""
        ...

    def verify(self, token: str, reference: str) -> GatewayAnswer: ...

    def settle(self, token: str) -> GatewayAnswer: ...

    def reverse(self, token: str) -> GatewayAnswer: ...

    def daily_report(self, day: date) -> list[ReportRow]: ...


SIGNED_FIELDS = ("token", "order_id", "status", "reference", "amount")


class SimulatedIpg:
    """The registries' simulated IPG (`registries/apis/ipg.py`), over HTTP with the registry token."""

    name = "ipg-simulated"

    def __init__(self, settings: Settings) -> None:
        self.base = settings.resolved_payment_gateway_url
        self.public = settings.resolved_payment_public_gateway_url
        self.merchant_id = settings.payment_merchant_id
        self.timeout = httpx.Timeout(settings.payment_gateway_timeout_seconds, connect=CONNECT_TIMEOUT)
        self.headers = {"Authorization": f"Bearer {settings.registry_token}"}
        # The merchant's callback key; the simulator derives it from the shared registry token.
        self.key = hmac.new(settings.registry_token.encode(), b"ipg-callback-v1", hashlib.sha256).digest()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(
                method,
                f"{self.base}{path}",
                headers=self.headers,
                timeout=self.timeout,
                follow_redirects=False,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{type(exc).__name__}", "درگاه پاسخ نداد") from exc
        if response.status_code >= 500 or 300 <= response.status_code < 400 or response.status_code == 401:
            raise GatewayUnavailable(f"the gateway answered {response.status_code}", "درگاه پاسخ درستی نداد")
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise GatewayUnavailable("the gateway answered malformed JSON", "پاسخ درگاه خوانا نبود") from exc
        if not isinstance(body, dict):
            raise GatewayUnavailable("the gateway answered an unexpected shape", "پاسخ درگاه خوانا نبود")
        return body

    def request_token(self, *, order_id: str, amount_rials: int, callback_url: str) -> str:
        response = self._call(
            "POST",
            "/tokens",
            json={
                "merchant_id": self.merchant_id,
                "order_id": order_id,
                "amount": amount_rials,
                "callback_url": callback_url,
            },
        )
        body = self._json(response)
        if response.status_code != 200 or not isinstance(body.get("token"), str):
            raise GatewayUnavailable(
                f"the gateway refused the token: {body.get('code')}", "درگاه درخواست پرداخت را نپذیرفت"
            )
        return str(body["token"])

    def payment_url(self, token: str) -> str:
        return f"{self.public}/pay/{token}"

    def callback_is_authentic(self, callback: Callback) -> bool:
        fields = {name: getattr(callback, name) for name in SIGNED_FIELDS}
        expected = hmac.new(
            self.key, "|".join(fields[name] for name in SIGNED_FIELDS).encode(), hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, callback.signature)

    def _step(self, path: str, payload: dict[str, str]) -> GatewayAnswer:
        response = self._call("POST", path, json={"merchant_id": self.merchant_id, **payload})
        body = self._json(response)
        if response.status_code == 200:
            card = body.get("card")
            return GatewayAnswer(
                True,
                str(body.get("state")),
                _int(body.get("amount")),
                body.get("reference"),
                card=card if isinstance(card, str) else None,
            )
        return GatewayAnswer(False, "", None, None, code=str(body.get("code") or response.status_code))

    def verify(self, token: str, reference: str) -> GatewayAnswer:
        return self._step("/verify", {"token": token, "reference": reference})

    def settle(self, token: str) -> GatewayAnswer:
        return self._step("/settle", {"token": token})

    def reverse(self, token: str) -> GatewayAnswer:
        return self._step("/reverse", {"token": token})

    def daily_report(self, day: date) -> list[ReportRow]:
        response = self._call(
            "GET", "/report", params={"merchant_id": self.merchant_id, "day": day.isoformat()}
        )
        body = self._json(response)
        if response.status_code != 200:
            raise GatewayUnavailable(f"the report was refused: {body.get('code')}", "گزارش درگاه دریافت نشد")
        rows = []
        for item in body.get("transactions") or []:
            amount = _int(item.get("amount"))
            if amount is None or not isinstance(item.get("token"), str):
                raise GatewayUnavailable("a report row is malformed", "گزارش درگاه خوانا نبود")
            rows.append(
                ReportRow(
                    str(item["token"]),
                    str(item.get("order_id")),
                    amount,
                    str(item.get("state")),
                    item.get("reference"),
                )
            )
        return rows


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_settings(settings: Settings) -> PaymentProvider:
    """The provider the settings name."""
    return {"ipg-simulated": SimulatedIpg}[settings.payment_provider](settings)
