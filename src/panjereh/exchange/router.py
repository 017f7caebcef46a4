"""The exchange's API: the data-service directory, grants for both sides, client keys, monitoring, and the
signed-in citizen's own data-access ledger."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.schemas import Hours, Limit, Moment, Offset, shape_of
from panjereh.exchange import selectors, service
from panjereh.exchange.auth import TOKEN_PATH
from panjereh.exchange.exceptions import GrantNotFound, GrantStateConflict
from panjereh.exchange.models import DataService, Grant, GrantStatus
from panjereh.exchange.pipeline import Caller
from panjereh.exchange.schemas import (
    DecisionIn,
    GrantIn,
    GrantOut,
    HeadsOut,
    HealthOut,
    KeyIn,
    KeyOut,
    LedgerOut,
    ServiceOut,
)
from panjereh.exchange.signing import load_signer
from panjereh.exchange.witness import FORMAT, witness_for
from panjereh.identity.deps import CurrentCitizen

router = APIRouter(prefix="/exchange", tags=["exchange"])


# How an agency system calls (docs/protocols/exchange.md §2): OAuth 2 client credentials, the client
# authenticated by a JWT signed with one of its registered keys (private_key_jwt, RFC 7523), then the
# access token as a bearer token. No mutual TLS: the key pair is the client's credential.
exchange_client = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes={})),
    scheme_name="exchangeClient",
    description=(
        "An agency system's access token from `POST /exchange/v1/token` (client credentials; the client "
        "authenticates with a JWT assertion signed by one of its registered keys, RFC 7523), sent as "
        "`Authorization: Bearer`."
    ),
    auto_error=False,  # a missing or bad token is the exchange's own problem (client.unauthenticated)
)


def current_caller(
    request: Request, authorization: Annotated[str | None, Security(exchange_client)]
) -> Caller:
    """The agency system calling, from its exchange access token."""
    caller: Caller = request.app.state.exchange.auth.caller(authorization)
    return caller


AgencyCaller = Annotated[Caller, Security(current_caller)]


def service_out(item: DataService) -> ServiceOut:
    return shape_of(
        ServiceOut,
        item,
        provider=item.provider.code,
        provider_fa=item.provider.name_fa,
        system=item.system.code,
        openapi_url=item.system.openapi_url,
        gateway_path=f"/exchange/v1/{item.code}{item.path}",
    )


def grant_out(grant: Grant) -> GrantOut:
    return shape_of(GrantOut, grant, provider_agency_code=grant.service.provider.code)


@router.get("/services", response_model=list[ServiceOut], summary="The data-service directory")
def list_services(db: DbSession, provider: str | None = None) -> list[ServiceOut]:
    services = selectors.list_services(db, provider)
    return [service_out(item) for item in services]


@router.get("/services/{code}", response_model=ServiceOut, summary="One data service")
def get_service(code: str, db: DbSession) -> ServiceOut:
    return service_out(selectors.get_service_by_code(db, code))


@router.post("/grants", response_model=GrantOut, status_code=201, summary="Request a grant (client side)")
def request_grant(body: GrantIn, caller: AgencyCaller, db: DbSession) -> GrantOut:
    grant = service.request_grant(
        db,
        client_agency=agency_selectors.get_agency_by_code(db, caller.agency_code),
        service=selectors.get_service_by_code(db, body.service_code),
        purposes=body.purposes,
        legal_basis=body.legal_basis,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        note=body.note,
        requested_by=f"client:{caller.client_id}",
        sandbox=caller.sandbox,  # a sandbox client asks for what it can use: a sandbox grant
    )
    return grant_out(grant)


@router.get("/grants", response_model=list[GrantOut], summary="The caller's grants, as client or as provider")
def list_grants(
    caller: AgencyCaller,
    db: DbSession,
    side: Literal["client", "provider"] = "client",
    status: GrantStatus | None = None,
) -> list[GrantOut]:
    if side == "client":
        grants = selectors.list_grants(db, client_agency_code=caller.agency_code, status=status)
    else:
        grants = selectors.list_grants(db, provider_agency_code=caller.agency_code, status=status)
    return [grant_out(grant) for grant in grants]


def _visible_grant(db: DbSession, grant_id: str, caller: Caller) -> Grant:
    grant = selectors.get_grant(db, grant_id)
    if caller.agency_code not in (grant.client_agency_code, grant.service.provider.code):
        raise GrantNotFound(f"No grant {grant_id!r}.", "چنین مجوزی پیدا نشد.")  # do not reveal others' grants
    return grant


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="One grant (either side)")
def get_grant(grant_id: str, caller: AgencyCaller, db: DbSession) -> GrantOut:
    return grant_out(_visible_grant(db, grant_id, caller))


@router.post("/grants/{grant_id}/approve", response_model=GrantOut, summary="Approve (provider side)")
def approve(grant_id: str, body: DecisionIn, caller: AgencyCaller, db: DbSession) -> GrantOut:
    grant = _visible_grant(db, grant_id, caller)
    return grant_out(
        service.approve_grant(
            db,
            grant,
            provider_agency_code=caller.agency_code,
            note=body.note,
            by=f"client:{caller.client_id}",
        )
    )


@router.post("/grants/{grant_id}/refuse", response_model=GrantOut, summary="Refuse (provider side)")
def refuse(grant_id: str, body: DecisionIn, caller: AgencyCaller, db: DbSession) -> GrantOut:
    grant = _visible_grant(db, grant_id, caller)
    return grant_out(service.refuse_grant(db, grant, provider_agency_code=caller.agency_code, note=body.note))


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, summary="Revoke (provider side)")
def revoke(grant_id: str, body: DecisionIn, caller: AgencyCaller, db: DbSession) -> GrantOut:
    grant = _visible_grant(db, grant_id, caller)
    return grant_out(service.revoke_grant(db, grant, provider_agency_code=caller.agency_code, note=body.note))


@router.get("/clients/me/keys", response_model=list[KeyOut], summary="The calling client's keys")
def list_keys(caller: AgencyCaller, db: DbSession) -> list[KeyOut]:
    client = selectors.get_client(db, caller.client_id)
    return [KeyOut(kid=k.kid, created_at=k.created_at, retired_at=k.retired_at) for k in client.keys]


@router.post(
    "/clients/me/keys", response_model=KeyOut, status_code=201, summary="Add a key (rotation, step 1)"
)
def add_key(body: KeyIn, caller: AgencyCaller, db: DbSession) -> KeyOut:
    key = service.add_client_key(db, selectors.get_client(db, caller.client_id), body.jwk)
    return KeyOut(kid=key.kid, created_at=key.created_at, retired_at=key.retired_at)


@router.delete("/clients/me/keys/{kid}", response_model=KeyOut, summary="Retire a key (rotation, step 2)")
def retire_key(kid: str, caller: AgencyCaller, db: DbSession) -> KeyOut:
    client = selectors.get_client(db, caller.client_id)
    if sum(1 for k in client.keys if k.retired_at is None and k.kid != kid) == 0:
        raise GrantStateConflict(
            "Add the new key before retiring the last active one.",
            "پیش از کنار گذاشتن آخرین کلید فعال، کلید تازه را اضافه کنید.",
        )
    key = service.retire_client_key(db, client, kid)
    return KeyOut(kid=key.kid, created_at=key.created_at, retired_at=key.retired_at)


@router.get("/monitoring", response_model=list[HealthOut], summary="Counts, latency, errors, availability")
def monitoring(
    db: DbSession,
    by: Literal["provider", "service", "client"] = "provider",
    hours: Hours = 24,
) -> list[HealthOut]:
    until = utcnow() + timedelta(hours=1)
    rows = selectors.monitoring(db, by, until - timedelta(hours=hours + 1), until)
    return [HealthOut(availability=row.availability, **row.__dict__) for row in rows]


@router.get("/my-data", response_model=list[LedgerOut], summary="The signed-in citizen's data-access ledger")
def my_data_api(
    citizen: CurrentCitizen,
    db: DbSession,
    agency: str | None = None,
    service: str | None = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[LedgerOut]:
    rows = selectors.ledger_for_subject(
        db,
        citizen.national_code,
        agency=agency,
        service=service,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [LedgerOut.model_validate(row) for row in rows]


HEADS_PAGE_MAX = 1000


@router.get(
    "/log/heads",
    response_model=HeadsOut,
    summary="The message log's witnessed heads, for third parties to mirror (public, cacheable)",
    responses={304: {"description": "Not modified (If-None-Match)"}},
)
def log_heads(
    request: Request,
    settings: AppSettings,
    after: Annotated[int, Query(ge=0, le=2**53, description="Lines after this line number")] = 0,
    limit: Annotated[int, Query(ge=1, le=HEADS_PAGE_MAX)] = 500,
) -> Response:
    """Lines `after`+1 … `after`+`limit` of the witness file as written; a full page never changes."""
    signer = load_signer(settings.home)
    witness = witness_for(settings.home, settings.exchange.witness_file, signer)
    lines = list(witness.lines(after=after, limit=limit))
    full = len(lines) == limit
    page = HeadsOut(
        format=FORMAT,
        lines=lines,
        next=str(request.url.include_query_params(after=after + limit, limit=limit)) if full else None,
        keys=str(request.url_for("log_keys")),
    )
    body = page.model_dump_json().encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache = (
        "public, max-age=31536000, immutable"
        if full
        else f"public, max-age={min(settings.exchange.seal_every_seconds, 60)}"
    )
    headers = {"ETag": etag, "Cache-Control": cache}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get(
    "/log/keys",
    summary="The public keys that sign seals and witness lines (JWK Set)",
    responses={200: {"description": "A JWK Set (RFC 7517)", "content": {"application/jwk-set+json": {}}}},
)
def log_keys(settings: AppSettings) -> Response:
    jwks = load_signer(settings.home).ring.jwks()
    return Response(
        json.dumps(jwks),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )
