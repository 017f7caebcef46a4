"""The negative checks of the OpenID Basic OP profile and the provider's own rules."""

from __future__ import annotations

import base64
import re
import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwk, jwt
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.oidc import keys as oidc_keys
from tests.identity.helpers import CONVICTED_CODE, CONVICTED_MOBILE
from tests.oidc.helpers import REDIRECT_URI, authorize_url, browse, pkce, query_of, register
from tests.support.loop import statements_on_an_event_loop


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _code(client: TestClient, settings: Settings, **extra: str) -> tuple[str, str, dict[str, str]]:
    verifier, challenge = pkce()
    url = authorize_url("my.tax", challenge, **extra)
    location = browse(client, settings, url)
    return query_of(location)["code"], verifier, query_of(url)


def _token(client: TestClient, secret: str, code: str, verifier: str, **extra: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    data.update(extra)
    return client.post("/oauth2/token", data=data, headers=_basic("my.tax", secret))


def _jwks(client: TestClient) -> jwk.KeySet:
    return jwk.KeySet.import_key_set(client.get("/oauth2/jwks").json())


def test_nonce_is_echoed_and_id_token_signed_with_kid(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, sent = _code(client, settings)
    body = _token(client, secret, code, verifier).json()
    token = jwt.decode(body["id_token"], _jwks(client), algorithms=["RS256"])
    assert token.header["alg"] == "RS256" and token.header["kid"]
    assert token.claims["nonce"] == sent["nonce"]
    assert token.claims["aud"] == "my.tax" and token.claims["iss"] == settings.base_url


def test_code_reuse_is_rejected_and_revokes_what_it_gave(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    first = _token(client, secret, code, verifier)
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    again = _token(client, secret, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    later = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert later.status_code == 401  # the tokens from the first exchange were revoked
    assert "invalid_token" in later.headers["www-authenticate"]


def test_code_reuse_is_rejected_later_too(client: TestClient, seeded: Session, settings: Settings) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    assert _token(client, secret, code, verifier).status_code == 200
    time.sleep(1.1)
    assert _token(client, secret, code, verifier).json()["error"] == "invalid_grant"


def test_unregistered_redirect_uri_is_refused_without_redirecting(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    _v, challenge = pkce()
    for uri in (
        "https://evil.example/cb",
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        "HTTPS://rp.example.ir/callback",
    ):
        response = client.get(authorize_url("my.tax", challenge, redirect_uri=uri), follow_redirects=False)
        assert response.status_code == 422, uri
        assert "location" not in response.headers


def test_pkce_missing_or_plain_is_refused(client: TestClient, seeded: Session, settings: Settings) -> None:
    register(seeded)
    missing = client.get(authorize_url("my.tax", None), follow_redirects=False)
    assert missing.status_code == 303
    assert query_of(missing.headers["location"])["error"] == "invalid_request"
    plain = client.get(
        authorize_url("my.tax", None, code_challenge="a" * 43, code_challenge_method="plain"),
        follow_redirects=False,
    )
    assert query_of(plain.headers["location"])["error"] == "invalid_request"


def test_wrong_code_verifier_is_refused(client: TestClient, seeded: Session, settings: Settings) -> None:
    secret = register(seeded)
    code, _verifier, _ = _code(client, settings)
    other, _ = pkce()
    response = _token(client, secret, code, other)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    response = _token(client, secret, code, verifier, redirect_uri="https://rp.example.ir/other")
    assert response.json()["error"] == "invalid_grant"


def test_wrong_secret_and_wrong_method_are_invalid_client(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    bad = client.post("/oauth2/token", data=data, headers=_basic("my.tax", "nope"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    post = client.post("/oauth2/token", data={**data, "client_id": "my.tax", "client_secret": secret})
    assert post.status_code == 401  # registered for client_secret_basic, not _post


def test_client_secret_post(client: TestClient, seeded: Session, settings: Settings) -> None:
    secret = register(seeded, token_endpoint_auth_method="client_secret_post")
    code, verifier, _ = _code(client, settings)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": "my.tax",
        "client_secret": secret,
    }
    assert client.post("/oauth2/token", data=data).status_code == 200


def _assertion(key: jwk.RSAKey, audience: str, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": "my.tax",
        "sub": "my.tax",
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": str(now) + alg,
    }
    body.update(claims)
    return jwt.encode({"alg": alg, "kid": key.kid}, body, key)


def test_private_key_jwt_and_its_replay_and_alg_none(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "rp-1"})
    register(
        seeded, token_endpoint_auth_method="private_key_jwt", jwks={"keys": [key.as_dict(private=False)]}
    )
    code, verifier, _ = _code(client, settings)
    audience = f"{settings.base_url}/oauth2/token"
    assertion = _assertion(key, audience)
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    unsigned = none_header + "." + assertion.split(".")[1] + "."
    refused = client.post("/oauth2/token", data={**base, "client_assertion": unsigned})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    ok = client.post("/oauth2/token", data={**base, "client_assertion": assertion})
    assert ok.status_code == 200, ok.text
    replay = client.post("/oauth2/token", data={**base, "client_assertion": assertion})
    assert replay.status_code == 401


def test_refresh_rotation_and_reuse_detection(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings, scope="openid profile offline_access")
    first = _token(client, secret, code, verifier).json()
    rotated = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=_basic("my.tax", secret),
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=_basic("my.tax", secret),
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Reuse revoked the whole family: the newest refresh and access tokens stop working too.
    newest = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        headers=_basic("my.tax", secret),
    )
    assert newest.status_code == 400
    assert (
        client.get(
            "/oauth2/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"}
        ).status_code
        == 401
    )


def test_a_refresh_token_only_with_offline_access_and_the_consent_screen_says_so(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    online = _token(client, secret, code, verifier).json()
    assert online["access_token"] and "refresh_token" not in online  # OIDC Core §11
    _v, challenge = pkce()
    offline_url = authorize_url("my.tax", challenge, scope="openid profile offline_access")
    screen = client.get(offline_url, follow_redirects=False)
    assert screen.status_code == 200 and 'id="consent-offline"' in screen.text  # the wider consent is asked
    assert "دسترسی ادامه‌دار" in screen.text
    plain = client.get(authorize_url("my.tax", challenge, prompt="consent"), follow_redirects=False)
    assert plain.status_code == 200 and 'id="consent-offline"' not in plain.text
    code, verifier, _ = _code(client, settings, scope="openid profile offline_access")
    offline = _token(client, secret, code, verifier).json()
    assert offline["refresh_token"] and "offline_access" in offline["scope"].split()


def test_the_consent_screen_cannot_be_framed(client: TestClient, seeded: Session, settings: Settings) -> None:
    register(seeded)
    _code(client, settings)  # signs in
    _v, challenge = pkce()
    screen = client.get(authorize_url("my.tax", challenge, prompt="consent"), follow_redirects=False)
    assert 'action="/oauth2/consent"' in screen.text
    assert screen.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in screen.headers["content-security-policy"]


def test_authorization_by_form_post(client: TestClient, seeded: Session, settings: Settings) -> None:
    secret = register(seeded)
    _code(client, settings)  # signed in, consent given
    verifier, challenge = pkce()
    params = query_of(authorize_url("my.tax", challenge))
    posted = client.post("/oauth2/authorize", data=params, follow_redirects=False)
    assert posted.status_code == 303  # OIDC Core §3.1.2.1: POST is served, as the same request by GET
    assert query_of(posted.headers["location"]) == params
    answered = client.get(posted.headers["location"], follow_redirects=False)
    returned = query_of(answered.headers["location"])
    assert answered.headers["location"].startswith(REDIRECT_URI) and returned["state"] == params["state"]
    assert _token(client, secret, returned["code"], verifier).status_code == 200
    unknown = client.post("/oauth2/authorize", data={**params, "client_id": "nobody"})
    assert unknown.status_code == 422 and "location" not in unknown.headers  # validated as a GET would be


def test_pairwise_sub_differs_per_sector_and_is_stable(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded, subject_type="pairwise", sector_identifier="tax.gov.ir")
    code, verifier, _ = _code(client, settings)
    sub_one = jwt.decode(_token(client, secret, code, verifier).json()["id_token"], _jwks(client)).claims[
        "sub"
    ]
    code, verifier, _ = _code(client, settings)
    sub_two = jwt.decode(_token(client, secret, code, verifier).json()["id_token"], _jwks(client)).claims[
        "sub"
    ]
    assert sub_one == sub_two
    from panjereh.identity.selectors import get_citizen_by_national_code

    citizen = get_citizen_by_national_code(seeded, "0499370899")
    assert citizen is not None and sub_one != citizen.id


def test_consent_is_remembered_and_revocable(client: TestClient, seeded: Session, settings: Settings) -> None:
    register(seeded)
    _code(client, settings)
    _v, challenge = pkce()
    again = client.get(authorize_url("my.tax", challenge), follow_redirects=False)
    assert (
        again.status_code == 303 and "code=" in again.headers["location"]
    )  # no consent screen the second time
    page = client.get("/account/apps")
    assert "my.tax" in page.text
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/account/apps/my.tax/revoke", data={"csrf_token": token})
    after = client.get(authorize_url("my.tax", challenge), follow_redirects=False)
    assert after.status_code == 200 and 'action="/oauth2/consent"' in after.text


def test_consent_denied_returns_access_denied(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    _v, challenge = pkce()
    location = browse(client, settings, authorize_url("my.tax", challenge), consent="deny")
    assert query_of(location)["error"] == "access_denied"


def test_prompt_none_without_session_is_login_required(client: TestClient, seeded: Session) -> None:
    register(seeded)
    _v, challenge = pkce()
    response = client.get(authorize_url("my.tax", challenge, prompt="none"), follow_redirects=False)
    assert query_of(response.headers["location"])["error"] == "login_required"


def test_prompt_login_and_max_age_force_a_fresh_login(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    register(seeded)
    _code(client, settings)
    _v, challenge = pkce()
    forced = client.get(authorize_url("my.tax", challenge, prompt="login"), follow_redirects=False)
    assert forced.headers["location"].startswith("/login?") and "force=1" in forced.headers["location"]
    time.sleep(1.1)
    aged = client.get(authorize_url("my.tax", challenge, max_age="0"), follow_redirects=False)
    assert aged.headers["location"].startswith("/login?")


def test_userinfo_claims_follow_scopes(client: TestClient, seeded: Session, settings: Settings) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings, scope="openid")
    access = _token(client, secret, code, verifier).json()["access_token"]
    claims = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {access}"}).json()
    assert "national_code" not in claims and "name" not in claims and claims["sub"]


def test_another_citizens_token_never_shows_my_data(
    client: TestClient, app: Any, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    mine = _token(client, secret, code, verifier).json()["access_token"]
    with TestClient(app, base_url="http://testserver") as other:
        _v2, challenge = pkce()
        location = browse(
            other,
            settings,
            authorize_url("my.tax", challenge),
            national_code=CONVICTED_CODE,
            mobile=CONVICTED_MOBILE,
        )
        assert "code=" in location
    claims = client.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {mine}"}).json()
    assert claims["national_code"] == "0499370899"


def test_rp_initiated_logout_with_hint_ends_the_session(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    id_token = _token(client, secret, code, verifier).json()["id_token"]
    response = client.get(
        "/oauth2/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "https://rp.example.ir/bye",
            "state": "s1",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "https://rp.example.ir/bye?state=s1"
    signed_out = client.get("/account", headers={"accept": "text/html"}, follow_redirects=False)
    assert signed_out.status_code == 303  # signed out


def test_logout_to_an_unregistered_uri_does_not_redirect_there(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    id_token = _token(client, secret, code, verifier).json()["id_token"]
    response = client.get(
        "/oauth2/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_key_rotation_publishes_the_new_key_before_it_signs_and_keeps_old_keys(
    client: TestClient, seeded: Session, settings: Settings
) -> None:
    secret = register(seeded)
    code, verifier, _ = _code(client, settings)
    old_token = _token(client, secret, code, verifier).json()["id_token"]
    old_kid = jwt.decode(old_token, _jwks(client)).header["kid"]
    ring = oidc_keys.rotate(settings)  # as `panjereh oidc keys rotate`: published now, signs later
    published = client.get("/oauth2/jwks")
    assert len(published.json()["keys"]) == 2
    assert ring.entries[0].key.kid in {key["kid"] for key in published.json()["keys"]}
    # Relying parties may hold the JWKS for max-age: the new key signs only after that much time.
    max_age = int(published.headers["cache-control"].split("max-age=")[1])
    signs_from, created_at = ring.entries[0].signs_from, ring.entries[0].created_at
    assert signs_from is not None and created_at is not None
    assert signs_from - created_at > timedelta(seconds=max_age - 1)
    code, verifier, _ = _code(client, settings)
    meanwhile = _token(client, secret, code, verifier).json()["id_token"]
    assert jwt.decode(meanwhile, _jwks(client)).header["kid"] == old_kid
    oidc_keys.rotate(settings, publish_ahead=None)  # a compromised key: the new one signs at once
    code, verifier, _ = _code(client, settings)
    new_token = _token(client, secret, code, verifier).json()["id_token"]
    assert jwt.decode(new_token, _jwks(client)).header["kid"] != old_kid
    jwt.decode(old_token, _jwks(client))  # the retired key still verifies what it signed


def test_discovery_document(client: TestClient) -> None:
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ]
    assert metadata["response_types_supported"] == ["code"]
    assert "pairwise" in metadata["subject_types_supported"]


def test_consent_and_logout_do_their_database_work_off_the_event_loop(
    client: TestClient, seeded: Session, settings: Settings, engine: Engine
) -> None:
    # Both read their form on the loop (they are async), then hand the rest to a worker thread.
    register(seeded)
    with statements_on_an_event_loop(engine) as on_loop:
        _code(client, settings)  # signs in and answers the consent screen
        page = client.get("/oauth2/logout")  # no hint: the citizen is asked
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        confirmed = client.post("/oauth2/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert on_loop == []
    assert confirmed.status_code == 303
    assert client.get("/account", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303
