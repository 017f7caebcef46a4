"""Who may act for whom, checked live from the registries at each act, and the delegations citizens grant.

Three grounds (docs/protocols/representation.md):
- a parent or legal guardian for a minor child: the civil registry's family links (`civil-registry.family`),
  asked through the exchange for the purpose `portal:representation`; the child's age, a death and an
  ended guardianship are read at the time of each act, never remembered;
- a signatory for a company: the companies registry (`companies.company`): an active company, a term that
  runs today, the right to sign;
- a delegation («وکالت‌نامه») granted on the portal: accepted by the delegate, within its dates, not revoked,
  and only for the services it names.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.core.identifiers import InvalidIdentifier, normalize_legal_entity_id, normalize_national_code
from panjereh.core.jalali import age_on, tehran_today
from panjereh.core.logging import get_logger
from panjereh.exchange.exceptions import GrantMissing, ProviderUnavailable
from panjereh.representation.constants import (
    ADULT_AGE,
    DEFAULT_ACCEPTS,
    DelegationStatus,
    Relation,
    SubjectKind,
)
from panjereh.representation.delegations import accept_delegation as accept_delegation
from panjereh.representation.delegations import end_delegation as end_delegation
from panjereh.representation.delegations import grant_delegation as grant_delegation
from panjereh.representation.exceptions import (
    InvalidSubject,
    NotRepresentative,
    RepresentationUnavailable,
)
from panjereh.representation.models import Delegation, RepresentationAct

if TYPE_CHECKING:
    from panjereh.exchange.client import InquiryResult, PlatformClient

log = get_logger(__name__)

PURPOSE = "portal:representation"
TIMEOUT_SECONDS = 5.0
GUARDIAN_ROLES = {  # shown in parentheses after a name: «زهرا رضایی (ولی: پدر)»
    "father": ("ولی: پدر", "parent: father"),
    "mother": ("ولی: مادر", "parent: mother"),
    "guardian": ("سرپرست قانونی", "legal guardian"),
}


@dataclass(frozen=True)
class Subject:
    """Someone the actor may act for, and on what ground."""

    kind: SubjectKind
    code: str
    name: str
    relation: Relation
    role_fa: str
    role_en: str
    slugs: frozenset[str] | None = (
        None  # a delegation's services; None: every service that accepts the ground
    )

    @property
    def token(self) -> str:
        """The form value that names this subject (`on_behalf_of`)."""
        return f"{self.kind.value}:{self.code}"


def parse_on_behalf(raw: str | None) -> tuple[SubjectKind, str] | None:
    """`person:<national code>` or `company:<legal-entity ID>` from a form; None or "" is oneself."""
    text = (raw or "").strip()
    if not text or text == "self":
        return None
    kind, _, code = text.partition(":")
    try:
        if kind == SubjectKind.PERSON:
            return SubjectKind.PERSON, normalize_national_code(code)
        if kind == SubjectKind.COMPANY:
            return SubjectKind.COMPANY, normalize_legal_entity_id(code)
    except InvalidIdentifier as exc:
        raise InvalidSubject(str(exc)) from exc
    raise InvalidSubject()


def accepted_relations(audience: str, declared: Iterable[str] | None = None) -> frozenset[Relation]:
    """The grounds a service accepts: what its definition declares, else its audience's default."""
    if declared is not None:
        return frozenset(Relation(value) for value in declared)
    return DEFAULT_ACCEPTS.get(audience, DEFAULT_ACCEPTS["individual"])


def _ask(
    client: PlatformClient, service_code: str, subject: str, path_params: dict[str, str]
) -> InquiryResult:
    try:
        return client.inquire(
            service_code, subject=subject, purpose=PURPOSE, path_params=path_params, timeout=TIMEOUT_SECONDS
        )
    except (ProviderUnavailable, GrantMissing) as exc:
        log.warning("representation.registry_unavailable", service=service_code, code=exc.code)
        raise RepresentationUnavailable() from exc


def _answer(result: InquiryResult, service_code: str) -> dict[str, Any] | None:
    """The registry's answer; None for «no such person or company»; unavailable for anything else."""
    if result.status == 404:
        return None
    if not result.ok or not isinstance(result.data, dict):
        log.warning("representation.registry_unavailable", service=service_code, status=result.status)
        raise RepresentationUnavailable()
    return result.data


