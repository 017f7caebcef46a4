"""Delegations («وکالت‌نامه») citizens grant each other on the portal: granted (bounded in time and services),
accepted by the delegate, ended by either party. Whether one lets its delegate act now is
`service.delegation_holds`; callers use these through `representation.service`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.core.identifiers import InvalidIdentifier, normalize_national_code
from panjereh.core.logging import get_logger
from panjereh.representation.constants import MAX_DELEGATION_DAYS, MAX_DELEGATION_SERVICES, DelegationStatus
from panjereh.representation.exceptions import DelegationClosed, DelegationNotFound, InvalidDelegation
from panjereh.representation.models import Delegation

log = get_logger(__name__)


def grant_delegation(
    session: Session,
    *,
    grantor_code: str,
    grantor_name: str,
    delegate_code: str,
    slugs: Collection[str],
    known_slugs: Collection[str],
    days: int,
    now: datetime | None = None,
) -> Delegation:
    """A delegation waiting for the delegate's acceptance; bounded in time and services."""
    try:
        delegate = normalize_national_code(delegate_code)
    except InvalidIdentifier as exc:
        raise InvalidDelegation(
            "The delegate's national code is not valid", "کد ملی وکیل معتبر نیست"
        ) from exc
    if delegate == grantor_code:
        raise InvalidDelegation("You cannot delegate to yourself", "نمی‌توانید به خودتان وکالت بدهید")
    chosen = sorted({s.strip() for s in slugs if s and s.strip()})
    if not chosen or len(chosen) > MAX_DELEGATION_SERVICES:
        raise InvalidDelegation(
            f"Choose between 1 and {MAX_DELEGATION_SERVICES} services",
            f"دست‌کم یک و حداکثر {MAX_DELEGATION_SERVICES} خدمت را برگزینید",
        )
    unknown = [s for s in chosen if s not in set(known_slugs)]
    if unknown:
        raise InvalidDelegation(f"Unknown services: {', '.join(unknown)[:200]}", "خدمت ناشناخته")
    if not 1 <= days <= MAX_DELEGATION_DAYS:
        raise InvalidDelegation(
            f"A delegation lasts 1 to {MAX_DELEGATION_DAYS} days",
            f"مدت وکالت از ۱ تا {MAX_DELEGATION_DAYS} روز است",
        )
    moment = now or utcnow()
    delegation = Delegation(
        grantor_code=grantor_code,
        grantor_name=grantor_name,
        delegate_code=delegate,
        slugs=chosen,
        valid_from=moment,
        valid_until=moment + timedelta(days=days),
        status=DelegationStatus.PENDING,
        created_at=moment,
    )
    session.add(delegation)
    session.flush()
    log.info(
        "representation.delegation_granted", grantor=grantor_code, delegate=delegate, slugs=chosen, days=days
    )
    return delegation


def _delegation(session: Session, delegation_id: str, *, party: str) -> Delegation:
    found = session.get(Delegation, delegation_id[:32])
    if found is None or party not in (found.grantor_code, found.delegate_code):
        raise DelegationNotFound()  # another person's delegation is as unknown as a missing one
    return found


def accept_delegation(
    session: Session, delegation_id: str, *, delegate_code: str, delegate_name: str
) -> Delegation:
    """The delegate accepts: from now the delegation lets him act (within its dates)."""
    found = _delegation(session, delegation_id, party=delegate_code)
    if found.delegate_code != delegate_code:
        raise DelegationNotFound()
    if found.status != DelegationStatus.PENDING or found.valid_until <= utcnow():
        raise DelegationClosed()
    found.status = DelegationStatus.ACTIVE
    found.accepted_at = utcnow()
    found.delegate_name = delegate_name
    session.flush()
    return found


def end_delegation(session: Session, delegation_id: str, *, by: str) -> Delegation:
    """The grantor revokes, or the delegate declines or gives up; it lets no one act afterwards."""
    found = _delegation(session, delegation_id, party=by)
    if found.status not in (DelegationStatus.PENDING, DelegationStatus.ACTIVE):
        raise DelegationClosed()
    if by == found.delegate_code and found.status == DelegationStatus.PENDING:
        found.status = DelegationStatus.DECLINED
    else:
        found.status = DelegationStatus.REVOKED
    found.ended_at = utcnow()
    found.ended_by = by
    session.flush()
    log.info("representation.delegation_ended", id=found.id, by=by, status=found.status.value)
    return found
