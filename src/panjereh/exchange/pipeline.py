"""The gateway pipeline: check the call, forward it to the provider, classify the answer, log it.

The same pipeline serves agency systems over HTTP (gateway.py) and the platform in-process
(client.py): grant check, circuit breaker, rate limit, timeouts, safe retries, message log, ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Coroutine, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from panjereh.agencies.models import Agency, AgencySystem
from panjereh.core import tracing
from panjereh.core.config import Settings
from panjereh.core.db import autocommit_engine, utcnow
from panjereh.core.errors import ProblemError
from panjereh.core.publications import path_parameters, path_pattern
from panjereh.core.ratelimit import Limiter, Window, make_storage
from panjereh.core.sandbox import is_test_persona
from panjereh.exchange import grants
from panjereh.exchange.chain import digest
from panjereh.exchange.exceptions import (
    ClientRateLimited,
    GrantMissing,
    InvalidInquiry,
    ProviderUnavailable,
    SandboxSubject,
    ServiceNotFound,
    SubjectMismatch,
    WrongMethod,
)
from panjereh.exchange.messagelog import LogRecord, LogWriter
from panjereh.exchange.metrics import ExchangeMetrics, environment_of
from panjereh.exchange.models import DataService
from panjereh.exchange.resilience import CircuitBreaker
from panjereh.exchange.service import ANY_PURPOSE
from panjereh.exchange.signing import load_signer
from panjereh.exchange.subjects import normalize_subject
from panjereh.exchange.witness import witness_for

SessionFactory = Callable[[], Session]
ROUTE_TTL_SECONDS = 5.0  # service descriptions may be seconds stale; grants never are (see grants.py)
RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAX_TEXT = 200

# The route lookup (on a cache miss) as one Core statement.
_ROUTE = (
    select(
        DataService.code,
        Agency.code.label("provider_agency_code"),
        AgencySystem.code.label("system_code"),
        AgencySystem.base_url,
        DataService.method,
        DataService.path,
        DataService.subject_field,
        DataService.personal_data,
        DataService.timeout_ms,
    )
    .join(Agency, Agency.id == DataService.provider_agency_id)
    .join(AgencySystem, AgencySystem.id == DataService.system_id)
    .where(DataService.code == bindparam("code"), DataService.active.is_(True))
)


@dataclass(frozen=True)
class InquiryResult:
    """The answer to one inquiry. A 404 from the provider is an answer (`ok=False, status=404`)."""

    ok: bool
    status: int
    data: Any
    problem: dict[str, Any] | None
    message_id: str
    duration_ms: float


@dataclass(frozen=True)
class Caller:
    """The authenticated client: which agency system calls, its rate limit, and whether it is a sandbox
    client (then only sandbox grants serve it, and it asks only about the test personas)."""

    client_id: str
    agency_code: str
    rate_per_second: int
    sandbox: bool = False


@dataclass(frozen=True)
class Route:
    """What the gateway needs to know about a data service to forward a call."""

    code: str
    provider_agency_code: str
    system_code: str
    base_url: str
    method: str
    path: str
    subject_field: str | None
    personal_data: bool
    timeout_ms: int
    pattern: Any = field(compare=False)


@dataclass
class Call:
    """One call in flight, after every check passed."""

    message_id: str
    started: float
    at: datetime
    caller: Caller
    route: Route
    subject: str | None
    purpose: str
    case_ref: str | None
    method: str
    path: str
    url: str
    body: bytes | None
    timeout_s: float
    # The W3C traceparent sent to the provider: a child span of the request that asked (core/tracing.py).
    traceparent: str | None = None


@dataclass(frozen=True)
class Raw:
    """The provider's answer as it came over the wire."""

    status: int
    body: bytes
    content_type: str


class ProviderFailure:
    """The provider could not be used: down, too slow, unreachable, circuit open, or garbage."""

    def __init__(self, reason: str, status: int = 0) -> None:
        self.reason = reason
        self.status = status