def _full_name(person: dict[str, Any]) -> str:
    return f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def guardianship_holds(link: dict[str, Any], child: dict[str, Any], today: date) -> str | None:
    """Why a recorded link does not let the guardian act for the child today (None: it does).

    `link` names the guardian, `child` the child (each as the family service answers them)."""
    birth = _date(child.get("birth_date"))
    if birth is None:
        return "no birth date"
    if age_on(birth, today) >= ADULT_AGE:
        return "the child is 18 or older"
    if not child.get("alive", False):
        return "the child is deceased"
    if not link.get("alive", False):
        return "the guardian is deceased"
    ended = _date(link.get("guardianship_ended_on"))
    if ended is not None and ended <= today:
        return "the guardianship was ended"
    return None


def officer_holds(company: dict[str, Any], actor_code: str, today: date) -> tuple[dict[str, Any] | None, str]:
    """The actor's seat on the company's board that lets him sign for it today, or None and why not."""
    if company.get("status") != "active":
        return None, "the company is not active"
    seats = [o for o in company.get("officers") or [] if o.get("national_code") == actor_code]
    if not seats:
        return None, "not on the company's board"
    for seat in seats:
        since, until = _date(seat.get("since")), _date(seat.get("until"))
        in_term = since is not None and since <= today and (until is None or today < until)
        if in_term and seat.get("may_sign") is True:
            return seat, ""
    if any(seat.get("may_sign") is True for seat in seats):
        return None, "the term has ended"
    return None, "no right to sign"


@dataclass(frozen=True)
class Standing:
    """A right the actor holds, or held, over a subject, read now: whether it lets him act today and, if not,
    why not (an English reason, a key of `_WHY_FA`)."""

    subject: Subject
    live: bool
    reason: str = ""
    delegation: Delegation | None = None  # the delegation a `delegate` standing rests on

    @property
    def reason_fa(self) -> str:
        return reason_fa(self.reason)


def reason_fa(reason: str) -> str:
    """A refusal's reason in Persian (the English reasons are the keys)."""
    return _WHY_FA.get(reason, reason)


def _family(client: PlatformClient, actor_code: str, today: date) -> list[Standing]:
    """Every child the civil registry links to the actor (his own family record, read now), each with
    whether his guardianship holds today."""
    found = _answer(
        _ask(client, "civil-registry.family", actor_code, {"national_code": actor_code}), "family"
    )
    if found is None:
        return []
    me = {"alive": bool(found.get("alive", False))}
    standings = []
    for child in found.get("children") or []:
        link = {**me, "guardianship_ended_on": child.get("guardianship_ended_on")}
        why = guardianship_holds(link, child, today)
        role_fa, role_en = GUARDIAN_ROLES.get(str(child.get("relation")), GUARDIAN_ROLES["guardian"])
        subject = Subject(
            SubjectKind.PERSON,
            str(child["national_code"]),
            _full_name(child),
            Relation.PARENT,
            role_fa,
            role_en,
        )
        standings.append(Standing(subject, why is None, why or ""))
    return standings


def _boards(client: PlatformClient, actor_code: str, today: date) -> list[Standing]:
    """Every company whose board the companies registry lists the actor on, each with whether he signs for
    it today."""
    found = _answer(
        _ask(client, "companies.of-person", actor_code, {"national_code": actor_code}), "companies.of-person"
    )
    standings = []
    for company in (found or {}).get("companies") or []:
        seat, why = officer_holds(company, actor_code, today)
        position = (seat or {}).get("position") or next(
            (
                o.get("position", "")
                for o in company.get("officers") or []
                if o.get("national_code") == actor_code
            ),
            "",
        )
        subject = Subject(
            SubjectKind.COMPANY,
            str(company["legal_entity_id"]),
            str(company.get("name", "")),
            Relation.COMPANY,
            f"نمایندهٔ شرکت: {position}",
            "company representative",
        )
        standings.append(Standing(subject, seat is not None, why))
    return standings


def children_of(client: PlatformClient, actor_code: str, today: date) -> list[Subject]:
    """The minor children the actor may act for today (his own family links, read now)."""
    return [s.subject for s in _family(client, actor_code, today) if s.live]


def companies_of(client: PlatformClient, actor_code: str, today: date) -> list[Subject]:
    """The companies the actor may sign for today."""
    return [s.subject for s in _boards(client, actor_code, today) if s.live]


def delegations_to(session: Session, actor_code: str, now: datetime | None = None) -> list[Delegation]:
    """The delegations the actor holds that are in force now (accepted, within their dates)."""
    moment = now or utcnow()
    return list(
        session.scalars(
            select(Delegation)
            .where(
                Delegation.delegate_code == actor_code,
                Delegation.status == DelegationStatus.ACTIVE,
                Delegation.valid_from <= moment,
                Delegation.valid_until > moment,
            )
            .order_by(Delegation.created_at)
        )
    )


