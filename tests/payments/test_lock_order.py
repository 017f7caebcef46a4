"""The payments' lock order, shown on PostgreSQL with separate connections: «pay», a callback and a withdrawal
each lock the request's payment before the request (`payments.service`, docs/protocols/payments.md).

A blocker connection holds the request row (`SELECT … FOR UPDATE`, transaction open); the operation runs on
its own connection until PostgreSQL reports it waiting for the blocker; then a third connection asks for the
payment row with `NOWAIT` and is refused: the operation already holds it. Released, the operation finishes
without a deadlock. Last, a callback and a withdrawal started together, round after round: never a deadlock,
always the request withdrawn and the money back on the card.

The database is delivery's committed one (tests/delivery/conftest.py): every session is a pool connection of
its own, so the database sees real concurrent transactions. SQLite has no row locks (its one writer lock
serializes all of this), so the module runs in the PostgreSQL pass only."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import psycopg.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.constants import RequestState
from panjereh.delivery.models import ServiceRequest
from panjereh.jobs import Job, Worker
from panjereh.payments import providers, service
from panjereh.payments.constants import GIVE_BACK_JOB, PaymentState
from panjereh.payments.models import Payment
from panjereh.payments.providers import Callback
from tests.delivery.conftest import DEMO, run_jobs
from tests.payments.conftest import apply, at_gateway, fields_of, to_gateway
from tests.support import databases

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        databases.backend() != "postgresql",
        reason="row locks are PostgreSQL's: SQLite's single writer lock serializes these operations anyway",
    ),
    pytest.mark.usefixtures("fee_card"),
]

# How long an operation may take to reach the lock it waits for, or to finish once released (a loaded runner).
DEADLINE_SECONDS = 60
RACE_ROUNDS = 10


class InTransaction:
    """One operation in a transaction of its own (a pool connection), on a thread: its backend's pid, what it
    returned, or the error it raised (the transaction then rolled back)."""

    def __init__(self, session_factory: sessionmaker[Session], work: Callable[[Session], Any]) -> None:
        self.session_factory = session_factory
        self.work = work
        self.pid: int | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.connected = threading.Event()

    def start(self) -> InTransaction:
        self.thread.start()
        assert self.connected.wait(DEADLINE_SECONDS), "the operation's session never connected"
        assert self.pid is not None, f"the operation's session failed to connect: {self.error!r}"
        return self

    def finish(self) -> Any:
        """Wait for it; what it returned (its error is raised here)."""
        self.thread.join(DEADLINE_SECONDS)
        assert not self.thread.is_alive(), "the operation never finished"
        if self.error is not None:
            raise self.error
        return self.result

    def _run(self) -> None:
        with self.session_factory() as session:
            try:
                # The transaction begins here; the operation runs in it.
                self.pid = session.scalar(text("SELECT pg_backend_pid()"))
                self.connected.set()
                self.result = self.work(session)
                session.commit()
            except BaseException as exc:  # noqa: BLE001 — handed to the test by `finish`
                session.rollback()
                self.error = exc
            finally:
                self.connected.set()


@contextmanager
def request_locked(engine: Engine, request_id: str) -> Iterator[int]:
    """The request row locked (`SELECT … FOR UPDATE`) by a transaction left open on a connection of its own
    until the block ends; that backend's pid."""
    with engine.connect() as blocker:
        locked = blocker.scalar(
            select(ServiceRequest.id).where(ServiceRequest.id == request_id).with_for_update()
        )
        assert locked == request_id
        yield int(blocker.scalar(text("SELECT pg_backend_pid()")) or 0)
        blocker.rollback()


