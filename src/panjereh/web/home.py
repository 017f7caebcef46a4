"""The portal's page routes and its static files (our own and the npm-installed vendor assets)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from panjereh.core.config import Settings
from panjereh.core.cookies import LOCALE_COOKIE, LOCALE_MAX_AGE, set_cookie

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Only the built distribution folders of each package are served, never the whole node_modules.
VENDOR_FOLDERS = {
    "bootstrap": "bootstrap/dist",
    "vazirmatn": "vazirmatn",
    "htmx": "htmx.org/dist",
    "chart.js": "chart.js/dist",
}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """The front door: what the window is, and the ways in."""
    return request.app.state.templates.render(request, "home.html")


@router.get("/lang/{locale}")
def choose_language(locale: str, request: Request) -> RedirectResponse:
    """Switch language and go back where the reader came from (same site only)."""
    target = request.headers.get("referer", "/")
    if not target.startswith(str(request.base_url)):
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if locale in ("fa", "en"):
        set_cookie(response, request.app.state.settings, LOCALE_COOKIE, locale, max_age=LOCALE_MAX_AGE)
    return response


def mount(app: FastAPI, settings: Settings) -> None:
    """Attach the page routes and the static folders."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for name, folder in VENDOR_FOLDERS.items():
        path = settings.assets_dir / folder
        app.mount(f"/vendor/{name}", StaticFiles(directory=path, check_dir=False), name=f"vendor-{name}")