def _delegation_subject(delegation: Delegation) -> Subject:
    return Subject(
        SubjectKind.PERSON,
        delegation.grantor_code,
        delegation.grantor_name,
        Relation.DELEGATE,
        "وکالت‌نامه",
        "Delegation",
        frozenset(delegation.slugs),
    )


def delegation_holds(delegation: Delegation, now: datetime) -> str | None:
    """Why a delegation does not let its delegate act now (None: it does)."""
    if delegation.status == DelegationStatus.PENDING:
        return "the delegation is not yet accepted"
    if delegation.status == DelegationStatus.DECLINED:
        return "the delegation was declined"
    if delegation.status == DelegationStatus.REVOKED:
        return "the delegation was revoked"
    if not delegation.valid_from <= now < delegation.valid_until:
        return (
            "the delegation has expired" if now >= delegation.valid_until else "the delegation has not begun"
        )
    return None


def _held(session: Session, actor_code: str, now: datetime, *, grantor: str | None = None) -> list[Standing]:
    """The delegations the actor holds (from one grantor, or all still pending or accepted), each with
    whether it lets him act now."""
    query = select(Delegation).where(Delegation.delegate_code == actor_code)
    if grantor is not None:
        query = query.where(Delegation.grantor_code == grantor)
    else:
        query = query.where(Delegation.status.in_((DelegationStatus.PENDING, DelegationStatus.ACTIVE)))
    standings = []
    for delegation in session.scalars(query.order_by(Delegation.created_at.desc()).limit(200)):
        why = delegation_holds(delegation, now)
        standings.append(Standing(_delegation_subject(delegation), why is None, why or "", delegation))
    return standings


@dataclass
class Represented:
    """Everyone the actor may act for now, and the registries that could not be asked."""

    subjects: list[Subject]
    unavailable: list[str]


def represented_by(
    session: Session, client: PlatformClient, actor_code: str, now: datetime | None = None
) -> Represented:
    """The acting-as switch's list: children, companies and delegators, each read now."""
    found = standings_of(session, client, actor_code, now)
    return Represented([s.subject for s in found.standings if s.live], found.unavailable)


@dataclass
class Standings:
    """Every right the actor holds or held (children, companies, delegations), read now, and the registries
    that could not be asked."""

    standings: list[Standing]
    unavailable: list[str]


def standings_of(
    session: Session, client: PlatformClient, actor_code: str, now: datetime | None = None
) -> Standings:
    """The actor's children and companies as the registries answer now, and the delegations he holds (still
    pending or accepted), each with whether it lets him act now. Asks about the actor only."""
    moment = now or utcnow()
    today = tehran_today(moment)
    standings: list[Standing] = []
    unavailable: list[str] = []
    for name, reader in (("family", _family), ("companies", _boards)):
        try:
            standings.extend(reader(client, actor_code, today))
        except RepresentationUnavailable:
            unavailable.append(name)
    standings.extend(reversed(_held(session, actor_code, moment)))
    return Standings(standings, unavailable)


def right_over(
    session: Session,
    client: PlatformClient,
    actor_code: str,
    *,
    kind: SubjectKind,
    code: str,
    now: datetime | None = None,
) -> list[Standing]:
    """The grounds on which the actor may act for the subject now, for at least one service (the switch's
    check; each act is checked again for its service with `authorize`). Raises NotRepresentative with the
    reason (a child turned 18, a term ended, a delegation revoked or expired, no link at all) or
    RepresentationUnavailable. Asks the registries about the actor, never about the subject named, so
    naming a stranger makes no inquiry about him."""
    if kind == SubjectKind.PERSON and code == actor_code:
        raise NotRepresentative(
            "Act for yourself without acting for anyone", "برای خودتان بدون «از طرف» اقدام کنید"
        )
    moment = now or utcnow()
    today = tehran_today(moment)
    if kind == SubjectKind.COMPANY:
        candidates = [s for s in _boards(client, actor_code, today) if s.subject.code == code]
    else:
        candidates = _held(session, actor_code, moment, grantor=code)
        if not any(s.live for s in candidates):
            family = [s for s in _family(client, actor_code, today) if s.subject.code == code]
            candidates = family + candidates
    live = [s for s in candidates if s.live]
    if live:
        return live
    if candidates:
        why = candidates[0].reason
        raise NotRepresentative(f"No longer: {why}", reason_fa(why), reason=why)
    raise NotRepresentative(reason="no recorded link")


