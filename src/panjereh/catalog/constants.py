"""The values a service card's fields take (public: other domains and the pages compare with them)."""

from __future__ import annotations

import enum


class ServiceKind(enum.StrEnum):
    """Who receives the service: citizens, businesses or other agencies."""

    G2C = "G2C"
    G2B = "G2B"
    G2G = "G2G"


class LifeEvent(enum.StrEnum):
    """The life events the catalog is browsed by (domain.md §1)."""

    BIRTH = "birth"
    EDUCATION = "education"
    HEALTH = "health"
    TAX = "tax"
    BUSINESS = "business"
    SOCIAL_SECURITY = "social_security"
    PROPERTY = "property"
    UTILITIES = "utilities"
    INSURANCE = "insurance"
    MARRIAGE = "marriage"
    RETIREMENT = "retirement"
    DOCUMENTS = "documents"
    DEATH = "death"
    OTHER = "other"


class Initiation(enum.StrEnum):
    """How a service starts."""

    CITIZEN_REQUEST = "citizen_request"
    DATE_REACHED = "date_reached"
    EVENT = "event"
    AGENCY_DECISION = "agency_decision"


class Channel(enum.StrEnum):
    """Where a service can be received."""

    WEB = "web"
    APP = "app"
    SMS = "sms"
    IVR = "ivr"
    COUNTER = "counter"  # government counters «پیشخوان دولت»
    POST = "post"
    IN_PERSON = "in_person"  # the agency's own office
