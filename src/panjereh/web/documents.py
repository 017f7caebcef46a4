"""Document pages: public /verify (scan, paste or type), the published keys, and the owner's documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from panjereh.core import jalali
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.i18n import translations
from panjereh.documents import pdf, qr
from panjereh.documents.deps import throttle_verification
from panjereh.documents.exceptions import DocumentNotFound
from panjereh.documents.masking import mask_national_code
from panjereh.documents.numbers import format_number
from panjereh.documents.selectors import documents_of, find_document, published_keys
from panjereh.documents.verification import Verification, verify_number, verify_payload, verify_text
from panjereh.identity.deps import CurrentCitizen
from panjereh.web.templating import Templates

if TYPE_CHECKING:
    from panjereh.documents.models import IssuedDocument
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)


@router.get("/verify", response_class=HTMLResponse)
def verify_page(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    q: str | None = None,
    p: str | None = None,
    n: str | None = None,
) -> HTMLResponse:
    """Check a document: scan its QR code (where the browser can), paste its text or type the number."""
    result: Verification | None = None
    if any(value and value.strip() for value in (p, n, q)):
        throttle_verification(request)
    if p and p.strip():  # a phone camera opened the link in the QR code
        result = verify_payload(db, settings, p)
    elif n and n.strip():
        result = verify_number(db, settings, n)
    elif q and q.strip():
        result = verify_text(db, settings, q[:8000])
    return _templates(request).render(
        request, "documents/verify.html", {"result": result, "query": q or p or n or ""}
    )


@router.get("/verify/keys", response_class=HTMLResponse)
def keys_page(request: Request, settings: AppSettings) -> HTMLResponse:
    """The public keys documents are signed with, and how to verify offline."""
    published = published_keys(settings)
    return _templates(request).render(
        request, "documents/keys.html", {"keys": published.jwks["keys"], "active_kid": published.active_kid}
    )


@router.get("/documents", response_class=HTMLResponse)
def my_documents(request: Request, db: DbSession, owner: CurrentCitizen) -> HTMLResponse:
    """The signed-in citizen's documents."""
    documents = documents_of(db, owner.national_code)
    return _templates(request).render(request, "documents/list.html", {"documents": documents})


@router.get("/documents/{number}.pdf")
def document_pdf(
    number: str, db: DbSession, settings: AppSettings, request: Request, owner: CurrentCitizen
) -> Response:
    """The document as a Persian PDF with its QR code (owner only; anyone else gets 404)."""
    document = _own_document(db, number, owner)
    body = render_pdf(_templates(request), settings, document)
    filename = f"panjereh-{document.number}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/documents/{number}", response_class=HTMLResponse)
def document_page(
    number: str, db: DbSession, settings: AppSettings, request: Request, owner: CurrentCitizen
) -> HTMLResponse:
    """One document (owner only; anyone else gets 404, so numbers cannot be probed for owners)."""
    document = _own_document(db, number, owner)
    context = document_context(settings, document)
    response = _templates(request).render(request, "documents/detail.html", context)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _own_document(db: Session, number: str, owner: Citizen) -> IssuedDocument:
    document = find_document(db, number)
    # The same 404 whether the number is unknown or someone else's: a 403 would confirm it exists.
    if document is None or document.subject_national_code != owner.national_code:
        raise DocumentNotFound()
    return document


def document_context(settings: Settings, document: IssuedDocument) -> dict[str, Any]:
    """What the document page and the PDF show."""
    claims = dict(document.claims or {})
    summary = claims.pop("summary_fa", None)
    verification_status = "revoked" if document.is_revoked else "valid"
    if document.valid_until is not None and jalali.to_tehran(utcnow()).date() > document.valid_until:
        verification_status = "expired"
    return {
        "document": document,
        "number_display": format_number(document.number),
        "masked_subject": mask_national_code(document.subject_national_code),
        "summary_fa": summary,
        "claim_rows": [
            (CLAIM_LABELS_FA.get(key, key), _claim_value(value))
            for key, value in claims.items()
            if key not in HIDDEN_CLAIMS
        ],
        "qr_uri": qr.svg_data_uri(settings, document.payload),
        "verify_url": f"{settings.base_url}/verify",
        "document_status": verification_status,
    }


def render_pdf(templates: Templates, settings: Settings, document: IssuedDocument) -> bytes:
    """The document's PDF: Persian, right to left, Vazirmatn, Jalali dates, the QR code."""
    catalog = translations("fa")
    context = document_context(settings, document) | {
        "locale": "fa",
        "dir": "rtl",
        "settings": settings,
        "_": catalog.gettext,
        "gettext": catalog.gettext,
        "ngettext": catalog.ngettext,
        "font_faces": pdf.font_faces(settings),
    }
    html = templates.env.get_template("documents/pdf.html").render(context)
    return pdf.html_to_pdf(html)


# What a citizen reads for each claim a service puts in its document; unknown names show as they are.
CLAIM_LABELS_FA = {
    "address": "نشانی",
    "alive": "در قید حیات",
    "crop": "محصول",
    "disability": "نوع معلولیت",
    "enrollment": "اشتغال به تحصیل",
    "fund": "صندوق بیمه",
    "has_criminal_record": "سابقهٔ کیفری",
    "has_disability_record": "پروندهٔ معلولیت",
    "has_licence": "گواهینامهٔ رانندگی دارد",
    "institution": "مؤسسهٔ آموزشی",
    "insurer": "بیمه‌گر",
    "last_filed_year": "آخرین سال اظهارنامه",
    "level": "مقطع",
    "licence": "گواهینامه",
    "months": "سابقهٔ بیمه (ماه)",
    "owner": "مالک",
    "postal_code": "کد پستی",
    "properties": "املاک",
    "purpose": "منظور",
    "sims": "سیم‌کارت‌ها",
    "status": "وضعیت",
    "trade": "رسته",
    "valid_until": "معتبر تا",
    "vehicles": "خودروها",
}
# Machine bookkeeping that the document's title already says in words.
HIDDEN_CLAIMS = frozenset({"service"})


def _claim_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "بله" if value else "خیر"
    if isinstance(value, dict):
        return "، ".join(str(_claim_value(item)) for item in value.values() if item not in (None, ""))
    if isinstance(value, list | tuple):
        return "؛ ".join(str(_claim_value(item)) for item in value) or "—"
    return value


def _templates(request: Request) -> Templates:
    templates: Templates = request.app.state.templates
    return templates


def mount(app: FastAPI) -> None:
    """Attach the document pages."""
    app.include_router(router)
