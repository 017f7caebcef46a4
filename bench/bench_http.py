"""The exchange's HTTP client: aiohttp against httpx, for both of the exchange's kinds of caller.

One local upstream (a raw ASGI app on uvicorn, in its own process, answering a 300-byte JSON
document) and the same calls made through each stack, in alternating rounds of one run:

- sync callers (login's registry checks run in web handlers' threads): httpx's `Client` against
  aiohttp on the exchange's event-loop thread (`panjereh.exchange.pipeline.LoopThread`, what
  `Exchange.forward_sync` uses), from one thread and from eight threads at once;
- async callers (the gateway, the delivery engine's fan-out): httpx's `AsyncClient` against aiohttp's
  `ClientSession`, 50 calls in flight.

    .venv/bin/python bench/bench_http.py [--calls 2000] [--rounds 3] [--platform]

Prints calls a second per stack (median of the rounds) and the ratios, aiohttp / httpx. With
`--platform`, then also the whole synchronous path as login uses it: `PlatformClient.inquire` of
`civil-registry.person` (checks, forward, message log in background batches, SQLite) against the
simulated registries in a process of their own, from one thread and from eight.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_delivery import registries_processes  # noqa: E402
from bench.bench_exchange import free_port, wait_for  # noqa: E402
from panjereh import migrations  # noqa: E402
from panjereh.agencies.seed import seed_agencies  # noqa: E402
from panjereh.core.config import Settings  # noqa: E402
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from panjereh.exchange.client import PlatformClient  # noqa: E402
from panjereh.exchange.pipeline import LoopThread  # noqa: E402
from panjereh.exchange.seed import seed_exchange
from panjereh.registries.services import published_services  # noqa: E402

THREADS = 8
SUBJECT = "0499370899"
IN_FLIGHT = 50

UPSTREAM = textwrap.dedent(
    """
    import json, sys
    import uvicorn

    BODY = json.dumps({"national_code": "0499370899", "first_name": "x" * 80, "last_name": "y" * 80,
                       "birth_date": "1990-01-01", "alive": True, "padding": "z" * 60}).encode()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": BODY})

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
    """
)


def sync_httpx(url: str, calls: int, threads: int) -> float:
    with httpx.Client(limits=httpx.Limits(max_connections=200), trust_env=False) as client:
        return _threaded(lambda: client.get(url).content, calls, threads)


def sync_aiohttp(url: str, calls: int, threads: int) -> float:
    loop_thread = LoopThread("bench-http")
    session: aiohttp.ClientSession | None = None

    async def get() -> bytes:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        async with session.get(url) as response:
            return await response.read()

    async def close() -> None:
        if session is not None:
            await session.close()

    try:
        return _threaded(
            lambda: asyncio.run_coroutine_threadsafe(get(), loop_thread.loop).result(), calls, threads
        )
    finally:
        loop_thread.stop(close)


def _threaded(call: Callable[[], object], calls: int, threads: int) -> float:
    """Calls a second, `calls` spread over `threads` threads (after a short warm-up)."""
    for _ in range(20):
        call()
    each = calls // threads

    def work() -> None:
        for _ in range(each):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return each * threads / (time.perf_counter() - started)


async def _in_flight(get: Callable[[], object], calls: int) -> float:
    for _ in range(20):
        await get()  # type: ignore[misc]
    remaining = calls

    async def work() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await get()  # type: ignore[misc]

    started = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(IN_FLIGHT)))
    return calls / (time.perf_counter() - started)


def async_httpx(url: str, calls: int) -> float:
    async def run() -> float:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200), trust_env=False) as client:

            async def get() -> bytes:
                return (await client.get(url)).content

            return await _in_flight(get, calls)

    return asyncio.run(run())


def async_aiohttp(url: str, calls: int) -> float:
    async def run() -> float:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:

            async def get() -> bytes:
                async with session.get(url) as response:
                    return await response.read()

            return await _in_flight(get, calls)

    return asyncio.run(run())


def platform_inquiries(calls: int, rounds: int) -> None:
    """`PlatformClient.inquire` end to end, as login's registry checks call it."""
    home = Path(tempfile.mkdtemp(prefix="pj-bench-http-"))
    with registries_processes(1) as (registries_url,):
        settings = Settings(
            env="development",
            home=home,
            database_url=f"sqlite:///{home}/bench.db",
            registries_url=registries_url,
            registry_token="bench-token",  # noqa: S106
            log_level="WARNING",
        )
        engine = make_engine(settings.resolved_database_url, pool_size=20)
        migrations.upgrade(engine)
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            seed_agencies(session, settings, lambda _: None)
            seed_exchange(session, settings, lambda _: None, published=published_services())
        client = PlatformClient(settings, factory)

        def inquire() -> object:
            return client.inquire(
                "civil-registry.person",
                subject=SUBJECT,
                purpose="bench",
                path_params={"national_code": SUBJECT},
            )

        try:
            for threads in (1, THREADS):
                rates = [_threaded(inquire, calls, threads) for _ in range(rounds)]
                print(
                    f"  PlatformClient.inquire, {threads} thread(s): {statistics.median(rates):8,.0f} calls/s"
                    f"   rounds: {', '.join(f'{r:,.0f}' for r in rates)}"
                )
        finally:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per stack and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--platform", action="store_true", help="also PlatformClient.inquire end to end")
    args = parser.parse_args()
    port = free_port()
    upstream = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(port)])  # noqa: S603
    url = f"http://127.0.0.1:{port}/persons/0499370899"
    try:
        wait_for(url)
        cases: dict[str, Callable[[], float]] = {
            "sync, 1 thread: httpx Client": lambda: sync_httpx(url, args.calls, 1),
            "sync, 1 thread: aiohttp on the loop thread": lambda: sync_aiohttp(url, args.calls, 1),
            f"sync, {THREADS} threads: httpx Client": lambda: sync_httpx(url, args.calls, THREADS),
            f"sync, {THREADS} threads: aiohttp on the loop thread": lambda: sync_aiohttp(
                url, args.calls, THREADS
            ),
            f"async, {IN_FLIGHT} in flight: httpx AsyncClient": lambda: async_httpx(url, args.calls),
            f"async, {IN_FLIGHT} in flight: aiohttp ClientSession": lambda: async_aiohttp(url, args.calls),
        }
        rates: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):  # rounds alternate the stacks, so a busy moment hits both
            for name, case in cases.items():
                rates[name].append(case())
    finally:
        upstream.terminate()
        upstream.wait()
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{args.rounds} rounds of {args.calls} calls per stack; calls a second (median of rounds):")
    for name, rate in medians.items():
        print(f"  {name:<48} {rate:8,.0f}   rounds: {', '.join(f'{r:,.0f}' for r in rates[name])}")
    names = list(medians)
    print("ratios, aiohttp / httpx:")
    for httpx_name, aiohttp_name in zip(names[::2], names[1::2], strict=True):
        print(f"  {httpx_name.split(':')[0]:<24} {medians[aiohttp_name] / medians[httpx_name]:.2f}")
    if args.platform:
        print("the platform's synchronous path:")
        platform_inquiries(args.calls // 4, args.rounds)


if __name__ == "__main__":
    main()