class LoopThread:
    """An event loop running on a daemon thread of its own, started on first use, so that synchronous
    code can use the asynchronous HTTP client (`Exchange.forward_sync`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started here if it is not)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_run_forever, args=(self._loop,), name=self.name, daemon=True
                )
                self._thread.start()
            return self._loop

    def stop(self, last: Callable[[], Coroutine[Any, Any, None]], *, wait: bool = True) -> None:
        """Run `last()` on the loop (to close what lives there), then stop the loop and its thread; the
        next use starts them again. With `wait=False` (a finalizer, which may run on any thread) only
        ask for it."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        ended = asyncio.run_coroutine_threadsafe(last(), loop)
        # Stopped once `last` is done and its result handed over (stopping from inside it would end the
        # loop before the hand-over runs).
        ended.add_done_callback(lambda _: loop.call_soon_threadsafe(loop.stop))
        if wait and thread is not threading.current_thread():
            ended.result()
            thread.join()


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
    finally:
        loop.close()


class _Sessions:
    """One aiohttp session per event loop: a session belongs to the loop it was made on."""

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )

    def current(self) -> aiohttp.ClientSession:
        """The running loop's session (made here if it has none)."""
        loop = asyncio.get_running_loop()
        session = self._by_loop.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300)
            session = aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",))
            self._by_loop[loop] = session
        return session

    async def aclose(self) -> None:
        """Close the running loop's session."""
        session = self._by_loop.pop(asyncio.get_running_loop(), None)
        if session is not None and not session.closed:
            await session.close()


class _Reader:
    """The checks' database connection, opened on first use (a call whose checks are all cached opens
    none)."""

    def __init__(self, connect: Callable[[], Connection]) -> None:
        self._connect = connect
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection


