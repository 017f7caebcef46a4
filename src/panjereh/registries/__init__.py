"""Simulated agency registries (civil registry, Shahkar, Post, Tax, ...) as separate HTTP apps.

The platform never imports this package: it reaches the registries over HTTP only (an
import-linter contract holds that). Start them with ``serve()`` or ``python -m panjereh.registries``.
"""

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing a data module (population, catalog) does not build FastAPI apps.
    if name == "create_app":
        from panjereh.registries.app import create_app

        return create_app
    if name == "serve":
        from panjereh.registries.server import serve

        return serve
    raise AttributeError(name)
