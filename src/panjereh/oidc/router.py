"""OIDC machine endpoints: discovery, JWKS, token, userinfo; and the client-registration admin API."""

from __future__ import annotations

import hmac
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBearer, OpenIdConnect
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work
from panjereh.core.deps import AppSettings, DbSession
from panjereh.oidc import attributes, authorize, clients, introspection, release, selectors, tokens
from panjereh.oidc.exceptions import AdminTokenRejected, ClientNotFound, OAuthError
from panjereh.oidc.keys import ALG, JWKS_MAX_AGE_SECONDS, KeyRing, load_keyring
from panjereh.oidc.ratelimit import UserinfoLimits
from panjereh.oidc.release_cache import ReleaseCache

router = APIRouter(tags=["oidc"])
admin_router = APIRouter(prefix="/oidc", tags=["oidc admin"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Discovery and JWKS are cached alike; a new key is published this long before it signs (`keys.rotate`).
METADATA_CACHE = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"}


def install(app: FastAPI) -> None:
    """The provider's process-wide pieces, made by the application factory: its cache of registered
    clients, the userinfo limits and the cache of released attributes (its key ring is the `core.keys`
    one, read through `load_keyring`)."""
    settings = app.state.settings
    app.state.oidc_clients = clients.ClientCache()
    app.state.oidc_userinfo_limits = UserinfoLimits(settings)
    app.state.oidc_release_cache = ReleaseCache.for_app(settings, app.state.redis)


def key_ring(request: Request) -> KeyRing:
    """The provider's key ring."""
    return load_keyring(request.app.state.settings)


Keys = Annotated[KeyRing, Depends(key_ring)]

DISCOVERY_PATH = "/.well-known/openid-configuration"


class ClientAuthentication(HTTPBasic):
    """A relying party's client authentication at the token, revocation and introspection endpoints, as
    the API document declares it (HTTP Basic: `client_secret_basic`); the header is handed on unparsed,
    since `client_secret_post` and `private_key_jwt` come in the form instead (oidc.tokens reads them)."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request.headers.get("authorization")


client_authentication = ClientAuthentication(
    scheme_name="oidcClient",
    description=(
        "A relying party's client id and secret (`client_secret_basic`); `client_secret_post` and "
        "`private_key_jwt` send theirs in the form body instead (see the discovery document's "
        "`token_endpoint_auth_methods_supported`)."
    ),
    auto_error=False,  # answered as RFC 6749 says (invalid_client), not as a problem
)
ClientAuthorization = Annotated[str | None, Security(client_authentication)]
# The citizen's access token, from this provider (the application factory makes the URL absolute).
openid_connect = OpenIdConnect(
    openIdConnectUrl=DISCOVERY_PATH,
    scheme_name="oidc",
    description="An access token this provider issued to a relying party, sent as `Authorization: Bearer`.",
    auto_error=False,  # answered as RFC 6750 says (invalid_token with WWW-Authenticate)
)
admin_bearer = HTTPBearer(
    scheme_name="oidcAdminToken",
    description="The OIDC client-registration admin token (`PANJEREH_OIDC_ADMIN_TOKEN`); off when unset.",
    auto_error=False,
)


def discovery_document(issuer: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 metadata."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth2/authorize",
        "token_endpoint": f"{issuer}/oauth2/token",
        "userinfo_endpoint": f"{issuer}/oauth2/userinfo",
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "jwks_uri": f"{issuer}/oauth2/jwks",
        "end_session_endpoint": f"{issuer}/oauth2/logout",
        "response_types_supported": ["code"],
        "response_modes_supported": list(authorize.RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": [ALG],
        "token_endpoint_auth_methods_supported": list(clients.AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": tokens.ASSERTION_ALGS,
        # Public (native) clients authenticate nowhere but the token endpoint, with PKCE.
        "revocation_endpoint_auth_methods_supported": list(CONFIDENTIAL_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": tokens.ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": list(CONFIDENTIAL_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": tokens.ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(clients.SCOPES),
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "sid",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "locale",
            "national_code",
            "phone_number",
            "phone_number_verified",
            "verified_claims",
            *attributes.CLAIMS,
        ],
        # OpenID Connect for Identity Assurance 1.0 §8: the verified attributes (oidc.attributes).
        "verified_claims_supported": True,
        "trust_frameworks_supported": [attributes.TRUST_FRAMEWORK],
        "evidence_supported": ["electronic_record"],
        "claims_in_verified_claims_supported": list(attributes.CLAIMS),
        "acr_values_supported": ["urn:panjereh:loa:1", "urn:panjereh:loa:2"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "ui_locales_supported": ["fa-IR", "en"],
    }


@router.get(DISCOVERY_PATH, summary="OpenID Connect discovery document")
def discovery(settings: AppSettings) -> JSONResponse:
    return JSONResponse(discovery_document(settings.base_url), headers=METADATA_CACHE)


@router.get("/oauth2/jwks", summary="The provider's public signing keys (current and retired)")
def jwks(keys: Keys) -> JSONResponse:
    return JSONResponse(keys.jwks(), headers=METADATA_CACHE)


def _oauth_error(error: OAuthError) -> JSONResponse:
    headers = {**NO_STORE, **error.headers}
    if error.status == 401:
        headers["WWW-Authenticate"] = (
            f'Bearer error="{error.error}"' if error.error == "invalid_token" else 'Basic realm="panjereh"'
        )
    return JSONResponse(error.as_json(), status_code=error.status, headers=headers)


CONFIDENTIAL_METHODS = tuple(method for method in clients.AUTH_METHODS if method != "none")


async def _credentials(request: Request, authorization: str | None) -> tokens.ClientCredentials:
    items = [(key, str(value)) for key, value in (await request.form()).multi_items()]
    counts = Counter(key for key, _value in items)
    duplicated = frozenset(key for key, count in counts.items() if count > 1)
    return tokens.ClientCredentials(authorization, dict(items), duplicated)


@router.post("/oauth2/token", summary="Token endpoint (authorization_code with PKCE, refresh_token)")
async def token(request: Request, authorization: ClientAuthorization) -> JSONResponse:
    credentials = await _credentials(request, authorization)
    # The whole unit of work in one worker-thread hop (not one per sync dependency): the hot path.
    return await run_in_threadpool(_token_response, request.app, credentials)


@router.post("/oauth2/revoke", summary="Token revocation (RFC 7009), for the client's own tokens")
async def revoke(request: Request, authorization: ClientAuthorization) -> JSONResponse:
    credentials = await _credentials(request, authorization)
    return await run_in_threadpool(_revoke_response, request.app, credentials)


def _revoke_response(app: FastAPI, credentials: tokens.ClientCredentials) -> JSONResponse:
    with unit_of_work(app.state.sessionmaker) as db:
        try:
            introspection.revoke(db, app.state.settings, credentials, app.state.oidc_clients)
        except OAuthError as error:
            return _oauth_error(error)
    return JSONResponse({}, headers=NO_STORE)


@router.post("/oauth2/introspect", summary="Token introspection (RFC 7662), for the client's own tokens")
async def introspect(request: Request, authorization: ClientAuthorization) -> JSONResponse:
    credentials = await _credentials(request, authorization)
    return await run_in_threadpool(_introspect_response, request.app, credentials)


def _introspect_response(app: FastAPI, credentials: tokens.ClientCredentials) -> JSONResponse:
    with unit_of_work(app.state.sessionmaker) as db:
        try:
            body = introspection.introspect(db, app.state.settings, credentials, app.state.oidc_clients)
        except OAuthError as error:
            return _oauth_error(error)
    return JSONResponse(body, headers=NO_STORE)


def _token_response(app: FastAPI, credentials: tokens.ClientCredentials) -> JSONResponse:
    with unit_of_work(app.state.sessionmaker) as db:
        try:
            body = tokens.token_endpoint(
                db, app.state.settings, load_keyring(app.state.settings), credentials, app.state.oidc_clients
            )
        except OAuthError as error:
            # Returned, not raised: a revocation made while detecting code or refresh reuse is committed.
            return _oauth_error(error)
    # Committed above, before the tokens leave: the client may use them at once.
    return JSONResponse(body, headers=NO_STORE)


AccessToken = Annotated[str | None, Security(openid_connect, scopes=["openid"])]


async def _bearer(request: Request, header: str) -> str:
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if request.method == "POST":
        form = await request.form()
        return str(form.get("access_token", ""))
    return ""


@router.get("/oauth2/userinfo", summary="Claims about the signed-in citizen")
async def userinfo(
    request: Request, db: DbSession, settings: AppSettings, authorization: AccessToken
) -> JSONResponse:
    return await _userinfo(request, db, settings, authorization or "")


@router.post("/oauth2/userinfo", summary="Claims about the signed-in citizen (POST form)")
async def userinfo_post(
    request: Request, db: DbSession, settings: AppSettings, authorization: AccessToken
) -> JSONResponse:
    return await _userinfo(request, db, settings, authorization or "")


async def _userinfo(
    request: Request, db: DbSession, settings: AppSettings, authorization: str
) -> JSONResponse:
    app = request.app
    cache: ReleaseCache = app.state.oidc_release_cache
    try:
        claims, pending, cached = await run_in_threadpool(
            _checked_claims,
            db,
            settings,
            app.state.oidc_userinfo_limits,
            cache,
            await _bearer(request, authorization),
        )
    except OAuthError as error:
        return _oauth_error(error)
    if cached is None and pending.scopes:
        # Verified attributes: asked of their registries through the exchange now, each release logged.
        cached = await release.fetch(app.state.exchange, pending)
        await run_in_threadpool(cache.put, pending, cached)
    claims.update(cached or {})
    return JSONResponse(claims, headers=NO_STORE)


def _checked_claims(
    db: Session, settings: Settings, limits: UserinfoLimits, cache: ReleaseCache, access_token: str
) -> tuple[dict[str, Any], release.Pending, dict[str, Any] | None]:
    """In one worker-thread hop: the token checked (revoked or forged: 401 before anything else), the
    call counted against the client's limits, and the attributes released to this token still cached."""
    claims, pending = tokens.userinfo(db, settings, access_token)
    limits.check(pending.client_id, pending.citizen_id)
    return claims, pending, cache.get(pending)


def require_admin(
    settings: AppSettings, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(admin_bearer)]
) -> None:
    """The admin API is off unless PANJEREH_OIDC_ADMIN_TOKEN is set; then it needs that bearer token."""
    expected = settings.oidc_admin_token
    given = credentials.credentials.strip() if credentials is not None else ""
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise AdminTokenRejected(headers={"WWW-Authenticate": 'Bearer realm="oidc-admin"'})


Admin = Annotated[None, Security(require_admin)]


class ClientIn(BaseModel):
    """Registration of an agency app (a subset of RFC 7591 metadata)."""

    client_id: str = Field(examples=["my.tax"])
    client_name: str = Field(description="Persian name shown on the consent screen")
    client_name_en: str = ""
    agency_code: str | None = None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = []
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105, S107
    jwks: dict[str, Any] | None = None
    subject_type: str = "public"
    sector_identifier: str | None = None
    scope: str = "openid profile national_code phone offline_access"
    min_level: int = 1
    application_type: str = "web"
    backchannel_logout_uri: str | None = None
    sandbox: bool = Field(False, description="A sandbox app: it signs in the test personas only")
    attribute_purposes: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="For each verified-attribute scope asked for (address, education, vehicles, properties, "
        "insurance): why, in Persian, or [Persian, English]; shown to the citizen on the consent screen",
    )


