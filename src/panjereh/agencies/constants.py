"""The agencies' public values: what kind of body an agency is and its connection status."""

from __future__ import annotations

import enum


class AgencyKind(enum.StrEnum):
    """What sort of body an agency is; ministries sit at the top of the hierarchy."""

    MINISTRY = "ministry"
    ORGANIZATION = "organization"
    SUBSIDIARY = "subsidiary"
    COMPANY = "company"
    JUDICIARY = "judiciary"
    OTHER = "other"


class ConnectionStatus(enum.StrEnum):
    """The agency's connection to the window, as the connection-standard checks last found it."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    STANDARD_LOST = "standard_lost"  # connected once, now failing the standard and reconnecting
    DISCONNECTED = "disconnected"  # unreachable past the threshold, or suspended
