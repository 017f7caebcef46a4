"""The installable web app: the manifest, the service worker (served at the root so its scope is the
whole site), the offline page, and the page marker that tells the worker whose documents it keeps."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from panjereh.core.crypto import keyed_hash
from panjereh.identity.deps import current_user_context
from panjereh.web.home import STATIC_DIR

router = APIRouter(include_in_schema=False)

MANIFEST_TYPE = "application/manifest+json"
OWNER_PURPOSE = "service-worker-owner"  # the key derived for the page marker alone (core.crypto)

# The Web App Manifest (W3C): Persian name, right to left, starting at «my window».
MANIFEST: dict[str, Any] = {
    "name": "پنجره ملی خدمات دولت هوشمند",
    "short_name": "پنجره",
    "description": "یک بار ورود، همهٔ خدمات همهٔ دستگاه‌ها؛ سندهای شما حتی بی‌اینترنت.",
    "lang": "fa",
    "dir": "rtl",
    "id": "/",
    "start_url": "/window",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#073d32",
    "icons": [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {
            "src": "/static/icons/icon-maskable-512.png",
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ],
}


@router.get("/manifest.webmanifest")
def manifest() -> JSONResponse:
    return JSONResponse(MANIFEST, media_type=MANIFEST_TYPE, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The worker's script; never cached by the browser's HTTP cache, so a new version is seen at once."""
    return FileResponse(
        STATIC_DIR / "js" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/offline", response_class=HTMLResponse)
def offline(request: Request) -> HTMLResponse:
    """What a page that is not kept shows with no connection (the worker keeps this page)."""
    response: HTMLResponse = request.app.state.templates.render(request, "offline.html")
    return response


def owner_marker(request: Request) -> dict[str, Any]:
    """Template context processor: `sw_owner`, a keyed hash of the signed-in citizen ("" signed out)."""
    citizen = current_user_context(request)["current_user"]
    if citizen is None:
        return {"sw_owner": ""}
    return {"sw_owner": keyed_hash(request.app.state.settings.secret_key, OWNER_PURPOSE, citizen.id)[:32]}


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.state.templates.context_processors.append(owner_marker)
