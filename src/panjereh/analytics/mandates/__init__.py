"""The fiscal-year mandates as versioned data files with legal references, and their evaluation.

Each `<year>.yaml` beside this module lists that year's duties (metric, target fraction, due date,
legal reference). Evaluation is pure: the figures in, a verdict per agency and duty out.
Rules (our model, stated so they can be argued with):
- a figure counts for a year when its period falls inside that fiscal year (the newest one wins;
  a measurement from the platform beats a report of the same month);
- a target is met when the figure reaches it exactly or more (30.0% meets "at least 30%");
- an agency with no services (a measured denominator of 0) has nothing to deliver: its share duties
  are "not applicable", never met or failed;
- an agency that is not connected delivers nothing through the window whatever its inventory says:
  its share duties fail with the reason "not connected".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from panjereh.analytics.exceptions import InvalidMandateFile, MandateYearUnknown
from panjereh.analytics.models import METRICS
from panjereh.analytics.shares import Figure
from panjereh.core.jalali import fiscal_year_bounds, from_jalali
from panjereh.core.persian import to_persian_digits

MANDATE_DIR = Path(__file__).resolve().parent
EPSILON = 1e-9  # shares are stored as floats; 0.1 + 0.2 must still meet 0.3

MET, NOT_MET, NO_DATA, NOT_APPLICABLE = "met", "not_met", "no_data", "not_applicable"
# The agencies' connection states (agencies.models.ConnectionStatus), as a connected figure's note names
# them: "standard_lost" is connected once and reconnecting, "disconnected" is cut off.
CONNECTION_STATES = ("connected", "standard_lost", "disconnected", "not_connected")


@dataclass(frozen=True)
class Duty:
    code: str
    metric: str
    target: float
    due: date
    title_fa: str
    title_en: str
    reference_fa: str
    reference_en: str


@dataclass(frozen=True)
class Mandate:
    fiscal_year: int
    version: int
    title_fa: str
    title_en: str
    law_fa: str
    law_en: str
    headline: str
    duties: tuple[Duty, ...]

    @property
    def bounds(self) -> tuple[date, date]:
        return fiscal_year_bounds(self.fiscal_year)


def available_years() -> list[int]:
    return sorted(int(path.stem) for path in MANDATE_DIR.glob("[0-9][0-9][0-9][0-9].yaml"))


def dashboard_year() -> int:
    """The duties' year the dashboard opens on: 1402 (the article's year, the demo's) when its mandate is
    on file, else the newest year on file."""
    years = available_years()
    return 1402 if 1402 in years else years[-1]


@lru_cache(maxsize=16)
def load_mandate(year: int) -> Mandate:
    """The mandate file of a fiscal year (MandateYearUnknown when there is none)."""
    path = MANDATE_DIR / f"{year}.yaml"
    if not path.exists():
        known = available_years()
        raise MandateYearUnknown(
            f"No mandates on file for fiscal year {year}; known years: {', '.join(map(str, known))}.",
            f"برای سال مالی {to_persian_digits(year)} تکلیفی ثبت نشده است؛ سال‌های ثبت‌شده: "
            f"{'، '.join(to_persian_digits(y) for y in known)}.",
        )
    return parse_mandate(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def parse_mandate(data: dict[str, Any], origin: str = "<data>") -> Mandate:
    """Validate a mandate document; every duty needs a known metric, a 0..1 target and a real due date."""
    try:
        duties = []
        for item in data["duties"]:
            if item["metric"] not in METRICS:
                raise ValueError(f"unknown metric {item['metric']!r}")
            target = float(item["target"])
            if not 0.0 <= target <= 1.0:
                raise ValueError(f"target {target} is not a fraction in 0..1")
            year, month, day = (int(part) for part in str(item["due"]).split("-"))
            duties.append(
                Duty(
                    code=item["code"],
                    metric=item["metric"],
                    target=target,
                    due=from_jalali(year, month, day),
                    title_fa=item["title_fa"],
                    title_en=item["title_en"],
                    reference_fa=item["reference"]["fa"],
                    reference_en=item["reference"]["en"],
                )
            )
        headline = data.get("headline", duties[0].code)
        if headline not in {duty.code for duty in duties}:
            raise ValueError(f"headline {headline!r} is not one of the duties")
        return Mandate(
            fiscal_year=int(data["fiscal_year"]),
            version=int(data["version"]),
            title_fa=data["title_fa"],
            title_en=data["title_en"],
            law_fa=data["law"]["fa"],
            law_en=data["law"]["en"],
            headline=headline,
            duties=tuple(duties),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InvalidMandateFile(f"{origin}: {exc}", f"پروندهٔ تکالیف {origin} معتبر نیست: {exc}") from exc


@dataclass(frozen=True)
class DutyResult:
    duty: Duty
    status: str  # met | not_met | no_data | not_applicable
    value: float | None
    figure: Figure | None
    reason: str | None = None

    @property
    def margin(self) -> float | None:
        """Value minus target, in fraction points (negative = short of the duty by that much)."""
        return None if self.value is None else self.value - self.duty.target

    @property
    def met(self) -> bool:
        return self.status == MET


@dataclass
class AgencyCompliance:
    agency_code: str
    name_fa: str
    name_en: str
    connected: bool | None
    results: dict[str, DutyResult] = field(default_factory=dict)
    connection_status: str | None = None  # one of CONNECTION_STATES, None when the figure does not say

    @property
    def met_count(self) -> int:
        return sum(1 for result in self.results.values() if result.met)

    @property
    def evaluated_count(self) -> int:
        return sum(1 for result in self.results.values() if result.status in (MET, NOT_MET))

    @property
    def all_met(self) -> bool:
        return self.evaluated_count > 0 and self.met_count == self.evaluated_count


@dataclass(frozen=True)
class AgencyRef:
    code: str
    name_fa: str
    name_en: str


def evaluate(
    mandate: Mandate, agencies: list[AgencyRef], figures: dict[tuple[str, str], Figure]
) -> list[AgencyCompliance]:
    """Each agency against each duty; `figures` are the year's newest per (agency, metric)."""
    report = []
    for agency in agencies:
        connected_figure = figures.get((agency.code, "connected"))
        connected = None if connected_figure is None else connected_figure.value >= 1.0 - EPSILON
        row = AgencyCompliance(
            agency.code,
            agency.name_fa,
            agency.name_en,
            connected,
            connection_status=connection_status(
                None if connected_figure is None else connected_figure.value,
                None if connected_figure is None else connected_figure.note,
            ),
        )
        for duty in mandate.duties:
            row.results[duty.code] = evaluate_duty(duty, figures.get((agency.code, duty.metric)), connected)
        report.append(row)
    return rank(mandate, report)


