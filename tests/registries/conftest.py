"""A real registries server on a free port (uvicorn in a thread), shared by the registry tests."""

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from panjereh.registries.app import create_app

TOKEN = "test-registry-token"
ADMIN_TOKEN = "test-admin-token"
START = datetime(2026, 3, 21, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(scope="session")
def base_url(clock: Clock) -> Iterator[str]:
    port = _free_port()
    app = create_app(seed=1402, size=20_000, token=TOKEN, admin_token=ADMIN_TOKEN, clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the registries server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as c:
        yield c


@pytest.fixture
def anonymous(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        yield c


@pytest.fixture
def admin(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60) as c:
        yield c
        c.delete("/_admin/faults")


@pytest.fixture
def at(clock: Clock) -> Iterator[Clock]:
    """The server's clock, put back where it was after the test."""
    saved = clock.now
    yield clock
    clock.now = saved
