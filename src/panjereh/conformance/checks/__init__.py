"""The connection standard's suite of checks (open-forms style): each check is a small plugin with a
stable id, registered in `standard` when its module is imported."""

from __future__ import annotations

# Importing a plugin module registers its checks in the suite.
from panjereh.conformance.checks import cards, oidc, system  # noqa: F401
from panjereh.conformance.checks.suite import standard

__all__ = ["standard"]
