"""Security headers: no framing, nosniff, referrer and permissions policies, a CSP whose scripts are the
site's own or nonced, HSTS in production."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.testclient import TestClient

import panjereh.web
from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.headers import csp_nonce, guarded


def _framing_refused(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_pages_problems_and_api_answers_refuse_to_be_framed(client: TestClient) -> None:
    _framing_refused(client.get("/", headers={"accept": "text/html"}))
    _framing_refused(client.get("/login", headers={"accept": "text/html"}))
    _framing_refused(client.get("/no/such/page", headers={"accept": "text/html"}))
    _framing_refused(client.get("/.well-known/openid-configuration"))
    _framing_refused(client.get("/healthz"))


def test_a_response_with_its_own_policy_keeps_it_and_gains_frame_ancestors() -> None:
    headers = guarded([(b"content-type", b"text/html"), (b"content-security-policy", b"default-src 'self'")])
    assert (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'") in headers
    assert (b"x-frame-options", b"DENY") in headers
    own = [
        (b"Content-Security-Policy", b"frame-ancestors https://my.gov.ir"),
        (b"X-Frame-Options", b"SAMEORIGIN"),
    ]
    assert guarded(list(own)) == own


def _production_app(settings: Settings) -> FastAPI:
    return create_app(
        settings.model_copy(update={"env": "production", "secret_key": "p" * 40, "registry_token": "r" * 40})
    )


def _policy(response: Response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";")
    )
    return {name: value for name, value in directives}


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for response in (
        client.get("/", headers={"accept": "text/html"}),
        client.get("/no/such/page", headers={"accept": "text/html"}),
        client.get("/api/v1/agencies"),
        client.get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "camera=(self)" in response.headers["permissions-policy"]
        assert "geolocation=()" in response.headers["permissions-policy"]
        assert response.headers["cross-origin-opener-policy"] == "same-origin"


def test_the_policy_allows_scripts_from_the_site_alone(client: TestClient) -> None:
    policy = _policy(client.get("/login", headers={"accept": "text/html"}))
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert "unsafe-inline" not in str(policy) and "unsafe-eval" not in str(policy)


def test_no_page_template_has_an_inline_script_or_handler() -> None:
    templates = Path(panjereh.web.__file__).parent / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        for script in re.findall(r"<script\b[^>]*>", text):
            # A script is a file of the site's, data (JSON), or nonced.
            assert "src=" in script or 'type="application/json"' in script or "nonce=" in script, template
        assert not re.search(r"<[a-z][^<>]*\son[a-z]+\s*=", text), f"inline event handler in {template}"
        assert "javascript:" not in text, template


def test_a_page_that_asks_for_a_nonce_has_it_in_its_policy(app: FastAPI) -> None:
    @app.get("/_nonced")
    def nonced(request: Request) -> HTMLResponse:
        nonce = csp_nonce(request.scope["state"])
        return HTMLResponse(f'<script nonce="{nonce}">1</script>')

    with TestClient(app) as client:
        first, second = client.get("/_nonced"), client.get("/_nonced")
    nonce = re.search(r'nonce="([^"]+)"', first.text).group(1)  # type: ignore[union-attr]
    assert _policy(first)["script-src"] == f"'self' 'nonce-{nonce}'"
    assert _policy(second)["script-src"] != _policy(first)["script-src"]  # a new nonce per response


def test_the_api_docs_nonce_their_inline_script(client: TestClient) -> None:
    response = client.get("/api/v1/docs")
    nonce = re.search(r'<script nonce="([^"]+)">', response.text).group(1)  # type: ignore[union-attr]
    policy = _policy(response)
    assert f"'nonce-{nonce}'" in policy["script-src"] and "unsafe-inline" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert "<script>" not in response.text


def test_hsts_in_production_only(client: TestClient, settings: Settings) -> None:
    assert "strict-transport-security" not in client.get("/healthz").headers
    production = TestClient(_production_app(settings)).get("/healthz")
    assert production.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
