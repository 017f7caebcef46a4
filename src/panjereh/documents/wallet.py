"""The wallet («کیف مدارک»): documents other agencies hold, pulled from their registries as signed copies.

Each source is one data service asked through the exchange for the purpose `portal:wallet` (so every pull
is in the citizen's data-access ledger). Each record in the answer (a licence, a vehicle, a degree)
becomes a document the platform signs like any other (`service.issue_document`), its issuer the agency
that holds the record, verifiable at /verify. Pulling again keeps a copy whose record is unchanged,
supersedes one whose record changed or is gone, and never leaves two current copies of one record.
Fetching (`fetch`, async, no database) is apart from storing (`store`, flushes only).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core import jalali
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.errors import ProblemError
from panjereh.core.logging import get_logger
from panjereh.documents import payload as signed
from panjereh.documents.exceptions import UnknownWalletSource, WalletSourceUnavailable
from panjereh.documents.models import SUPERSEDED, IssuedDocument, WalletCopy
from panjereh.documents.service import issue_document
from panjereh.exchange import selectors as exchange_selectors

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

log = get_logger(__name__)

PURPOSE = "portal:wallet"
TIMEOUT_SECONDS = 5.0
DOCUMENT_TYPE_PREFIX = "wallet."

Item = tuple[str, dict[str, Any], date | None]  # (record key, claims, valid until)


@dataclass(frozen=True)
class WalletSource:
    """One kind of document the wallet pulls: the data service, the document it makes, how records read."""

    key: str
    service_code: str
    title_fa: str
    title_en: str
    items: Callable[[dict[str, Any]], list[Item]]

    @property
    def document_type(self) -> str:
        return DOCUMENT_TYPE_PREFIX + self.key


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _identity(data: dict[str, Any]) -> list[Item]:
    fields = ("first_name", "last_name", "father_name", "gender", "birth_date")
    if not all(isinstance(data.get(name), str) for name in fields) or _day(data["birth_date"]) is None:
        return []
    return [(str(data.get("national_code", "")), {name: data[name] for name in fields}, None)]


def _licence(data: dict[str, Any]) -> list[Item]:
    found = data.get("licence")
    if not isinstance(found, dict) or not isinstance(found.get("number"), str):
        return []
    until = _day(found.get("valid_until"))
    claims = {
        "licence_number": found["number"],
        "licence_class": str(found.get("class", "")),
        "issued_on": str(found.get("issued_on", "")),
        "valid_until": until.isoformat() if until else "",
    }
    # An expired licence is still copied faithfully; its copy simply carries no end date of its own.
    valid_until = until if until and signed.expiry_instant(until) > utcnow() else None
    return [(found["number"], claims, valid_until)]


def _vehicles(data: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for vehicle in data.get("vehicles") or []:
        if not isinstance(vehicle, dict) or not isinstance(vehicle.get("plate"), dict):
            continue
        plate = vehicle["plate"]
        text = str(plate.get("text", ""))
        key = "-".join(str(plate.get(part, "")) for part in ("two", "letter", "three", "region"))
        claims = {
            "plate": text,
            "model": str(vehicle.get("model", "")),
            "color": str(vehicle.get("color", "")),
            "model_year": vehicle.get("model_year"),
        }
        items.append((key, claims, None))
    return items


def _degrees(data: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for degree in data.get("degrees") or []:
        if not isinstance(degree, dict) or not isinstance(degree.get("level"), str):
            continue
        claims = {
            name: str(degree.get(name, "")) for name in ("level", "field", "institution", "graduated_on")
        }
        items.append(("|".join(claims[name] for name in ("level", "field", "institution")), claims, None))
    return items


SOURCES: tuple[WalletSource, ...] = (
    WalletSource("identity", "civil-registry.person", "مشخصات هویتی", "Identity record", _identity),
    WalletSource(
        "driving-licence", "police.driving-licence", "گواهینامهٔ رانندگی", "Driving licence", _licence
    ),
    WalletSource("vehicle-card", "police.vehicles", "کارت خودرو", "Vehicle card", _vehicles),
    WalletSource("degree", "education.degrees", "مدرک تحصیلی", "Degree", _degrees),
)
SOURCES_BY_KEY = {source.key: source for source in SOURCES}


def source_of(key: str) -> WalletSource:
    """The wallet source with this key, or UnknownWalletSource."""
    found = SOURCES_BY_KEY.get(key)
    if found is None:
        raise UnknownWalletSource()
    return found


def source_of_type(document_type: str) -> WalletSource | None:
    """The source a document was copied from, or None for a document the window issued itself."""
    return (
        SOURCES_BY_KEY.get(document_type.removeprefix(DOCUMENT_TYPE_PREFIX))
        if document_type.startswith(DOCUMENT_TYPE_PREFIX)
        else None
    )


async def fetch(client: PlatformClient, source: WalletSource, national_code: str) -> list[Item]:
    """Ask the source's registry through the exchange; WalletSourceUnavailable if it does not answer well."""
    try:
        answer = await client.ainquire(
            source.service_code,
            subject=national_code,
            purpose=PURPOSE,
            path_params={"national_code": national_code},
            timeout=TIMEOUT_SECONDS,
        )
    except ProblemError as error:  # down, timed out, circuit open, no grant
        log.info("wallet.unavailable", service=source.service_code, code=error.code)
        raise WalletSourceUnavailable() from error
    if answer.ok and isinstance(answer.data, dict):
        return source.items(answer.data)
    if answer.status == 404:  # the registry holds nothing about this person
        return []
    log.info("wallet.unavailable", service=source.service_code, status=answer.status)
    raise WalletSourceUnavailable()


