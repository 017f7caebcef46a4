"""Releasing verified attributes at the userinfo endpoint, each read from its registry through the exchange.

At every userinfo call, for each attribute scope the access token carries, the client is approved for and
the citizen's consent still covers (a withdrawal works on tokens already issued), the window asks the
registry through the exchange under its own client, for the purpose `oidc-release:<client_id>`: so each
release is in the tamper-evident message log and in the citizen's data-access ledger, with the client
named. The claims go out in the `verified_claims` shape of OpenID Connect for Identity Assurance 1.0 §5;
a registry that does not answer leaves its claim out and says so in `unavailable_claims`
(docs/protocols/oidc.md § Verified attributes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.core.errors import ProblemError
from panjereh.core.logging import get_logger
from panjereh.oidc import attributes, clients
from panjereh.oidc.models import OidcClient, OidcConsent

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

log = get_logger(__name__)

PURPOSE_PREFIX = "oidc-release:"
# Each registry is waited for at most this long: a client's userinfo call is one look, not a process.
TIMEOUT_SECONDS = 5.0


def purpose_for(client_id: str) -> str:
    """The exchange purpose a release to this client is logged under (and the ledger names it by)."""
    return PURPOSE_PREFIX + client_id


def client_of_purpose(purpose: str) -> str | None:
    """The client a logged purpose released to, or None when it is not a release."""
    return purpose.removeprefix(PURPOSE_PREFIX) if purpose.startswith(PURPOSE_PREFIX) else None


@dataclass(frozen=True)
class Pending:
    """What a userinfo call still has to fetch: the attributes, for whom, to which client; and what a
    cached release of them is keyed by (`oidc.release_cache`)."""

    client_id: str
    sandbox: bool
    national_code: str
    scopes: tuple[str, ...]
    citizen_id: str
    token_hash: str  # the access token's SHA-256, as stored
    token_expires_at: datetime
    consent_stamp: str  # when the consent was last given (renewed on every consent screen answered)


@dataclass(frozen=True)
class Releasable:
    """The attribute scopes a token may be answered with now, and the consent they rest on."""

    scopes: tuple[str, ...]
    consent_stamp: str


def releasable(session: Session, client: OidcClient, citizen_id: str, token_scopes: set[str]) -> Releasable:
    """The attribute scopes a token may be answered with now: in the token, approved for the client, and
    still in the citizen's live consent."""
    asked = attributes.attribute_scopes(token_scopes)
    if not asked:  # most tokens: no query on the userinfo path
        return Releasable((), "")
    consent = session.execute(
        select(OidcConsent.scope, OidcConsent.granted_at).where(
            OidcConsent.citizen_id == citizen_id,
            OidcConsent.client_id == client.client_id,
            OidcConsent.revoked_at.is_(None),
        )
    ).first()
    if consent is None:
        return Releasable((), "")
    agreed = set(consent.scope.split())
    approved = clients.approved_attribute_scopes(client)
    released = tuple(scope for scope in asked if scope in approved and scope in agreed)
    return Releasable(released, consent.granted_at.isoformat())


class _Unavailable(Exception):
    def __init__(self, source: attributes.Source, reason: str) -> None:
        super().__init__(reason)
        self.source = source
        self.reason = reason


def _stamp() -> str:
    return utcnow().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _ask(
    exchange: PlatformClient, pending: Pending, source: attributes.Source, earlier: list[dict[str, Any]]
) -> tuple[dict[str, Any], str]:
    """One registry's answer and the exchange message id it is logged under."""
    if source.service_code == "post.address":
        # The Post is asked about the postal code the civil registry holds for the citizen (not personal
        # data by itself: the Post's service names no subject).
        address = earlier[-1].get("address") if earlier else None
        postal_code = address.get("postal_code") if isinstance(address, dict) else None
        if not isinstance(postal_code, str) or not postal_code:
            raise _Unavailable(source, "no_postal_code")
        subject, params = None, {"postal_code": postal_code}
    else:
        subject, params = pending.national_code, {"national_code": pending.national_code}
    try:
        answer = await exchange.ainquire(
            source.service_code,
            subject=subject,
            purpose=purpose_for(pending.client_id),
            path_params=params,
            timeout=TIMEOUT_SECONDS,
        )
    except ProblemError as error:  # the registry is down or refused, the grant is missing: this claim only
        raise _Unavailable(source, error.code) from None
    if not answer.ok or not isinstance(answer.data, dict):
        raise _Unavailable(source, f"status_{answer.status}")
    return answer.data, answer.message_id


async def _one(exchange: PlatformClient, pending: Pending, attribute: attributes.Attribute) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    message_id = ""
    for source in attribute.sources:
        data, message_id = await _ask(exchange, pending, source, answers)
        answers.append(data)
        evidence.append(
            {
                "type": "electronic_record",
                "check_details": [
                    {
                        "check_method": "data",
                        "organization": source.name_en,
                        "txn": message_id,
                        "time": _stamp(),
                    }
                ],
                "record": {
                    "type": source.service_code,
                    "source": {"name": source.name_fa, "country_code": "IRN"},
                },
            }
        )
    try:
        value = attribute.shape(answers)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _Unavailable(attribute.sources[-1], "unreadable_answer") from None
    return {
        "verification": {
            "trust_framework": attributes.TRUST_FRAMEWORK,
            "time": _stamp(),
            "verification_process": message_id,  # the exchange message of the last registry asked
            "evidence": evidence,
        },
        "claims": {attribute.claim: value},
    }


async def fetch(exchange: PlatformClient, pending: Pending) -> dict[str, Any]:
    """The verified claims for `pending` (the registries asked side by side), and which could not be had."""
    if not pending.scopes:
        return {}
    client = exchange.in_sandbox() if pending.sandbox else exchange
    wanted = [attributes.ATTRIBUTES[scope] for scope in pending.scopes]
    results = await asyncio.gather(
        *(_one(client, pending, attribute) for attribute in wanted), return_exceptions=True
    )
    released: dict[str, Any] = {}
    unavailable: dict[str, Any] = {}
    for attribute, result in zip(wanted, results, strict=True):
        if isinstance(result, _Unavailable):
            log.info("oidc.release_unavailable", scope=attribute.scope, reason=result.reason)
            unavailable[attribute.claim] = {
                "scope": attribute.scope,
                "error": "temporarily_unavailable",
                "error_description": f"{result.source.name_en} did not answer ({result.reason}); try later",
                "source": result.source.service_code,
            }
        elif isinstance(result, BaseException):
            raise result
        else:
            released.setdefault("verified_claims", []).append(result)
    if unavailable:
        released["unavailable_claims"] = unavailable
    return released
