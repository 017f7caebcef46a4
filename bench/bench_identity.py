"""Identity and OIDC throughput on one core: SMS-code verification + session creation, token grants.

Run: .venv/bin/python bench/bench_identity.py [--n 400] [--connections 4]
Each login and each grant is its own committed transaction on a fresh SQLite file (the embedded default),
as in production. The service rows run in this process, one thread: per CPU-second of this process = per
core. The HTTP rows run the app under uvicorn in a subprocess (one worker, production settings) and drive
it over real HTTP with aiohttp (keep-alive, a few concurrent connections); "per core" there is requests per
CPU-second of the SERVER process (utime + stime from /proc/<pid>/stat, before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import random
import re
import secrets
import socket
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import aiohttp
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench.portal` when run as a script

from bench.portal import cpu_seconds as _cpu_seconds  # noqa: E402
from bench.portal import start_portal as _start_server  # noqa: E402
from panjereh import migrations
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.core.identifiers import make_national_code
from panjereh.exchange.client import PlatformClient  # noqa: E402
from panjereh.identity import service, sessions
from panjereh.identity.models import Citizen
from panjereh.identity.ratelimit import FailureCounters, LoginLimits, throttles
from panjereh.notify.providers import read_outbox
from panjereh.oidc import authorize as authz
from panjereh.oidc import clients, tokens
from panjereh.oidc.keys import load_keyring
from panjereh.worker import make_worker

KEYCLOAK_GRANTS_PER_VCPU = 120  # Keycloak's published sizing figure (token grants per second per vCPU)
REDIRECT = "https://rp.example.ir/cb"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _drive(
    url: str, requests: list[tuple[str, dict[str, str] | None]], headers: dict[str, str], connections: int
) -> None:
    """Send every request (POST form, or GET when the form is None) over `connections` keep-alive links."""
    queue = list(reversed(requests))
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(url, connector=connector, headers=headers) as http:

        async def worker() -> None:
            while queue:
                path, form = queue.pop()
                call = http.post(path, data=form) if form is not None else http.get(path)
                async with call as response:
                    body = await response.read()
                    assert response.status == 200, body
                    if form is not None:
                        assert b'"id_token"' in body

        await asyncio.gather(*(worker() for _ in range(connections)))


def _over_http(
    pid: int, url: str, requests: list[tuple[str, dict[str, str] | None]], headers: dict[str, str], conns: int
) -> tuple[float, float]:
    """(requests per wall-clock second, requests per CPU-second of the server process)."""
    asyncio.run(_drive(url, requests[:20], headers, conns))  # warm-up: connections, imports, key ring
    measured = requests[20:]
    began, cpu_began = time.perf_counter(), _cpu_seconds(pid)
    asyncio.run(_drive(url, measured, headers, conns))
    wall, cpu = time.perf_counter() - began, _cpu_seconds(pid) - cpu_began
    return len(measured) / wall, len(measured) / cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--connections", type=int, default=1)
    arguments = parser.parse_args()
    n, connections = arguments.n, arguments.connections
    home = Path(tempfile.mkdtemp(prefix="pj-bench-identity-"))
    secret_key = "bench-" + "x" * 40
    settings = Settings(env="development", home=home, log_level="WARNING", secret_key=secret_key)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    rng = random.Random(1402)
    login_throttles = throttles(settings)

    def _limits(session: Session) -> LoginLimits:
        """What the login page counts against (web.identity): throttles and this unit of work's counters."""
        return LoginLimits(login_throttles, FailureCounters(session))

    with unit_of_work(factory) as session:
        people = []
        for index in range(n):
            citizen = Citizen(
                national_code=make_national_code(rng),
                first_name="علی",
                last_name=f"آزمون{index}",
                birth_date=date(1980, 1, 1),
                mobile=f"0912{index:07d}",
            )
            session.add(citizen)
            people.append(citizen)
        session.flush()
        _client, secret = clients.register(
            session, client_id="bench.rp", name_fa="محک", redirect_uris=[REDIRECT]
        )
        assert secret
    attempts: list[tuple[str, str]] = []
    for index, citizen in enumerate(people):
        with unit_of_work(factory) as session:
            who = service.Identified(citizen.national_code, citizen.mobile, citizen.id, None)
            address = f"10.0.{index // 250}.{index % 250}"  # distinct addresses: the send limits stay on
            started = service.send_code(session, settings, _limits(session), who, ip=address)
            attempts.append((started.attempt_id, started.binding))
    # The SMS leaves through the jobs queue (notify.send): a worker sends them to the development outbox.
    sender = make_worker(settings, factory, PlatformClient(settings, factory), concurrency=32)

    async def send_all() -> None:
        while await sender.run_due():
            pass

    asyncio.run(send_all())
    codes = {rec["to"]: re.search(r"\d{6}", rec["body_fa"]).group(0) for rec in read_outbox(settings)}  # type: ignore[union-attr]

    began, cpu_began = time.perf_counter(), time.process_time()
    web_sessions = []
    for citizen, (attempt_id, binding) in zip(people, attempts, strict=True):
        with unit_of_work(factory) as session:
            outcome = service.verify_code(
                session,
                settings,
                _limits(session),
                service.CodeEntry(attempt_id, binding, codes[citizen.mobile]),
            )
            assert outcome.status == "ok" and outcome.citizen is not None
            web_session, _token = sessions.open_session(session, outcome.citizen, level=1, amr=["sms"])
            web_sessions.append(web_session.id)
    login_rate = n / (time.perf_counter() - began)
    login_cpu = n / (time.process_time() - cpu_began)

    keys = load_keyring(settings)

    def make_codes(count: int) -> list[tuple[str, str]]:
        made = []
        with unit_of_work(factory) as session:
            client = clients.get_client(session, "bench.rp")
            assert client is not None
            for index in range(count):
                citizen = people[index % n]
                web_session = session.get(sessions.WebSession, web_sessions[index % n])
                verifier = secrets.token_urlsafe(48)
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                )
                request = authz.AuthorizationRequest(
                    client, REDIRECT, ["openid", "profile"], "s", "n", challenge
                )
                made.append((authz.issue_code(session, request, citizen, web_session), verifier))  # type: ignore[arg-type]
        return made

    basic = "Basic " + base64.b64encode(f"bench.rp:{secret}".encode()).decode()
    grants = make_codes(n)
    began, cpu_began = time.perf_counter(), time.process_time()
    for code, verifier in grants:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        with unit_of_work(factory) as session:
            body = tokens.token_endpoint(session, settings, keys, tokens.ClientCredentials(basic, form))
            assert "id_token" in body
    service_rate = n / (time.perf_counter() - began)
    service_cpu = n / (time.process_time() - cpu_began)

    port = _free_port()
    server = _start_server(home, secret_key, port)
    try:
        url = f"http://127.0.0.1:{port}"
        health: list[tuple[str, dict[str, str] | None]] = [("/healthz", None)] * (n + 20)
        health_rate, health_cpu = _over_http(server.pid, url, health, {}, connections)
        token_requests: list[tuple[str, dict[str, str] | None]] = [
            (
                "/oauth2/token",
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "code_verifier": verifier,
                },
            )
            for code, verifier in make_codes(n + 20)
        ]
        http_rate, http_cpu = _over_http(
            server.pid, url, token_requests, {"Authorization": basic}, connections
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    load = os.getloadavg()[0]
    print(
        f"identity bench, n={n}, SQLite file; load average {load:.1f} on {os.cpu_count()} cores;"
        f" HTTP: uvicorn (1 worker) + aiohttp, {connections} keep-alive connections"
    )
    print("  per wall-clock second | per CPU-second (service: this process; HTTP: the server process)")
    rows = [
        ("SMS code verification + session creation", login_rate, login_cpu),
        ("token grants, service + commit", service_rate, service_cpu),
        ("GET /healthz over HTTP (server baseline)", health_rate, health_cpu),
        ("token grants, POST /oauth2/token over HTTP", http_rate, http_cpu),
    ]
    for label, wall, cpu in rows:
        print(f"  {label:42s} {wall:7.0f} /s | {cpu:7.0f} /s")
    for label, _wall, cpu in (rows[1], rows[3]):
        print(
            f"  {label}: {cpu / KEYCLOAK_GRANTS_PER_VCPU:.1f}x"
            f" Keycloak's ~{KEYCLOAK_GRANTS_PER_VCPU}/s per vCPU"
        )


if __name__ == "__main__":
    main()
