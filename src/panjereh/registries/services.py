"""The machine-readable list of simulated registries and their data services (``services.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from panjereh.core.publications import RegistryRecord, read_registries

SERVICES_YAML = Path(__file__).with_name("services.yaml")


def published_services() -> dict[str, Any]:
    """The data services as the plain document the registries publish (``services.yaml``): what the
    command that seeds the demo hands to the exchange, which never reads the registries' files."""
    document: dict[str, Any] = yaml.safe_load(SERVICES_YAML.read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=1)
def load_services(path: Path = SERVICES_YAML) -> tuple[RegistryRecord, ...]:
    """Every registry in ``services.yaml``, in file order (read as the exchange reads a document)."""
    return tuple(read_registries(yaml.safe_load(path.read_text(encoding="utf-8"))))


def registry(code: str) -> RegistryRecord:
    """The registry with this code; ``KeyError`` if none."""
    for entry in load_services():
        if entry.code == code:
            return entry
    raise KeyError(code)


REGISTRY_CODES = tuple(r.code for r in load_services())
