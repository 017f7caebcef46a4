"""RFC 9457 problem documents, the one error shape every simulated registry answers with."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://panjereh.example/problems/registries/"


def problem_body(status: int, code: str, title: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    """The problem fields: ``type, title, status, code, detail`` plus any extension members."""
    return {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
        **extra,
    }


def problem(
    status: int, code: str, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body = problem_body(status, code, title, detail, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_bytes(status: int, code: str, title: str, detail: str = "") -> bytes:
    """The encoded body of a problem, for raw ASGI responses."""
    return json.dumps(problem_body(status, code, title, detail), ensure_ascii=False).encode()
