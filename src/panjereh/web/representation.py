"""Acting for others: the «از طرف» switch, the check made at each act, and delegations' pages.

The switch only remembers a choice (a cookie naming the subject); every act is checked again on the server,
live from the registries (`representation.service.authorize`), whatever the form or the cookie says.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from panjereh.core.cookies import ACTING_COOKIE, delete_cookie, read_cookie, set_cookie
from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.jalali import tehran_today
from panjereh.delivery import loading
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.exceptions import RequestNotFound
from panjereh.delivery.service import OnBehalf
from panjereh.identity.deps import CurrentCitizen
from panjereh.representation import selectors, service
from panjereh.representation.constants import DelegationStatus, Relation, SubjectKind
from panjereh.representation.exceptions import (
    InvalidDelegation,
    InvalidSubject,
    NotRepresentative,
    RepresentationUnavailable,
)
from panjereh.web.csrf import CsrfProtected
from panjereh.web.templating import render_private

if TYPE_CHECKING:
    from panjereh.delivery.definitions import LoadedDefinition
    from panjereh.delivery.models import ServiceRequest
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

ACTING_PATH = "/account/acting"
DELEGATIONS_PATH = "/account/delegations"


def accepts_of(loaded: LoadedDefinition) -> frozenset[Relation]:
    """The grounds on which a representative may apply for this service."""
    definition = loaded.definition
    return service.accepted_relations(definition.audience, definition.representatives)


def acting_token(request: Request) -> str:
    """The subject the switch remembers ("" for oneself); a hint for forms, never a permission."""
    return (read_cookie(request, ACTING_COOKIE) or "")[:40]


def choices_for(request: Request, db: Session, citizen: Citizen, loaded: LoadedDefinition) -> dict[str, Any]:
    """The apply form's «از طرف» choices: the subjects who may be applied for with this service, read now.

    Only for a citizen who chose someone on the switch: the others' apply page asks no registry."""
    chosen = acting_token(request)
    if not chosen:
        return {"subjects": [], "unavailable": [], "chosen": "", "asked": False}
    accepts = accepts_of(loaded)
    found = service.represented_by(db, request.app.state.exchange, citizen.national_code)
    subjects = [
        s for s in found.subjects if s.relation in accepts and (s.slugs is None or loaded.slug in s.slugs)
    ]
    return {
        "subjects": subjects,
        "unavailable": found.unavailable,
        "chosen": chosen if any(s.token == chosen for s in subjects) else "",
        "asked": True,
    }


def authorize_act(
    request: Request, db: Session, citizen: Citizen, raw: str | None, loaded: LoadedDefinition
) -> tuple[str, OnBehalf | None, service.Subject | None]:
    """Whose request this is (the subject's code) and, for another, on what ground; checked now.

    A refusal is kept in the trail (committed on its own) before the 403 problem is raised."""
    try:
        parsed = service.parse_on_behalf(raw)
    except InvalidSubject:
        keep_refusal(db, citizen, "malformed", str(raw or "")[:20], loaded.slug, "malformed on_behalf_of")
        raise
    if parsed is None:
        return citizen.national_code, None, None
    kind, code = parsed
    try:
        subject = service.authorize(
            db,
            request.app.state.exchange,
            citizen.national_code,
            kind=kind,
            code=code,
            slug=loaded.slug,
            accepts=accepts_of(loaded),
        )
    except NotRepresentative as exc:
        keep_refusal(db, citizen, kind.value, code, loaded.slug, str(exc.extra.get("reason") or exc))
        raise
    on_behalf = OnBehalf(
        actor_code=citizen.national_code,
        actor_name=str(citizen.display_name),
        subject_kind=subject.kind.value,
        subject_name=subject.name or subject.code,
        relation=subject.relation.value,
        role_fa=subject.role_fa,
        role_en=subject.role_en,
    )
    return subject.code, on_behalf, subject


def _live_right(request: Request, db: Session, citizen: Citizen, item: ServiceRequest) -> service.Subject:
    """The ground on which the citizen may act now for the subject of a request he does not own (raises
    NotRepresentative or RepresentationUnavailable): the same check as at applying, read live."""
    return service.authorize(
        db,
        request.app.state.exchange,
        citizen.national_code,
        kind=SubjectKind(item.subject_kind),
        code=item.national_code,
        slug=item.slug,
        accepts=accepts_of(loading.loaded_from_record(item.definition)),
    )


def ensure_may_act_on(request: Request, db: Session, citizen: Citizen, item: ServiceRequest) -> None:
    """Before any change to a request (pay, answer needs_info, ask for review): the subject always may; anyone
    else (who made it for the subject) only while his right holds now. Having applied once gives no lasting
    right: a revoked delegation, a child turned 18 or a board term ended stops the next act. A refusal is
    kept in the trail."""
    if item.national_code == citizen.national_code:
        return
    try:
        _live_right(request, db, citizen, item)
    except NotRepresentative as exc:
        reason = str(exc.extra.get("reason") or exc)
        request.app.state.viewing_rights.forget(_viewing_key(citizen, item))  # the page shows it at once
        keep_refusal(db, citizen, item.subject_kind, item.national_code, item.slug, reason)
        raise


