"""Identity's registration checks answered through the exchange: Shahkar and the civil registry, asked
as the platform (`identity.registration.RegistrationChecks`; the application wires this answerer in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from panjereh.exchange.exceptions import ProviderUnavailable
from panjereh.identity.exceptions import RegistryUnavailable

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

PURPOSE = "identity.registration"


class ExchangeRegistrationChecks:
    """Shahkar's match and the civil registry's record, each one inquiry through the platform's client."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client

    def mobile_matches(self, national_code: str, mobile: str) -> bool:
        try:
            match = self.client.inquire(
                "shahkar.match",
                subject=national_code,
                purpose=PURPOSE,
                body={"national_code": national_code, "mobile": mobile},
            )
        except ProviderUnavailable as exc:
            raise RegistryUnavailable() from exc
        if not match.ok:
            raise RegistryUnavailable(f"Shahkar answered {match.status}", f"پاسخ شاهکار: {match.status}")
        return bool((match.data or {}).get("matched"))

    def person(self, national_code: str) -> Mapping[str, Any] | None:
        try:
            found = self.client.inquire(
                "civil-registry.person",
                subject=national_code,
                purpose=PURPOSE,
                path_params={"national_code": national_code},
            )
        except ProviderUnavailable as exc:
            raise RegistryUnavailable() from exc
        if found.status == 404:
            return None
        if not found.ok:
            raise RegistryUnavailable(
                f"Civil registry answered {found.status}", f"پاسخ ثبت احوال: {found.status}"
            )
        data: Mapping[str, Any] = found.data or {}
        return data
