"""What every simulated registry knows of a person, shared by the personas and the generated population."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from panjereh.core.persian import to_persian_digits


@dataclass(frozen=True, slots=True)
class CivilRecord:
    """Who the civil registry says a person is: the names are never typed by the citizen."""

    national_code: str
    first_name: str
    last_name: str
    father_name: str
    gender: str
    birth_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A structured Iranian postal address."""

    province: str
    city: str
    street: str
    alley: str | None = None
    plaque: int
    unit: int | None = None
    postal_code: str

    def text(self) -> str:
        """The address written out in Persian, the way an envelope shows it."""
        parts = [f"استان {self.province}", self.city, f"خیابان {self.street}"]
        if self.alley:
            parts.append(f"کوچه {self.alley}")
        parts.append(f"پلاک {to_persian_digits(self.plaque)}")
        if self.unit:
            parts.append(f"واحد {to_persian_digits(self.unit)}")
        return "، ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields plus the written-out text."""
        return {**asdict(self), "text": self.text()}
