"""A relying party polling userinfo: the per-client and per-citizen limits, and the short cache of
released attributes (no inquiry, no ledger row on a repeat; nothing served past a revocation)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis as redis_lib
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.exchange.models import LedgerEntry, LogEntry
from panjereh.oidc import release_cache
from panjereh.oidc.release import Pending
from tests.identity.helpers import CONVICTED_CODE, CONVICTED_MOBILE, DEMO_CODE
from tests.oidc.helpers import REDIRECT_URI, authorize_url, browse, pkce, query_of, register
from tests.oidc.test_attributes import BANK, PURPOSES, _basic, _login, _register_bank, _verified

OTHER = "bank.other"
SCOPE = "openid national_code address education vehicles"
PERSIAN_DIGIT = re.compile("[۰-۹]")


def _app(settings: Settings, session_factory: sessionmaker[Session], **limits: int) -> FastAPI:
    application = create_app(settings.model_copy(update=limits))
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def limited(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The portal with 3 userinfo calls a minute per citizen (the client's own limit left high)."""
    with TestClient(_app(settings, session_factory, oidc_userinfo_per_citizen_per_minute=3)) as browser:
        yield browser


def _get(browser: TestClient, access: str) -> Any:
    return browser.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})


def _inquiries(app: FastAPI, db: Session, client_id: str = BANK) -> tuple[int, int]:
    """(exchange messages logged for releases to this client, the demo citizen's ledger rows of them)."""
    app.state.exchange.flush()
    purpose = f"oidc-release:{client_id}"
    logged = db.scalar(select(func.count()).select_from(LogEntry).where(LogEntry.purpose == purpose))
    ledger = db.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.purpose == purpose, LedgerEntry.subject == DEMO_CODE)
    )
    return int(logged or 0), int(ledger or 0)


def _register_other(session: Session) -> str:
    secret = register(
        session,
        OTHER,
        scopes=["openid", "national_code", "address", "education", "vehicles"],
        attribute_purposes=PURPOSES,
        approve_attributes=True,
    )
    session.commit()
    return secret


