"""What a representation is: the kinds of subject, the relations that let one person act for another."""

from __future__ import annotations

from enum import StrEnum


class SubjectKind(StrEnum):
    """Whom a request is for: a person (identified by national code) or a company (legal-entity ID)."""

    PERSON = "person"
    COMPANY = "company"


class Relation(StrEnum):
    """Why the actor may act for the subject."""

    PARENT = "parent"  # «ولی» or «سرپرست قانونی» of a minor child (civil registry's family links)
    COMPANY = "company"  # a signatory of a company (companies registry)
    DELEGATE = "delegate"  # a delegation the subject granted on the portal («وکالت‌نامه»)


class DelegationStatus(StrEnum):
    PENDING = "pending"  # granted, waiting for the delegate to accept
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"


# The service audiences and the relations each accepts unless a definition says otherwise.
DEFAULT_ACCEPTS = {
    "individual": frozenset({Relation.PARENT, Relation.DELEGATE}),
    "business": frozenset({Relation.COMPANY, Relation.DELEGATE}),
}
ADULT_AGE = 18
MAX_DELEGATION_DAYS = 366
MAX_DELEGATION_SERVICES = 20
