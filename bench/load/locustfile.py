"""The national mix (Locust): one task is one visit, chosen in the proportions bench/load/README.md derives
from the article's figures. Run by bench/load/run.py, which starts the topology and sets:

- LOAD_WORKDIR: the run's folder (citizens.json, exchange-client.json, home/outbox.jsonl);
- LOAD_VISITS_PER_SECOND: the whole run's rate of visits (shared by the users);
- LOAD_EVENTS: a CSV file every request is appended to (time, name, milliseconds, failed), which the
  runner reads for percentiles per step and errors per fault window;
- LOAD_APPLIES: a JSON-lines file of every application (its Idempotency-Key, tracking code, outcome),
  which the runner checks against the database (nothing lost, nothing twice).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from joserfc import jwt
from joserfc.jwk import ECKey
from locust import FastHttpUser, constant_throughput, events, task

from bench.load.outbox import Outbox

WORKDIR = Path(os.environ.get("LOAD_WORKDIR", "."))
RATE = float(os.environ.get("LOAD_VISITS_PER_SECOND", "5"))
USERS = int(os.environ.get("LOAD_USERS", "20"))
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ATTEMPT = re.compile(r"attempt=([0-9a-f]+)")
SEARCHES = ["گواهی", "پروانه", "کارت", "مالیات", "بیمه", "licence", "certificate", "سند", "ثبت", "یارانه"]
# Smart services a citizen at the SMS level can apply for, with inputs every citizen can give.
APPLICATIONS: list[tuple[str, dict[str, Any]]] = [
    ("no-criminal-record", {"purpose": "employment"}),
    ("utility-address-change", {"postal_code": "1193653471"}),
    ("my-sim-cards", {}),
    ("tax-clearance", {}),
]
FINAL = {"approved", "refused"}
FOLLOW_SECONDS = 60.0  # a citizen keeps the request's page open this long

_citizens_file = WORKDIR / "citizens.json"
_citizens = json.loads(_citizens_file.read_text(encoding="utf-8")) if _citizens_file.exists() else []
random.shuffle(_citizens)
_next_citizen = itertools.cycle(_citizens)
_documents: list[str] = []
# Open for the whole run (Locust's process): closed when it quits.
_events_path, _applies_path = os.environ.get("LOAD_EVENTS"), os.environ.get("LOAD_APPLIES")
_events_file = open(_events_path, "a", buffering=1 << 16) if _events_path else None  # noqa: SIM115
_applies_file = open(_applies_path, "a", buffering=1) if _applies_path else None  # noqa: SIM115


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, exception: Any, **_kwargs: Any) -> None:
    if _events_file is not None:
        _events_file.write(
            f"{time.time():.3f},{request_type},{name},{response_time:.1f},{1 if exception else 0}\n"
        )


@events.quitting.add_listener
def _close(**_kwargs: Any) -> None:
    for handle in (_events_file, _applies_file):
        if handle is not None:
            handle.close()


def _visit(kind: str) -> None:
    """A visit begins (the runner counts visits per second from these lines)."""
    if _events_file is not None:
        _events_file.write(f"{time.time():.3f},VISIT,{kind},0,0\n")


OUTBOX = Outbox(WORKDIR / "home" / "outbox.jsonl", sleep=gevent.sleep)


class ExchangeToken:
    """The agency's bearer token for the gateway (client credentials with a signed assertion)."""

    def __init__(self) -> None:
        self.value: str | None = None
        self.expires = 0.0

    def get(self, client: Any, host: str) -> str | None:
        if self.value and time.time() < self.expires:
            return self.value
        config = json.loads((WORKDIR / "exchange-client.json").read_text(encoding="utf-8"))
        key = ECKey.import_key(config["key"])
        now = int(time.time())
        claims = {
            "iss": config["client_id"],
            "sub": config["client_id"],
            "aud": f"{host}/exchange/v1/token",
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
        }
        assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        with client._post(
            "/exchange/v1/token", data=form, name="exchange token", catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"token {answer.status_code}: {answer.text[:200]}")
                return None
            self.value = answer.json()["access_token"]
            self.expires = time.time() + 200  # tokens live 300 s
        return self.value


TOKEN = ExchangeToken()


