"""Forwarded headers are believed from PANJEREH_TRUSTED_PROXIES alone, served as `panjereh serve` serves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import ValidationError

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.serving import SERVER_OPTIONS
from tests.support.servers import running_server


@contextmanager
def _served(settings: Settings, proxies: list[str]) -> Iterator[str]:
    app: FastAPI = create_app(settings.model_copy(update={"trusted_proxies": proxies}))

    @app.get("/_peer")
    def peer(request: Request) -> dict[str, str]:
        return {"host": request.client.host if request.client else "", "scheme": request.url.scheme}

    with running_server(app, **SERVER_OPTIONS) as url:
        yield url


def _peer(url: str, forwarded_for: str | None = None, proto: str | None = None) -> dict[str, str]:
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    if proto:
        headers["x-forwarded-proto"] = proto
    # Generous: the first request to a fresh server on a loaded CI machine took longer than the 5 s default.
    answer: dict[str, str] = httpx.get(url + "/_peer", headers=headers, timeout=60).json()
    return answer


def test_a_local_peer_that_is_not_a_trusted_proxy_cannot_choose_its_address(settings: Settings) -> None:
    # On the old main, uvicorn believed X-Forwarded-For from any loopback peer: one client could walk
    # around every per-address limit by sending a new address with each request.
    with _served(settings, []) as url:
        assert _peer(url, "203.0.113.7", "https") == {"host": "127.0.0.1", "scheme": "http"}


def test_a_trusted_proxy_names_the_client(settings: Settings) -> None:
    with _served(settings, ["127.0.0.0/8"]) as url:
        assert _peer(url, "203.0.113.7", "https") == {"host": "203.0.113.7", "scheme": "https"}
        # The client is the nearest address the trusted proxies did not add: what the client wrote
        # itself, to the left, is not believed.
        assert _peer(url, "198.51.100.1, 203.0.113.7")["host"] == "203.0.113.7"
        assert _peer(url, "198.51.100.1, 203.0.113.7, 127.0.0.5")["host"] == "203.0.113.7"
        assert _peer(url)["host"] == "127.0.0.1"


def test_only_the_listed_proxies_are_trusted(settings: Settings) -> None:
    with _served(settings, ["10.0.0.0/8", "2001:db8::1"]) as url:
        assert _peer(url, "203.0.113.7")["host"] == "127.0.0.1"


@pytest.mark.parametrize("value", ["proxy.example", "10.0.0.0/33", "*", "10.0.0.1;10.0.0.2"])
def test_a_malformed_proxy_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings.model_validate({"trusted_proxies": value})


def test_proxies_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.10,::1")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.0.2.10", "::1"]
