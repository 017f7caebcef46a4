"""Feedback's reads: a citizen's own rating and reports, an agency's reports, and the scorecard's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.feedback.constants import ProblemCategory, ReportState
from panjereh.feedback.exceptions import ReportNotFound
from panjereh.feedback.models import ProblemReport, Rating

UNANSWERED = (ReportState.OPEN, ReportState.ACKNOWLEDGED)


def rating_of(session: Session, national_code: str, slug: str) -> Rating | None:
    """The citizen's rating of a service, if they gave one."""
    return session.scalar(
        select(Rating).where(Rating.national_code == national_code, Rating.service_slug == slug)
    )


def reports_of_citizen(session: Session, national_code: str, limit: int = 100) -> Sequence[ProblemReport]:
    """The citizen's own problem reports, newest first, with the agencies' replies."""
    return session.scalars(
        select(ProblemReport)
        .where(ProblemReport.national_code == national_code)
        .order_by(ProblemReport.created_at.desc(), ProblemReport.id)
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class AgencyReport:
    """A report as the agency's staff see it: the reporter named only when they did not ask otherwise."""

    id: str
    reporter: str | None  # national code; None when the citizen reported anonymously
    service_slug: str
    tracking_code: str | None
    category: ProblemCategory
    text: str
    state: ReportState
    reply: str | None
    created_at: object
    resolved_at: object

    @classmethod
    def of(cls, row: ProblemReport) -> AgencyReport:
        return cls(
            id=row.id,
            reporter=None if row.anonymous else row.national_code,
            service_slug=row.service_slug,
            # A request's tracking code leads back to its applicant: hidden with the name.
            tracking_code=None if row.anonymous else row.tracking_code,
            category=row.category,
            text=row.text,
            state=row.state,
            reply=row.reply,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )


def reports_of_agency(
    session: Session, agency_code: str, state: ReportState | None = None, limit: int = 200
) -> list[AgencyReport]:
    """The problem reports about an agency's services (unanswered first), as its staff see them."""
    query = select(ProblemReport).where(ProblemReport.agency_code == agency_code)
    if state is not None:
        query = query.where(ProblemReport.state == state)
    rows = session.scalars(
        query.order_by(ProblemReport.created_at.desc(), ProblemReport.id).limit(limit)
    ).all()
    ordered = sorted(rows, key=lambda row: row.state is ReportState.RESOLVED)  # stable: newest first within
    return [AgencyReport.of(row) for row in ordered]


def agency_report(session: Session, agency_code: str, report_id: str) -> AgencyReport:
    """One report about the agency's services; another agency's is not found."""
    row = session.get(ProblemReport, report_id) if len(report_id) <= 32 else None
    if row is None or row.agency_code != agency_code:
        raise ReportNotFound()
    return AgencyReport.of(row)


@dataclass(frozen=True)
class Average:
    """Ratings of a service or an agency: the count always, the average only from `minimum` ratings."""

    count: int
    total: int
    minimum: int

    @property
    def enough(self) -> bool:
        return self.count >= self.minimum

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 1) if self.enough and self.count else None


@dataclass(frozen=True)
class FeedbackScore:
    """What citizens said about an agency's services, for its scorecard."""

    agency: Average
    services: list[tuple[str, Average]]  # (slug, ratings), most rated first
    open_reports: dict[ProblemCategory, int] = field(default_factory=dict)

    @property
    def open_total(self) -> int:
        return sum(self.open_reports.values())


def service_average(session: Session, slug: str, minimum: int, agency_code: str | None = None) -> Average:
    """The ratings of one service (the card shows them under the small-count rule); naming the service's
    agency lets the lookup use the (agency, service) index."""
    query = select(func.count(Rating.id), func.coalesce(func.sum(Rating.stars), 0)).where(
        Rating.service_slug == slug
    )
    if agency_code is not None:
        query = query.where(Rating.agency_code == agency_code)
    count, total = session.execute(query).one()
    return Average(int(count), int(total), minimum)


def agency_score(session: Session, agency_code: str, minimum: int) -> FeedbackScore:
    """Average rating with its count per service and for the agency; unanswered reports by category."""
    rows = session.execute(
        select(Rating.service_slug, func.count(Rating.id), func.sum(Rating.stars))
        .where(Rating.agency_code == agency_code)
        .group_by(Rating.service_slug)
    ).all()
    services = sorted(
        ((slug, Average(int(count), int(total), minimum)) for slug, count, total in rows),
        key=lambda pair: (-pair[1].count, pair[0]),
    )
    overall = Average(sum(a.count for _, a in services), sum(a.total for _, a in services), minimum)
    open_rows = session.execute(
        select(ProblemReport.category, func.count(ProblemReport.id))
        .where(ProblemReport.agency_code == agency_code, ProblemReport.state.in_(UNANSWERED))
        .group_by(ProblemReport.category)
    ).all()
    return FeedbackScore(overall, services, {category: int(n) for category, n in open_rows})
