"""Writes of the exchange: publish data services, register clients and keys, request and decide grants."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.core.db import utcnow
from panjereh.core.publications import RegistryRecord
from panjereh.exchange import grants, selectors
from panjereh.exchange.exceptions import (
    GrantSelfApproval,
    GrantStateConflict,
    InvalidInquiry,
    InvalidPublication,
    NotProvider,
)
from panjereh.exchange.models import ClientKey, DataService, ExchangeClient, Grant, GrantStatus

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

PLATFORM_AGENCY = "ito"
PLATFORM_CLIENT_ID = "ito-platform"
# The platform's sandbox client: the authoring dry runs call through it, with the sandbox's standing grants.
PLATFORM_SANDBOX_CLIENT_ID = "ito-platform-sandbox"
ANY_PURPOSE = "*"  # only the platform's standing grants carry it
PLATFORM_LEGAL_BASIS = (
    "Budget law 1402, note 7, clause C: all inter-agency inquiries online through the national window"
)


OpenApiFetcher = Callable[[str], dict[str, Any] | None]
OPENAPI_TIMEOUT_S = 2.0


def fetch_openapi(url: str) -> dict[str, Any] | None:
    """A system's OpenAPI document over HTTP, or None when it does not answer with a JSON object."""
    try:
        response = httpx.get(url, timeout=OPENAPI_TIMEOUT_S)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _pointer(document: dict[str, Any], ref: str) -> Any:
    target: Any = document
    for part in ref[2:].split("/"):
        if not isinstance(target, dict):
            return None
        target = target.get(part.replace("~1", "/").replace("~0", "~"))
    return target


