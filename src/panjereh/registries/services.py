"""The machine-readable list of simulated registries and their data services (``services.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SERVICES_YAML = Path(__file__).with_name("services.yaml")


@dataclass(frozen=True, slots=True)
class DataService:
    """One inquiry a registry answers."""

    code: str
    title_fa: str
    title_en: str
    method: str
    path: str
    personal_data: bool
    subject: str | None


@dataclass(frozen=True, slots=True)
class Registry:
    """One simulated agency system, mounted under ``prefix``."""

    code: str
    prefix: str
    name_fa: str
    name_en: str
    agency_code: str
    agency_fa: str
    agency_en: str
    services: tuple[DataService, ...]


def _registry(raw: dict) -> Registry:
    services = tuple(
        DataService(
            s["code"],
            s["title"]["fa"],
            s["title"]["en"],
            s["method"],
            s["path"],
            bool(s["personal_data"]),
            s.get("subject"),
        )
        for s in raw["services"]
    )
    agency = raw["agency"]
    return Registry(
        raw["code"],
        raw["prefix"],
        raw["name"]["fa"],
        raw["name"]["en"],
        agency["code"],
        agency["fa"],
        agency["en"],
        services,
    )


def published_services() -> dict[str, Any]:
    """The data services as the plain document the registries publish (``services.yaml``): what the
    command that seeds the demo hands to the exchange, which never reads the registries' files."""
    document: dict[str, Any] = yaml.safe_load(SERVICES_YAML.read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=1)
def load_services(path: Path = SERVICES_YAML) -> tuple[Registry, ...]:
    """Every registry in ``services.yaml``, in file order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(_registry(raw) for raw in data["registries"])


def registry(code: str) -> Registry:
    """The registry with this code; ``KeyError`` if none."""
    for entry in load_services():
        if entry.code == code:
            return entry
    raise KeyError(code)


REGISTRY_CODES = tuple(r.code for r in load_services())