@admin_router.post("/clients", status_code=201, summary="Register an agency app as an OIDC client")
def create_client(body: ClientIn, db: DbSession, _: Admin) -> dict[str, Any]:
    # RFC 7591 names three fields differently; the rest are registered as sent.
    client, secret = clients.register(
        db,
        **body.model_dump(exclude={"client_name", "client_name_en", "scope"}),
        name_fa=body.client_name,
        name_en=body.client_name_en,
        scopes=body.scope.split(),
        approve_attributes=True,  # the administrator token is the operator's: its registration is approved
    )
    described = clients.describe(client)
    if secret:
        described["client_secret"] = secret
    return described


@admin_router.get("/clients", summary="Registered clients")
def list_clients(db: DbSession, _: Admin) -> list[dict[str, Any]]:
    return [clients.describe(client) for client in selectors.list_clients(db)]


@admin_router.get("/clients/{client_id}", summary="One client")
def get_client(client_id: str, db: DbSession, _: Admin) -> dict[str, Any]:
    client = clients.get_client(db, client_id)
    if client is None:
        raise ClientNotFound()
    return clients.describe(client)


@admin_router.delete("/clients/{client_id}", summary="Disable a client (its tokens stop working)")
def disable_client(client_id: str, db: DbSession, _: Admin) -> dict[str, Any]:
    return clients.describe(clients.disable(db, client_id))
