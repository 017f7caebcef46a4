"""The authorization endpoint's rules (RFC 6749 §4.1, RFC 7636, OIDC Core §3.1.2): validate, consent, code."""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.crypto import sha256_hex
from panjereh.core.db import utcnow
from panjereh.core.sandbox import is_test_persona
from panjereh.identity import constants as levels
from panjereh.oidc import attributes, clients
from panjereh.oidc.exceptions import InvalidClientRequest, OAuthError
from panjereh.oidc.models import OidcAuthorizationCode, OidcClient, OidcConsent

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen, WebSession

CODE_LIFETIME = timedelta(minutes=2)  # RFC 6749 §4.1.2: short, at most 10 minutes
_PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256) without padding
PROMPTS = {"none", "login", "consent", "select_account"}


@dataclass
class AuthorizationRequest:
    """A validated authorization request; errors after client and redirect checks go back to the client."""

    client: OidcClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str
    prompt: set[str] = field(default_factory=set)
    max_age: int | None = None
    acr_values: list[str] = field(default_factory=list)
    login_hint: str | None = None
    response_mode: str = "query"

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    def required_level(self) -> int:
        """The level the client insists on (its registration), not the voluntary `acr_values`."""
        return self.client.min_level

    def requested_level(self) -> int:
        """The highest level named in `acr_values` (voluntary: satisfied when possible)."""
        named = [levels.level_of_acr(value) for value in self.acr_values]
        return max([level for level in named if level] or [levels.LEVEL_SMS])


RESPONSE_MODES = ("query", "form_post")  # OAuth 2.0 Multiple Response Types §2.1, Form Post Response Mode


def validate(
    session: Session, params: dict[str, str], duplicated: Collection[str] = ()
) -> AuthorizationRequest:
    """Validate; `InvalidClientRequest` when no safe redirect exists, else `RedirectError`.

    `duplicated` names the parameters the request carried more than once (RFC 6749 §3.1: none may be).
    """
    if {"client_id", "redirect_uri"} & set(duplicated):
        raise InvalidClientRequest(
            "client_id and redirect_uri must be sent once", "شناسهٔ برنامه و نشانی بازگشت باید یک بار بیایند"
        )
    client = clients.get_client(session, params.get("client_id", ""))
    if client is None:
        raise InvalidClientRequest("Unknown client_id", "شناسهٔ برنامه ناشناخته است")
    redirect_uri = params.get("redirect_uri", "")
    if not clients.redirect_allowed(client, redirect_uri):  # exact match, OIDC Core §3.1.2.1; RFC 8252 §7.3
        raise InvalidClientRequest(
            "redirect_uri is not registered for this client", "نشانی بازگشت ثبت نشده است"
        )
    state = None if "state" in duplicated else params.get("state")
    response_mode = params.get("response_mode", "query")
    # An unknown response mode cannot be trusted to carry the error either: it goes back in the query.
    mode = response_mode if response_mode in RESPONSE_MODES and "response_mode" not in duplicated else "query"

    def fail(error: str, description: str) -> RedirectError:
        return RedirectError(redirect_uri, state, error, description, mode)

    if duplicated:
        raise fail("invalid_request", f"Parameters sent more than once: {', '.join(sorted(duplicated))}")
    if response_mode not in RESPONSE_MODES:
        raise fail("invalid_request", f"Unsupported response_mode (supported: {', '.join(RESPONSE_MODES)})")
    if "request_uri" in params:
        raise fail("request_uri_not_supported", "request_uri is not supported")
    if "request" in params:
        raise fail("request_not_supported", "Request objects are not supported")
    if not params.get("response_type"):
        raise fail("invalid_request", "response_type is required")
    if params["response_type"] != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported")
    requested = params.get("scope", "").split()
    if "openid" not in requested:
        raise fail("invalid_scope", "The openid scope is required")
    # Scopes the client is not registered for are dropped (RFC 6749 §3.3); so are attribute scopes an
    # operator has not approved (oidc.attributes): a citizen is never asked for them.
    allowed = (set(client.scopes.split()) - set(attributes.SCOPES)) | clients.approved_attribute_scopes(
        client
    )
    scopes = [scope for scope in dict.fromkeys(requested) if scope in allowed]
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if not challenge:
        raise fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
    if method != "S256":
        raise fail("invalid_request", "Only code_challenge_method=S256 is accepted (plain is refused)")
    if not _PKCE_CHALLENGE.match(challenge):
        raise fail("invalid_request", "code_challenge must be base64url(SHA-256(verifier))")
    prompt = set(params.get("prompt", "").split())
    if prompt - PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise fail("invalid_request", "Invalid prompt value")
    max_age: int | None = None
    if params.get("max_age"):
        try:
            max_age = int(params["max_age"])
        except ValueError:
            raise fail("invalid_request", "max_age must be a number of seconds") from None
        if max_age < 0:
            raise fail("invalid_request", "max_age must not be negative")
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > 300:
        raise fail("invalid_request", "nonce too long")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        prompt=prompt,
        max_age=max_age,
        acr_values=params.get("acr_values", "").split(),
        login_hint=params.get("login_hint"),
        response_mode=mode,
    )