def _login_other(browser: TestClient, settings: Settings, secret: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    location = browse(browser, settings, authorize_url(OTHER, challenge, scope=SCOPE))
    data = {
        "grant_type": "authorization_code",
        "code": query_of(location)["code"],
        "redirect_uri": REDIRECT_URI,
    }
    response = browser.post(
        "/oauth2/token", data={**data, "code_verifier": verifier}, headers=_basic(secret, OTHER)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the limits ------------------------------------------------------------------------------------------


def test_a_polling_client_is_refused_past_the_citizen_limit_with_retry_after(
    limited: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    access = _login(limited, settings, secret, scope=SCOPE)["access_token"]
    assert [_get(limited, access).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get(limited, access)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "too_many_requests" and "3 userinfo calls a minute" in body["error_description"]
    assert "۳" in body["error_description#fa"] and PERSIAN_DIGIT.search(body["error_description#fa"])
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["cache-control"] == "no-store"
    # The token is fine: no RFC 6750 challenge that would tell the client to get a new one.
    assert "www-authenticate" not in refused.headers
    # POST counts with GET.
    posted = limited.post("/oauth2/userinfo", data={"access_token": access})
    assert posted.status_code == 429


def test_another_citizen_of_the_same_client_has_a_budget_of_their_own(
    limited: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    mine = _login(limited, settings, secret, scope=SCOPE)["access_token"]
    for _ in range(3):
        _get(limited, mine)
    assert _get(limited, mine).status_code == 429
    with TestClient(limited.app, base_url="http://testserver") as other:
        theirs = _login(
            other, settings, secret, scope=SCOPE, national_code=CONVICTED_CODE, mobile=CONVICTED_MOBILE
        )["access_token"]
        answer = _get(other, theirs)
    assert answer.status_code == 200 and answer.json()["national_code"] == CONVICTED_CODE


def test_the_client_limit_is_shared_by_its_citizens_and_not_by_other_clients(
    settings: Settings, session_factory: sessionmaker[Session], seeded: Session
) -> None:
    app = _app(settings, session_factory, oidc_userinfo_per_minute=3)
    secret, other_secret = _register_bank(seeded), _register_other(seeded)
    with TestClient(app) as mine, TestClient(app) as theirs:
        access = _login(mine, settings, secret, scope=SCOPE)["access_token"]
        their_access = _login(
            theirs, settings, secret, scope=SCOPE, national_code=CONVICTED_CODE, mobile=CONVICTED_MOBILE
        )["access_token"]
        assert [_get(mine, access).status_code for _ in range(2)] == [200, 200]
        assert _get(theirs, their_access).status_code == 200
        refused = _get(theirs, their_access)  # the client's 4th call, the citizen's 2nd
        assert refused.status_code == 429 and "for this client" in refused.json()["error_description"]
        assert "برای این برنامه" in refused.json()["error_description#fa"]
        other_access = _login_other(mine, settings, other_secret)["access_token"]
        assert _get(mine, other_access).status_code == 200  # another client: its own budget


@pytest.mark.parametrize(
    "forged",
    ["forged", "", "x" * 8000, "' OR 1=1 --", "%00", "a\tb"],
)
def test_forged_tokens_are_refused_as_before_and_spend_no_budget(
    limited: TestClient, seeded: Session, settings: Settings, forged: str
) -> None:
    secret = _register_bank(seeded)
    access = _login(limited, settings, secret, scope=SCOPE)["access_token"]
    for _ in range(5):
        answer = limited.post("/oauth2/userinfo", data={"access_token": forged})
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    persian = limited.post("/oauth2/userinfo", data={"access_token": "توکن‌ساختگی"})
    assert persian.status_code == 401
    assert [_get(limited, access).status_code for _ in range(3)] == [200, 200, 200]


def test_a_revoked_token_is_refused_with_401_not_429(
    limited: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    access = _login(limited, settings, secret, scope=SCOPE)["access_token"]
    for _ in range(4):
        _get(limited, access)
    revoked = limited.post("/oauth2/revoke", data={"token": access}, headers=_basic(secret))
    assert revoked.status_code == 200
    assert _get(limited, access).status_code == 401


# --- the cache ---------------------------------------------------------------------------------------------


def test_a_second_call_within_the_ttl_asks_no_registry_and_adds_no_ledger_row(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    access = _login(client, settings, secret, scope=SCOPE)["access_token"]
    assert _inquiries(app, seeded) == (0, 0)
    first = _get(client, access).json()
    logged, ledger = _inquiries(app, seeded)
    # address: the civil registry, then the Post (no subject: no ledger row); education; vehicles.
    assert (logged, ledger) == (4, 3)
    second = _get(client, access).json()
    assert _inquiries(app, seeded) == (4, 3)
    assert second == first  # the same verified claims, with the `txn` of the inquiry that read them
    assert set(_verified(second)) == {"address", "degrees", "vehicles"}


def test_withdrawing_an_attribute_asks_again_and_never_serves_it_from_the_cache(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    secret = _register_bank(seeded)
    access = _login(client, settings, secret, scope=SCOPE)["access_token"]
    _get(client, access)
    before = _inquiries(app, seeded)
    page = client.get("/account/apps").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    client.post(
        f"/account/apps/{BANK}/attributes/vehicles/withdraw",
        data={"csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    after = _get(client, access).json()
    assert set(_verified(after)) == {"address", "degrees"}
    logged, ledger = _inquiries(app, seeded)
    assert logged == before[0] + 3 and ledger == before[1] + 2  # asked again: address (2) and education
    # Consenting again (a new consent stamp) asks again too, instead of reviving the older answer.
    renewed = _login(client, settings, secret, scope=SCOPE, prompt="consent")["access_token"]
    assert set(_verified(_get(client, access).json())) == {"address", "degrees", "vehicles"}
    assert _inquiries(app, seeded)[0] == logged + 4
    assert set(_verified(_get(client, renewed).json())) == {"address", "degrees", "vehicles"}
    # Revoking the app ends the token at once, cache or not.
    client.post(f"/account/apps/{BANK}/revoke", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert _get(client, access).status_code == 401 and _get(client, renewed).status_code == 401


def test_another_clients_token_does_not_see_the_first_clients_cache(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings
) -> None:
    secret, other_secret = _register_bank(seeded), _register_other(seeded)
    access = _login(client, settings, secret, scope=SCOPE)["access_token"]
    mine = _get(client, access).json()
    other_access = _login_other(client, settings, other_secret)["access_token"]
    assert _inquiries(app, seeded, OTHER) == (0, 0)
    theirs = _get(client, other_access).json()
    assert _inquiries(app, seeded, OTHER) == (4, 3)
    assert theirs["sub"] == mine["sub"] and _verified(theirs)["address"][0] == _verified(mine)["address"][0]
    txn = [e["check_details"][0]["txn"] for e in _verified(mine)["address"][1]["evidence"]]
    their_txn = [e["check_details"][0]["txn"] for e in _verified(theirs)["address"][1]["evidence"]]
    assert not set(txn) & set(their_txn)  # read by inquiries of its own


def test_an_answer_with_a_registry_missing_is_not_kept(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings, faults: Callable[..., None]
) -> None:
    secret = _register_bank(seeded)
    access = _login(client, settings, secret, scope=SCOPE)["access_token"]
    faults("police", down=True)
    assert "vehicles" in _get(client, access).json()["unavailable_claims"]
    faults("police", down=False)
    healed = _get(client, access).json()
    assert "unavailable_claims" not in healed and "vehicles" in _verified(healed)
    logged = _inquiries(app, seeded)[0]
    assert _get(client, access).json() == healed and _inquiries(app, seeded)[0] == logged


def test_with_the_cache_off_every_call_asks(
    settings: Settings, session_factory: sessionmaker[Session], seeded: Session
) -> None:
    app = _app(settings, session_factory, oidc_userinfo_cache_seconds=0)
    secret = _register_bank(seeded)
    with TestClient(app) as browser:
        access = _login(browser, settings, secret, scope=SCOPE)["access_token"]
        _get(browser, access)
        _get(browser, access)
    assert _inquiries(app, seeded) == (8, 6)


def _pending(**changes: Any) -> Pending:
    fields: dict[str, Any] = {
        "client_id": BANK,
        "sandbox": False,
        "national_code": DEMO_CODE,
        "scopes": ("address",),
        "citizen_id": "c1",
        "token_hash": "a" * 64,
        "token_expires_at": utcnow() + timedelta(minutes=10),
        "consent_stamp": "2026-12-06T10:00:00",
    }
    return Pending(**{**fields, **changes})


RELEASED = {"verified_claims": [{"claims": {"address": {"postal_code": "1193653471", "locality": "تهران"}}}]}


def test_cached_values_are_encrypted_and_keyed_by_everything_they_rest_on(settings: Settings) -> None:
    store = release_cache.MemoryStore()
    cache = release_cache.ReleaseCache(settings, store)
    pending = _pending()
    assert cache.put(pending, RELEASED) and cache.get(pending) == RELEASED
    ((key, (_deadline, value)),) = store._entries.items()
    assert "a" * 64 not in key and DEMO_CODE not in key and BANK not in key
    assert "1193653471" not in value and "تهران" not in value
    for changed in (
        {"token_hash": "b" * 64},
        {"client_id": OTHER},
        {"citizen_id": "c2"},
        {"scopes": ("address", "education")},
        {"consent_stamp": "2026-12-06T10:05:00"},
        {"sandbox": True},
    ):
        assert cache.get(_pending(**changed)) is None, changed
    # Another platform secret cannot read it; an entry past its deadline is gone.
    other = release_cache.ReleaseCache(settings.model_copy(update={"secret_key": "z" * 43}), store)
    assert other.get(pending) is None
    store._entries[key] = (0.0, value)
    assert cache.get(pending) is None and len(store) == 0


def test_what_is_never_kept(settings: Settings) -> None:
    cache = release_cache.ReleaseCache(settings, release_cache.MemoryStore())
    assert not cache.put(_pending(), {**RELEASED, "unavailable_claims": {"vehicles": {}}})
    assert not cache.put(_pending(scopes=()), RELEASED)
    assert not cache.put(_pending(token_expires_at=utcnow() + timedelta(milliseconds=300)), RELEASED)
    assert not cache.put(_pending(), {})


def test_the_memory_store_is_bounded_oldest_first() -> None:
    store = release_cache.MemoryStore(max_entries=3)
    for index in range(5):
        store.put(f"k{index}", "v", 300)
    assert len(store) == 3 and store.get("k0") is None and store.get("k1") is None and store.get("k4") == "v"


def test_the_cache_and_the_limits_live_in_redis_when_configured(
    client: TestClient, app: FastAPI, seeded: Session, settings: Settings, redis_client: redis_lib.Redis
) -> None:
    assert isinstance(app.state.oidc_release_cache.store, release_cache.RedisStore)
    secret = _register_bank(seeded)
    access = _login(client, settings, secret, scope=SCOPE)["access_token"]
    pattern = f"{settings.redis_prefix}oidc-release:*"
    earlier = set(redis_client.scan_iter(pattern))  # other tests' entries of this worker, not yet expired
    first = _get(client, access).json()
    keys = list(set(redis_client.scan_iter(pattern)) - earlier)
    assert len(keys) == 1
    assert 0 < redis_client.ttl(keys[0]) <= settings.oidc_userinfo_cache_seconds
    stored = redis_client.get(keys[0])
    assert isinstance(stored, str) and "1193653471" not in stored and DEMO_CODE not in stored
    # Another process (a second worker) reads the same entry: no inquiry.
    logged = _inquiries(app, seeded)
    with TestClient(_app(settings, app.state.sessionmaker)) as second_worker:
        assert _get(second_worker, access).json() == first
    assert _inquiries(app, seeded) == logged
    assert list(redis_client.scan_iter(f"{settings.redis_prefix}rl:*oidc-userinfo*"))
