"""The installable web app: the manifest, the service worker (served at the root so its scope is the
whole site), the offline page, the page marker that tells the worker whose documents it keeps, and the list
of the wallet's documents it keeps for reading offline."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from panjereh.core.config import Settings
from panjereh.core.crypto import keyed_hash
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.i18n import LOCALE_DIR
from panjereh.documents.selectors import wallet_documents_of
from panjereh.documents.verification import standing_of
from panjereh.identity.deps import CurrentCitizen, current_user_context
from panjereh.web.home import STATIC_DIR, VENDOR_FOLDERS
from panjereh.web.templating import TEMPLATE_DIR

if TYPE_CHECKING:
    from panjereh.documents.models import IssuedDocument

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
# The pages the worker keeps in its shell (sw.js, SHELL_URLS: "/offline") are drawn from these templates,
# in the languages of these catalogs.
SHELL_TEMPLATES = ("offline.html", "base.html")
# The response headers the worker reads on a document page (sw.js): whose page it is (the same keyed hash as
# the page marker) and the version of its offline copy.
OWNER_HEADER = "X-Pj-Owner"
OFFLINE_VERSION_HEADER = "X-Pj-Offline-Version"


def shell_files(assets_dir: Path) -> dict[str, Path]:
    """Every file the worker may serve from its shell cache, by the name it is known by (its URL, for a
    template or a catalog its place): the worker serves any /static or /vendor file cache first and keeps
    what it fetched there (sw.js, shellFile), so all of our static folder (the worker itself included) and
    every vendor folder count, not only its `SHELL_URLS`; and the offline page's templates and catalogs.
    Names, not absolute paths, so that every web process computes the same digest wherever it is installed."""
    files = {f"template:{name}": TEMPLATE_DIR / name for name in SHELL_TEMPLATES}
    for catalog in LOCALE_DIR.glob("*/LC_MESSAGES/messages.po"):
        files[f"locale:{catalog.relative_to(LOCALE_DIR).as_posix()}"] = catalog
    folders = {"/static": STATIC_DIR}
    folders |= {f"/vendor/{name}": assets_dir / folder for name, folder in VENDOR_FOLDERS.items()}
    for url, folder in folders.items():
        for path in folder.rglob("*"):
            if path.is_file():
                files[f"{url}/{path.relative_to(folder).as_posix()}"] = path
    return dict(sorted(files.items()))


@lru_cache(maxsize=4)
def shell_version(assets_dir: Path) -> str:
    """A digest of what the worker serves from its shell cache: its cache name follows it, so a change to
    a style, a script, a vendor's release or the offline page reaches every installed window without anyone
    remembering to bump a number. Contents, never modification times, so every web process agrees.
    Computed once per process (the files change only with a release), on the first /sw.js or document page
    it serves, and in the offline version of every document page. Measured on the 2-core development
    machine: about 0.1 s for 518 files, 49 MB (our static folder, 14 MB, most of it the jdm-editor build;
    the vendor folders: Vazirmatn's fonts 20 MB, bootstrap 8 MB, chart.js 6 MB, htmx 1 MB) with the files in
    the page cache; about 0.02 s of that is listing them. Later calls are a dictionary lookup."""
    digest = hashlib.sha256()
    for name, path in shell_files(assets_dir).items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
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
def offline_documents(
    request: Request, db: DbSession, settings: AppSettings, owner: CurrentCitizen
) -> JSONResponse:
    """The pages the worker keeps when the wallet is shown: the newest documents in the wallet, each with
    its offline version (the one its page is served with), and whose list it is."""
    locale = request.app.state.templates.locale_of(request)
    documents = wallet_documents_of(db, owner.national_code, limit=OFFLINE_DOCUMENTS)
    body = {
        "owner": owner_marker(request)["sw_owner"],
        "limit": OFFLINE_DOCUMENTS,
        "pages": [
            {"url": f"/documents/{document.number}", "version": offline_version(document, locale, settings)}
            for document in documents
        ],
    }
    return JSONResponse(body, headers={"Cache-Control": "private, no-store"})


def offline_version(document: IssuedDocument, locale: str, settings: Settings) -> str:
    """The version of a document page's offline copy: it changes when the page would (revoked, expired,
    another language, a release that changes the shell the page is drawn with), so the worker fetches the
    page again then, and only then. The one place it is computed: the wallet's list carries it and the page
    itself is served with it (`OFFLINE_VERSION_HEADER`), so a page opened online is kept at the version the
    list will name."""
    return f"{standing_of(document).value}.{locale}.{shell_version(settings.assets_dir)}"


def mark_offline_page(request: Request, response: Response, version: str | None = None) -> Response:
    """Tell the worker whose page this is (`OWNER_HEADER`: it keeps the page only in that owner's cache,
    and only while he is its owner) and, for a document's page, the version of its offline copy."""
    response.headers[OWNER_HEADER] = owner_marker(request)["sw_owner"]
    if version is not None:
        response.headers[OFFLINE_VERSION_HEADER] = version
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