class RedirectError(OAuthError):
    """An error the client hears about at its redirect URI (with `state` and `iss`)."""

    def __init__(
        self, redirect_uri: str, state: str | None, error: str, description: str, response_mode: str = "query"
    ) -> None:
        super().__init__(error, description)
        self.redirect_uri = redirect_uri
        self.state = state
        self.response_mode = response_mode

    def response(self, issuer: str) -> AuthorizationResponse:
        query: dict[str, str] = {"error": self.error, "error_description": self.description}
        if self.state is not None:
            query["state"] = self.state
        query["iss"] = issuer
        return AuthorizationResponse(self.redirect_uri, query, self.response_mode)

    def location(self, issuer: str) -> str:
        return add_query(self.redirect_uri, self.response(issuer).parameters)


@dataclass(frozen=True)
class AuthorizationResponse:
    """What goes back to the client: in the redirect's query, or posted by the browser (`form_post`)."""

    redirect_uri: str
    parameters: dict[str, str]
    response_mode: str = "query"

    @property
    def location(self) -> str:
        return add_query(self.redirect_uri, self.parameters)


def add_query(uri: str, query: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(query)


SANDBOX_REFUSAL = "This app is in the sandbox: only the test personas sign in to it"


def admits(client: OidcClient, citizen: Citizen) -> bool:
    """Whether the client may sign this citizen in: a sandbox client, only the test personas.

    As a national IdP's test environment does (Singpass's sandbox, FranceConnect's integration
    platform): an app still being built never receives a real person's identity, and a real person is
    never asked to consent to it. Refused before the consent screen, with `access_denied`."""
    return not client.sandbox or is_test_persona(citizen.national_code)


def _consent(session: Session, citizen: Citizen, client: OidcClient) -> OidcConsent | None:
    return session.scalar(
        select(OidcConsent).where(
            OidcConsent.citizen_id == citizen.id, OidcConsent.client_id == client.client_id
        )
    )


def consented_scopes(session: Session, citizen: Citizen, client: OidcClient) -> set[str]:
    """The scopes the citizen has agreed to share with this client (none once revoked)."""
    consent = _consent(session, citizen, client)
    return set(consent.scope.split()) if consent is not None and consent.revoked_at is None else set()


def consent_covers(session: Session, citizen: Citizen, client: OidcClient, scopes: list[str]) -> bool:
    """Has the citizen already agreed to share at least these scopes with this client?"""
    return set(scopes) <= consented_scopes(session, citizen, client)


def attributes_to_ask(
    session: Session, citizen: Citizen, request: AuthorizationRequest
) -> tuple[list[str], list[str]]:
    """The attribute scopes of a request the consent screen asks about one by one, and those it only
    names as agreed before: a later authorization asks only for what is not yet consented; `prompt=consent`
    asks for all of them again."""
    requested = attributes.attribute_scopes(request.scopes)
    if "consent" in request.prompt:
        return requested, []
    agreed = consented_scopes(session, citizen, request.client)
    return [s for s in requested if s not in agreed], [s for s in requested if s in agreed]


def remember_consent(
    session: Session,
    citizen: Citizen,
    client: OidcClient,
    scopes: list[str],
    withdrawn: Collection[str] = (),
) -> None:
    """Record the scopes agreed to (widening an earlier consent, reviving a revoked one); `withdrawn`:
    attribute scopes the citizen unticked on this screen (an earlier consent to them ends)."""
    consent = _consent(session, citizen, client)
    if consent is None:
        session.add(OidcConsent(citizen_id=citizen.id, client_id=client.client_id, scope=" ".join(scopes)))
    else:
        earlier = consent.scope.split() if consent.revoked_at is None else []
        kept = [scope for scope in dict.fromkeys([*earlier, *scopes]) if scope not in withdrawn]
        consent.scope = " ".join(kept)
        consent.revoked_at = None
        consent.granted_at = utcnow()
    session.flush()


def withdraw_attribute(session: Session, citizen: Citizen, client_id: str, scope: str) -> bool:
    """The citizen withdraws consent to one attribute (the account's connected apps): it is released no
    more, even on tokens already issued (`oidc.release` checks the consent at every release). Returns
    whether there was such a consent."""
    consent = session.scalar(
        select(OidcConsent).where(
            OidcConsent.citizen_id == citizen.id,
            OidcConsent.client_id == client_id,
            OidcConsent.revoked_at.is_(None),
        )
    )
    if consent is None or not attributes.is_attribute(scope) or scope not in consent.scope.split():
        return False
    consent.scope = " ".join(item for item in consent.scope.split() if item != scope)
    session.flush()
    return True


def issue_code(
    session: Session, request: AuthorizationRequest, citizen: Citizen, web_session: WebSession
) -> str:
    """A single-use code bound to the client, redirect URI, PKCE challenge, nonce and this session."""
    if not admits(request.client, citizen):  # the browser side refuses first; no path may get past this
        raise RedirectError(
            request.redirect_uri, request.state, "access_denied", SANDBOX_REFUSAL, request.response_mode
        )
    code = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        OidcAuthorizationCode(
            code_hash=sha256_hex(code),
            client_id=request.client.client_id,
            citizen_id=citizen.id,
            session_id=web_session.id,
            redirect_uri=request.redirect_uri,
            scope=request.scope,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
            acr=levels.acr_for(web_session.level),
            amr=web_session.amr,
            auth_time=web_session.auth_time,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    session.flush()
    return code


def success(request: AuthorizationRequest, code: str, issuer: str) -> AuthorizationResponse:
    query = {"code": code}
    if request.state is not None:
        query["state"] = request.state
    query["iss"] = issuer  # RFC 9207: mix-up defence
    return AuthorizationResponse(request.redirect_uri, query, request.response_mode)


def success_location(request: AuthorizationRequest, code: str, issuer: str) -> str:
    return success(request, code, issuer).location
