"""Reads: a person's delegations (granted and held) and the trail of acts for and by a person."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from panjereh.representation.models import Delegation, RepresentationAct


def delegations_of(session: Session, national_code: str) -> list[Delegation]:
    """Every delegation the person granted or holds, newest first."""
    return list(
        session.scalars(
            select(Delegation)
            .where(or_(Delegation.grantor_code == national_code, Delegation.delegate_code == national_code))
            .order_by(Delegation.created_at.desc())
            .limit(200)
        )
    )


def acts_for(session: Session, subject_code: str, *, limit: int = 50) -> list[RepresentationAct]:
    """What others did for this person or company («از طرف شما»), newest first."""
    return list(
        session.scalars(
            select(RepresentationAct)
            .where(RepresentationAct.subject_code == subject_code, RepresentationAct.action == "apply")
            .order_by(RepresentationAct.at.desc())
            .limit(limit)
        )
    )


def acts_by(session: Session, actor_code: str, *, limit: int = 50) -> list[RepresentationAct]:
    """What this person did for others, refused attempts included, newest first."""
    return list(
        session.scalars(
            select(RepresentationAct)
            .where(RepresentationAct.actor_code == actor_code)
            .order_by(RepresentationAct.at.desc())
            .limit(limit)
        )
    )
