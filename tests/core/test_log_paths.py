"""Log lines keep a route's template, never the path as sent: a share link's token is a bearer secret."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from panjereh.core.logging import configure_logging


@pytest.fixture
def info_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Log at INFO for this test (problems of 4xx are info lines), read back as (stderr, problem lines)."""
    configure_logging("INFO")
    capsys.readouterr()

    def read() -> tuple[str, list[dict[str, Any]]]:
        err = capsys.readouterr().err
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        return err, [line for line in lines if line.get("event") == "problem"]

    try:
        yield read
    finally:
        configure_logging("WARNING")  # as the test settings have it


def test_a_refused_share_link_is_logged_by_its_route_not_its_token(
    client: TestClient, info_logs: Any
) -> None:
    token = secrets.token_urlsafe(32)
    assert client.get(f"/shared/{token}").status_code == 404
    assert client.get(f"/api/v1/documents/shares/{token}").status_code == 404
    err, problems = info_logs()
    assert [line["path"] for line in problems] == ["/shared/{token}", "/api/v1/documents/shares/{token}"]
    assert token not in err


def test_a_path_no_route_matched_is_logged_as_sent(client: TestClient, info_logs: Any) -> None:
    assert client.get("/no/such/page").status_code == 404
    assert [line["path"] for line in info_logs()[1]] == ["/no/such/page"]
