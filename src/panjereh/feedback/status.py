"""Is a service's agency's system answering? Computed from what the platform knows, never typed in.

Two sources: the agency's connection status, which the connection standard decides (`conformance`:
disconnected, or standard lost), and the exchange's circuit breakers (`exchange.resilience`, one per
provider system, in this process) for the data services the service's published definition asks. A
breaker is open after consecutive failures of that system; half open (a probe may pass) still counts as
not answering until a call succeeds and closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies.constants import ConnectionStatus
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.exceptions import ServiceNotFound

CLOSED = "closed"  # exchange.resilience.CircuitBreaker.CLOSED
DOWN_STATUSES = (ConnectionStatus.DISCONNECTED, ConnectionStatus.STANDARD_LOST)

BreakerState = Callable[[str], str]  # system code → "closed" | "open" | "half_open"


@dataclass(frozen=True)
class Outage:
    """One agency system the service depends on that is not answering, and how the platform knows."""

    agency_code: str
    name_fa: str
    name_en: str
    reason: str  # "breaker" (the exchange stopped calling it) | a ConnectionStatus value


def service_outages(
    session: Session, agency_code: str, data_services: Iterable[str], breaker_state: BreakerState
) -> list[Outage]:
    """The outages a service's card and apply page announce: its own agency when the standard says it is
    disconnected or lost the standard, and each provider whose system's breaker is not closed."""
    outages: dict[str, Outage] = {}
    own = agency_selectors.find_agency_by_code(session, agency_code)
    if own is not None and own.connection_status in DOWN_STATUSES:
        outages[own.code] = Outage(own.code, own.name_fa, own.name_en, own.connection_status.value)
    for code in sorted(set(data_services)):
        try:
            service = exchange_selectors.get_service_by_code(session, code)
        except ServiceNotFound:
            continue  # a definition naming a retired data service is the authoring check's finding
        if breaker_state(service.system.code) != CLOSED and service.provider.code not in outages:
            provider = service.provider
            outages[provider.code] = Outage(provider.code, provider.name_fa, provider.name_en, "breaker")
    return list(outages.values())


@dataclass(frozen=True)
class SystemState:
    """One agency system on the platform's status page."""

    code: str
    name_fa: str
    breaker: str


@dataclass(frozen=True)
class AgencyState:
    """An agency with its connection status and its systems' breakers."""

    code: str
    name_fa: str
    name_en: str
    status: ConnectionStatus
    systems: list[SystemState]

    @property
    def answering(self) -> bool:
        return self.status not in DOWN_STATUSES and all(s.breaker == CLOSED for s in self.systems)


def platform_status(session: Session, breaker_state: BreakerState) -> list[AgencyState]:
    """Every agency that has a system, not answering first, then by code."""
    systems: dict[str, list[SystemState]] = {}
    for system in agency_selectors.list_systems(session):
        state = SystemState(system.code, system.name_fa, breaker_state(system.code))
        systems.setdefault(system.agency_id, []).append(state)
    states = [
        AgencyState(agency.code, agency.name_fa, agency.name_en, agency.connection_status, systems[agency.id])
        for agency in agency_selectors.agencies_with_systems(session)
        if agency.id in systems
    ]
    return sorted(states, key=lambda state: (state.answering, state.code))
