"""Visit events: recorded by the portal off the request path, in batches, bots filtered, pseudonymous.

The middleware only appends a small record to an in-memory buffer after the response has been sent;
a background thread writes the buffer in batches (COPY on PostgreSQL, multi-row INSERT on SQLite).
Pages name the agency and service they show through `request.state.visit_agency` and
`request.state.visit_service`; the signed-in citizen (`request.state.citizen`, or the identity domain's
cached `request.state.identity` pair) is turned into a pseudonym, an HMAC of the citizen id with the
platform's secret key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panjereh.analytics.models import PseudonymousUser, visit_event
from panjereh.core.config import Settings
from panjereh.core.crypto import keyed_digest
from panjereh.core.jalali import to_tehran
from panjereh.core.writer import BufferedWriter

CHANNELS = ("web", "app", "counter")
CHANNEL_HEADER = b"x-panjereh-channel"
# Crawlers, link previewers, monitors, headless browsers and scripted clients are not citizens' visits.
BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|preview|monitor|uptime|headless|lighthouse|python-|curl/|wget/|httpclient"
    r"|java/|go-http|okhttp|libwww|scrapy|axios|node-fetch|phantomjs|facebookexternalhit|whatsapp",
    re.IGNORECASE,
)
# Pages only: API calls, assets and operations endpoints are not visits.
SKIPPED_PREFIXES = (
    "/api/",
    "/static/",
    "/vendor/",
    "/exchange/",
    "/metrics",
    "/healthz",
    "/readyz",
    "/.well-known/",
)


AGENCY_WIDTH, SERVICE_WIDTH = 40, 80  # visit_event's agency_code and service columns
VISIT_COLUMNS = ("day", "occurred_at", "visitor", "agency_code", "service", "channel")
COPY_VISITS = f"COPY visit_event ({', '.join(VISIT_COLUMNS)}) FROM STDIN"


@lru_cache(maxsize=65_536)  # a citizen opens several pages in a row: compute once
def pseudonym(secret_key: str, citizen_id: str) -> uuid.UUID:
    """The visitor's pseudonym: HMAC-SHA256 of the citizen id under the pseudonym key, first 128 bits."""
    digest = keyed_digest(secret_key, "visitor-pseudonym", citizen_id)
    return uuid.UUID(bytes=digest[:16])


@lru_cache(maxsize=4096)  # a few hundred user agents make up nearly all traffic
def is_bot(user_agent: str | None) -> bool:
    """True for a missing user agent or one that names a robot or a scripted client."""
    return not user_agent or BOT_PATTERN.search(user_agent) is not None


@dataclass(frozen=True, slots=True)
class Visit:
    """One page visit, as stored (no personal data beyond the pseudonym)."""

    occurred_at: datetime
    visitor: uuid.UUID | None
    agency_code: str | None
    service: str | None
    channel: str = "web"

    @property
    def day(self) -> date:
        return to_tehran(self.occurred_at).date()


def write_visits(session: Session, visits: Sequence[Visit]) -> int:
    """Insert a batch of visits and register first-seen pseudonyms; flushes, never commits."""
    if not visits:
        return 0
    rows: list[tuple[date, datetime, uuid.UUID | None, str | None, str | None, str]] = []
    first_seen: dict[uuid.UUID, date] = {}
    for visit in visits:
        day = visit.day
        rows.append((day, visit.occurred_at, visit.visitor, visit.agency_code, visit.service, visit.channel))
        if visit.visitor is not None:
            known = first_seen.get(visit.visitor)
            if known is None or day < known:
                first_seen[visit.visitor] = day
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # COPY: several times the rate of multi-row INSERTs, in the same transaction.
        cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(COPY_VISITS) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        session.execute(insert(visit_event), [dict(zip(VISIT_COLUMNS, row, strict=True)) for row in rows])
    if first_seen:
        _insert_new_users(session, first_seen)
    return len(rows)


