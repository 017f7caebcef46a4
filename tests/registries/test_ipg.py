"""The simulated internet payment gateway: token, payment page, signed callback, verify, settle, reverse,
the daily report, and the fault switch."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.registries.conftest import TOKEN, Clock

MERCHANT = "panjereh-test"
CALLBACK = "https://portal.example/payments/callback"


def _order() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def _token(client: httpx.Client, order: str, amount: int = 1_150_000) -> str:
    answer = client.post(
        "/ipg/tokens",
        json={"merchant_id": MERCHANT, "order_id": order, "amount": amount, "callback_url": CALLBACK},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _pay(
    anonymous: httpx.Client, token: str, action: str = "pay", card: str = "6037991000000001"
) -> dict[str, str]:
    page = anonymous.get(f"/ipg/pay/{token}")
    assert page.status_code == 200 and "۱٬۱۵۰٬۰۰۰ ریال" in page.text
    answer = anonymous.post(f"/ipg/pay/{token}", data={"action": action, "card": card})
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return dict(parse_qsl(location.query, keep_blank_values=True))


def _signature(fields: dict[str, str]) -> str:
    key = hmac.new(TOKEN.encode(), b"ipg-callback-v1", hashlib.sha256).digest()
    message = "|".join(fields[name] for name in ("token", "order_id", "status", "reference", "amount"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def test_a_token_needs_the_registry_token_and_is_the_same_for_the_same_order(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    body = {"merchant_id": MERCHANT, "order_id": _order(), "amount": 1000, "callback_url": CALLBACK}
    assert anonymous.post("/ipg/tokens", json=body).status_code == 401
    first = client.post("/ipg/tokens", json=body).json()["token"]
    assert client.post("/ipg/tokens", json=body).json()["token"] == first
    changed = client.post("/ipg/tokens", json={**body, "amount": 2000})
    assert changed.status_code == 409 and changed.json()["code"] == "order_conflict"
    for bad in ({**body, "amount": 0}, {**body, "amount": "NaN"}, {**body, "callback_url": "javascript:x"}):
        assert client.post("/ipg/tokens", json={**bad, "order_id": _order()}).status_code == 400


def test_paid_the_callback_is_signed_and_verify_then_settle_moves_the_money(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    token = _token(client, order := _order())
    fields = _pay(anonymous, token)
    assert fields["status"] == "OK" and fields["order_id"] == order and len(fields["reference"]) == 12
    assert fields["card"] == "603799******0001" and fields["signature"] == _signature(fields)
    assert anonymous.get(f"/ipg/pay/{token}").status_code == 409  # a token pays once
    ref = {"merchant_id": MERCHANT, "token": token}
    assert client.post("/ipg/settle", json=ref).status_code == 409  # not before verify
    assert client.post("/ipg/verify", json={**ref, "reference": "000000000000"}).status_code == 409
    verified = client.post("/ipg/verify", json={**ref, "reference": fields["reference"]}).json()
    assert verified["state"] == "verified" and verified["amount"] == 1_150_000
    assert client.post("/ipg/settle", json=ref).json()["state"] == "settled"
    assert client.post("/ipg/settle", json=ref).json()["state"] == "settled"  # idempotent
    assert client.post("/ipg/reverse", json=ref).json()["state"] == "reversed"


def test_cancel_and_a_declined_card_move_no_money(client: httpx.Client, anonymous: httpx.Client) -> None:
    cancelled = _pay(anonymous, _token(client, _order()), action="cancel")
    assert cancelled["status"] == "CANCELED" and cancelled["reference"] == ""
    declined = _pay(anonymous, token := _token(client, _order()), card="6037990000000002")
    assert declined["status"] == "DECLINED" and declined["signature"] == _signature(declined)
    verify = client.post("/ipg/verify", json={"merchant_id": MERCHANT, "token": token, "reference": "x"})
    assert verify.status_code == 409


def test_an_unpaid_token_reversed_can_no_longer_be_paid(
    client: httpx.Client, anonymous: httpx.Client
) -> None:
    token = _token(client, _order())
    assert (
        client.post("/ipg/reverse", json={"merchant_id": MERCHANT, "token": token}).json()["state"]
        == "canceled"
    )
    assert (
        anonymous.post(f"/ipg/pay/{token}", data={"action": "pay", "card": "6037991000000001"}).status_code
        == 409
    )


def test_another_merchant_cannot_touch_a_transaction(client: httpx.Client) -> None:
    token = _token(client, _order())
    other = client.post("/ipg/reverse", json={"merchant_id": "someone-else", "token": token})
    assert other.status_code == 404


def test_a_token_expires(client: httpx.Client, anonymous: httpx.Client, at: Clock) -> None:
    token = _token(client, _order())
    at.now = at.now + timedelta(minutes=21)
    assert (
        anonymous.post(f"/ipg/pay/{token}", data={"action": "pay", "card": "6037991000000001"}).status_code
        == 410
    )


def test_the_daily_report_lists_the_days_transactions(
    client: httpx.Client, anonymous: httpx.Client, at: Clock
) -> None:
    token = _token(client, order := _order())
    _pay(anonymous, token)
    day = at.now.date().isoformat()
    report = client.get("/ipg/report", params={"merchant_id": MERCHANT, "day": day}).json()
    rows = {row["token"]: row for row in report["transactions"]}
    assert (
        rows[token]["order_id"] == order
        and rows[token]["state"] == "paid"
        and rows[token]["amount"] == 1_150_000
    )
    other_day = client.get("/ipg/report", params={"merchant_id": MERCHANT, "day": "2000-01-01"}).json()
    assert token not in {row["token"] for row in other_day["transactions"]}
    assert client.get("/ipg/report", params={"merchant_id": MERCHANT, "day": "not-a-day"}).status_code == 400


def test_the_gateway_honours_its_fault_switch(client: httpx.Client, admin: httpx.Client) -> None:
    admin.put("/_admin/faults/ipg", json={"down": True}).raise_for_status()
    down = client.post(
        "/ipg/tokens",
        json={"merchant_id": MERCHANT, "order_id": _order(), "amount": 1, "callback_url": CALLBACK},
    )
    assert down.status_code == 503 and down.json()["code"] == "registry_down"
    admin.delete("/_admin/faults").raise_for_status()
    assert _token(client, _order())
