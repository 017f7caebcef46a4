"""No other site may frame the portal: CSP frame-ancestors and X-Frame-Options on every response."""

from __future__ import annotations

from fastapi.testclient import TestClient

from panjereh.core.headers import guarded


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
