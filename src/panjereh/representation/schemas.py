"""Acting-for-others API shapes: whom the citizen may act for, whom he acts for now, his delegations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, Field

from panjereh.core.schemas import shape_of
from panjereh.representation.constants import MAX_DELEGATION_DAYS, MAX_DELEGATION_SERVICES
from panjereh.representation.models import Delegation
from panjereh.representation.service import Standing, delegation_holds, reason_fa

ON_BEHALF_OF = (
    "`self`, `person:<national code>` (a minor child, a delegator) or `company:<legal-entity ID>` "
    "(the same value the portal's forms send)"
)
Titles = Mapping[str, tuple[str, str]]


class ServiceName(BaseModel):
    """A service by its slug, with its name."""

    slug: str
    title_fa: str
    title_en: str

    @classmethod
    def named(cls, slug: str, titles: Titles) -> ServiceName:
        title_fa, title_en = titles.get(slug, (slug, slug))
        return cls(slug=slug, title_fa=title_fa, title_en=title_en)


class SubjectOut(BaseModel):
    """Someone the citizen may act for (or himself), the ground, and whether it holds now."""

    on_behalf_of: str = Field(description=ON_BEHALF_OF, examples=["person:0790419904"])
    kind: str = Field(description="person | company")
    code: str = Field(description="National code (person) or legal-entity ID (company)")
    name: str
    relation: str = Field(description="self | parent | company | delegate")
    basis_fa: str = Field(description="The ground in Persian, e.g. «ولی: پدر», «نمایندهٔ شرکت: مدیرعامل»")
    basis_en: str
    services: list[ServiceName] | None = Field(
        description="A delegation's services; null: every service that accepts this ground"
    )
    live: bool = Field(description="Whether the ground lets the citizen act now (asked live)")
    reason_fa: str | None = Field(description="Why it does not, when it does not")
    reason_en: str | None
    delegation_id: str | None = Field(description="The delegation a `delegate` ground rests on")
    valid_until: datetime | None = Field(description="The delegation's end")

    @classmethod
    def myself(cls, code: str, name: str) -> SubjectOut:
        return cls(
            on_behalf_of="self",
            kind="person",
            code=code,
            name=name,
            relation="self",
            basis_fa="خودم",
            basis_en="myself",
            services=None,
            live=True,
            reason_fa=None,
            reason_en=None,
            delegation_id=None,
            valid_until=None,
        )

    @classmethod
    def of(cls, standing: Standing, titles: Titles) -> SubjectOut:
        subject, delegation = standing.subject, standing.delegation
        return cls(
            on_behalf_of=subject.token,
            kind=subject.kind.value,
            code=subject.code,
            name=subject.name,
            relation=subject.relation.value,
            basis_fa=subject.role_fa,
            basis_en=subject.role_en,
            services=None
            if subject.slugs is None
            else [ServiceName.named(slug, titles) for slug in sorted(subject.slugs)],
            live=standing.live,
            reason_fa=None if standing.live else standing.reason_fa,
            reason_en=None if standing.live else standing.reason,
            delegation_id=delegation.id if delegation is not None else None,
            valid_until=delegation.valid_until if delegation is not None else None,
        )


class SubjectsOut(BaseModel):
    """Everyone the citizen may act for (himself first), read live, and what could not be asked."""

    current: str = Field(description="Whom the switch remembers: " + ON_BEHALF_OF)
    subjects: list[SubjectOut]
    unavailable: list[str] = Field(
        description="Registries that could not be asked now (family, companies): their subjects are missing"
    )


class ActingFor(BaseModel):
    """Whom to act for from now on (each act is checked again, live, for its service)."""

    on_behalf_of: str = Field(max_length=40, description=ON_BEHALF_OF, examples=["company:77111986110"])


class ActingOut(BaseModel):
    """Whom the citizen acts for now, and whether his right over the subject still holds (asked live)."""

    on_behalf_of: str = Field(description=ON_BEHALF_OF)
    live: bool = Field(description="Whether he may act for the subject now (always true for self)")
    reason_fa: str | None = Field(description="Why not, when not")
    reason_en: str | None
    grounds: list[SubjectOut] = Field(description="The grounds that hold now (empty for self)")


class DelegationIn(BaseModel):
    """A delegation to grant: the delegate's national code, the services, the days it lasts."""

    delegate: str = Field(max_length=20, examples=["0499370899"])
    services: list[str] = Field(
        max_length=50,
        description=f"1 to {MAX_DELEGATION_SERVICES} published services' slugs",
        examples=[["tax-clearance"]],
    )
    days: int = Field(description=f"1 to {MAX_DELEGATION_DAYS}", examples=[30])


class DelegationOut(BaseModel):
    """A delegation the citizen granted or holds."""

    id: str
    grantor_code: str
    grantor_name: str
    delegate_code: str
    delegate_name: str
    services: list[ServiceName]
    status: str = Field(description="pending | active | declined | revoked")
    in_force: bool = Field(description="Whether it lets the delegate act now")
    reason_fa: str | None = Field(description="Why it does not, when it does not")
    reason_en: str | None
    valid_from: datetime
    valid_until: datetime
    created_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None

    @classmethod
    def of(cls, delegation: Delegation, titles: Titles, now: datetime) -> DelegationOut:
        why = delegation_holds(delegation, now)
        return shape_of(
            cls,
            delegation,
            services=[ServiceName.named(slug, titles) for slug in delegation.slugs],
            status=delegation.status.value,
            in_force=why is None,
            reason_fa=reason_fa(why) if why else None,
            reason_en=why,
        )


class DelegationsOut(BaseModel):
    granted: list[DelegationOut]
    held: list[DelegationOut]
