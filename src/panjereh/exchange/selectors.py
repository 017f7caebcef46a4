"""Reads of the exchange: the directory, grants, the citizen's ledger, and the monitoring figures."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.db import utcnow
from panjereh.exchange.exceptions import ClientNotFound, GrantNotFound, ServiceNotFound
from panjereh.exchange.models import (
    LATENCY_BOUNDS_MS,
    DataService,
    ExchangeClient,
    Grant,
    GrantStatus,
    InquiryStat,
    LedgerEntry,
    LogEntry,
)
from panjereh.exchange.subjects import normalize_subject


def log_entries_of(session: Session, trace_or_message_id: str, *, limit: int = 1000) -> Sequence[LogEntry]:
    """The message-log entries of one W3C trace (by its trace id) or the one entry of a message id.

    An operator goes from a trace (a log line's `trace_id`, a `traceresponse`) to the calls it made, and
    from a message id (`Panjereh-Message-Id`) to its entry and, through its `trace_id`, back to the trace.
    """
    wanted = trace_or_message_id.strip().lower()
    query = (
        select(LogEntry)
        .where((LogEntry.trace_id == wanted) | (LogEntry.message_id == wanted))
        .order_by(LogEntry.seq)
        .limit(limit)
    )
    return session.scalars(query).all()


def list_services(session: Session, provider_code: str | None = None) -> Sequence[DataService]:
    """The directory: every active data service with its provider and system."""
    query = (
        select(DataService)
        .options(joinedload(DataService.provider), joinedload(DataService.system))
        .where(DataService.active.is_(True))
        .order_by(DataService.code)
    )
    if provider_code:
        query = query.where(DataService.provider.has(code=provider_code))
    return session.scalars(query).unique().all()


def get_service_by_code(session: Session, code: str) -> DataService:
    """The data service with this code, or ServiceNotFound."""
    service = session.scalars(select(DataService).where(DataService.code == code)).one_or_none()
    if service is None:
        raise ServiceNotFound(f"No data service {code!r}.", f"خدمت داده‌ای با کد «{code}» نیست.")
    return service


def get_grant(session: Session, grant_id: str) -> Grant:
    """The grant with this id, or GrantNotFound."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise GrantNotFound(f"No grant {grant_id!r}.", "چنین مجوزی پیدا نشد.")
    return grant


def list_grants(
    session: Session,
    *,
    client_agency_code: str | None = None,
    provider_agency_code: str | None = None,
    status: GrantStatus | None = None,
    include_standing: bool = True,
) -> Sequence[Grant]:
    """Grants seen from the client's side, the provider's side, or all; newest first."""
    query = select(Grant).options(joinedload(Grant.service).joinedload(DataService.provider))
    if client_agency_code:
        query = query.where(Grant.client_agency_code == client_agency_code)
    if provider_agency_code:
        query = query.where(Grant.service.has(DataService.provider.has(code=provider_agency_code)))
    if status is not None:
        query = query.where(Grant.status == status)
    if not include_standing:
        query = query.where(Grant.standing.is_(False))
    return session.scalars(query.order_by(Grant.created_at.desc())).unique().all()


def services_not_held(
    session: Session,
    wanted: Mapping[str, Collection[str]],
    *,
    sandbox: bool = False,
    at: datetime | None = None,
) -> dict[str, list[str]]:
    """Agency code → those of the wanted data services it may not read, sorted: neither its own (it
    provides them) nor under an approved grant in force at `at` (now) for its environment (`sandbox`).

    What authoring and publishing call "held" (one rule for both: delivery.store, the editor's directory).
    Purposes are not compared: this is the provider's agreement that the agency reads the service at all.
    (Nor does the gateway compare them later for the agency: a published service's evidence is fetched
    by the platform's own client under its standing grant, so this check at submit, publish and import is
    the only one; docs/protocols/service-definitions.md, "Grants".) A code the directory does not list is
    never held (nobody can grant it), nor is one its provider has switched off (`DataService.active`).
    Two queries whatever the number of agencies and services (the demo imports ~270 at once)."""
    codes = sorted({code for agency_codes in wanted.values() for code in agency_codes})
    if not codes:
        return {agency: [] for agency in wanted}
    moment = at or utcnow()
    providers = {
        service.code: service.provider.code
        for service in session.scalars(
            select(DataService)
            .options(joinedload(DataService.provider))
            # A service its provider has switched off answers nobody: neither it nor a grant on it is held.
            .where(DataService.code.in_(codes), DataService.active.is_(True))
        )
    }
    granted: set[tuple[str, str]] = set()
    for agency, code, start, end in session.execute(
        select(Grant.client_agency_code, Grant.service_code, Grant.valid_from, Grant.valid_until).where(
            Grant.client_agency_code.in_(list(wanted)),
            Grant.service_code.in_(codes),
            Grant.status == GrantStatus.APPROVED,
            Grant.sandbox.is_(sandbox),
        )
    ):
        if start <= moment and (end is None or moment < end):
            granted.add((agency, code))

    def held(agency: str, code: str) -> bool:
        return code in providers and (providers[code] == agency or (agency, code) in granted)

    return {
        agency: sorted(code for code in set(agency_codes) if not held(agency, code))
        for agency, agency_codes in wanted.items()
    }


def pairs_with_grants(
    session: Session, pairs: Collection[tuple[str, str]], *, sandbox: bool = False
) -> set[tuple[str, str]]:
    """Those (client agency code, service code) pairs that have a grant for the environment in any state:
    asked, approved, refused, revoked or ended. One query."""
    if not pairs:
        return set()
    agencies = sorted({agency for agency, _ in pairs})
    codes = sorted({code for _, code in pairs})
    rows = session.execute(
        select(Grant.client_agency_code, Grant.service_code)
        .where(
            Grant.client_agency_code.in_(agencies),
            Grant.service_code.in_(codes),
            Grant.sandbox.is_(sandbox),
        )
        .distinct()
    )
    return {(agency, code) for agency, code in rows} & set(pairs)


def services_of(session: Session, provider_code: str) -> Sequence[DataService]:
    """The agency's data services, active or not (its workspace lists those waiting for approval too)."""
    return (
        session.scalars(
            select(DataService)
            .options(joinedload(DataService.system))
            .where(DataService.provider.has(code=provider_code))
            .order_by(DataService.code)
        )
        .unique()
        .all()
    )


def clients_of(session: Session, agency_code: str) -> Sequence[ExchangeClient]:
    """The agency's exchange clients with their keys."""
    return (
        session.scalars(
            select(ExchangeClient)
            .options(selectinload(ExchangeClient.keys))
            .where(ExchangeClient.agency.has(code=agency_code))
            .order_by(ExchangeClient.client_id)
        )
        .unique()
        .all()
    )


def get_client(session: Session, client_id: str) -> ExchangeClient:
    """The registered client with this id, or ClientNotFound."""
    client = (
        session.scalars(
            select(ExchangeClient)
            .options(joinedload(ExchangeClient.agency))
            .where(ExchangeClient.client_id == client_id)
        )
        .unique()
        .one_or_none()
    )
    if client is None:
        raise ClientNotFound(f"No client {client_id!r}.", f"کارخواهی با شناسهٔ «{client_id}» ثبت نشده است.")
    return client


@dataclass(frozen=True)
class LedgerRow:
    """One look at a citizen's data: who, which data, when, why, for which case; `count` times.

    The same inquiry asked again for the same case (a retry while a registry was down) is one look
    asked several times: one row, with the count and the newest time (`at`) and first (`first_at`)."""

    message_id: str
    at: datetime
    client_agency_code: str
    client_agency_fa: str
    client_agency_en: str
    service_code: str
    service_title_fa: str
    service_title_en: str
    provider_agency_code: str
    purpose: str
    case_ref: str | None
    status: int
    count: int = 1
    first_at: datetime | None = None


def _look() -> Any:
    """What makes two ledger entries one look: the same client, service, purpose and case (an entry with
    no case is a look of its own)."""
    return (
        LedgerEntry.client_agency_code,
        LedgerEntry.service_code,
        LedgerEntry.purpose,
        func.coalesce(LedgerEntry.case_ref, LedgerEntry.message_id),
    )


def ledger_for_subject(
    session: Session,
    national_code: str,
    *,
    agency: str | None = None,
    service: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[LedgerRow]:
    """The citizen's data-access ledger, newest first, one row per look (see `LedgerRow`); filters by
    client agency, service and time."""
    conditions = [LedgerEntry.subject == normalize_subject(national_code)]
    if agency:
        conditions.append(LedgerEntry.client_agency_code == agency)
    if service:
        conditions.append(LedgerEntry.service_code == service)
    if since is not None:
        conditions.append(LedgerEntry.at >= since)
    if until is not None:
        conditions.append(LedgerEntry.at < until)
    looks = (
        select(
            func.max(LedgerEntry.at).label("at"),
            func.min(LedgerEntry.at).label("first_at"),
            func.count().label("count"),
            *_look()[:3],
            _look()[3].label("look_case"),
        )
        .where(*conditions)
        .group_by(*_look())
        .order_by(func.max(LedgerEntry.at).desc(), func.max(LedgerEntry.message_id))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    # Each look shown as its newest entry (its status, provider, message id).
    newest = (
        select(LedgerEntry, looks.c.count, looks.c.first_at, DataService.title_fa, DataService.title_en)
        .join(
            looks,
            (LedgerEntry.client_agency_code == looks.c.client_agency_code)
            & (LedgerEntry.service_code == looks.c.service_code)
            & (LedgerEntry.purpose == looks.c.purpose)
            & (func.coalesce(LedgerEntry.case_ref, LedgerEntry.message_id) == looks.c.look_case)
            & (LedgerEntry.at == looks.c.at),
        )
        .outerjoin(DataService, DataService.code == LedgerEntry.service_code)
        .where(*conditions)
        .order_by(LedgerEntry.at.desc(), LedgerEntry.message_id)
    )
    seen: set[tuple[str, str, str, str]] = set()
    rows = []
    for entry, count, first_at, title_fa, title_en in session.execute(newest).all():
        key = (
            entry.client_agency_code,
            entry.service_code,
            entry.purpose,
            entry.case_ref or entry.message_id,
        )
        if key not in seen:  # two entries of one look at the very same instant: the first
            seen.add(key)
            rows.append((entry, count, first_at, title_fa, title_en))
    clients = agency_selectors.agencies_by_code(session, {entry.client_agency_code for entry, *_ in rows})
    return [
        LedgerRow(
            message_id=entry.message_id,
            at=entry.at,
            client_agency_code=entry.client_agency_code,
            client_agency_fa=(client and client.name_fa) or entry.client_agency_code,
            client_agency_en=(client and client.name_en) or entry.client_agency_code,
            service_code=entry.service_code,
            service_title_fa=title_fa or entry.service_code,
            service_title_en=title_en or entry.service_code,
            provider_agency_code=entry.provider_agency_code,
            purpose=entry.purpose,
            case_ref=entry.case_ref,
            status=entry.status,
            count=count,
            first_at=first_at,
        )
        for entry, count, first_at, title_fa, title_en in rows
        for client in [clients.get(entry.client_agency_code)]
    ]


def ledger_count(session: Session, national_code: str) -> int:
    """How many looks at this citizen's data the ledger holds (an inquiry retried for a case is one)."""
    looks = (
        select(*_look())
        .where(LedgerEntry.subject == normalize_subject(national_code))
        .group_by(*_look())
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(looks)) or 0


@dataclass(frozen=True)
class InquiryStats:
    """Inquiries a client agency made in a period; every gateway call is online."""

    agency_code: str
    total: int
    online: int


def inquiry_stats(session: Session, since: datetime, until: datetime) -> list[InquiryStats]:
    """Per client agency: inquiries carried by the exchange in [since, until) (hourly aggregates)."""
    rows = session.execute(
        select(InquiryStat.client_agency_code, func.sum(InquiryStat.count))
        .where(InquiryStat.bucket >= since, InquiryStat.bucket < until)
        .group_by(InquiryStat.client_agency_code)
        .order_by(InquiryStat.client_agency_code)
    ).all()
    return [
        InquiryStats(agency_code=code, total=int(total or 0), online=int(total or 0)) for code, total in rows
    ]


@dataclass(frozen=True)
class ServiceHealth:
    """Monitoring figures for one group (provider, service or client) over a period."""

    key: str
    count: int
    ok: int
    client_errors: int
    provider_errors: int
    platform_errors: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def availability(self) -> float | None:
        """Share of calls that reached the provider and did not fail on its side."""
        reached = self.count - self.client_errors - self.platform_errors
        return None if reached <= 0 else (reached - self.provider_errors) / reached


GROUPS = {
    "provider": InquiryStat.provider_agency_code,
    "service": InquiryStat.service_code,
    "client": InquiryStat.client_agency_code,
}


def _percentile(histogram: list[int], share: float, max_ms: float) -> float:
    total = sum(histogram)
    if total == 0:
        return 0.0
    rank = share * total
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank and count:
            return float(LATENCY_BOUNDS_MS[index]) if index < len(LATENCY_BOUNDS_MS) else max_ms
    return max_ms


def monitoring(session: Session, by: str, since: datetime, until: datetime) -> list[ServiceHealth]:
    """Counts, errors by side, latency percentiles (bucket upper bounds) and availability, per group."""
    column = GROUPS[by]
    buckets = [getattr(InquiryStat, f"h{i}") for i in range(len(LATENCY_BOUNDS_MS) + 1)]
    rows = session.execute(
        select(
            column,
            func.sum(InquiryStat.count),
            func.sum(InquiryStat.ok),
            func.sum(InquiryStat.client_errors),
            func.sum(InquiryStat.provider_errors),
            func.sum(InquiryStat.platform_errors),
            func.sum(InquiryStat.total_ms),
            func.max(InquiryStat.max_ms),
            *(func.sum(bucket) for bucket in buckets),
        )
        .where(InquiryStat.bucket >= since, InquiryStat.bucket < until)
        .group_by(column)
        .order_by(column)
    ).all()
    result = []
    for key, count, ok, client_errors, provider_errors, platform_errors, total_ms, max_ms, *hist in rows:
        histogram = [int(h or 0) for h in hist]
        count = int(count or 0)
        max_value = float(max_ms or 0)
        result.append(
            ServiceHealth(
                key=key,
                count=count,
                ok=int(ok or 0),
                client_errors=int(client_errors or 0),
                provider_errors=int(provider_errors or 0),
                platform_errors=int(platform_errors or 0),
                mean_ms=float(total_ms or 0) / count if count else 0.0,
                p50_ms=min(_percentile(histogram, 0.50, max_value), max_value),
                p95_ms=min(_percentile(histogram, 0.95, max_value), max_value),
                p99_ms=min(_percentile(histogram, 0.99, max_value), max_value),
                max_ms=max_value,
            )
        )
    return result
