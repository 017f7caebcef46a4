"""The platform's own client: the contract other domains rely on (contracts.md)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.exchange import selectors
from panjereh.exchange.client import PlatformClient
from panjereh.exchange.exceptions import GrantMissing, ProviderUnavailable
from panjereh.exchange.models import Grant, GrantStatus, LedgerEntry, LogEntry
from tests.exchange.conftest import ALI, NOBODY, SARA


def _platform(app: FastAPI) -> PlatformClient:
    client: PlatformClient = app.state.exchange
    return client


def test_inquiry_returns_data_and_logs_it(app: FastAPI, seeded: Session) -> None:
    result = _platform(app).inquire(
        "civil-registry.person", subject=ALI, purpose="login", case="L-1", path_params={"national_code": ALI}
    )
    assert result.ok and result.status == 200
    assert result.data["national_code"] == ALI
    entry = seeded.scalars(select(LogEntry).where(LogEntry.message_id == result.message_id)).one()
    assert (entry.client_agency_code, entry.service_code, entry.outcome) == (
        "ito",
        "civil-registry.person",
        "ok",
    )
    assert entry.request_body is None and len(entry.response_digest) == 64  # digests, not bodies
    rows = selectors.ledger_for_subject(seeded, ALI)
    assert [(r.message_id, r.purpose, r.case_ref, r.client_agency_code) for r in rows] == [
        (result.message_id, "login", "L-1", "ito")
    ]


def test_subject_is_taken_from_the_body_and_checked(app: FastAPI, seeded: Session) -> None:
    platform = _platform(app)
    result = platform.inquire(
        "shahkar.match", subject=None, purpose="login", body={"national_code": ALI, "mobile": "09120000000"}
    )
    assert result.status == 200 and "matched" in result.data
    assert selectors.ledger_for_subject(seeded, ALI)[0].service_code == "shahkar.match"
    with pytest.raises(Exception) as refused:
        platform.inquire(
            "shahkar.match",
            subject=SARA,
            purpose="login",
            body={"national_code": ALI, "mobile": "09120000000"},
        )
    assert getattr(refused.value, "code", None) == "client.subject_mismatch"


def test_not_found_is_an_answer_not_a_failure(app: FastAPI, seeded: Session) -> None:
    unknown = NOBODY
    result = _platform(app).inquire(
        "civil-registry.person", subject=unknown, purpose="login", path_params={"national_code": unknown}
    )
    assert (result.ok, result.status) == (False, 404)
    assert result.problem and result.problem["code"] == "person_not_found"


def test_without_a_grant_the_platform_is_refused(app: FastAPI, seeded: Session) -> None:
    grant = seeded.scalars(
        select(Grant).where(
            Grant.client_agency_code == "ito",
            Grant.service_code == "tax.clearance",
            Grant.sandbox.is_(False),  # the production one (the sandbox's stays: not this client's)
        )
    ).one()
    grant.status = GrantStatus.REVOKED
    seeded.commit()
    before = seeded.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(GrantMissing) as refused:
        _platform(app).inquire(
            "tax.clearance", subject=ALI, purpose="smart-service", path_params={"national_code": ALI}
        )
    assert refused.value.code == "client.no_grant" and refused.value.status == 403
    assert seeded.scalar(select(func.count()).select_from(LedgerEntry)) == before  # nothing was looked at
    logged = seeded.scalars(select(LogEntry).where(LogEntry.outcome == "client.no_grant")).all()
    assert [e.service_code for e in logged] == ["tax.clearance"]


def test_provider_down_raises_provider_unavailable(app: FastAPI, seeded: Session, faults) -> None:
    faults("tax", down=True)
    with pytest.raises(ProviderUnavailable) as failed:
        _platform(app).inquire(
            "tax.clearance", subject=ALI, purpose="smart-service", path_params={"national_code": ALI}
        )
    assert failed.value.code == "provider.unavailable" and failed.value.extra["reason"] == "down"


def test_ainquire_runs_in_parallel_and_a_slow_provider_does_not_hold_up_others(
    app: FastAPI, seeded: Session, faults
) -> None:
    faults("judiciary", latency_ms=5000)
    platform = _platform(app)

    async def both() -> tuple[float, BaseException | None]:
        async def fast() -> float:
            started = time.perf_counter()
            result = await platform.ainquire(
                "post.address", subject=None, purpose="address", path_params={"postal_code": "1193653471"}
            )
            assert result.status in (200, 404)
            return time.perf_counter() - started

        slow = platform.ainquire(
            "judiciary.criminal-record",
            subject=ALI,
            purpose="no-criminal-record",
            path_params={"national_code": ALI},
            timeout=1.5,
        )
        outcomes = await asyncio.gather(fast(), slow, return_exceptions=True)
        await platform.aclose()
        fast_seconds = outcomes[0]
        assert isinstance(fast_seconds, float)
        return fast_seconds, outcomes[1] if isinstance(outcomes[1], BaseException) else None

    fast_seconds, slow_error = asyncio.run(both())
    assert isinstance(slow_error, ProviderUnavailable) and slow_error.extra["reason"] == "timeout"
    assert fast_seconds < 1.5  # answered while the slow provider was still being waited for (timeout 1.5 s)


def test_sync_callers_failures_are_classified_as_the_gateway_classifies_them(
    app: FastAPI, seeded: Session, faults
) -> None:
    platform = _platform(app)
    selectors.get_service_by_code(seeded, "judiciary.criminal-record").timeout_ms = 300
    seeded.commit()
    reasons = []
    for fault in ({"down": True}, {"garbage": True}, {"error_rate": 1.0}, {"latency_ms": 2000}):
        faults("judiciary", **{"down": False, "garbage": False, "error_rate": 0.0, "latency_ms": 0, **fault})
        with pytest.raises(ProviderUnavailable) as failed:
            platform.inquire(
                "judiciary.criminal-record",
                subject=ALI,
                purpose="no-criminal-record",
                path_params={"national_code": ALI},
            )
        reasons.append(failed.value.extra["reason"])
    assert reasons == ["down", "garbage", "error", "timeout"]


def test_sync_callers_share_one_loop_thread_which_close_stops(app: FastAPI, seeded: Session) -> None:
    platform = _platform(app)

    def loop_threads() -> set[threading.Thread]:
        return {thread for thread in threading.enumerate() if thread.name == "exchange-http"}

    def ask(code: str) -> int:
        return platform.inquire(
            "civil-registry.person", subject=code, purpose="login", path_params={"national_code": code}
        ).status

    before = loop_threads()  # other tests' apps, not closed yet
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(ask, [ALI, SARA, NOBODY, ALI]))
    assert statuses == [200, 200, 404, 200]
    (ours,) = loop_threads() - before
    platform.close()
    assert not ours.is_alive()
    assert ask(SARA) == 200  # the next call starts the loop again
    platform.close()
