"""The exchange's overhead: the same calls to a simulated provider directly and through the gateway.

Three processes on one machine: the simulated registries, the portal (gateway, message log on, in
background batches), and this load generator (aiohttp, 50 concurrent clients). Prints throughput
ratio, added p50/p99 latency and the gateway's memory across many calls.

    .venv/bin/python bench/bench_exchange.py [--rounds 3] [--seconds 5] [--memory-calls 100000]

The saturated rounds are driven by wrk when it is installed (`make bench` installs it): a Python load
generator would take a core of the two the servers share. Then 50 clients at a steady 250 requests a
second show the latency the gateway adds when it is not queueing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import fresh_postgres  # noqa: E402
from panjereh import migrations  # noqa: E402
from panjereh.agencies import selectors as agency_selectors  # noqa: E402
from panjereh.agencies.seed import seed_agencies  # noqa: E402
from panjereh.core.config import Settings  # noqa: E402
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from panjereh.exchange import selectors, service  # noqa: E402
from panjereh.exchange.auth import ASSERTION_TYPE, token_url  # noqa: E402
from panjereh.exchange.models import LogEntry  # noqa: E402
from panjereh.exchange.seed import seed_exchange  # noqa: E402
from panjereh.registries.services import published_services

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


@dataclass
class Round:
    """One measured round of load on one URL."""

    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


async def load(
    url: str, headers: dict[str, str], total: int, *, every: float | None = None
) -> tuple[float, list[float], int]:
    """`total` GETs from CONCURRENCY clients, back to back or each client once per `every` seconds;
    returns (seconds, latencies in ms, failures)."""
    latencies: list[float] = []
    failures = 0
    remaining = total
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(offset: float) -> None:
            nonlocal remaining, failures
            if every:
                await asyncio.sleep(offset)
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append((time.perf_counter() - started) * 1000)
                if every:
                    await asyncio.sleep(max(0.0, every - (time.perf_counter() - started)))

        started = time.perf_counter()
        spread = (every or 0) / CONCURRENCY
        await asyncio.gather(*(client(i * spread) for i in range(CONCURRENCY)))
        return time.perf_counter() - started, latencies, failures


def aiohttp_round(url: str, headers: dict[str, str], calls: int) -> Round:
    seconds, latencies, failed = asyncio.run(load(url, headers, calls))
    assert failed == 0, f"{failed} calls to {url} failed"
    return Round(calls, seconds, percentile(latencies, 0.5), percentile(latencies, 0.99))


def _wrk_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_round(url: str, headers: dict[str, str], seconds: int) -> Round:
    """One round driven by wrk (C, one thread, CONCURRENCY connections): the load generator takes
    little of the two cores the servers share, so the round measures the servers, not the client."""
    flags = [f"-H{name}: {value}" for name, value in headers.items()]
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "--latency", *flags, url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    calls = int(re.search(r"([0-9]+) requests in", out).group(1))  # type: ignore[union-attr]
    took = float(re.search(r"requests in ([0-9.]+)s", out).group(1))  # type: ignore[union-attr]
    distribution = out.split("Latency Distribution", 1)[1]
    p50 = _wrk_ms(re.search(r"\b50%\s+(\S+)", distribution).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"\b99%\s+(\S+)", distribution).group(1))  # type: ignore[union-attr]
    return Round(calls, took, p50, p99)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="calls a round (aiohttp client)")
    parser.add_argument("--seconds", type=int, default=5, help="length of a round (wrk client)")
    parser.add_argument(
        "--client", choices=("auto", "wrk", "aiohttp"), default="auto", help="auto: wrk when installed"
    )
    parser.add_argument("--paced-rate", type=int, default=250, help="requests a second in the paced run")
    parser.add_argument(
        "--database-url",
        default=None,
        help="the portal's database (default: a fresh SQLite file); a PostgreSQL one is emptied first",
    )
    parser.add_argument("--paced-seconds", type=int, default=8, help="length of the paced run")
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
        database_url=args.database_url or f"sqlite:///{home}/bench.sqlite3",
        registries_url=registries_url,
        registry_token=TOKEN,
        public_url=portal_url,
        port=portal_port,
    )
    if settings.resolved_database_url.startswith("postgresql"):
        fresh_postgres(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    key = ECKey.generate_key("P-256", parameters={"kid": "bench-1"})
    with unit_of_work(make_sessionmaker(engine)) as session:
        seed_agencies(session, settings, lambda _: None)
        seed_exchange(session, settings, lambda _: None, published=published_services())
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
        use_wrk = shutil.which("wrk") is not None and args.client != "aiohttp"

        def measure(url: str, headers: dict[str, str]) -> Round:
            if use_wrk:
                return wrk_round(url, headers, args.seconds)
            return aiohttp_round(url, headers, args.requests)

        direct_rounds: list[Round] = []
        gateway_rounds: list[Round] = []
        portal_cpu = registries_cpu = 0.0  # during the gateway rounds
        for _ in range(args.rounds):
            direct_rounds.append(measure(direct_url, direct_headers))
            cpu_before = cpu_seconds(portal.pid), cpu_seconds(registries.pid)
            gateway_rounds.append(measure(gateway_url, gateway_headers))
            portal_cpu += cpu_seconds(portal.pid) - cpu_before[0]
            registries_cpu += cpu_seconds(registries.pid) - cpu_before[1]

        def summary(rounds: list[Round]) -> tuple[float, float, float]:
            return (
                statistics.median(r.rate for r in rounds),
                statistics.median(r.p50_ms for r in rounds),
                statistics.median(r.p99_ms for r in rounds),
            )

        (direct_rate, direct_p50, direct_p99) = summary(direct_rounds)
        (gateway_rate, gateway_p50, gateway_p99) = summary(gateway_rounds)
        driver = f"wrk, {args.seconds} s rounds" if use_wrk else f"aiohttp, {args.requests} calls a round"
        print(f"== exchange gateway vs direct, {CONCURRENCY} clients, {args.rounds} rounds ({driver})")
        print(f"direct:  {direct_rate:8.0f} req/s   p50 {direct_p50:6.2f} ms   p99 {direct_p99:6.2f} ms")
        print(f"gateway: {gateway_rate:8.0f} req/s   p50 {gateway_p50:6.2f} ms   p99 {gateway_p99:6.2f} ms")
        print(f"throughput ratio (gateway/direct): {gateway_rate / direct_rate:.2f}")
        print(
            f"added latency at saturation: p50 {gateway_p50 - direct_p50:+.2f} ms   "
            f"p99 {gateway_p99 - direct_p99:+.2f} ms (queueing: both paths run flat out)"
        )
        calls = sum(r.calls for r in gateway_rounds)
        print(
            f"CPU per gateway call: portal {portal_cpu / calls * 1e6:.0f} µs, "
            f"provider {registries_cpu / calls * 1e6:.0f} µs"
        )

        # The same 50 clients at a steady national rate (Estonia averages ~246 X-Road requests a
        # second): below both paths' capacity, so the difference is the gateway's own work per call.
        every = CONCURRENCY / args.paced_rate
        paced_calls = args.paced_rate * args.paced_seconds
        paced: dict[str, tuple[float, float]] = {}
        for name, url, headers in (
            ("direct", direct_url, direct_headers),
            ("gateway", gateway_url, gateway_headers),
        ):
            asyncio.run(load(url, headers, CONCURRENCY * 4, every=every))  # the clients' connections
            _, latencies, failed = asyncio.run(load(url, headers, paced_calls, every=every))
            assert failed == 0, f"{failed} paced calls failed"
            paced[name] = (percentile(latencies, 0.5), percentile(latencies, 0.99))
        print(
            f"at {args.paced_rate} req/s from {CONCURRENCY} clients: direct p50 {paced['direct'][0]:.2f} ms "
            f"p99 {paced['direct'][1]:.2f} ms; gateway p50 {paced['gateway'][0]:.2f} ms "
            f"p99 {paced['gateway'][1]:.2f} ms; added p50 {paced['gateway'][0] - paced['direct'][0]:+.2f} ms "
            f"p99 {paced['gateway'][1] - paced['direct'][1]:+.2f} ms"
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
