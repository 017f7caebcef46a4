"""Identity and OIDC throughput on one core: SMS-code verification + session creation, token grants.

Run: .venv/bin/python bench/bench_identity.py [--n 400]
Each login and each grant is its own committed transaction on a fresh SQLite file (the embedded default),
as in production; the token endpoint is also measured through the ASGI app (FastAPI, form parsing,
client authentication, JSON) with Starlette's in-process test client. One process, one thread: per core.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import re
import secrets
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from panjereh import migrations
from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.core.identifiers import make_national_code
from panjereh.identity import service, sessions
from panjereh.identity.models import Citizen
from panjereh.identity.ratelimit import DatabaseCounters
from panjereh.notify.backends import read_outbox
from panjereh.oidc import authorize as authz
from panjereh.oidc import clients, tokens
from panjereh.oidc.keys import KeyRing

KEYCLOAK_GRANTS_PER_VCPU = 120  # Keycloak's published sizing figure (token grants per second per vCPU)
REDIRECT = "https://rp.example.ir/cb"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    n = parser.parse_args().n
    home = Path(tempfile.mkdtemp(prefix="pj-bench-identity-"))
    settings = Settings(env="test", home=home, log_level="WARNING", secret_key="bench-" + "x" * 40)
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    rng = random.Random(1402)

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
            started = service.send_code(session, settings, DatabaseCounters(session), who, ip=address)
            attempts.append((started.attempt_id, started.binding))
    codes = {rec["to"]: re.search(r"\d{6}", rec["body_fa"]).group(0) for rec in read_outbox(settings)}  # type: ignore[union-attr]

    began, cpu_began = time.perf_counter(), time.process_time()
    web_sessions = []
    for citizen, (attempt_id, binding) in zip(people, attempts, strict=True):
        with unit_of_work(factory) as session:
            outcome = service.verify_code(
                session,
                settings,
                DatabaseCounters(session),
                attempt_id=attempt_id,
                binding=binding,
                code=codes[citizen.mobile],
            )
            assert outcome.status == "ok" and outcome.citizen is not None
            web_session, _token = sessions.open_session(session, outcome.citizen, level=1, amr=["sms"])
            web_sessions.append(web_session.id)
    login_rate = n / (time.perf_counter() - began)
    login_cpu = n / (time.process_time() - cpu_began)

    keys = KeyRing(settings)
    with unit_of_work(factory) as session:
        keys.refresh(session)

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

    app = create_app(settings)
    grants = make_codes(n)
    with TestClient(app) as http:
        began, cpu_began = time.perf_counter(), time.process_time()
        for code, verifier in grants:
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier,
            }
            response = http.post("/oauth2/token", data=form, headers={"Authorization": basic})
            assert response.status_code == 200, response.text
        http_rate = n / (time.perf_counter() - began)
        http_cpu = n / (time.process_time() - cpu_began)

    load = os.getloadavg()[0]
    print(
        f"identity bench, n={n}, SQLite file, one process; load average {load:.1f} on {os.cpu_count()} cores"
    )
    print("  per wall-clock second (shared machine) | per CPU-second of this process (= per core)")
    rows = [
        ("SMS code verification + session creation", login_rate, login_cpu),
        ("token grants, service + commit", service_rate, service_cpu),
        ("token grants, HTTP token endpoint", http_rate, http_cpu),
    ]
    for label, wall, cpu in rows:
        print(f"  {label:42s} {wall:7.0f} /s | {cpu:7.0f} /s")
    for label, _wall, cpu in rows[1:]:
        print(
            f"  {label}: {cpu / KEYCLOAK_GRANTS_PER_VCPU:.1f}x"
            f" Keycloak's ~{KEYCLOAK_GRANTS_PER_VCPU}/s per vCPU"
        )


if __name__ == "__main__":
    main()
