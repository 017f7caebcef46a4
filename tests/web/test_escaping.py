"""What a visitor types comes back as text: escaped for HTML, never run as a template or a script."""

from __future__ import annotations

from fastapi.testclient import TestClient

PROBE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>{{ 7*7 }}{% raw %}"


def test_a_search_and_a_verification_echo_the_input_as_text(client: TestClient) -> None:
    for path in ("/services", "/verify"):
        page = client.get(path, params={"q": PROBE}, headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
        assert "{{ 7*7 }}" in page.text, path  # not evaluated as a template


def test_no_cross_origin_reads_and_no_trace(client: TestClient) -> None:
    answer = client.get("/api/v1/agencies", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-credentials" not in answer.headers
    assert client.request("TRACE", "/").status_code == 405
    assert client.get("/static/").status_code == 404  # no directory listing
