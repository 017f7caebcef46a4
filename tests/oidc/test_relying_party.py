"""An independent relying party (Authlib's OAuth 2 client) against the running provider over real HTTP."""

from __future__ import annotations

import secrets

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey
from authlib.jose import jwt as authlib_jwt
from authlib.oidc.core import CodeIDToken

from panjereh.core.config import Settings
from tests.identity.helpers import DEMO_CODE
from tests.oidc.helpers import REDIRECT_URI, browse, query_of

LIVE_TIMEOUT = 30.0


def test_discovery_authorize_login_consent_token_id_token_userinfo(
    live_oidc: dict[str, str], live_settings: Settings
) -> None:
    base = live_oidc["url"]
    metadata = httpx.get(f"{base}/.well-known/openid-configuration", timeout=LIVE_TIMEOUT).json()
    assert metadata["issuer"] == base
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "none" not in metadata["id_token_signing_alg_values_supported"]

    rp = OAuth2Client(
        client_id=live_oidc["client_id"],
        client_secret=live_oidc["client_secret"],
        scope="openid profile national_code phone offline_access",  # offline_access: a refresh token
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(12)
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    # A live server on a loaded test machine can take longer than httpx's default 5 s to answer a login step.
    with httpx.Client(base_url=base, timeout=LIVE_TIMEOUT) as browser:
        location = browse(browser, live_settings, url.removeprefix(base))
    assert location.startswith(REDIRECT_URI)
    returned = query_of(location)
    assert returned["state"] == state and returned["iss"] == base

    token = rp.fetch_token(
        metadata["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"].lower() == "bearer" and token.get("refresh_token")

    jwks = httpx.get(metadata["jwks_uri"], timeout=60).json()
    header = authlib_jwt.decode(token["id_token"], JsonWebKey.import_key_set(jwks)).header
    assert header["alg"] == "RS256" and header["kid"] in {key["kid"] for key in jwks["keys"]}
    claims = authlib_jwt.decode(
        token["id_token"],
        JsonWebKey.import_key_set(jwks),
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": base}},
        claims_params={
            "nonce": nonce,
            "client_id": live_oidc["client_id"],
            "access_token": token["access_token"],
        },
    )
    claims.validate()  # iss, aud, exp, iat, nonce, at_hash, azp
    assert claims["nonce"] == nonce
    assert claims["acr"] == "urn:panjereh:loa:1"

    userinfo = rp.get(metadata["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["national_code"] == DEMO_CODE
    assert userinfo["name"] == "علی رضایی"
    assert userinfo["birthdate"] == "1985-06-12"
    assert userinfo["phone_number"] == "+989121234567"

    refreshed = rp.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
