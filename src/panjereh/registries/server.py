"""Run the simulated registries as an HTTP server (what ``panjereh demo`` and the tests start)."""

from __future__ import annotations

import uvicorn

from panjereh.registries.app import DEFAULT_TOKEN, create_app
from panjereh.registries.population import DEFAULT_SEED, DEFAULT_SIZE


def serve(
    host: str = "127.0.0.1",
    port: int = 8100,
    seed: int = DEFAULT_SEED,
    size: int = DEFAULT_SIZE,
    token: str = DEFAULT_TOKEN,
    admin_token: str | None = None,
    log_level: str = "warning",
) -> None:
    """Serve every registry on ``host:port`` until interrupted."""
    app = create_app(seed=seed, size=size, token=token, admin_token=admin_token)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
