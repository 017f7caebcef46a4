"""The shape of a demo-data step; each domain provides its own in `<domain>/seed.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from panjereh.core.config import Settings

# A step receives the unit of work, the settings and a callback that advances the progress bar.
Advance = Callable[[int], None]


@dataclass(frozen=True)
class SeedStep:
    """One domain's demo data: a name for the progress bar, its size, and the function that loads it."""

    name: str
    total: int
    run: Callable[[Session, Settings, Advance], None]
