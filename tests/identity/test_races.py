"""Concurrent guesses: each in its own unit of work on a committed database, all released at once."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.crypto import sha256_hex
from panjereh.core.db import make_sessionmaker, unit_of_work, utcnow
from panjereh.core.errors import ProblemError
from panjereh.identity import policy, service, totp
from panjereh.identity.models import Citizen, LoginAttempt, LoginEvent, RateCounter
from panjereh.identity.ratelimit import FailureCounters, LoginLimits, throttles
from tests.conftest import WORKER
from tests.support import databases

GUESSERS = 16
T = TypeVar("T")


@pytest.fixture(scope="module")
def committed(home: Path) -> Iterator[sessionmaker[Session]]:
    """A database of this module's own that each thread commits to (no test transaction around it)."""
    engine = databases.migrated_engine(databases.fresh_database(f"{WORKER}_identity_races", str(home)))
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def factory(committed: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    yield committed
    with unit_of_work(committed) as session:
        for table in (LoginEvent, LoginAttempt, RateCounter, Citizen):
            session.execute(delete(table))


def _all_at_once(work: Callable[[], T]) -> list[T]:
    """Run `work` in GUESSERS threads released together by a barrier."""
    barrier = threading.Barrier(GUESSERS)

    def run() -> T:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(GUESSERS) as pool:
        futures = [pool.submit(run) for _ in range(GUESSERS)]
        return [future.result(timeout=120) for future in futures]


def test_concurrent_wrong_codes_count_at_most_the_limit(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    binding = secrets.token_urlsafe(32)
    with unit_of_work(factory) as session:
        now = utcnow()
        attempt = LoginAttempt(
            purpose="login", national_code="0067749828", mobile="09121234500",
            binding_hash=sha256_hex(binding), code_hash="", created_at=now,
            expires_at=now + timedelta(minutes=5),
        )  # fmt: skip
        session.add(attempt)
        session.flush()
        attempt.code_hash = service._code_hash(settings, attempt.id, "123456")
        attempt_id = attempt.id
    limiter = throttles(settings)

    def guess() -> str:
        try:
            with unit_of_work(factory) as session:
                store = LoginLimits(limiter, FailureCounters(session))
                outcome = service.verify_code(
                    session, settings, store, service.CodeEntry(attempt_id, binding, "654321")
                )
            return outcome.status
        except ProblemError as error:
            return error.code

    answers = _all_at_once(guess)
    assert answers.count("wrong") == policy.MAX_WRONG_CODES_PER_ATTEMPT, answers
    assert set(answers) == {"wrong", "identity.too_many_wrong_codes"}, answers
    with unit_of_work(factory, writes=False) as session:
        stored = session.get(LoginAttempt, attempt_id)
        assert stored is not None and stored.failed_count == policy.MAX_WRONG_CODES_PER_ATTEMPT


def test_one_authenticator_code_sent_many_times_at_once_is_accepted_once(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    with unit_of_work(factory) as session:
        citizen = Citizen(
            national_code="0067749828", first_name="مریم", last_name="احمدی", birth_date=date(1990, 1, 1),
            mobile="09121234500",
        )  # fmt: skip
        session.add(citizen)
        session.flush()
        secret = service.begin_totp_enrolment(session, settings, citizen)
        service.confirm_totp_enrolment(
            session, settings, citizen, totp.code_for(secret, time.time() - totp.STEP_SECONDS)
        )
        citizen_id = citizen.id
    code = totp.code_for(secret)

    def use() -> bool:
        with unit_of_work(factory) as session:
            found = session.get(Citizen, citizen_id)
            assert found is not None
            return service.check_totp(session, settings, found, code)

    accepted = _all_at_once(use)
    assert accepted.count(True) == 1, accepted
