"""The document a provider files to publish its data services, and the path templates in it.

One format, two sides: the exchange reads a provider's document to register its services (in the demo,
the simulated registries' list, handed over by the command that seeds; the exchange never reads their
files), and the simulated registries read their own to mount themselves. It lives in core so that neither
side imports the other."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class ServiceRecord:
    """One published data service."""

    code: str
    title_fa: str
    title_en: str
    method: str
    path: str
    personal_data: bool
    subject_field: str | None
    latency_objective_ms: int


@dataclass(frozen=True)
class RegistryRecord:
    """One provider system and the services it publishes."""

    code: str
    prefix: str
    name_fa: str
    name_en: str
    agency_code: str
    agency_fa: str
    agency_en: str
    services: tuple[ServiceRecord, ...]


def read_registries(document: Mapping[str, Any]) -> list[RegistryRecord]:
    """Every provider system of a published document (`registries:`), with its services."""
    return [
        RegistryRecord(
            code=entry["code"],
            prefix=entry["prefix"],
            name_fa=entry["name"]["fa"],
            name_en=entry["name"]["en"],
            agency_code=entry["agency"]["code"],
            agency_fa=entry["agency"]["fa"],
            agency_en=entry["agency"]["en"],
            services=tuple(
                ServiceRecord(
                    code=s["code"],
                    title_fa=s["title"]["fa"],
                    title_en=s["title"]["en"],
                    method=s.get("method", "GET").upper(),
                    path=s["path"],
                    personal_data=bool(s.get("personal_data", True)),
                    subject_field=s.get("subject"),
                    latency_objective_ms=int(s.get("latency_objective_ms", 1000)),
                )
                for s in entry.get("services", [])
            ),
        )
        for entry in document["registries"]
    ]


def path_parameters(template: str) -> list[str]:
    """The `{name}` parameters of a path template, in order."""
    return _PARAM.findall(template)


def path_pattern(template: str) -> re.Pattern[str]:
    """A regex matching concrete paths of a template, capturing each parameter by name."""
    parts = _PARAM.split(template)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")