def wait_until_blocked_by(engine: Engine, operation: InTransaction, blocker_pid: int) -> None:
    """Until PostgreSQL reports the operation's backend waiting for a lock the blocker holds (polled, with a
    deadline; the proof is the server's lock table, never the time waited)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with engine.connect() as watcher:
        while True:
            waiting, blockers = watcher.execute(
                text("SELECT wait_event_type, pg_blocking_pids(pid) FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": operation.pid},
            ).one()
            watcher.rollback()  # pg_stat_activity is a snapshot per transaction: read it afresh
            if waiting == "Lock" and blocker_pid in blockers:
                return
            assert operation.thread.is_alive(), (
                f"the operation finished without waiting for the locked request: {operation.error!r}"
            )
            assert time.monotonic() < deadline, "the operation never waited for the locked request"
            time.sleep(0.02)


def payment_is_locked(engine: Engine, payment_id: str) -> bool:
    """Whether another transaction holds the payment row: `SELECT … FOR UPDATE NOWAIT` refused at once."""
    with engine.connect() as probe:
        try:
            probe.execute(select(Payment.id).where(Payment.id == payment_id).with_for_update(nowait=True))
        except OperationalError as exc:
            assert isinstance(exc.orig, psycopg.errors.LockNotAvailable), exc
            return True
        finally:
            probe.rollback()
        return False


def payments_of(session_factory: sessionmaker[Session], code: str) -> list[Payment]:
    with session_factory() as session:
        return list(
            session.scalars(select(Payment).where(Payment.tracking_code == code).order_by(Payment.created_at))
        )


def request_of(session_factory: sessionmaker[Session], code: str) -> ServiceRequest:
    with session_factory() as session:
        return session.scalars(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def callback_of(callback_path: str) -> Callback:
    """The gateway's signed answer, as the citizen's browser brings it back."""
    fields = fields_of(callback_path)
    return Callback(**{field.name: fields.get(field.name, "") for field in dataclasses.fields(Callback)})


def show_the_lock_order(
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
    code: str,
    payment_id: str,
    work: Callable[[Session], Any],
) -> Any:
    """Run `work` while the request is locked elsewhere: it must hold the payment while it waits for the
    request, then finish once the request is released. What it returned."""
    request_id = request_of(session_factory, code).id
    assert not payment_is_locked(committed_engine, payment_id)  # nobody holds it before the operation
    with request_locked(committed_engine, request_id) as blocker_pid:
        operation = InTransaction(session_factory, work).start()
        wait_until_blocked_by(committed_engine, operation, blocker_pid)
        assert payment_is_locked(committed_engine, payment_id), "the operation asked for the request first"
    return operation.finish()  # released: it completes, no deadlock error


def test_pay_locks_the_payment_before_the_request(
    login: Callable[[str], TestClient],
    settings: Settings,
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    """«Pay» with a token too old to be paid: the old payment is locked, then the request, then voided and a
    new one made."""
    client = login(DEMO)
    code = apply(client, key="locks-pay")
    to_gateway(client, code)
    (stale,) = payments_of(session_factory, code)
    too_old = utcnow() - timedelta(seconds=settings.payment_verify_timeout_seconds + 60)
    with session_factory.begin() as session:
        session.execute(update(Payment).where(Payment.id == stale.id).values(created_at=too_old))
    provider = providers.from_settings(settings)

    def pay(session: Session) -> str | None:
        payment = service.start(session, settings, provider, national_code=DEMO, tracking_code=code)
        return payment.id if payment is not None else None

    new_id = show_the_lock_order(committed_engine, session_factory, code, stale.id, pay)
    old, new = payments_of(session_factory, code)
    assert old.id == stale.id and old.state is PaymentState.EXPIRED
    assert new.id == new_id and new.state is PaymentState.PENDING and new.token != old.token
    assert request_of(session_factory, code).state is RequestState.AWAITING_PAYMENT


def test_a_withdrawal_locks_the_payment_before_the_request(
    login: Callable[[str], TestClient],
    settings: Settings,
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    client = login(DEMO)
    code = apply(client, key="locks-withdraw")
    to_gateway(client, code)
    (payment,) = payments_of(session_factory, code)
    provider = providers.from_settings(settings)

    def withdraw(session: Session) -> bool:
        request = delivery_selectors.request_of(session, DEMO, code)  # as the edge finds it: unlocked
        return service.withdraw(session, settings, provider, request, actor_code=DEMO)

    assert show_the_lock_order(committed_engine, session_factory, code, payment.id, withdraw) is True
    assert request_of(session_factory, code).state is RequestState.WITHDRAWN
    with session_factory() as session:
        queued = session.scalars(select(Job.payload).where(Job.kind == GIVE_BACK_JOB)).all()
    assert queued == [{"payment_id": payment.id}]  # its fee follows once the withdrawal has committed


def test_a_callback_locks_the_payment_before_the_request(
    login: Callable[[str], TestClient],
    settings: Settings,
    committed_engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    client = login(DEMO)
    code = apply(client, key="locks-callback")
    callback = callback_of(at_gateway(to_gateway(client, code)))  # paid; the browser has not come back yet
    (payment,) = payments_of(session_factory, code)
    provider = providers.from_settings(settings)

    def deliver(session: Session) -> PaymentState:
        return service.handle_callback(session, settings, provider, callback).state

    assert (
        show_the_lock_order(committed_engine, session_factory, code, payment.id, deliver)
        is PaymentState.SETTLED
    )
    (settled,) = payments_of(session_factory, code)
    assert settled.state is PaymentState.SETTLED and settled.receipt_number
    assert request_of(session_factory, code).state is RequestState.SUBMITTED


def test_a_callback_and_a_withdrawal_on_two_connections_never_deadlock(
    login: Callable[[str], TestClient],
    settings: Settings,
    session_factory: sessionmaker[Session],
    gateway: Callable[..., httpx.Response],
    worker: Worker,
) -> None:
    """Round after round on fresh requests, the two start together on connections of their own: whichever
    takes the payment first, the other waits for it, and the request ends withdrawn, the money back on the
    card (callback first: settled, then refunded by the withdrawal's job; withdrawal first: the callback
    finds it withdrawn and reverses the payment)."""
    client = login(DEMO)
    provider = providers.from_settings(settings)
    rounds: list[tuple[str, list[str]]] = []
    for round_number in range(RACE_ROUNDS):
        code = apply(client, key=f"locks-race-{round_number}")
        callback = callback_of(at_gateway(to_gateway(client, code)))
        barrier = threading.Barrier(2)

        def deliver(
            session: Session, callback: Callback = callback, barrier: threading.Barrier = barrier
        ) -> str:
            barrier.wait(DEADLINE_SECONDS)
            return service.handle_callback(session, settings, provider, callback).state.value

        def withdraw(session: Session, code: str = code, barrier: threading.Barrier = barrier) -> str:
            request = delivery_selectors.request_of(session, DEMO, code)  # unlocked, as the edge reads it
            barrier.wait(DEADLINE_SECONDS)
            return (
                "withdrawn"
                if service.withdraw(session, settings, provider, request, actor_code=DEMO)
                else "already withdrawn"
            )

        operations = [InTransaction(session_factory, deliver), InTransaction(session_factory, withdraw)]
        outcomes = []
        for operation in [operation.start() for operation in operations]:
            try:
                outcomes.append(str(operation.finish()))
            except Exception as exc:  # noqa: BLE001 — a deadlock (or anything else) is reported below
                outcomes.append(f"error: {exc!r}")
        rounds.append((code, outcomes))
    assert all(outcomes[1] == "withdrawn" and "error" not in outcomes[0] for _, outcomes in rounds), rounds
    run_jobs(worker)  # the withdrawals' give-back jobs: a fee settled before its withdrawal is refunded
    for code, outcomes in rounds:
        assert request_of(session_factory, code).state is RequestState.WITHDRAWN, (code, outcomes)
        (payment,) = payments_of(session_factory, code)
        assert payment.state is PaymentState.REVERSED, (code, outcomes, payment.state)
        assert payment.refund_reason == "request_withdrawn", (code, outcomes)
        if outcomes[0] == "settled":  # the callback first: settled with its receipt, refunded by the job
            assert payment.settled_at is not None and payment.receipt_number, (code, outcomes)
        else:  # the withdrawal first: the callback found it withdrawn and reversed it, never settled
            assert outcomes[0] == "reversed" and payment.settled_at is None, (code, outcomes)
            assert payment.receipt_number is None, (code, outcomes)
        answer = gateway(
            "GET",
            f"/transactions/{payment.token}",
            params={"merchant_id": settings.payment_merchant_id},
            timeout=60,
        )
        assert answer.json()["state"] == "reversed", (code, outcomes)
