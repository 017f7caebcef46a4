"""What a definition reads, and whether its agency holds it: an approved production grant in force, or a
data service of its own (issue 16, item 3: "only data services the agency holds a grant for").

The rule itself is the exchange's (`exchange_selectors.services_not_held`, the editor's directory uses
it too); here it is applied to definitions: `missing_grants` for the editor's warning on a draft,
`require_grants` for every path to review and to publication (delivery.store).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from panjereh.delivery.exceptions import GrantMissing
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.exceptions import ServiceNotFound as ExchangeServiceNotFound


@dataclass(frozen=True)
class MissingGrant:
    """A data service a definition reads that its agency may not read yet, and who would grant it."""

    service: str
    title_fa: str
    title_en: str
    provider: str  # the provider agency's code; empty when the directory does not list the service


def inquired_services(body: dict[str, Any]) -> list[str]:
    """The data services a definition document's evidence reads by inquiry (any document: a draft's text
    too, so the editor can warn before it is valid)."""
    evidence = body.get("evidence") if isinstance(body, dict) else None
    return sorted(
        {
            str(item["service"])
            for item in (evidence if isinstance(evidence, list) else [])
            if isinstance(item, dict) and item.get("source") == "inquiry" and item.get("service")
        }
    )


def _missing(session: Session, wanted: dict[str, set[str]]) -> dict[str, list[MissingGrant]]:
    # Production grants only: publishing serves real people. A dry run is not publishing: it calls through
    # the platform's sandbox client under the sandbox's standing grants, test personas only, as before.
    lacking = exchange_selectors.services_not_held(session, wanted, sandbox=False)
    codes = {code for agency_codes in lacking.values() for code in agency_codes}
    named = {code: _named(session, code) for code in codes}
    return {agency: [named[code] for code in agency_codes] for agency, agency_codes in lacking.items()}


def _named(session: Session, code: str) -> MissingGrant:
    try:
        service = exchange_selectors.get_service_by_code(session, code)
    except ExchangeServiceNotFound:
        return MissingGrant(code, code, code, "")
    return MissingGrant(code, service.title_fa, service.title_en, service.provider.code)


def missing_grants(session: Session, agency_code: str, body: dict[str, Any]) -> list[MissingGrant]:
    """What a definition document reads that its agency holds no approved production grant for."""
    return _missing(session, {agency_code: set(inquired_services(body))})[agency_code]


def require_grants(session: Session, items: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Refuse (GrantMissing, naming every service and its provider) unless each (slug, agency, body) reads
    only data services its agency holds. One check for every path to review and to publication: the
    reviewer's, the import's (the CLI, the demo's seed) and the designer's submission."""
    wanted: dict[str, set[str]] = {}
    for _slug, agency, body in items:
        wanted.setdefault(agency, set()).update(inquired_services(body))
    missing = _missing(session, wanted)
    lines_en, lines_fa, services = [], [], set()
    for slug, agency, body in items:
        reads = set(inquired_services(body))
        for item in missing[agency]:
            if item.service not in reads:
                continue
            services.add(item.service)
            ask_en = f"ask {item.provider} for it" if item.provider else "no agency publishes it"
            ask_fa = (
                f"آن را از {item.provider} درخواست کنید"
                if item.provider
                else "هیچ دستگاهی آن را منتشر نکرده است"
            )
            prefix = f"{slug}: " if len(items) > 1 else ""
            lines_en.append(
                f"{prefix}{agency} holds no approved grant for the data service {item.service} "
                f"({item.title_en}); {ask_en}"
            )
            lines_fa.append(
                f"{prefix}دستگاه {agency} مجوز تأییدشدهٔ سرویس دادهٔ «{item.title_fa}» ({item.service}) "
                f"را ندارد؛ {ask_fa}"
            )
    if lines_en:
        raise GrantMissing("; ".join(lines_en) + ".", "؛ ".join(lines_fa) + ".", services=sorted(services))