@dataclass(frozen=True)
class PullResult:
    """What a pull changed: copies made (new or refreshed), kept as they were, superseded."""

    issued: list[IssuedDocument]
    kept: list[IssuedDocument]
    superseded: list[IssuedDocument]


def _hash(claims: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(claims, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def current_copies(session: Session, national_code: str, source: str | None = None) -> Sequence[WalletCopy]:
    """The citizen's current (not superseded) copies, of one source or all."""
    query = select(WalletCopy).where(
        WalletCopy.subject_national_code == national_code, WalletCopy.superseded_at.is_(None)
    )
    if source is not None:
        query = query.where(WalletCopy.source == source)
    return session.scalars(query.order_by(WalletCopy.fetched_at)).unique().all()


def store(
    session: Session,
    settings: Settings,
    source: WalletSource,
    *,
    national_code: str,
    subject_name: str,
    items: list[Item],
) -> PullResult:
    """Sign a copy of each record that is new or changed, and supersede the copies it replaces."""
    issuer = exchange_selectors.get_service_by_code(session, source.service_code).provider.code
    now = utcnow()
    current = {copy.item_key: copy for copy in current_copies(session, national_code, source.key)}
    issued: list[IssuedDocument] = []
    kept: list[IssuedDocument] = []
    superseded: list[IssuedDocument] = []
    seen: set[str] = set()
    for item_key, claims, valid_until in items:
        if item_key in seen:  # a registry listing one record twice gets one copy
            continue
        seen.add(item_key)
        digest = _hash(claims)
        previous = current.get(item_key)
        if previous is not None and previous.claims_hash == digest:
            previous.checked_at = now
            kept.append(previous.document)
            continue
        document = issue_document(
            session,
            settings,
            document_type=source.document_type,
            title_fa=source.title_fa,
            title_en=source.title_en,
            subject_national_code=national_code,
            subject_name=subject_name,
            issuer_agency_code=issuer,
            claims=claims | {"fetched_on": jalali.to_tehran(now).date().isoformat()},
            valid_until=valid_until,
        )
        session.flush()
        session.add(
            WalletCopy(
                subject_national_code=national_code,
                source=source.key,
                item_key=item_key,
                document_id=document.id,
                claims_hash=digest,
                fetched_at=now,
                checked_at=now,
            )
        )
        issued.append(document)
        if previous is not None:
            superseded.append(_supersede(previous, now, f"رونوشت تازه‌تر: {document.number}"))
    for item_key, copy in current.items():
        if item_key not in seen:  # the registry no longer holds this record (a car sold, a licence taken)
            superseded.append(_supersede(copy, now, "این سابقه دیگر در سامانهٔ دستگاه صادرکننده نیست"))
    session.flush()
    log.info(
        "wallet.pulled", source=source.key, issued=len(issued), kept=len(kept), superseded=len(superseded)
    )
    return PullResult(issued, kept, superseded)


def _supersede(copy: WalletCopy, now: Any, reason: str) -> IssuedDocument:
    copy.superseded_at = now
    document = copy.document
    if document.revoked_at is None:
        document.revoked_at = now
        document.revoked_by = SUPERSEDED
        document.revocation_reason = reason
    return document