def connection_status(value: float | None, note: str | None) -> str | None:
    """Which of CONNECTION_STATES a connected figure records (its note), or None when it does not say."""
    if value is None:
        return None
    if note in CONNECTION_STATES:
        return note
    return "connected" if value >= 1.0 - EPSILON else None


def evaluate_duty(duty: Duty, figure: Figure | None, connected: bool | None) -> DutyResult:
    """One agency against one duty."""
    if duty.metric != "connected" and connected is False:
        return DutyResult(duty, NOT_MET, 0.0, figure, reason="not_connected")
    if figure is None:
        return DutyResult(duty, NO_DATA, None, None)
    if duty.metric != "connected" and figure.base == 0:
        return DutyResult(duty, NOT_APPLICABLE, None, figure, reason="no_services")
    met = figure.value + EPSILON >= duty.target
    return DutyResult(duty, MET if met else NOT_MET, figure.value, figure)


def rank(mandate: Mandate, rows: list[AgencyCompliance]) -> list[AgencyCompliance]:
    """Leaders first by the year's headline figure; not connected and no data last (stable by code)."""

    def key(row: AgencyCompliance) -> tuple[int, float, str]:
        result = row.results[mandate.headline]
        if row.connected is False:
            return (2, 0.0, row.agency_code)
        if result.value is None:
            return (3, 0.0, row.agency_code)
        return (0, -result.value, row.agency_code)

    return sorted(rows, key=key)
