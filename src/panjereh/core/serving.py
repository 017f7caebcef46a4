"""How uvicorn serves the application: the options `panjereh serve` and the tests' live servers share.

A module of its own, light to import: the `panjereh serve` supervisor reads it without importing the
application, which only its web processes build."""

from __future__ import annotations

from typing import Any

from panjereh.core.config import Settings

APP_FACTORY = "panjereh.app:create_app"

# Forwarded headers are the app's to read, from PANJEREH_TRUSTED_PROXIES alone (uvicorn's own reading
# believes any local peer), and no `server` header names the software.
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn's options for the settings: where to listen, how many web processes, and how long they
    get to start (the supervisor's health ping) and to drain on SIGTERM."""
    return {
        **SERVER_OPTIONS,
        "host": settings.host,
        "port": settings.port,
        "workers": settings.web_workers,
        "timeout_worker_healthcheck": settings.worker_startup_timeout,
        "timeout_graceful_shutdown": settings.graceful_timeout,
    }
