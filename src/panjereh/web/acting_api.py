"""Acting-for-others API (under /api/v1/acting): whom the signed-in citizen may act for, the switch, and his
delegations, for an app or an agency's front-end (docs/protocols/representation.md § API).

The same rules as the portal's pages (`web/representation.py`), through the same representation service:
the switch remembers a choice in the same `acting` cookie and checks the right live before remembering it;
every act is checked again, live, for its service. It sits beside the pages, not in the representation
domain, because it names the published services (delivery, the domain's sibling) and shares the pages' switch
cookie and refusal trail. Cookie-signed like every citizen endpoint: a state-changing call from another site
is refused (`identity.deps.refuse_cross_site`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Request, Response

from panjereh.core.db import utcnow
from panjereh.core.deps import DbSession
from panjereh.delivery import selectors as delivery_selectors
from panjereh.identity.deps import CurrentCitizen
from panjereh.representation import selectors, service
from panjereh.representation.exceptions import InvalidSubject, NotRepresentative
from panjereh.representation.schemas import (
    ActingFor,
    ActingOut,
    DelegationIn,
    DelegationOut,
    DelegationsOut,
    SubjectOut,
    SubjectsOut,
)
from panjereh.web import representation as acting

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen
    from panjereh.representation.constants import SubjectKind

router = APIRouter(prefix="/acting", tags=["acting"])

DelegationId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]+$")]
MYSELF = ActingOut(on_behalf_of="self", live=True, reason_fa=None, reason_en=None, grounds=[])


def _acting_for(
    request: Request, db: DbSession, citizen: Citizen, parsed: tuple[SubjectKind, str] | None
) -> ActingOut:
    """Whom the citizen acts for, with his right over the subject asked live (a right that ended is
    answered as not live, with why, rather than refused: this only reads)."""
    if parsed is None:
        return MYSELF
    kind, code = parsed
    try:
        grounds = service.right_over(
            db, request.app.state.exchange, citizen.national_code, kind=kind, code=code
        )
    except NotRepresentative as exc:
        reason = str(exc.extra.get("reason") or exc)
        return ActingOut(
            on_behalf_of=f"{kind.value}:{code}",
            live=False,
            reason_fa=exc.detail_fa or service.reason_fa(reason),
            reason_en=reason,
            grounds=[],
        )
    return _live(db, kind, code, grounds)


def _live(db: DbSession, kind: SubjectKind, code: str, grounds: list[service.Standing]) -> ActingOut:
    titles = acting.service_titles(db)
    return ActingOut(
        on_behalf_of=f"{kind.value}:{code}",
        live=True,
        reason_fa=None,
        reason_en=None,
        grounds=[SubjectOut.of(ground, titles) for ground in grounds],
    )


@router.get("/subjects", response_model=SubjectsOut)
def subjects(request: Request, db: DbSession, citizen: CurrentCitizen) -> SubjectsOut:
    """Whom I may act for: myself, my minor children, the companies I sign for, the delegations I hold; each
    with its ground and whether it holds now, asked live (children past 18, ended board terms, pending or
    expired delegations are listed with why not). A registry that cannot be asked is named in `unavailable`
    and its subjects are missing; the rest is answered."""
    found = service.standings_of(db, request.app.state.exchange, citizen.national_code)
    titles = acting.service_titles(db)
    return SubjectsOut(
        current=acting.acting_token(request) or "self",
        subjects=[SubjectOut.myself(citizen.national_code, str(citizen.display_name))]
        + [SubjectOut.of(standing, titles) for standing in found.standings],
        unavailable=found.unavailable,
    )


@router.get("", response_model=ActingOut)
def current(request: Request, db: DbSession, citizen: CurrentCitizen) -> ActingOut:
    """Whom I act for now (the switch's choice), and whether my right over the subject holds now."""
    try:
        parsed = service.parse_on_behalf(acting.acting_token(request))
    except InvalidSubject:  # a cookie that names no one (altered by hand) is oneself
        parsed = None
    return _acting_for(request, db, citizen, parsed)


@router.put("", response_model=ActingOut)
def switch(
    body: ActingFor, request: Request, response: Response, db: DbSession, citizen: CurrentCitizen
) -> ActingOut:
    """Act for a subject from now on: my right over him is checked live first (403
    `representation.not_allowed` with the reason: another's child, a child turned 18, a company I no longer
    sign for, a revoked or expired delegation; the attempt is kept in the trail and the choice is left as it
    was). Every act is checked again for its service. `self` switches back, as DELETE does."""
    parsed = service.parse_on_behalf(body.on_behalf_of)
    if parsed is None:
        acting.remember(request, response, None)
        return MYSELF
    kind, code = parsed
    try:
        grounds = service.right_over(
            db, request.app.state.exchange, citizen.national_code, kind=kind, code=code
        )
    except NotRepresentative as exc:
        reason = f"switch: {exc.extra.get('reason') or exc}"
        acting.keep_refusal(db, citizen, kind.value, code, "", reason)
        raise
    acting.remember(request, response, parsed)
    return _live(db, kind, code, grounds)


@router.delete("", response_model=ActingOut)
def back_to_self(request: Request, response: Response, citizen: CurrentCitizen) -> ActingOut:
    """Act for myself again."""
    acting.remember(request, response, None)
    return MYSELF


# --- delegations («وکالت‌نامه») ----------------------------------------------------------------------------


@router.get("/delegations", response_model=DelegationsOut)
def delegations(db: DbSession, citizen: CurrentCitizen) -> DelegationsOut:
    """The delegations I granted and those I hold, newest first, ended ones included."""
    titles, now = acting.service_titles(db), utcnow()
    everything = selectors.delegations_of(db, citizen.national_code)
    return DelegationsOut(
        granted=[
            DelegationOut.of(d, titles, now) for d in everything if d.grantor_code == citizen.national_code
        ],
        held=[
            DelegationOut.of(d, titles, now) for d in everything if d.delegate_code == citizen.national_code
        ],
    )


@router.post("/delegations", response_model=DelegationOut, status_code=201)
def grant(body: DelegationIn, db: DbSession, citizen: CurrentCitizen) -> DelegationOut:
    """Grant a delegation: the delegate's national code, 1 to 20 published services, 1 to 366 days. It lets
    no one act until the delegate accepts it (422 `representation.invalid_delegation` otherwise)."""
    delegation = service.grant_delegation(
        db,
        grantor_code=citizen.national_code,
        grantor_name=str(citizen.display_name),
        delegate_code=body.delegate,
        slugs=[slug[:80] for slug in body.services],
        known_slugs={d.slug for d in delivery_selectors.published_definitions(db)},
        days=body.days,
    )
    return DelegationOut.of(delegation, acting.service_titles(db), utcnow())


@router.post("/delegations/{delegation_id}/accept", response_model=DelegationOut)
def accept(delegation_id: DelegationId, db: DbSession, citizen: CurrentCitizen) -> DelegationOut:
    """The delegate accepts (only he may; another's delegation is 404, an ended or expired one 409)."""
    delegation = service.accept_delegation(
        db, delegation_id, delegate_code=citizen.national_code, delegate_name=str(citizen.display_name)
    )
    return DelegationOut.of(delegation, acting.service_titles(db), utcnow())


@router.delete("/delegations/{delegation_id}", response_model=DelegationOut)
def end(delegation_id: DelegationId, db: DbSession, citizen: CurrentCitizen) -> DelegationOut:
    """End a delegation: the grantor revokes it, the delegate declines or gives it up (409 once ended)."""
    delegation = service.end_delegation(db, delegation_id, by=citizen.national_code)
    return DelegationOut.of(delegation, acting.service_titles(db), utcnow())
