"""OIDC userinfo with verified attributes: a cold call (the registries asked through the exchange) against
a cached one (the same access token again within the cache's life), as a ratio measured in one run.

Run: .venv/bin/python bench/bench_userinfo.py [--n 200] [--rounds 3]

The simulated registries run in a process of their own (as agencies' systems are apart); the portal runs
under uvicorn in another (one worker, production settings, a fresh SQLite file), driven over real HTTP
with aiohttp on one keep-alive connection. Each cold call presents a token not seen before, so it asks
the civil registry, the Post, the Ministry of Education and the Police (four logged inquiries); each
cached call presents one token again. Rounds alternate cold, cached and a token without attribute scopes
(the endpoint's floor), so a busy moment of the shared machine hits all three; figures are medians of
the rounds, per wall-clock call and per CPU-second of the portal's process (utime + stime from /proc,
the figure a loaded machine disturbs least).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_delivery import registries_processes  # noqa: E402
from bench.bench_exchange import free_port  # noqa: E402
from bench.portal import cpu_seconds, start_portal  # noqa: E402
from panjereh import migrations  # noqa: E402
from panjereh.agencies.seed import seed_agencies  # noqa: E402
from panjereh.core.config import Settings  # noqa: E402
from panjereh.core.crypto import sha256_hex  # noqa: E402
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work, utcnow  # noqa: E402
from panjereh.exchange.models import LogEntry  # noqa: E402
from panjereh.exchange.seed import seed_exchange  # noqa: E402
from panjereh.identity.models import Citizen  # noqa: E402
from panjereh.oidc import clients  # noqa: E402
from panjereh.oidc.models import OidcConsent, OidcGrant, OidcToken  # noqa: E402
from panjereh.registries.services import published_services  # noqa: E402

CLIENT_ID = "bench.bank"
SUBJECT = "0499370899"  # a person of the registries' seeded population (the demo citizen)
ATTRIBUTES = {
    "address": "برای فرستادن کارت بانکی به نشانی شما",
    "education": "برای سنجش اعتبار وام دانشجویی",
    "vehicles": "برای وام با وثیقهٔ خودرو",
}
WITH_ATTRIBUTES = "openid national_code address education vehicles"
WITHOUT = "openid national_code"


def _tokens(factory, citizen_id: str, scope: str, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """`count` live access tokens of one grant with `scope`, written as the token endpoint writes them."""
    made = [secrets.token_urlsafe(32) for _ in range(count)]
    now = utcnow()
    with unit_of_work(factory) as session:
        grant = OidcGrant(
            client_id=CLIENT_ID, citizen_id=citizen_id, scope=scope, acr="urn:panjereh:loa:1", amr="sms",
            auth_time=now,
        )  # fmt: skip
        session.add(grant)
        session.flush()
        for token in made:
            session.add(
                OidcToken(
                    token_hash=sha256_hex(token), kind="access", grant_id=grant.id, created_at=now,
                    expires_at=now + timedelta(minutes=10),
                )
            )  # fmt: skip
    return made


async def _get_all(url: str, tokens: list[str]) -> None:
    """GET userinfo with each token in turn on one keep-alive connection; each answered 200, complete."""
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=1)) as http:
        for token in tokens:
            async with http.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {token}"}) as answer:
                body = await answer.read()
                assert answer.status == 200, body
                assert b"unavailable_claims" not in body, body


def _calls(pid: int, url: str, tokens: list[str]) -> tuple[float, float]:
    """(wall-clock seconds, server CPU-seconds) per call over `tokens`."""
    began, cpu_began = time.perf_counter(), cpu_seconds(pid)
    asyncio.run(_get_all(url, tokens))
    return (time.perf_counter() - began) / len(tokens), (cpu_seconds(pid) - cpu_began) / len(tokens)


def _logged(factory) -> int:  # type: ignore[no-untyped-def]
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(LogEntry)) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="calls per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="pj-bench-userinfo-"))
    secret_key = "bench-" + "x" * 40
    with registries_processes(1) as (registries_url,):
        settings = Settings(
            env="development",
            home=home,
            secret_key=secret_key,
            registries_url=registries_url,
            registry_token="bench-token",  # noqa: S106
            log_level="WARNING",
        )
        engine = make_engine(settings.resolved_database_url)
        migrations.upgrade(engine)
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            seed_agencies(session, settings, lambda _n: None)
            seed_exchange(session, settings, lambda _n: None, published=published_services())
            citizen = Citizen(
                national_code=SUBJECT, first_name="علی", last_name="رضایی", birth_date=date(1985, 6, 12),
                mobile="09121234567",
            )  # fmt: skip
            session.add(citizen)
            clients.register(
                session, client_id=CLIENT_ID, name_fa="بانک محک", redirect_uris=["https://bank.example.ir/cb"],
                scopes=WITH_ATTRIBUTES.split(), attribute_purposes=ATTRIBUTES, approve_attributes=True,
            )  # fmt: skip
            session.flush()
            session.add(OidcConsent(citizen_id=citizen.id, client_id=CLIENT_ID, scope=WITH_ATTRIBUTES))
            citizen_id = citizen.id
        cold_tokens = _tokens(factory, citizen_id, WITH_ATTRIBUTES, args.n * args.rounds + 5)
        cached_token = _tokens(factory, citizen_id, WITH_ATTRIBUTES, 1)
        plain_token = _tokens(factory, citizen_id, WITHOUT, 1)
        port = free_port()
        limits = str(10**9)
        server = start_portal(
            home,
            secret_key,
            port,
            {
                "PANJEREH_REGISTRIES_URL": registries_url,
                "PANJEREH_REGISTRY_TOKEN": "bench-token",
                "PANJEREH_OIDC_USERINFO_PER_MINUTE": limits,
                "PANJEREH_OIDC_USERINFO_PER_CITIZEN_PER_MINUTE": limits,
            },
        )
        url = f"http://127.0.0.1:{port}"
        cold, cached, plain = [], [], []
        try:
            _calls(server.pid, url, cold_tokens[:5] + cached_token + plain_token)  # warm-up; fills the cache
            time.sleep(1.5)  # the message log's writer flushes its batch (off the request path)
            before = _logged(factory)
            for index in range(args.rounds):
                start = 5 + index * args.n
                cold.append(_calls(server.pid, url, cold_tokens[start : start + args.n]))
                cached.append(_calls(server.pid, url, cached_token * args.n))
                plain.append(_calls(server.pid, url, plain_token * args.n))
        finally:
            server.terminate()  # a graceful stop writes what the log writer still holds
            server.wait(timeout=60)
        logged = _logged(factory) - before
    print(
        f"userinfo bench: {args.rounds} rounds of {args.n} calls per kind; uvicorn (1 worker) + aiohttp,"
        f" 1 connection, SQLite; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    medians = {}
    for label, rounds in (
        ("cold (4 registry inquiries)", cold),
        ("cached (same token again)", cached),
        ("no attribute scopes (floor)", plain),
    ):
        wall, cpu = (statistics.median(values) for values in zip(*rounds, strict=True))
        medians[label] = (wall, cpu)
        print(
            f"  {label:30s} {wall * 1000:7.2f} ms/call ({1 / wall:6,.0f}/s)"
            f" | server CPU {cpu * 1000:6.2f} ms/call ({1 / cpu:6,.0f}/s per core)"
        )
    per_cold = logged / (args.n * args.rounds)
    print(
        f"  inquiries logged while measuring: {logged} ({per_cold:.1f} per cold call, 0 expected per cached)"
    )
    cold_wall, cold_cpu = medians["cold (4 registry inquiries)"]
    cached_wall, cached_cpu = medians["cached (same token again)"]
    ratios = f"{cold_wall / cached_wall:.1f}x wall-clock, {cold_cpu / cached_cpu:.1f}x server CPU"
    print(f"  ratio, cold / cached: {ratios}")


if __name__ == "__main__":
    main()