def _insert_new_users(session: Session, first_seen: dict[uuid.UUID, date]) -> None:
    """Add pseudonyms not seen before; one seen before keeps its first day."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One statement for the whole batch: two arrays unnested, instead of one bound row per user.
        cursor: Any = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor:
            cursor.execute(
                "INSERT INTO analytics_user (visitor, first_seen_on) "
                "SELECT * FROM unnest(%s::uuid[], %s::date[]) ON CONFLICT (visitor) DO NOTHING",
                (list(first_seen), list(first_seen.values())),
            )
        return
    values = [{"visitor": visitor, "first_seen_on": day} for visitor, day in first_seen.items()]
    statement = sqlite.insert(PseudonymousUser).on_conflict_do_nothing(index_elements=["visitor"])
    session.execute(statement, values)


class VisitRecorder(BufferedWriter[Visit]):
    """Buffers visits in memory and writes them in batches from a background thread.

    The buffer is bounded: if the database is away for long, the oldest visits are dropped, not the
    portal; a batch that fails is logged and dropped. Without `background`, visits wait for `flush`.
    """

    thread_name = "visit-recorder"

    def __init__(
        self,
        settings: Settings,
        sessionmaker_of: Callable[[], sessionmaker[Session]],
        *,
        batch_size: int = 1000,
        interval: float = 1.0,
        background: bool = True,
        max_buffer: int = 200_000,
    ) -> None:
        self.secret_key = settings.secret_key
        self.sessionmaker_of = sessionmaker_of
        super().__init__(
            lambda: self.sessionmaker_of()(),
            mode="thread" if background else "manual",
            batch_size=batch_size,
            flush_seconds=interval,
            max_pending=max_buffer,
            when_full="drop_oldest",
            retry=False,
        )
        self.dropped_bots = 0

    def pseudonym(self, citizen_id: str) -> uuid.UUID:
        return pseudonym(self.secret_key, citizen_id)

    def record(
        self,
        *,
        citizen_id: str | None,
        agency_code: str | None = None,
        service: str | None = None,
        channel: str = "web",
        user_agent: str | None = "Mozilla/5.0",
        occurred_at: datetime | None = None,
    ) -> bool:
        """Queue one visit (False when it was a bot's); never touches the database on the caller's path."""
        if is_bot(user_agent):
            self.dropped_bots += 1
            return False
        visit = Visit(
            occurred_at=occurred_at or datetime.now(UTC),
            visitor=self.pseudonym(citizen_id) if citizen_id else None,
            # Cut to the columns' widths: one over-long slug must not fail the whole batch's COPY.
            agency_code=agency_code[:AGENCY_WIDTH] if agency_code else None,
            service=service[:SERVICE_WIDTH] if service else None,
            channel=channel if channel in CHANNELS else "web",
        )
        self.submit(visit)
        return True

    def write(self, session: Session, batch: list[Visit]) -> int:
        return write_visits(session, batch)


class VisitMiddleware:
    """Pure ASGI middleware: after a page has been sent, hand the visit to the recorder."""

    def __init__(self, app: ASGIApp, recorder: VisitRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(SKIPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        outcome: dict[str, Any] = {}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                outcome["html"] = any(
                    name == b"content-type" and value.startswith(b"text/html")
                    for name, value in message.get("headers", ())
                )
            await send(message)

        await self.app(scope, receive, watch)
        if outcome.get("status", 500) >= 400 or not outcome.get("html"):
            return
        headers = dict(scope.get("headers") or ())
        state = scope.get("state") or {}
        citizen = state.get("citizen")
        identity = state.get("identity")  # the identity domain caches (web session, citizen) here
        if citizen is None and isinstance(identity, tuple) and len(identity) == 2:
            citizen = identity[1]
        self.recorder.record(
            citizen_id=str(citizen.id) if citizen is not None and getattr(citizen, "id", None) else None,
            agency_code=state.get("visit_agency"),
            service=state.get("visit_service"),
            channel=headers.get(CHANNEL_HEADER, b"web").decode("latin-1"),
            user_agent=headers.get(b"user-agent", b"").decode("latin-1"),
        )


def visits_of(events: Iterable[dict[str, Any]]) -> list[Visit]:
    """Visits from plain dicts (the bench and the generator build them this way)."""
    return [Visit(**event) for event in events]
