"""A browser walking the OIDC authorization dance (login, consent) with a real HTTP client."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.oidc import clients
from tests.identity.helpers import DEMO_CODE, DEMO_MOBILE, last_code

REDIRECT_URI = "https://rp.example.ir/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(session: Session, client_id: str = "my.tax", **kwargs: Any) -> str:
    """Register a client; returns its secret."""
    kwargs.setdefault("redirect_uris", [REDIRECT_URI])
    kwargs.setdefault("post_logout_redirect_uris", ["https://rp.example.ir/bye"])
    _client, secret = clients.register(session, client_id=client_id, name_fa="سامانهٔ مالیات من", **kwargs)
    return secret or ""


def _form(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {
        key: value.replace("&amp;", "&").replace("&#34;", '"').replace("&#39;", "'")
        for key, value in fields.items()
    }


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def authorize_url(client_id: str, challenge: str | None, **extra: str | None) -> str:
    params: dict[str, str | None] = {
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid profile national_code phone",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return "/oauth2/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def browse(
    browser: httpx.Client,
    settings: Settings,
    url: str,
    *,
    national_code: str = DEMO_CODE,
    mobile: str = DEMO_MOBILE,
    consent: str = "allow",
    attributes: list[str] | None = None,
    pages: list[str] | None = None,
) -> str:
    """Follow the provider's pages like a citizen would until it redirects away; returns that location.

    `attributes`: the attribute checkboxes ticked on a consent screen (None: as the page ticks them, all
    asked); `pages`: collects each consent screen seen."""
    response = browser.get(url, follow_redirects=False)
    for _ in range(12):
        while response.status_code in (302, 303):
            location = response.headers["location"]
            if not location.startswith("/"):
                return location
            response = browser.get(location, follow_redirects=False)
        text = response.text
        assert response.status_code == 200, text[:1500]
        fields = _form(text)
        if 'action="/login"' in text:
            data = {**fields, "national_code": national_code, "mobile": mobile}
            response = browser.post("/login", data=data, follow_redirects=False)
        elif 'action="/login/verify"' in text:
            data = {
                **fields,
                "code": last_code(browser if isinstance(browser, TestClient) else settings, mobile),
            }
            response = browser.post("/login/verify", data=data, follow_redirects=False)
        elif 'action="/oauth2/consent"' in text:
            if pages is not None:
                pages.append(text)
            ticked = re.findall(r'name="attribute" value="([^"]+)"[^>]*checked', text)
            answer: dict[str, Any] = {**fields, "decision": consent}
            answer["attribute"] = ticked if attributes is None else attributes
            response = browser.post("/oauth2/consent", data=answer, follow_redirects=False)
        else:
            raise AssertionError("unexpected page: " + text[:1500])
    raise AssertionError("too many steps")
