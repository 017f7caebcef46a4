"""The check registry (open-forms style): each check is a small plugin with a stable id."""

from __future__ import annotations

from panjereh.conformance.checks.registry import registry

# Importing the plugin modules registers their checks.
from panjereh.conformance.checks import agency as _agency  # noqa: E402,F401  isort: skip
from panjereh.conformance.checks import system as _system  # noqa: E402,F401  isort: skip

__all__ = ["registry"]