VIEWING_SECONDS = 60.0
VIEWING_ENTRIES = 10_000


class ViewingRights:
    """The request page's answer to «may this representative act on it?» for a registry-based right (a parent,
    a company's signatory), remembered for a minute per (actor, subject, service) in this process, so a
    representative reading his request again does not ask the registries on each view.

    Only for what a page shows: every act (pay, answer, review, opening the subject's document) asks live, and
    a refused act forgets the entry, so the page turns read-only at once. Only a right that holds is
    remembered: one that does not is asked again (it may be granted meanwhile), and a delegation is a row of
    the portal's own, read live each time (a revocation shows at once)."""

    def __init__(self, seconds: float = VIEWING_SECONDS, entries: int = VIEWING_ENTRIES) -> None:
        self.seconds = seconds
        self.entries = entries
        self._lock = threading.Lock()
        self._until: dict[tuple[str, str, str, str], float] = {}

    def holds(self, key: tuple[str, str, str, str]) -> bool:
        until = self._until.get(key)
        return until is not None and time.monotonic() < until

    def remember(self, key: tuple[str, str, str, str]) -> None:
        with self._lock:
            if len(self._until) >= self.entries:  # bounded: drop the expired, else start over
                now = time.monotonic()
                self._until = {k: v for k, v in self._until.items() if v > now}
                if len(self._until) >= self.entries:
                    self._until.clear()
            self._until[key] = time.monotonic() + self.seconds

    def forget(self, key: tuple[str, str, str, str]) -> None:
        with self._lock:
            self._until.pop(key, None)


def _viewing_key(citizen: Citizen, item: ServiceRequest) -> tuple[str, str, str, str]:
    return (citizen.national_code, item.subject_kind, item.national_code, item.slug)


def may_act_on(request: Request, db: Session, citizen: Citizen, item: ServiceRequest) -> bool:
    """Whether the request page offers its actions (pay, answer, review) to this viewer; each act is
    checked again when made. A registry that cannot be asked now does not hide them (the act says why).
    A registry-based right that held is remembered a minute for the page (`ViewingRights`)."""
    if item.national_code == citizen.national_code:
        return True
    rights: ViewingRights = request.app.state.viewing_rights
    key = _viewing_key(citizen, item)
    if rights.holds(key):
        return True
    try:
        ground = _live_right(request, db, citizen, item)
    except NotRepresentative:
        return False
    except RepresentationUnavailable:
        return True
    if ground.relation != Relation.DELEGATE:
        rights.remember(key)
    return True


def may_act_now(request: Request, db: Session, citizen: Citizen, item: ServiceRequest) -> bool:
    """Strictly: whether the citizen's right over the request's subject holds now (a registry that cannot be
    asked is a no, for what is read rather than acted on)."""
    if item.national_code == citizen.national_code:
        return True
    try:
        _live_right(request, db, citizen, item)
    except (NotRepresentative, RepresentationUnavailable):
        return False
    return True


def readable_request(request: Request, db: Session, citizen: Citizen, code: str) -> ServiceRequest:
    """A request the citizen may read: his own, one he made for another (the record of his own act, kept
    after his right ends), or one made by anyone for a minor child or a company he represents now (a parent
    sees the requests the other parent made). Anyone else's is not found, whatever the registries say."""
    try:
        return delivery_selectors.request_of(db, citizen.national_code, code)
    except RequestNotFound:
        pass
    try:
        item = delivery_selectors.request_by_tracking_code(db, code)
    except ProblemError as exc:
        raise RequestNotFound() from exc
    # Asked about the viewer himself (his children, his companies), never about the request's subject, so
    # a guessed tracking code makes no inquiry about a stranger.
    reader = service.companies_of if item.subject_kind == SubjectKind.COMPANY else service.children_of
    try:
        subjects = reader(request.app.state.exchange, citizen.national_code, tehran_today())
    except RepresentationUnavailable as exc:
        raise RequestNotFound() from exc
    if not any(s.code == item.national_code and s.kind.value == item.subject_kind for s in subjects):
        raise RequestNotFound()
    return item


def keep_refusal(db: Session, citizen: Citizen, kind: str, code: str, slug: str, reason: str) -> None:
    """Keep a refused attempt to act for another in the trail, committed apart from the refused act."""
    db.rollback()
    service.record_refusal(
        db, actor_code=citizen.national_code, kind=kind, code=code, slug=slug, reason=reason
    )
    db.commit()  # the attempt is kept although the act is refused (the edge rolls back what follows)


def record(db: Session, citizen: Citizen, subject: service.Subject, slug: str, tracking_code: str) -> None:
    service.record_act(
        db,
        actor_code=citizen.national_code,
        actor_name=str(citizen.display_name),
        subject=subject,
        slug=slug,
        reference=tracking_code,
    )