class Citizen(FastHttpUser):
    """Each task is one visit; between visits the user forgets its cookies (a new visitor)."""

    wait_time = constant_throughput(RATE / max(USERS, 1))
    insecure = True  # the run's own self-signed certificate
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self._new_visitor()

    def _new_visitor(self) -> None:
        self.client.cookiejar.clear()
        # Each visitor its own address (nginx appends the peer; the app believes nginx, 127.0.0.1):
        # per-address limits then count per visitor, as they would for a nation's visitors.
        address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        self.address = address

    def _get(self, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {"X-Forwarded-For": self.address, **kwargs.get("headers", {})}
        return self.client.get(path, **kwargs)

    def _post(self, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {"X-Forwarded-For": self.address, **kwargs.get("headers", {})}
        return self.client.post(path, **kwargs)

    # -- visits -----------------------------------------------------------------------------------------
    @task(45)
    def browse_and_search(self) -> None:
        _visit("browse_and_search")
        self._new_visitor()
        self._get("/services", name="/services")
        with self._get(
            f"/api/v1/services?q={random.choice(SEARCHES)}", name="/api/v1/services?q", catch_response=True
        ) as answer:
            items = answer.json().get("items", []) if answer.status_code == 200 else []
        if items:
            self._get(f"/api/v1/services/{random.choice(items)['service_id']}", name="/api/v1/services/{id}")

    @task(20)
    def apply_and_follow(self) -> None:
        _visit("apply_and_follow")
        self._new_visitor()
        if not self._login():
            return
        slug, inputs = random.choice(APPLICATIONS)
        self._get(f"/api/v1/services/{slug}/preview", name="/api/v1/services/{slug}/preview")
        key = uuid.uuid4().hex
        started = time.time()
        tracking, status = None, 0
        # A failed apply (a web process killed, PostgreSQL restarting) is sent again with the same
        # Idempotency-Key, as the portal's page does: the platform must make it one request.
        for _attempt in range(4):
            with self._post(
                f"/api/v1/services/{slug}/requests",
                json={"inputs": inputs},
                headers={"Idempotency-Key": key},
                name="/api/v1/services/{slug}/requests",
                catch_response=True,
            ) as answer:
                status = answer.status_code
                if status in (200, 201):
                    tracking = answer.json()["tracking_code"]
                    break
            gevent.sleep(1.0)
        self._note_apply(key, slug, tracking, status)
        if tracking is None:
            return
        body: dict[str, Any] = {}
        while time.time() - started < FOLLOW_SECONDS:
            gevent.sleep(1.0)  # the request's page refreshes every second
            with self._get(
                f"/api/v1/requests/{tracking}", name="/api/v1/requests/{code}", catch_response=True
            ) as answer:
                if answer.status_code != 200:
                    continue
                body = answer.json()
            if body.get("state") in FINAL:
                break
        if body.get("document_number"):
            _documents.append(body["document_number"])
            del _documents[:-500]
        if body.get("state") in FINAL:
            events.request.fire(
                request_type="E2E",
                name="smart request: apply → decision (seen by the citizen)",
                response_time=(time.time() - started) * 1000,
                response_length=0,
                exception=None,
                context={},
            )

    @task(22)
    def log_in_and_check_requests(self) -> None:
        _visit("log_in_and_check_requests")
        self._new_visitor()
        if not self._login():
            return
        self._get("/account", name="/account")
        self._get("/api/v1/requests", name="/api/v1/requests")

    @task(5)
    def verify_a_document(self) -> None:
        _visit("verify_a_document")
        self._new_visitor()
        number = random.choice(_documents) if _documents else "".join(random.choices("0123456789", k=16))
        self._post("/api/v1/documents/verify", json={"number": number}, name="/api/v1/documents/verify")

    @task(3)
    def dashboard(self) -> None:
        _visit("dashboard")
        self._new_visitor()
        self._get("/dashboard", name="/dashboard")

    @task(5)
    def agency_exchange_call(self) -> None:
        _visit("agency_exchange_call")
        token = TOKEN.get(self, self.host or "")
        if token is None:
            return
        subject = next(_next_citizen)["national_code"]
        self._get(
            f"/exchange/v1/civil-registry.person/persons/{subject}",
            headers={"Authorization": f"Bearer {token}", "Panjereh-Purpose": "load"},
            name="/exchange/v1/civil-registry.person/persons/{code}",
        )

    # -- login with an SMS code ---------------------------------------------------------------------------
    def _login(self) -> bool:
        person = next(_next_citizen)
        page = self._get("/login", name="/login")
        token = CSRF.search(page.text or "")
        if token is None:
            return False
        sent = time.time()
        with self._post(
            "/login",
            data={
                "csrf_token": token.group(1),
                "national_code": person["national_code"],
                "mobile": person["mobile"],
                "next": "/account",
            },
            allow_redirects=False,
            name="/login (identifiers)",
            catch_response=True,
        ) as answer:
            attempt = ATTEMPT.search(answer.headers.get("location") or "")
            if answer.status_code != 303 or attempt is None:
                answer.failure(f"login start {answer.status_code}")
                return False
        code = OUTBOX.code_for(person["mobile"], sent - 1)
        events.request.fire(
            request_type="SMS",
            name="login code in the outbox (worker's send)",
            response_time=(time.time() - sent) * 1000,
            response_length=0,
            exception=None if code else RuntimeError("no code within 20 s"),
            context={},
        )
        if code is None:
            return False
        page = self._get(f"/login/verify?attempt={attempt.group(1)}", name="/login/verify")
        token = CSRF.search(page.text or "")
        if token is None:
            return False
        with self._post(
            "/login/verify",
            data={
                "csrf_token": token.group(1),
                "attempt": attempt.group(1),
                "code": code,
                "next": "/account",
            },
            allow_redirects=False,
            name="/login/verify (code)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 303:
                answer.failure(f"login code {answer.status_code}")
                return False
        return True

    def _note_apply(self, key: str, slug: str, tracking: str | None, status: int) -> None:
        if _applies_file is not None:
            _applies_file.write(
                json.dumps(
                    {"key": key, "slug": slug, "tracking": tracking, "status": status, "at": time.time()}
                )
                + "\n"
            )
