"""The installable web app: the manifest, the service worker (served at the root so its scope is the
whole site), the offline page, the page marker that tells the worker whose documents it keeps, and the list
of the wallet's documents it keeps for reading offline."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from panjereh.core.crypto import keyed_hash
from panjereh.core.deps import AppSettings, DbSession
from panjereh.documents.selectors import wallet_documents_of
from panjereh.documents.verification import standing_of
from panjereh.identity.deps import CurrentCitizen, current_user_context
from panjereh.web.home import STATIC_DIR, VENDOR_FOLDERS
from panjereh.web.templating import TEMPLATE_DIR

router = APIRouter(include_in_schema=False)

MANIFEST_TYPE = "application/manifest+json"
OWNER_PURPOSE = "service-worker-owner"  # the key derived for the page marker alone (core.crypto)
# How many of the wallet's documents (the newest) the worker keeps for reading offline. A citizen's wallet
# rarely holds more; a page is about 19 KB (its QR code is an inline SVG), so the copies stay near a
# megabyte; and a full wallet's first showing asks the server for this many pages (about 40 ms each), once:
# the worker fetches a page again only when its version changes. PDFs are not kept: each is drawn on request
# (about 0.4 s), and the page shows all the PDF does, QR code included.
OFFLINE_DOCUMENTS = 50

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


SERVICE_WORKER = STATIC_DIR / "js" / "sw.js"
SHELL_VERSION_MARK = "%SHELL_VERSION%"


def shell_files(assets_dir: Path) -> list[Path]:
    """The files behind the worker's shell (its `SHELL_URLS`, read from the script itself, so the list is
    kept in one place): package files under /static, npm packages' under /vendor, templates for pages."""
    script = SERVICE_WORKER.read_text(encoding="utf-8")
    listed = re.search(r"const SHELL_URLS = \[(.*?)\];", script, re.S)
    if listed is None:
        raise RuntimeError("sw.js lists no SHELL_URLS")
    files = [SERVICE_WORKER]
    for url in re.findall(r'"([^"]+)"', listed.group(1)):
        if url.startswith("/static/"):
            files.append(STATIC_DIR / url.removeprefix("/static/"))
        elif url.startswith("/vendor/"):
            name, _, rest = url.removeprefix("/vendor/").partition("/")
            files.append(assets_dir / VENDOR_FOLDERS[name] / rest)
        else:  # a page: its template and the layout it extends
            files += [TEMPLATE_DIR / f"{url.strip('/')}.html", TEMPLATE_DIR / "base.html"]
    return files


@lru_cache(maxsize=4)
def shell_version(assets_dir: Path) -> str:
    """A digest of the shell's files: the worker's cache name follows it, so a change to a style, a script
    or the offline page reaches every installed window without anyone remembering to bump a number. Read
    once per process (the files change only with a release)."""
    digest = hashlib.sha256()
    for path in shell_files(assets_dir):
        digest.update(path.read_bytes() if path.is_file() else b"missing:" + path.name.encode())
    return digest.hexdigest()[:16]


@router.get("/sw.js")
def service_worker(settings: AppSettings) -> Response:
    """The worker's script, with the shell's version written in; never cached by the browser's HTTP cache,
    so a new version is seen at once."""
    script = SERVICE_WORKER.read_text(encoding="utf-8")
    return Response(
        script.replace(SHELL_VERSION_MARK, shell_version(settings.assets_dir), 1),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/offline", response_class=HTMLResponse)
def offline(request: Request) -> HTMLResponse:
    """What a page that is not kept shows with no connection (the worker keeps this page)."""
    response: HTMLResponse = request.app.state.templates.render(request, "offline.html")
    return response


@router.get("/offline/documents.json")
def offline_documents(request: Request, db: DbSession, owner: CurrentCitizen) -> JSONResponse:
    """The pages the worker keeps when the wallet is shown: the newest documents in the wallet, each with a
    version that changes when its page would (revoked, expired, another language), and whose list it is."""
    locale = request.app.state.templates.locale_of(request)
    documents = wallet_documents_of(db, owner.national_code, limit=OFFLINE_DOCUMENTS)
    body = {
        "owner": owner_marker(request)["sw_owner"],
        "limit": OFFLINE_DOCUMENTS,
        "pages": [
            {"url": f"/documents/{document.number}", "version": f"{standing_of(document).value}.{locale}"}
            for document in documents
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


def owner_marker(request: Request) -> dict[str, Any]:
    """Template context processor: `sw_owner`, a keyed hash of the signed-in citizen ("" signed out)."""
    citizen = current_user_context(request)["current_user"]
    if citizen is None:
        return {"sw_owner": ""}
    return {"sw_owner": keyed_hash(request.app.state.settings.secret_key, OWNER_PURPOSE, citizen.id)[:32]}


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.state.templates.context_processors.append(owner_marker)