def service_titles(db: Session) -> dict[str, tuple[str, str]]:
    """Each service's name by slug: people read names, not slugs."""
    return {d.slug: (d.title_fa, d.title_en) for d in delivery_selectors.published_definitions(db)}


@router.get(ACTING_PATH, response_class=HTMLResponse)
def acting_page(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """The switch: whom I may act for now (children, companies, delegators), and what was done for me."""
    found = service.represented_by(db, request.app.state.exchange, citizen.national_code)
    chosen = acting_token(request)
    current = next((s for s in found.subjects if s.token == chosen), None)
    subject_requests = (
        delivery_selectors.requests_for_subject(db, current.code, limit=20)
        if current is not None and current.relation != Relation.DELEGATE
        else []
    )
    return render_private(
        request,
        "representation/acting.html",
        {
            "subjects": found.subjects,
            "unavailable": found.unavailable,
            "current": current,
            "subject_requests": subject_requests,
            "titles": service_titles(db),
            "acts_for_me": selectors.acts_for(db, citizen.national_code, limit=20),
            "acts_by_me": [
                a for a in selectors.acts_by(db, citizen.national_code, limit=20) if a.action == "apply"
            ],
        },
    )


@router.post(ACTING_PATH)
async def switch(request: Request, citizen: CurrentCitizen, _: CsrfProtected) -> RedirectResponse:
    """Remember whom I act for in this browser (checked again at every act)."""
    form = await request.form()
    token = str(form.get("on_behalf_of", ""))[:40]
    try:
        parsed = service.parse_on_behalf(token)
    except InvalidSubject:
        parsed = None
    response = RedirectResponse(ACTING_PATH, status_code=303)
    remember(request, response, parsed)
    return response


def remember(request: Request, response: Response, parsed: tuple[SubjectKind, str] | None) -> None:
    """Set (or, for oneself, clear) the cookie that remembers whom the citizen acts for in this browser."""
    if parsed is None:
        delete_cookie(response, request.app.state.settings, ACTING_COOKIE)
    else:
        set_cookie(response, request.app.state.settings, ACTING_COOKIE, f"{parsed[0].value}:{parsed[1]}")


# --- delegations ------------------------------------------------------------------------------------------


def _delegations_page(
    request: Request, db: Session, citizen: Citizen, *, errors: str = "", status_code: int = 200
) -> HTMLResponse:
    everything = selectors.delegations_of(db, citizen.national_code)
    return render_private(
        request,
        "representation/delegations.html",
        {
            "granted": [d for d in everything if d.grantor_code == citizen.national_code],
            "held": [d for d in everything if d.delegate_code == citizen.national_code],
            "services": delivery_selectors.published_definitions(db),
            "titles": service_titles(db),
            "error": errors,
            "now": datetime.now().astimezone(),
            "status": DelegationStatus,
        },
        status_code=status_code,
    )


@router.get(DELEGATIONS_PATH, response_class=HTMLResponse)
def delegations(request: Request, db: DbSession, citizen: CurrentCitizen) -> HTMLResponse:
    """The delegations I granted and those I hold, and the form to grant one."""
    return _delegations_page(request, db, citizen)


@router.post(DELEGATIONS_PATH, response_model=None)
async def grant(
    request: Request, db: DbSession, citizen: CurrentCitizen, _: CsrfProtected
) -> RedirectResponse | HTMLResponse:
    form = await request.form()
    slugs = [str(value)[:80] for value in form.getlist("services")][:50]
    delegate = str(form.get("delegate", ""))[:20]
    raw_days = str(form.get("days", ""))[:6]

    def in_thread() -> RedirectResponse | HTMLResponse:
        known = {d.slug for d in delivery_selectors.published_definitions(db)}
        try:
            days = int(raw_days) if raw_days.isdigit() else 0
            service.grant_delegation(
                db,
                grantor_code=citizen.national_code,
                grantor_name=str(citizen.display_name),
                delegate_code=delegate,
                slugs=slugs,
                known_slugs=known,
                days=days,
            )
        except InvalidDelegation as exc:
            return _delegations_page(
                request, db, citizen, errors=exc.detail_fa or exc.title_fa, status_code=422
            )
        return RedirectResponse(DELEGATIONS_PATH, status_code=303)

    return await run_in_threadpool(in_thread)


@router.post(DELEGATIONS_PATH + "/{delegation_id}/{action}")
def change(
    delegation_id: str, action: str, db: DbSession, citizen: CurrentCitizen, _: CsrfProtected
) -> RedirectResponse:
    """accept (the delegate) · end (the grantor revokes, the delegate declines or gives it up)."""
    if action == "accept":
        service.accept_delegation(
            db, delegation_id, delegate_code=citizen.national_code, delegate_name=str(citizen.display_name)
        )
    elif action == "end":
        service.end_delegation(db, delegation_id, by=citizen.national_code)
    else:
        raise InvalidDelegation(f"unknown action {action[:20]!r}", "کار ناشناخته")
    return RedirectResponse(DELEGATIONS_PATH, status_code=303)


def mount(app: FastAPI) -> None:
    app.state.viewing_rights = ViewingRights()
    app.include_router(router)