class Exchange:
    """The gateway's runtime: shared by the HTTP gateway and the platform's in-process client."""

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory,
        metrics: ExchangeMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.config = settings.exchange
        self.session_factory = session_factory
        self.metrics = metrics or ExchangeMetrics()
        self.breaker = CircuitBreaker(self.config.breaker_failures, self.config.breaker_cooldown_seconds)
        # Per client and per process, as the circuit breakers. A fixed one-second window keeps one counter
        # (a moving one keeps a timestamp per call) and, like the token bucket it replaced, allows a burst.
        self.limiter = Limiter(make_storage(), moving=False)
        inline = {"inline": True, "background": False}.get(self.config.log_mode)  # auto: None
        signer = load_signer(settings.ensure_home())
        self.writer = LogWriter(
            session_factory,
            signer,
            inline=inline,
            batch_size=self.config.log_batch_size,
            flush_ms=self.config.log_flush_ms,
            queue_max=self.config.log_queue_max,
            seal_every_seconds=self.config.seal_every_seconds,
            witness=witness_for(settings.home, self.config.witness_file, signer),
        )
        self._routes: dict[str, tuple[Route, float]] = {}
        self._provider_headers = {"Authorization": f"Bearer {settings.registry_token}"}
        self._sessions = _Sessions(self.config.max_connections)
        self._loop_thread = LoopThread("exchange-http")
        # An Exchange dropped without close() (a test's app, a script) still ends its thread and session.
        weakref.finalize(self, self._loop_thread.stop, self._sessions.aclose, wait=False)
        self._checks_engine: Engine | None = None
        self.grants = grants.GrantCache()

    # -- checks (sync: they read the database) ------------------------------------------------------

    @property
    def checks_engine(self) -> Engine:
        """The engine behind the session factory, as the checks read through it (resolved once).

        On PostgreSQL the lookups run in autocommit: each is one statement that sees what is committed,
        and psycopg then sends no BEGIN and no ROLLBACK (two round trips of four).
        """
        if self._checks_engine is None:
            with closing(self.session_factory()) as session:
                bind = session.get_bind()
            engine = bind if isinstance(bind, Engine) else bind.engine
            if engine.dialect.name == "postgresql":
                engine = autocommit_engine(engine)
                if not self.writer.inline:  # tests share one uncommitted transaction: nothing to hear
                    self.grants.listen(engine)
            self._checks_engine = engine
        return self._checks_engine

    @property
    def checks_on_loop(self) -> bool:
        """Whether async callers may run `prepare` on the event loop instead of a worker thread.

        With SQLite the checks read a local file (routes are cached; one indexed grant lookup, tens of
        microseconds), far less than the thread-pool hop and the GIL hand-offs it costs; serial use
        from the loop also keeps to one pooled connection instead of churning overflow connections.
        A network database (PostgreSQL) would stall the loop for a round trip: there the hop stays.
        """
        return self.checks_engine.dialect.name == "sqlite"

    def checks_cached(self, caller: Caller, service_code: str) -> bool:
        """Whether `prepare` would read nothing from the database for this call (route and grants known):
        then async callers run it on the event loop even on PostgreSQL. If the cache is emptied in
        between, the call still gets a correct answer, after one round trip on the loop."""
        cached = self._routes.get(service_code)
        return (
            cached is not None
            and time.monotonic() - cached[1] < ROUTE_TTL_SECONDS
            and self.grants.cached(caller.agency_code, service_code) is not None
        )

    @contextmanager
    def _reading(self) -> Iterator[_Reader]:
        """What the checks read through, its snapshot ended when the block ends; it connects only if a
        check reads the database (a cache miss).

        Tests bind every session to one connection (their transaction): there it is that connection,
        under the guard. Elsewhere it is a pooled Core connection, not an ORM session: profiled on
        SQLite, a session per call cost 118 µs against 71 µs for the same lookup on a connection.
        """
        if self.writer.inline:
            with self.writer.guard, closing(self.session_factory()) as session:
                yield _Reader(session.connection)
            return
        with contextlib.ExitStack() as stack:
            yield _Reader(lambda: stack.enter_context(self.checks_engine.connect()))

    def route(self, reader: _Reader, service_code: str) -> Route:
        """The forwarding description of an active data service (cached for a few seconds)."""
        cached = self._routes.get(service_code)
        if cached is not None and time.monotonic() - cached[1] < ROUTE_TTL_SECONDS:
            return cached[0]
        row = reader.connection.execute(_ROUTE, {"code": service_code}).one_or_none()
        if row is None:
            raise ServiceNotFound(
                f"No data service {service_code!r} is published on the exchange.",
                f"خدمت داده‌ای با کد «{service_code}» روی گذرگاه منتشر نشده است.",
            )
        route = Route(
            code=row.code,
            provider_agency_code=row.provider_agency_code,
            system_code=row.system_code,
            base_url=row.base_url.rstrip("/"),
            method=row.method,
            path=row.path,
            subject_field=row.subject_field,
            personal_data=row.personal_data,
            timeout_ms=row.timeout_ms or self.config.default_timeout_ms,
            pattern=path_pattern(row.path),
        )
        self._routes[service_code] = (route, time.monotonic())
        return route

    def prepare(
        self,
        caller: Caller,
        service_code: str,
        *,
        method: str | None = None,
        path: str | None = None,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | str | None = None,
        body: bytes | None = None,
        json_body: dict[str, Any] | None = None,
        subject: str | None,
        purpose: str,
        case: str | None,
        timeout: float | None,
    ) -> Call:
        """Authorize a call: service, method, path, subject, rate and grant. Refusals are logged."""
        started, at = time.perf_counter(), utcnow()
        message_id = uuid.uuid4().hex
        route: Route | None = None
        shown_path = path or ""
        try:
            with self._reading() as reader:
                route = self.route(reader, service_code)
                method = (method or route.method).upper()
                if method != route.method:
                    raise WrongMethod(
                        f"{service_code} is called with {route.method}, not {method}.",
                        f"این خدمت با روش {route.method} فراخوانده می‌شود.",
                    )
                params = self._path_params(route, path, path_params)
                shown_path = route.path
                for name, value in params.items():
                    shown_path = shown_path.replace("{" + name + "}", quote(str(value), safe=""))
                query_string = query if isinstance(query, str) else urlencode(query or {})
                if body is None and json_body is not None:
                    body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
                subject = self._subject(route, subject, params, body, json_body)
                if caller.sandbox and subject is not None and not is_test_persona(subject):
                    # Nothing tried in the sandbox reaches a real person's data.
                    raise SandboxSubject(
                        "A sandbox client asks only about the test personas (docs/protocols/exchange.md).",
                        "کارخواه محیط آزمایشی فقط دربارهٔ اشخاص آزمونی استعلام می‌کند؛ این کد ملی آزمونی نیست.",
                    )
                purpose = (purpose or "").strip()
                if not purpose or len(purpose) > MAX_TEXT:
                    raise InvalidInquiry(
                        "Name the purpose of the inquiry (at most 200 characters).",
                        "هدف استعلام را بنویسید (حداکثر ۲۰۰ نویسه).",
                    )
                case = (case or "").strip() or None
                if case is not None and len(case) > MAX_TEXT:
                    raise InvalidInquiry(
                        "The case reference is too long.", "شمارهٔ پرونده بیش از حد بلند است."
                    )
                wait = self.limiter.hit(caller.client_id, Window(caller.rate_per_second, 1))
                if wait is not None:
                    raise ClientRateLimited(
                        f"Over {caller.rate_per_second} calls a second.",
                        "تعداد استعلام‌ها در ثانیه بیش از سقف مجاز است.",
                        headers={"Retry-After": str(max(1, round(wait)))},
                    )
                self._check_grant(reader, caller, route, purpose, at)
        except ProblemError as error:
            self._refused(
                message_id,
                started,
                at,
                caller,
                service_code,
                route,
                subject,
                purpose,
                case,
                method or "",
                shown_path,
                error,
            )
            raise
        timeout_s = timeout if timeout is not None else route.timeout_ms / 1000
        full_path = shown_path + (f"?{query_string}" if query_string else "")
        return Call(
            message_id=message_id,
            started=started,
            at=at,
            caller=caller,
            route=route,
            subject=subject,
            purpose=purpose,
            case_ref=case,
            method=method,
            path=full_path,
            url=route.base_url + full_path,
            body=body,
            timeout_s=timeout_s,
            traceparent=tracing.outgoing(),
        )

    @staticmethod
    def _path_params(route: Route, path: str | None, path_params: Mapping[str, str] | None) -> dict[str, str]:
        if path is not None:
            match = route.pattern.match(path)
            if match is None:
                raise InvalidInquiry(
                    f"{route.code} answers at {route.path}; {path!r} is not such a path.",
                    f"نشانی درخواست با الگوی این خدمت ({route.path}) جور نیست.",
                )
            return dict(match.groupdict())
        params = dict(path_params or {})
        missing = [name for name in path_parameters(route.path) if not params.get(name)]
        if missing:
            raise InvalidInquiry(
                f"Missing path parameters: {', '.join(missing)}.",
                f"این پارامترهای نشانی خالی است: {', '.join(missing)}",
            )
        return {name: str(params[name]) for name in path_parameters(route.path)}

    @staticmethod
    def _subject(
        route: Route,
        subject: str | None,
        params: Mapping[str, str],
        body: bytes | None,
        json_body: dict[str, Any] | None,
    ) -> str | None:
        """Whose data: named by the caller and, where the service says so, checked against the request."""
        derived: str | None = None
        if route.subject_field:
            if route.subject_field in params:
                derived = params[route.subject_field]
            else:
                document = json_body
                if document is None and body:
                    try:
                        document = json.loads(body)
                    except ValueError:
                        document = None
                if isinstance(document, dict) and document.get(route.subject_field) is not None:
                    derived = str(document[route.subject_field])
        named = normalize_subject(subject) if subject else None
        found = normalize_subject(derived) if derived else None
        if named and found and named != found:
            raise SubjectMismatch(
                "The subject named in the call differs from the one in the request.",
                "کد ملی شخصی که نام برده شده با کد ملی درون درخواست یکی نیست.",
            )
        result = named or found
        if route.personal_data and route.subject_field and not result:
            raise InvalidInquiry(
                "This data service carries personal data: name the subject.",
                "این خدمت دادهٔ شخصی می‌دهد: شخصِ موضوع استعلام را نام ببرید.",
            )
        return result

    def _check_grant(self, reader: _Reader, caller: Caller, route: Route, purpose: str, at: datetime) -> None:
        windows = self.grants.windows(
            lambda: grants.read_windows(reader.connection, caller.agency_code, route.code),
            caller.agency_code,
            route.code,
        )
        if any(window.covers(purpose, ANY_PURPOSE, at, caller.sandbox) for window in windows):
            return
        if any(window.covers(purpose, ANY_PURPOSE, at, not caller.sandbox) for window in windows):
            # Held, but for the other environment: say so, or the agency looks for a grant it has.
            held, needed = ("production", "sandbox") if caller.sandbox else ("sandbox", "production")
            held_fa, needed_fa = ("تولید", "محیط آزمایشی") if caller.sandbox else ("آزمایشی", "تولید")
            raise GrantMissing(
                f"Agency {caller.agency_code!r} holds a {held} grant for {route.code!r}, and this is a "
                f"{needed} client: a {held} grant never serves it.",
                f"مجوز «{route.code}» برای محیط {held_fa} است؛ کارخواه {needed_fa} با آن استعلام نمی‌کند.",
            )
        raise GrantMissing(
            f"Agency {caller.agency_code!r} holds no valid grant for {route.code!r} for purpose {purpose!r}.",
            f"دستگاه «{caller.agency_code}» برای خدمت «{route.code}» با هدف «{purpose}» مجوز معتبر ندارد.",
        )

    # -- forwarding ---------------------------------------------------------------------------------

    def _headers(self, call: Call) -> dict[str, str]:
        headers = dict(self._provider_headers)
        headers["Panjereh-Message-Id"] = call.message_id
        headers["Panjereh-Client"] = call.caller.agency_code
        if call.traceparent is not None:
            headers[tracing.TRACEPARENT_HEADER] = call.traceparent
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        return headers

    async def forward(self, call: Call) -> Raw | ProviderFailure:
        """Send the call to the provider: its answer, or how the provider failed.

        The one outbound path (aiohttp, one session per event loop): GETs are retried on a connection
        failure or a 502/503/504 while the call's deadline allows; a timeout or an unreadable body ends
        the call.
        """
        if not self.breaker.allow(call.route.system_code):
            return ProviderFailure("circuit_open")
        deadline = call.started + call.timeout_s
        attempts = 1 + (self.config.get_retries if call.method == "GET" else 0)
        session = self._sessions.current()
        headers = self._headers(call)
        reason, status = "unreachable", 0
        for attempt in range(attempts):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                reason = "timeout"
                break
            timeout = aiohttp.ClientTimeout(
                total=remaining, sock_connect=min(remaining, self.config.connect_timeout_ms / 1000)
            )
            try:
                # A provider's redirect is not followed (ASVS 15.3.2): the grant names this system, not
                # wherever it points; the answer is classified as a failure in `finish`.
                async with session.request(
                    call.method,
                    call.url,
                    data=call.body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                ) as response:
                    body = await response.read()
                    raw = Raw(response.status, body, response.headers.get("Content-Type", ""))
            except TimeoutError:
                reason = "timeout"
                break  # the time is spent: retrying would only break the caller's deadline
            except aiohttp.ClientPayloadError:
                reason = "garbage"
                break
            except (aiohttp.ClientError, OSError):
                reason = "unreachable"
                continue
            if raw.status in RETRYABLE_STATUSES and attempt + 1 < attempts:
                reason, status = "down", raw.status
                continue
            return raw
        return ProviderFailure(reason, status)

    def forward_sync(self, call: Call) -> Raw | ProviderFailure:
        """`forward` for synchronous callers (login's registry checks, scripts): the same aiohttp call,
        run on the exchange's own event-loop thread while the calling thread waits.

        One loop thread serves every sync caller: aiohttp multiplexes their calls there, with one
        connection pool (docs/performance.md, "One HTTP client").
        """
        # The call runs in the caller's context (its log fields, its OpenTelemetry span when on), so
        # the client span of the call is a child of the request's, in the request's trace.
        loop, context = self._loop_thread.loop, contextvars.copy_context()
        done: concurrent.futures.Future[Raw | ProviderFailure] = concurrent.futures.Future()

        def settle(task: asyncio.Task[Raw | ProviderFailure]) -> None:
            if task.cancelled():
                done.cancel()
            elif (error := task.exception()) is not None:
                done.set_exception(error)
            else:
                done.set_result(task.result())

        def start() -> None:
            loop.create_task(self.forward(call), context=context).add_done_callback(settle)

        loop.call_soon_threadsafe(start)
        return done.result()

    # -- finishing ----------------------------------------------------------------------------------

    def finish(self, call: Call, outcome: Raw | ProviderFailure) -> tuple[InquiryResult, Raw | None]:
        """Classify the answer, update the circuit, log; ProviderUnavailable when the provider failed."""
        failure: ProviderFailure | None = outcome if isinstance(outcome, ProviderFailure) else None
        raw = outcome if isinstance(outcome, Raw) else None
        document: Any = None
        if raw is not None:
            if raw.status >= 500:
                failure = ProviderFailure("down" if raw.status == 503 else "error", raw.status)
            elif 300 <= raw.status < 400:
                failure = ProviderFailure("redirect", raw.status)
            elif raw.body or raw.status != 204:
                try:
                    document = json.loads(raw.body)
                except ValueError:
                    failure = ProviderFailure("garbage", raw.status)
                else:
                    if raw.status < 300 and not isinstance(document, dict | list):
                        failure = ProviderFailure("garbage", raw.status)
        if failure is None or failure.reason != "circuit_open":
            self.breaker.record(call.route.system_code, failure is None)
            self.metrics.circuit_open.labels(call.route.system_code).set(
                0 if self.breaker.state(call.route.system_code) == CircuitBreaker.CLOSED else 1
            )
        duration_ms = (time.perf_counter() - call.started) * 1000
        if failure is not None:
            status = ProviderUnavailable.status
            outcome_code = f"provider.{failure.reason}"
            response_bytes = raw.body if raw is not None else b""
        else:
            assert raw is not None
            status = raw.status
            outcome_code = "ok" if status < 400 else ("not_found" if status == 404 else "rejected")
            response_bytes = raw.body
        self._log(call, status, outcome_code, duration_ms, response_bytes)
        if failure is not None:
            raise ProviderUnavailable(
                f"{call.route.provider_agency_code}/{call.route.system_code}: {failure.reason}.",
                _REASON_FA.get(failure.reason, "سامانهٔ ارائه‌دهنده پاسخ درستی نداد."),
                headers={"Retry-After": "5", "Panjereh-Message-Id": call.message_id},
                reason=failure.reason,
                provider=call.route.provider_agency_code,
                message_id=call.message_id,
            )
        assert raw is not None
        ok = 200 <= raw.status < 300
        result = InquiryResult(
            ok=ok,
            status=raw.status,
            data=document if ok else None,
            problem=None if ok else (document if isinstance(document, dict) else {"status": raw.status}),
            message_id=call.message_id,
            duration_ms=duration_ms,
        )
        return result, raw

    def _log(self, call: Call, status: int, outcome: str, duration_ms: float, response: bytes) -> None:
        request_bytes = f"{call.method} {call.path}\n".encode() + (call.body or b"")
        store = self.config.store_bodies
        environment = environment_of(call.caller.sandbox)
        self.metrics.inquiries.labels(call.caller.agency_code, call.route.code, outcome, environment).inc()
        self.metrics.latency.labels(call.route.code, environment).observe(duration_ms / 1000)
        self.writer.submit(
            LogRecord(
                message_id=call.message_id,
                at=call.at,
                client_agency_code=call.caller.agency_code,
                client_id=call.caller.client_id,
                service_code=call.route.code,
                provider_agency_code=call.route.provider_agency_code,
                subject=call.subject,
                purpose=call.purpose,
                case_ref=call.case_ref,
                method=call.method,
                path=call.path[:300],
                status=status,
                outcome=outcome,
                duration_ms=duration_ms,
                request_digest=digest(request_bytes),
                response_digest=digest(response),
                request_body=request_bytes.decode("utf-8", "replace") if store else None,
                response_body=response.decode("utf-8", "replace") if store else None,
                sandbox=call.caller.sandbox,
                trace_id=tracing.trace_id_of(call.traceparent),
            )
        )
        self.metrics.log_queue.set(self.writer.pending())

    def _refused(
        self,
        message_id: str,
        started: float,
        at: datetime,
        caller: Caller,
        service_code: str,
        route: Route | None,
        subject: str | None,
        purpose: str,
        case: str | None,
        method: str,
        path: str,
        error: ProblemError,
    ) -> None:
        """Refusals are logged too (who tried what), though nothing reached the provider."""
        error.extra.setdefault("message_id", message_id)
        self._log(
            Call(
                message_id=message_id,
                started=started,
                at=at,
                caller=caller,
                route=route
                or Route(service_code[:80], "", "", "", method, path, None, False, 0, pattern=None),
                subject=(normalize_subject(subject) if subject else None),
                purpose=(purpose or "")[:MAX_TEXT],
                case_ref=(case or None) and case[:MAX_TEXT],
                method=method[:10],
                path=path,
                url="",
                body=None,
                timeout_s=0,
                # Sent nowhere: it ties the refusal's log entry to the request's trace.
                traceparent=tracing.outgoing(),
            ),
            error.status,
            error.code,
            (time.perf_counter() - started) * 1000,
            b"",
        )

    # -- life cycle ---------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the current loop's HTTP session."""
        await self._sessions.aclose()

    def close(self) -> None:
        """Stop the log writer (writing what is queued), the grants listener and the sync callers' loop
        thread (closing its HTTP session)."""
        self.writer.close()
        self.grants.close()
        self._loop_thread.stop(self._sessions.aclose)


_REASON_FA = {
    "timeout": "سامانهٔ ارائه‌دهنده در زمان مقرر پاسخ نداد.",
    "unreachable": "به سامانهٔ ارائه‌دهنده نمی‌توان وصل شد.",
    "down": "سامانهٔ ارائه‌دهنده از کار افتاده است.",
    "error": "سامانهٔ ارائه‌دهنده با خطای داخلی پاسخ داد.",
    "garbage": "پاسخ سامانهٔ ارائه‌دهنده قابل خواندن نبود.",
    "redirect": "سامانهٔ ارائه‌دهنده به نشانی دیگری ارجاع داد؛ درگاه ارجاع‌ها را دنبال نمی‌کند.",
    "circuit_open": "سامانهٔ ارائه‌دهنده پیاپی خطا داده است؛ کمی بعد دوباره تلاش کنید.",
}