def resolve_refs(node: Any, document: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by what it points to, so it stands without the document."""
    if isinstance(node, list):
        return [resolve_refs(item, document, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in seen:  # a recursive schema: stop at the second visit instead of looping
            return {"title": ref.rsplit("/", 1)[-1], "description": f"recursive ({ref})"}
        target = _pointer(document, ref)
        resolved = resolve_refs(target, document, (*seen, ref)) if isinstance(target, dict) else {}
        siblings = {key: resolve_refs(value, document, seen) for key, value in node.items() if key != "$ref"}
        return {**resolved, **siblings}
    return {key: resolve_refs(value, document, seen) for key, value in node.items()}


def _json_schema(holder: Any, document: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of a request body or a response (its `application/json` content, else the first)."""
    holder = resolve_refs(holder, document)
    content = holder.get("content") if isinstance(holder, dict) else None
    if not isinstance(content, dict) or not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    schema = media.get("schema") if isinstance(media, dict) else None
    return schema if isinstance(schema, dict) else None


def operation_schemas(
    document: dict[str, Any], method: str, path: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The request body schema and the 200-response schema of one operation, `$ref`s resolved."""
    paths = document.get("paths")
    item = paths.get(path) if isinstance(paths, dict) else None
    operation = item.get(method.lower()) if isinstance(item, dict) else None
    if not isinstance(operation, dict):
        return None, None
    responses = operation.get("responses")
    ok = responses.get("200") if isinstance(responses, dict) else None
    return _json_schema(operation.get("requestBody"), document), _json_schema(ok, document)


def describe_services(
    session: Session, services: Iterable[DataService], fetch: OpenApiFetcher = fetch_openapi
) -> int:
    """Fill services' request and response schemas from their systems' OpenAPI documents; returns filled."""
    documents: dict[str, dict[str, Any] | None] = {}
    filled = 0
    for service in services:
        url = service.system.openapi_url
        if not url:
            continue
        if url not in documents:
            documents[url] = fetch(url)
        document = documents[url]
        if document is None:
            continue
        service.request_schema, service.response_schema = operation_schemas(
            document, service.method, service.path
        )
        filled += 1
    session.flush()
    return filled


def describe_missing(session: Session, fetch: OpenApiFetcher = fetch_openapi) -> int:
    """Describe the active services that have no schema yet (published while their system was down);
    returns how many. The periodic job `exchange.describe` runs it (`tasks.describe_services`), never a
    page view: reading a directory must not call out to agencies' systems or write."""
    # Filtered here, not in SQL: an empty JSON column may hold SQL NULL or JSON null (a few hundred rows).
    active = session.scalars(select(DataService).where(DataService.active.is_(True)))
    missing = [
        item
        for item in active
        if item.request_schema is None and item.response_schema is None and item.system.openapi_url
    ]
    return describe_services(session, missing, fetch) if missing else 0


def publish_registries(
    session: Session,
    registries_url: str,
    records: Iterable[RegistryRecord],
    fetch: OpenApiFetcher = fetch_openapi,
) -> int:
    """Register each registry as a system of its agency and each of its data services; returns services.

    Each service's request and response schemas are read from its system's OpenAPI document; a system
    that does not answer leaves them empty until `describe_missing` (scheduled) finds it up.
    """
    count = 0
    published: list[DataService] = []
    for record in records:
        agency = agency_selectors.find_agency_by_code(session, record.agency_code)
        if agency is None:
            agency = agency_service.upsert_agencies(
                session,
                [
                    {
                        "code": record.agency_code,
                        "kind": "organization",
                        "fa": record.agency_fa,
                        "en": record.agency_en,
                    }
                ],
            )[0]
        base_url = registries_url.rstrip("/") + record.prefix
        system = agency_service.upsert_system(
            session,
            agency,
            code=record.code,
            name_fa=record.name_fa,
            base_url=base_url,
            openapi_url=f"{base_url}/openapi.json",
            health_url=f"{base_url}/healthz",
        )
        for item in record.services:
            service = session.scalars(select(DataService).where(DataService.code == item.code)).one_or_none()
            if service is None:
                service = DataService(code=item.code)
                session.add(service)
            service.provider = agency
            service.system = system
            service.title_fa = item.title_fa
            service.title_en = item.title_en
            service.method = item.method
            service.path = item.path
            service.personal_data = item.personal_data
            service.subject_field = item.subject_field
            service.latency_objective_ms = item.latency_objective_ms
            service.active = True
            published.append(service)
            count += 1
        session.flush()
    describe_services(session, published, fetch)
    return count


def register_client(
    session: Session,
    agency: Agency,
    *,
    client_id: str,
    name: str,
    rate_per_second: int = 200,
    sandbox: bool = False,
) -> ExchangeClient:
    """Create (or update) an agency system's client registration (`sandbox`: a sandbox client)."""
    client = session.scalars(
        select(ExchangeClient).where(ExchangeClient.client_id == client_id)
    ).one_or_none()
    if client is None:
        client = ExchangeClient(client_id=client_id, agency=agency)
        session.add(client)
    client.agency = agency
    client.name = name
    client.rate_per_second = rate_per_second
    client.sandbox = sandbox
    client.active = True
    session.flush()
    return client


def add_client_key(session: Session, client: ExchangeClient, public_jwk: dict[str, Any]) -> ClientKey:
    """Add a public key; older keys stay valid until retired (rotation without downtime)."""
    kid = public_jwk.get("kid")
    if not kid:
        raise InvalidInquiry("The key needs a `kid`.", "کلید باید شناسه (kid) داشته باشد.")
    if any(field in public_jwk for field in ("d", "p", "q", "k")):
        raise InvalidInquiry(
            "Send the public key only; never a private or symmetric key.",
            "فقط کلید عمومی را بفرستید؛ هرگز کلید خصوصی یا متقارن.",
        )
    for key in client.keys:
        if key.kid == kid:
            raise GrantStateConflict(
                f"Key {kid!r} is already registered.", f"کلید «{kid}» پیش‌تر ثبت شده است."
            )
    key = ClientKey(client=client, kid=kid, public_jwk=dict(public_jwk))
    session.add(key)
    session.flush()
    return key


def retire_client_key(session: Session, client: ExchangeClient, kid: str) -> ClientKey:
    """Stop accepting assertions signed by this key."""
    for key in client.keys:
        if key.kid == kid and key.retired_at is None:
            key.retired_at = utcnow()
            session.flush()
            return key
    raise GrantStateConflict(f"No active key {kid!r}.", f"کلید فعالی با شناسهٔ «{kid}» نیست.")


def request_grant(
    session: Session,
    *,
    client_agency: Agency,
    service: DataService,
    purposes: list[str],
    legal_basis: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    note: str = "",
    requested_by: str | None = None,
    sandbox: bool = False,
) -> Grant:
    """The client agency asks the provider for access; `requested_by`: who asked (see `approve_grant`);
    `sandbox`: a grant for the agency's sandbox clients only."""
    purposes = sorted({p.strip() for p in purposes if p.strip()})
    if not purposes or ANY_PURPOSE in purposes:
        raise InvalidInquiry("Name at least one purpose.", "دست‌کم یک هدف را نام ببرید.")
    if not legal_basis.strip():
        raise InvalidInquiry("Cite the legal basis.", "مبنای قانونی را ذکر کنید.")
    start = valid_from or utcnow()
    if valid_until is not None and valid_until <= start:
        raise InvalidInquiry("The grant must end after it starts.", "پایان اعتبار باید پس از آغاز آن باشد.")
    grant = Grant(
        client_agency=client_agency,
        client_agency_code=client_agency.code,
        service=service,
        service_code=service.code,
        purposes=purposes,
        legal_basis=legal_basis.strip(),
        valid_from=start,
        valid_until=valid_until,
        status=GrantStatus.REQUESTED,
        requested_note=note,
        requested_by=requested_by,
        sandbox=sandbox,
        # The policy the grant was asked under stays its own, whatever the service's later becomes.
        approvals_required=max(1, service.grant_approvals) if service.personal_data else 1,
    )
    session.add(grant)
    session.flush()
    grants.announce_change(session)
    return grant


def _require_provider(grant: Grant, provider_agency_code: str) -> None:
    if grant.service.provider.code != provider_agency_code:
        raise NotProvider(
            f"Grant {grant.id} is decided by {grant.service.provider.code}, not {provider_agency_code}.",
            "فقط دستگاه ارائه‌دهندهٔ این داده دربارهٔ این مجوز تصمیم می‌گیرد.",
        )


def _require_move(grant: Grant, provider_agency_code: str, expected: GrantStatus, refused_fa: str) -> None:
    """Only the provider moves a grant, and only from the ``expected`` status."""
    _require_provider(grant, provider_agency_code)
    if grant.status is not expected:
        raise GrantStateConflict(f"Grant is {grant.status.value}.", refused_fa)


def _decide(session: Session, grant: Grant, status: GrantStatus, note: str) -> Grant:
    grant.status = status
    grant.decided_at = utcnow()
    grant.decision_note = note
    session.flush()
    grants.announce_change(session)
    return grant


def approve_grant(
    session: Session, grant: Grant, *, provider_agency_code: str, note: str = "", by: str | None = None
) -> Grant:
    """The provider approves a requested grant; `by` is who (a national code, or `client:<id>`).

    Nobody approves a grant they asked for. A grant that needs two approvals (`approvals_required`, from
    its service's `grant_approvals`) stays requested, and inactive, after the first: it becomes approved
    only when a second, different person approves too."""
    _require_move(grant, provider_agency_code, GrantStatus.REQUESTED, "فقط مجوز درخواست‌شده تأیید می‌شود.")
    if by is not None and by == grant.requested_by:
        raise GrantSelfApproval("You asked for this grant.", "شما خود این مجوز را درخواست کرده‌اید.")
    if grant.approvals_required > 1:
        if by is None:
            raise GrantStateConflict(
                "This grant needs two named approvers.", "این مجوز باید به تأیید دو نفر مشخص برسد."
            )
        if grant.first_approved_by is None:
            grant.first_approved_by, grant.first_approved_at = by, utcnow()
            grant.decision_note = note
            session.flush()
            return grant
        if grant.first_approved_by == by:
            raise GrantSelfApproval(
                "A second, different person must approve this grant.",
                "این مجوز را باید نفر دومی جز تأییدکنندهٔ نخست تأیید کند.",
            )
    grant.approved_by = by
    return _decide(session, grant, GrantStatus.APPROVED, note or grant.decision_note)


def refuse_grant(session: Session, grant: Grant, *, provider_agency_code: str, note: str) -> Grant:
    """The provider refuses a requested grant, with its reason."""
    _require_move(grant, provider_agency_code, GrantStatus.REQUESTED, "فقط مجوز درخواست‌شده رد می‌شود.")
    if not note.strip():
        raise InvalidInquiry("Give the reason for refusing.", "دلیل رد را بنویسید.")
    return _decide(session, grant, GrantStatus.REFUSED, note)


def revoke_grant(session: Session, grant: Grant, *, provider_agency_code: str, note: str = "") -> Grant:
    """The provider withdraws an approved grant; the next call is refused (see exchange.grants)."""
    _require_move(grant, provider_agency_code, GrantStatus.APPROVED, "فقط مجوز تأییدشده لغو می‌شود.")
    grant.status = GrantStatus.REVOKED
    grant.revoked_at = utcnow()
    grant.decision_note = note or grant.decision_note
    session.flush()
    grants.announce_change(session)
    return grant


def ensure_platform_grants(session: Session) -> int:
    """The platform (agency `ito`) holds a standing grant for every data service, in production and in the
    sandbox, with a client for each; returns grants made."""
    ito = agency_selectors.get_agency_by_code(session, PLATFORM_AGENCY)
    register_client(
        session,
        ito,
        client_id=PLATFORM_CLIENT_ID,
        name="Panjereh platform (in-process)",
        rate_per_second=100_000,
    )
    register_client(
        session,
        ito,
        client_id=PLATFORM_SANDBOX_CLIENT_ID,
        name="Panjereh platform, sandbox (authoring dry runs)",
        rate_per_second=100_000,
        sandbox=True,
    )
    have = set(
        session.execute(
            select(Grant.service_code, Grant.sandbox).where(
                Grant.client_agency_code == PLATFORM_AGENCY,
                Grant.standing.is_(True),
                Grant.status == GrantStatus.APPROVED,
            )
        ).all()
    )
    made = 0
    wanted = [
        (service, sandbox)
        for service in session.scalars(select(DataService).order_by(DataService.code))
        for sandbox in (False, True)
    ]
    for service, sandbox in wanted:
        if (service.code, sandbox) in have:
            continue
        session.add(
            Grant(
                client_agency=ito,
                client_agency_code=ito.code,
                service=service,
                service_code=service.code,
                purposes=[ANY_PURPOSE],
                legal_basis=PLATFORM_LEGAL_BASIS,
                valid_from=datetime(2023, 3, 21, tzinfo=utcnow().tzinfo),
                valid_until=None,
                status=GrantStatus.APPROVED,
                standing=True,
                sandbox=sandbox,
                decided_at=utcnow(),
                decision_note="standing grant of the national window" + (" (sandbox)" if sandbox else ""),
            )
        )
        made += 1
    session.flush()
    if made:
        grants.announce_change(session)
    return made


def record_agreements(
    session: Session,
    wanted: Mapping[tuple[str, str], Collection[str]],
    *,
    legal_basis: str,
    by: str,
) -> list[Grant]:
    """Grants agreed outside the platform (the demo's data-sharing agreements), recorded as requested and
    approved: (client agency code, service code) → purposes. A pair the agency already holds (its own
    service, or an approved production grant in force) gets nothing, and so does a pair that has a
    production grant in any other state; returns the grants made.

    A grant asked, refused, revoked or ended is the provider's say on that pair: a re-run (`panjereh seed`,
    `panjereh definitions load`) must not request and approve it again in the provider's name
    (`<by>:<provider>`), which would undo a revocation behind the provider's back.

    Through `request_grant` and `approve_grant`, the path every grant takes, so each one carries who
    asked (`by`) and who approved (`by:<provider>`, and a second name where the service's policy wants
    two), and the grants caches hear of it; never rows written past the rules."""
    pairs = sorted(wanted)
    by_agency: dict[str, set[str]] = {}
    for agency_code, service_code in pairs:
        by_agency.setdefault(agency_code, set()).add(service_code)
    lacking = selectors.services_not_held(session, by_agency)
    decided = selectors.pairs_with_grants(session, pairs)
    made = []
    for agency_code, service_code in pairs:
        if service_code not in lacking[agency_code] or (agency_code, service_code) in decided:
            continue
        service = session.scalars(select(DataService).where(DataService.code == service_code)).one_or_none()
        if service is None:
            continue  # not in the directory: nothing to grant (whoever reads it is refused by name)
        grant = request_grant(
            session,
            client_agency=agency_selectors.get_agency_by_code(session, agency_code),
            service=service,
            purposes=list(wanted[(agency_code, service_code)]),
            legal_basis=legal_basis,
            requested_by=by,
            note="agreed outside the platform",
        )
        provider = service.provider.code
        approvers = [f"{by}:{provider}"] + ([f"{by}:{provider}:2"] if grant.approvals_required > 1 else [])
        for approver in approvers:  # a two-approval grant becomes approved at the second, different name
            approve_grant(session, grant, provider_agency_code=provider, by=approver)
        made.append(grant)
    return made


# --- self-service publication from an agency's workspace --------------------------------------------------

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class Publication:
    """One operation of a provider's OpenAPI document, as the provider publishes it."""

    slug: str  # the service code is `{agency}.{slug}`
    method: str
    path: str
    title_fa: str
    title_en: str
    personal_data: bool
    subject_field: str | None
    latency_objective_ms: int


def publication_slug(value: str, what: str = "code") -> str:
    """A slug the agency chose for a service, system or client code, else InvalidPublication."""
    value = value.strip().lower()
    if not SLUG.match(value):
        raise InvalidPublication(
            f"The {what} {value[:60]!r} is not allowed: 2-40 lowercase letters, digits or '-'.",
            f"«{value[:60]}» پذیرفته نیست: ۲ تا ۴۰ حرف کوچک لاتین، رقم یا خط تیره.",
        )
    return value


def publish_from_document(
    session: Session,
    agency: Agency,
    *,
    system_slug: str,
    system_name: str,
    base_url: str,
    openapi_url: str | None,
    document: dict[str, Any],
    publications: Sequence[Publication],
    active: bool,
) -> list[DataService]:
    """Publish operations of an agency system's OpenAPI document as data services (`{agency}.{slug}`).

    The system is registered (or updated) as `{agency}.{system_slug}`; a code another agency holds is
    refused. `active` is false while a production publication waits for an operator's approval."""
    if not publications:
        raise InvalidPublication("Pick at least one operation.", "دست‌کم یک عملیات را برگزینید.")
    if not base_url.startswith(("http://", "https://")):
        raise InvalidPublication(
            "The system's base URL must be http(s).", "نشانی پایهٔ سامانه باید http(s) باشد."
        )
    system_code = f"{agency.code}.{publication_slug(system_slug, 'system code')}"
    existing_system = agency_selectors.get_system_by_code(session, system_code)
    if existing_system is not None and existing_system.agency_id != agency.id:
        raise InvalidPublication(
            f"The system code {system_code!r} is taken.", f"کد سامانهٔ «{system_code}» گرفته شده است."
        )
    system = agency_service.upsert_system(
        session,
        agency,
        code=system_code,
        name_fa=system_name.strip()[:200] or system_code,
        base_url=base_url,
        openapi_url=openapi_url,
    )
    published = []
    for item in publications:
        code = f"{agency.code}.{publication_slug(item.slug, 'service code')}"
        if not 1 <= item.latency_objective_ms <= 60_000:
            raise InvalidPublication(
                "The latency objective is 1 to 60,000 ms.", "هدف زمان پاسخ ۱ تا ۶۰٬۰۰۰ میلی‌ثانیه است."
            )
        if item.method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise InvalidPublication(f"Unknown method {item.method[:10]!r}.", "روش HTTP ناشناخته است.")
        service = session.scalars(select(DataService).where(DataService.code == code)).one_or_none()
        if service is not None and service.provider_agency_id != agency.id:
            raise InvalidPublication(
                f"The service code {code!r} is taken.", f"کد خدمت «{code}» گرفته شده است."
            )
        if service is None:
            service = DataService(code=code)
            session.add(service)
        service.provider = agency
        service.system = system
        service.title_fa = item.title_fa.strip()[:200] or code
        service.title_en = item.title_en.strip()[:200] or code
        service.method = item.method.upper()
        service.path = item.path
        service.personal_data = item.personal_data
        service.subject_field = (item.subject_field or "").strip() or None
        service.latency_objective_ms = item.latency_objective_ms
        service.request_schema, service.response_schema = operation_schemas(document, item.method, item.path)
        service.active = active
        published.append(service)
    session.flush()
    ensure_platform_grants(session)  # the workspace's test calls go through the exchange as the platform
    return published


def set_service_active(session: Session, code: str, active: bool) -> DataService:
    """Open or close a data service on the gateway (an operator's approval opens a production one)."""
    service = session.scalars(select(DataService).where(DataService.code == code)).one()
    service.active = active
    session.flush()
    return service


def set_client_active(session: Session, client_id: str, active: bool) -> ExchangeClient:
    """Let an exchange client get tokens, or stop it."""
    client = session.scalars(select(ExchangeClient).where(ExchangeClient.client_id == client_id)).one()
    client.active = active
    session.flush()
    return client
