"""OIDC client settings sound: redirect URIs exact and https, PKCE (S256) required (design.md §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from panjereh.conformance.checks.base import AgencyCheck, Outcome, failed, not_applicable, passed
from panjereh.conformance.checks.suite import register
from panjereh.core.config import Settings
from panjereh.oidc import selectors as oidc_selectors

if TYPE_CHECKING:
    from panjereh.agencies.models import Agency

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
NATIVE_LOOPBACK = {"127.0.0.1", "::1"}  # RFC 8252 §7.3, §8.3


def redirect_problem(uri: str, *, production: bool, native: bool = False) -> str | None:
    """Why a redirect URI is not sound, or None: exact (no wildcard, no fragment), https (loopback in dev);
    a native app's loopback IP or reverse-domain private-use scheme (RFC 8252 §7) in production too."""
    parts = urlsplit(uri)
    if "*" in uri:
        return f"{uri} has a wildcard; redirect URIs are matched exactly"
    if parts.fragment:
        return f"{uri} has a fragment"
    if parts.scheme == "https" and parts.hostname:
        return None
    if native and (
        (parts.scheme == "http" and parts.hostname in NATIVE_LOOPBACK)
        or (parts.scheme not in ("http", "https") and "." in parts.scheme)
    ):
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK and not production:
        return None
    return f"{uri} is not https"


@register
class OidcClientSound(AgencyCheck):
    """Every OIDC client of the agency has exact https redirect URIs; PKCE S256 is required of it."""

    id = "oidc-client"
    name_en = "OIDC client settings sound"
    name_fa = "تنظیمات کارخواه OIDC درست"
    order = 70

    def run(self, session: Session, agency: Agency, settings: Settings) -> Outcome:
        clients = [
            client
            for client in oidc_selectors.list_clients(session)
            if client.agency_code == agency.code and client.disabled_at is None
        ]
        if not clients:
            return not_applicable(
                "The agency has no OIDC client (its apps do not log citizens in through the window).",
                "این دستگاه کارخواه OIDC ندارد (ورود شهروندان به سامانه‌هایش از پنجره نیست).",
            )
        production = settings.env == "production"
        problems = [
            f"{client.client_id}: {problem}"
            for client in clients
            for problem in (
                redirect_problem(uri, production=production, native=client.application_type == "native")
                for uri in client.redirect_uris
            )
            if problem
        ]
        if problems:
            return failed(
                "Unsound redirect URIs: " + "; ".join(problems) + ".",
                "نشانی‌های بازگشت نادرست: " + "؛ ".join(problems),
                clients=[client.client_id for client in clients],
            )
        # PKCE with S256 is enforced by the provider for every client (oidc.authorize refuses otherwise).
        return passed(
            f"{len(clients)} OIDC client(s): redirect URIs exact and https; PKCE S256 required.",
            f"{len(clients)} کارخواه OIDC: نشانی‌های بازگشت دقیق و https؛ PKCE با S256 الزامی است.",
            clients=[client.client_id for client in clients],
        )
