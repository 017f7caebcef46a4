"""Staff roles (public: the workspace's routes name the roles they admit)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A role a person holds in an agency's workspace, or on the platform (operator)."""

    ADMINISTRATOR = "administrator"  # manages the agency's staff, apps and keys
    DESIGNER = "designer"  # authors service definitions
    DEVELOPER = "developer"  # publishes data services, registers apps and exchange keys
    OFFICER = "officer"  # works the agency's human queue
    REVIEWER = "reviewer"  # reviews and publishes another person's draft (four eyes)
    # The platform operator (the ministry's digital-government centre): manages agencies and their
    # administrators, approves production registrations. An operator membership has no agency.
    OPERATOR = "operator"


AGENCY_ROLES = tuple(role for role in Role if role is not Role.OPERATOR)
ROLE_LABELS_FA = {
    Role.ADMINISTRATOR: "مدیر دستگاه",
    Role.DESIGNER: "طراح خدمت",
    Role.DEVELOPER: "توسعه‌دهنده",
    Role.OFFICER: "کارشناس",
    Role.REVIEWER: "بازبین",
    Role.OPERATOR: "راهبر پنجره",
}
ROLE_LABELS_EN = {
    Role.ADMINISTRATOR: "Administrator",
    Role.DESIGNER: "Service designer",
    Role.DEVELOPER: "Developer",
    Role.OFFICER: "Officer",
    Role.REVIEWER: "Reviewer",
    Role.OPERATOR: "Platform operator",
}
# The path segment of the operators' workspace (`/workspace/operator`): no agency may take this code.
OPERATOR_SCOPE = "operator"


class Environment(enum.StrEnum):
    """Where a registration takes effect: the sandbox at once, production after an operator's approval."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


class RegistrationKind(enum.StrEnum):
    """What an agency registers from its workspace."""

    DATA_SERVICE = "data_service"  # a data service published on the exchange
    OIDC_CLIENT = "oidc_client"  # an app that signs citizens in with the national login
    EXCHANGE_CLIENT = "exchange_client"  # a system that calls the exchange with its keys


class RegistrationState(enum.StrEnum):
    """A registration's life: in effect, waiting for an operator, or refused."""

    ACTIVE = "active"
    PENDING = "pending"
    REFUSED = "refused"