def authorize(
    session: Session,
    client: PlatformClient,
    actor_code: str,
    *,
    kind: SubjectKind,
    code: str,
    slug: str,
    accepts: Collection[Relation],
    now: datetime | None = None,
) -> Subject:
    """The ground on which the actor may apply for `slug` for the subject now; raises NotRepresentative
    (nothing links them, or the service accepts no such ground) or RepresentationUnavailable."""
    today = tehran_today(now or utcnow())
    if kind == SubjectKind.PERSON and code == actor_code:
        raise NotRepresentative(
            "Apply for yourself without acting for anyone", "برای خودتان بدون «از طرف» اقدام کنید"
        )
    if kind == SubjectKind.PERSON and Relation.DELEGATE in accepts:
        for delegation in delegations_to(session, actor_code, now):
            if delegation.grantor_code == code and slug in delegation.slugs:
                return _delegation_subject(delegation)
    if kind == SubjectKind.PERSON and Relation.PARENT in accepts:
        child = _answer(_ask(client, "civil-registry.family", code, {"national_code": code}), "family")
        links = [
            link for link in (child or {}).get("guardians") or [] if link.get("national_code") == actor_code
        ]
        if child is not None and links:
            why = guardianship_holds(links[0], child, today)
            if why is not None:
                raise NotRepresentative(f"No longer: {why}", reason_fa(why), reason=why)
            role_fa, role_en = GUARDIAN_ROLES.get(str(links[0].get("relation")), GUARDIAN_ROLES["guardian"])
            return Subject(SubjectKind.PERSON, code, _full_name(child), Relation.PARENT, role_fa, role_en)
    if kind == SubjectKind.COMPANY and Relation.COMPANY in accepts:
        company = _answer(
            _ask(client, "companies.company", code, {"legal_entity_id": code}), "companies.company"
        )
        if company is not None:
            seat, why = officer_holds(company, actor_code, today)
            if seat is not None:
                return Subject(
                    SubjectKind.COMPANY,
                    code,
                    str(company.get("name", "")),
                    Relation.COMPANY,
                    f"نمایندهٔ شرکت: {seat.get('position', '')}",
                    "company representative",
                )
            raise NotRepresentative(f"Not a signatory: {why}", reason_fa(why), reason=why)
    raise NotRepresentative(reason="no recorded link for this service")


_WHY_FA = {
    "the child is 18 or older": "فرزند هجده‌ساله شده است و خودش اقدام می‌کند",
    "the child is deceased": "فرزند در قید حیات نیست",
    "the guardian is deceased": "ولی در قید حیات نیست",
    "the guardianship was ended": "ولایت یا سرپرستی شما به حکم مرجع قانونی پایان یافته است",
    "no birth date": "تاریخ تولد فرزند ثبت نشده است",
    "the company is not active": "شرکت فعال نیست (منحل شده است)",
    "not on the company's board": "شما عضو هیئت‌مدیرهٔ این شرکت نیستید",
    "the term has ended": "دورهٔ سمت شما در شرکت پایان یافته است",
    "no right to sign": "شما حق امضا از طرف این شرکت را ندارید",
    "the delegation is not yet accepted": "وکیل هنوز این وکالت‌نامه را نپذیرفته است",
    "the delegation was declined": "وکیل این وکالت‌نامه را نپذیرفت",
    "the delegation was revoked": "این وکالت‌نامه لغو شده است",
    "the delegation has expired": "مدت این وکالت‌نامه به پایان رسیده است",
    "the delegation has not begun": "این وکالت‌نامه هنوز آغاز نشده است",
}


# --- the trail ---------------------------------------------------------------------------------------------


def record_act(
    session: Session,
    *,
    actor_code: str,
    actor_name: str,
    subject: Subject,
    slug: str,
    reference: str | None,
) -> RepresentationAct:
    """An application made for another, in the trail both people see."""
    entry = RepresentationAct(
        actor_code=actor_code,
        actor_name=actor_name,
        subject_kind=subject.kind.value,
        subject_code=subject.code,
        subject_name=subject.name,
        relation=subject.relation.value,
        action="apply",
        slug=slug,
        reference=reference,
        at=utcnow(),
    )
    session.add(entry)
    session.flush()
    log.info(
        "representation.act",
        actor=actor_code,
        subject=subject.code,
        kind=subject.kind.value,
        relation=subject.relation.value,
        slug=slug,
        reference=reference,
    )
    return entry


def record_refusal(
    session: Session, *, actor_code: str, kind: str, code: str, slug: str, reason: str
) -> RepresentationAct:
    """A refused attempt to act for another (kept even though the act itself is not)."""
    entry = RepresentationAct(
        actor_code=actor_code,
        subject_kind=kind,
        subject_code=code[:20],
        action="refused",
        slug=slug[:80],
        detail={"reason": reason[:200]},
        at=utcnow(),
    )
    session.add(entry)
    session.flush()
    log.warning("representation.refused", actor=actor_code, subject=code, kind=kind, slug=slug, reason=reason)
    return entry
