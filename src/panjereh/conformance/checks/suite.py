"""The suite every check plugin registers itself in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from panjereh.conformance.checks.base import AgencyCheck, Check, SystemCheck

C = TypeVar("C", bound=type[Check])


class Suite:
    """Checks by stable id, in their display order."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def __call__(self, check_class: C) -> C:
        """Register a check class (used as a decorator); ids are unique."""
        if check_class.id in self._checks:
            raise ValueError(f"check {check_class.id!r} is registered twice")
        self._checks[check_class.id] = check_class()
        return check_class

    def __iter__(self) -> Iterator[Check]:
        return iter(sorted(self._checks.values(), key=lambda check: (check.order, check.id)))

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def get(self, check_id: str) -> Check | None:
        return self._checks.get(check_id)

    def system_checks(self) -> list[SystemCheck]:
        return [check for check in self if isinstance(check, SystemCheck)]

    def agency_checks(self) -> list[AgencyCheck]:
        return [check for check in self if isinstance(check, AgencyCheck)]


standard = Suite()
register = standard
