"""The exchange's overhead: the same calls to a simulated provider directly and through the gateway.

Three processes on one machine: the simulated registries, the portal (gateway, message log on, in
background batches), and this load generator (aiohttp, 50 concurrent clients). Prints throughput
ratio, added p50/p99 latency and the gateway's memory across many calls.

    .venv/bin/python bench/bench_exchange.py [--requests 5000] [--memory-calls 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from panjereh import migrations
from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.seed import seed_agencies
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.exchange import selectors, service
from panjereh.exchange.auth import ASSERTION_TYPE, token_url
from panjereh.exchange.models import LogEntry
from panjereh.exchange.seed import seed_exchange

TOKEN = "bench-registry-token"  # noqa: S105
SUBJECT = "0499370899"
CONCURRENCY = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def load(url: str, headers: dict[str, str], total: int) -> tuple[float, list[float], int]:
    """`total` GETs from CONCURRENCY workers; returns (seconds, latencies in ms, failures)."""
    latencies: list[float] = []
    failures = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining, failures
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="calls per measured round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway rounds")
    parser.add_argument("--memory-calls", type=int, default=100_000, help="calls for the memory check")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="panjereh-bench-exchange-"))
    registries_port, portal_port = free_port(), free_port()
    registries_url = f"http://127.0.0.1:{registries_port}"
    portal_url = f"http://127.0.0.1:{portal_port}"
    settings = Settings(
        env="development",
        home=home,
        database_url=f"sqlite:///{home}/bench.sqlite3",
        registries_url=registries_url,
        registry_token=TOKEN,
        public_url=portal_url,
        port=portal_port,
    )
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1"})
    with unit_of_work(make_sessionmaker(engine)) as session:
        seed_agencies(session, settings, lambda _: None)
        seed_exchange(session, settings, lambda _: None)
        client = service.register_client(
            session,
            agency_selectors.get_agency_by_code(session, "tax"),
            client_id="tax-bench",
            name="bench",
            rate_per_second=1_000_000,
        )
        service.add_client_key(session, client, key.as_dict(private=False))
        grant = service.request_grant(
            session,
            client_agency=client.agency,
            service=selectors.get_service_by_code(session, "civil-registry.person"),
            purposes=["bench"],
            legal_basis="benchmark",
        )
        service.approve_grant(session, grant, provider_agency_code="nocr")

    env = {
        **os.environ,
        "PANJEREH_ENV": "development",
        "PANJEREH_HOME": str(home),
        "PANJEREH_DATABASE_URL": settings.resolved_database_url,
        "PANJEREH_REGISTRIES_URL": registries_url,
        "PANJEREH_REGISTRY_TOKEN": TOKEN,
        "PANJEREH_PUBLIC_URL": portal_url,
        "PANJEREH_LOG_LEVEL": "WARNING",
        "PANJEREH_EXCHANGE_LOG_MODE": "background",
    }
    uvicorn_flags = ["--log-level", "warning", "--no-access-log", "--host", "127.0.0.1"]
    registries = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "panjereh.registries",
            "--port",
            str(registries_port),
            "--size",
            "3000",
            "--token",
            TOKEN,
        ],
        env=env,
    )
    portal = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "uvicorn",
            "panjereh.app:create_app",
            "--factory",
            "--port",
            str(portal_port),
            *uvicorn_flags,
        ],
        env=env,
    )
    try:
        wait_for(f"{registries_url}/healthz")
        wait_for(f"{portal_url}/healthz")

        def gateway_token() -> str:
            now = int(time.time())
            claims = {
                "iss": "tax-bench",
                "sub": "tax-bench",
                "aud": token_url(settings),
                "iat": now,
                "exp": now + 120,
                "jti": uuid.uuid4().hex,
            }
            assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
            issued = httpx.post(
                f"{portal_url}/exchange/v1/token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                },
            )
            issued.raise_for_status()
            return str(issued.json()["access_token"])

        direct_url = f"{registries_url}/civil-registry/persons/{SUBJECT}"
        direct_headers = {"Authorization": f"Bearer {TOKEN}"}
        gateway_url = f"{portal_url}/exchange/v1/civil-registry.person/persons/{SUBJECT}"
        gateway_headers = {
            "Authorization": f"Bearer {gateway_token()}",
            "Panjereh-Purpose": "bench",
        }

        asyncio.run(load(direct_url, direct_headers, 1000))  # warm up both paths
        asyncio.run(load(gateway_url, gateway_headers, 1000))
        direct_rates, gateway_rates, direct_lat, gateway_lat = [], [], [], []
        for _ in range(args.rounds):
            seconds, latencies, failed = asyncio.run(load(direct_url, direct_headers, args.requests))
            assert failed == 0, f"{failed} direct calls failed"
            direct_rates.append(args.requests / seconds)
            direct_lat += latencies
            seconds, latencies, failed = asyncio.run(load(gateway_url, gateway_headers, args.requests))
            assert failed == 0, f"{failed} gateway calls failed"
            gateway_rates.append(args.requests / seconds)
            gateway_lat += latencies
        direct_rate, gateway_rate = statistics.median(direct_rates), statistics.median(gateway_rates)
        print(f"== exchange gateway vs direct, {CONCURRENCY} concurrent, {args.rounds}×{args.requests} calls")
        print(
            f"direct:  {direct_rate:8.0f} req/s   p50 {percentile(direct_lat, 0.5):6.2f} ms   "
            f"p99 {percentile(direct_lat, 0.99):6.2f} ms"
        )
        print(
            f"gateway: {gateway_rate:8.0f} req/s   p50 {percentile(gateway_lat, 0.5):6.2f} ms   "
            f"p99 {percentile(gateway_lat, 0.99):6.2f} ms"
        )
        print(f"throughput ratio (gateway/direct): {gateway_rate / direct_rate:.2f}")
        print(
            f"added latency: p50 {percentile(gateway_lat, 0.5) - percentile(direct_lat, 0.5):+.2f} ms   "
            f"p99 {percentile(gateway_lat, 0.99) - percentile(direct_lat, 0.99):+.2f} ms"
        )

        if args.memory_calls:
            before = rss_kib(portal.pid)
            chunk = max(args.memory_calls // 10, 1)
            samples = []
            for _ in range(10):
                gateway_headers["Authorization"] = f"Bearer {gateway_token()}"  # tokens live five minutes
                _, _, failed = asyncio.run(load(gateway_url, gateway_headers, chunk))
                assert failed == 0, f"{failed} calls failed"
                samples.append(rss_kib(portal.pid))
            print(
                f"gateway RSS over {chunk * 10:,} calls (MiB): {before / 1024:.1f} → "
                + " ".join(f"{s / 1024:.1f}" for s in samples)
            )
            print(f"growth over the last half: {(samples[-1] - samples[4]) / 1024:+.1f} MiB")
        time.sleep(1.0)  # let the writer drain
        with unit_of_work(make_sessionmaker(engine)) as session:
            from sqlalchemy import func, select

            logged = session.scalar(select(func.count()).select_from(LogEntry))
        print(f"message-log entries written: {logged:,}")
    finally:
        portal.terminate()
        registries.terminate()
        portal.wait(timeout=20)
        registries.wait(timeout=20)
        engine.dispose()


if __name__ == "__main__":
    main()
