"""API shapes shared by every domain: building them from domain objects, and the bounded parameter types
every router and page takes (offsets, limits, pages, years, moments), so no number or date a caller
sends can overflow a database column or a date calculation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

Shape = TypeVar("Shape", bound=BaseModel)

# Dates the platform has any business with: a ledger, a grant or a filter outside these years is a
# mistake, and Python's date arithmetic ends at 9999-12-31 (a day after it overflows).
MIN_YEAR = 1900
MAX_YEAR = 2200
# Past any list a person pages through; SQLite and PostgreSQL take at most 2^63 - 1.
MAX_OFFSET = 1_000_000
MAX_PAGE = 100_000
# Jalali fiscal years (the dashboard's and the open data's).
MIN_JALALI_YEAR = 1300
MAX_JALALI_YEAR = 1600


def shape_of(model: type[Shape], source: object, **computed: Any) -> Shape:
    """``model`` from ``computed`` and, for every other field, the attribute of ``source`` of that name."""
    values = {name: getattr(source, name) for name in model.model_fields if name not in computed}
    return model.model_validate({**values, **computed})


def within_years(day: date) -> bool:
    """Whether ``day`` (or a datetime's day) falls in the years the platform accepts."""
    return MIN_YEAR <= day.year <= MAX_YEAR


# What pydantic's lax datetime would also read as seconds since 1970 ("0.5", "2024", 1700000000): the
# document says ISO 8601, so a number is refused rather than taken for a moment in 1970.
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_moment(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError("an ISO 8601 date and time (2024-03-20T10:00:00Z), not a number")
    return value


def _bounded_moment(value: datetime) -> datetime:
    if not within_years(value):
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    # A moment without a zone is read as UTC: stored moments are UTC, and comparing them with a naive
    # one would fail rather than answer.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


Moment = Annotated[
    datetime,
    BeforeValidator(_iso_moment),
    AfterValidator(_bounded_moment),
    Field(description=f"ISO 8601; years {MIN_YEAR}–{MAX_YEAR}; without a zone it is UTC"),
]
"""A date and time a caller sends (body or query): bounded years, always timezone-aware."""

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")]
JalaliYear = Annotated[
    int, Query(ge=MIN_JALALI_YEAR, le=MAX_JALALI_YEAR, description="A Jalali (fiscal) year, e.g. 1402")
]
Hours = Annotated[int, Query(ge=1, le=24 * 366, description="Hours back from now")]

Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return, at most 500")]
