"""Document pages: public /verify (scan, paste or type), the published keys, and the owner's documents
(the wallet's list and sharing are in `web.wallet`)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.i18n import translations
from panjereh.delivery import selectors as delivery_selectors
from panjereh.documents import pdf, qr
from panjereh.documents.claims import DERIVED
from panjereh.documents.deps import throttle_verification
from panjereh.documents.exceptions import DocumentNotFound
from panjereh.documents.masking import mask_national_code
from panjereh.documents.numbers import format_number
from panjereh.documents.selectors import find_document, published_keys
from panjereh.documents.verification import (
    Verification,
    standing_of,
    verify_number,
    verify_payload,
    verify_text,
)
from panjereh.identity.deps import CurrentCitizen
from panjereh.web import representation as acting
from panjereh.web.pwa import mark_offline_page, offline_version
from panjereh.web.templating import Templates, format_date

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


@router.get("/documents/{number}.pdf")
def document_pdf(
    number: str, db: DbSession, settings: AppSettings, request: Request, owner: CurrentCitizen
) -> Response:
    """The document as a Persian PDF with its QR code (owner only; anyone else gets 404)."""
    document = _own_document(request, db, number, owner)
    body = render_pdf(_templates(request), settings, document, choice_labels(db, document))
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
    document = _own_document(request, db, number, owner)
    locale = _templates(request).locale_of(request)
    context = document_context(settings, document, locale, choice_labels(db, document))
    context["saved_at"] = utcnow()  # what the copy the service worker keeps says it was saved at
    response = _templates(request).render(request, "documents/detail.html", context)
    response.headers["Cache-Control"] = "private, no-store"
    mark_offline_page(request, response, offline_version(document, locale, settings))
    return response


def _own_document(request: Request, db: Session, number: str, owner: Citizen) -> IssuedDocument:
    document = find_document(db, number)
    # The same 404 whether the number is unknown or someone else's: a 403 would confirm it exists.
    if document is None:
        raise DocumentNotFound()
    if document.subject_national_code != owner.national_code and not _made_by(request, db, document, owner):
        raise DocumentNotFound()
    return document


def _made_by(request: Request, db: Session, document: IssuedDocument, owner: Citizen) -> bool:
    """Whether the citizen applied, for the document's subject (a child, a company, a delegator), for the
    request that issued it, and may still act for the subject now: the document is the subject's, not a
    record of the actor's act, so once his right ends (a revoked delegation, a child turned 18, a board term
    ended) he no longer opens it (docs/protocols/representation.md)."""
    if not document.request_tracking_code:
        return False
    try:
        made = delivery_selectors.request_of(db, owner.national_code, document.request_tracking_code)
    except ProblemError:  # not found, or a reference that is no tracking code (a receipt's, a fixture's)
        return False
    if made.acted_by != owner.national_code or made.national_code != document.subject_national_code:
        return False
    return acting.may_act_now(request, db, owner, made)


ChoiceLabels = dict[str, dict[str, dict[str, str]]]


def choice_labels(db: Session, document: IssuedDocument) -> ChoiceLabels:
    """claim → choice code → {fa, en}, for the claims that carry a choice from the request's form (the
    purpose «employment» is shown as «استخدام»); empty for a document without a request."""
    if not document.request_tracking_code:
        return {}
    try:
        item = delivery_selectors.request_by_tracking_code(db, document.request_tracking_code)
    except ProblemError:  # no such request, or a code that is not one (a document issued elsewhere)
        return {}
    body = item.definition.body or {}
    choices = {str(field["key"]): field.get("choices") or {} for field in body.get("inputs", [])}
    claims = ((body.get("outcomes") or {}).get("document") or {}).get("claims") or {}
    return {
        claim: choices[source.removeprefix("inputs.")]
        for claim, source in claims.items()
        if isinstance(source, str)
        and source.startswith("inputs.")
        and choices.get(source.removeprefix("inputs."))
    }


def document_context(
    settings: Settings, document: IssuedDocument, locale: str = "fa", choices: ChoiceLabels | None = None
) -> dict[str, Any]:
    """What the document page (in the reader's language) and the PDF (Persian) show."""
    labels = CLAIM_LABELS_FA if locale == "fa" else CLAIM_LABELS_EN
    choices = choices or {}
    claims = dict(document.claims or {})
    summary = claims.pop("summary_fa", None)
    verification_status = standing_of(document).value
    return {
        "document": document,
        "number_display": format_number(document.number),
        "masked_subject": mask_national_code(document.subject_national_code),
        "summary_fa": summary,
        "claim_rows": [
            (
                claim_label(key, locale) if key in WALLET_CLAIM_LABELS else labels.get(key, key),
                _choice(choices.get(key), value, locale) or claim_text(key, value, locale),
            )
            for key, value in claims.items()
            if key not in HIDDEN_CLAIMS
        ],
        "qr_uri": qr.svg_data_uri(settings, document.payload),
        "verify_url": f"{settings.base_url}/verify",
        "document_status": verification_status,
    }


def render_pdf(
    templates: Templates, settings: Settings, document: IssuedDocument, choices: ChoiceLabels | None = None
) -> bytes:
    """The document's PDF: Persian, right to left, Vazirmatn, Jalali dates, the QR code."""
    catalog = translations("fa")
    context = document_context(settings, document, "fa", choices) | {
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
CLAIM_LABELS_EN = {
    "address": "Address",
    "alive": "Alive",
    "crop": "Crop",
    "disability": "Kind of disability",
    "enrollment": "Enrolled in education",
    "fund": "Insurance fund",
    "has_criminal_record": "Criminal record",
    "has_disability_record": "Disability file",
    "has_licence": "Holds a driving licence",
    "institution": "Educational institution",
    "insurer": "Insurer",
    "last_filed_year": "Last tax return year",
    "level": "Level",
    "licence": "Licence",
    "months": "Insured (months)",
    "owner": "Owner",
    "postal_code": "Postal code",
    "properties": "Properties",
    "purpose": "Purpose",
    "sims": "SIM cards",
    "status": "Status",
    "trade": "Trade",
    "valid_until": "Valid until",
    "vehicles": "Vehicles",
}
# Machine bookkeeping that the document's title already says in words.
HIDDEN_CLAIMS = frozenset({"service"})

# The claims of the wallet's copies (documents.wallet) and of shares (documents.claims), by language.
WALLET_CLAIM_LABELS = {
    "birth_date": ("تاریخ تولد", "Date of birth"),
    "color": ("رنگ", "Colour"),
    "father_name": ("نام پدر", "Father's name"),
    "fetched_on": ("رونوشت دریافت‌شده در", "Copy fetched on"),
    "field": ("رشته", "Field of study"),
    "first_name": ("نام", "First name"),
    "gender": ("جنسیت", "Gender"),
    "graduated_on": ("تاریخ دانش‌آموختگی", "Graduated on"),
    "holder_name": ("نام دارنده", "Holder's name"),
    "holder_national_code": ("کد ملی دارنده", "Holder's national code"),
    "issued_on": ("تاریخ صدور", "Issued on"),
    "last_name": ("نام خانوادگی", "Last name"),
    "licence_class": ("پایهٔ گواهینامه", "Licence class"),
    "licence_number": ("شمارهٔ گواهینامه", "Licence number"),
    "model": ("خودرو", "Vehicle"),
    "model_year": ("سال ساخت", "Model year"),
    "plate": ("پلاک", "Plate"),
} | {name: (item.label_fa, item.label_en) for name, item in DERIVED.items()}
# Claims holding a day (ISO 8601 in the document), shown in Jalali.
DATE_CLAIMS = frozenset({"birth_date", "fetched_on", "graduated_on", "issued_on", "valid_until"})
GENDERS = {"male": ("مرد", "Male"), "female": ("زن", "Female")}


def claim_label(name: str, locale: str) -> str:
    """A claim's name in words, in the page's language; an unknown name as it is."""
    fa = locale == "fa"
    if name in WALLET_CLAIM_LABELS:
        return WALLET_CLAIM_LABELS[name][0 if fa else 1]
    return (CLAIM_LABELS_FA if fa else CLAIM_LABELS_EN).get(name, name)


def claim_text(name: str, value: Any, locale: str) -> Any:
    """A claim's value in words: a day in Jalali, yes/no, a gender; anything else as `_claim_value` says."""
    if name in DATE_CLAIMS and isinstance(value, str):
        try:
            return format_date(date.fromisoformat(value), locale)
        except ValueError:
            return value
    if name == "gender" and value in GENDERS:
        return GENDERS[value][0 if locale == "fa" else 1]
    return _claim_value(value, locale)


def _choice(labels: dict[str, dict[str, str]] | None, value: Any, locale: str) -> str | None:
    label = (labels or {}).get(str(value))
    return (label.get("fa") if locale == "fa" else label.get("en")) if label else None


def _claim_value(value: Any, locale: str = "fa") -> Any:
    fa = locale == "fa"
    if isinstance(value, bool):
        return ("بله" if value else "خیر") if fa else ("yes" if value else "no")
    if isinstance(value, dict):
        parts = (str(_claim_value(item, locale)) for item in value.values() if item not in (None, ""))
        return ("، " if fa else ", ").join(parts)
    if isinstance(value, list | tuple):
        return ("؛ " if fa else "; ").join(str(_claim_value(item, locale)) for item in value) or "—"
    return value


def _templates(request: Request) -> Templates:
    templates: Templates = request.app.state.templates
    return templates


def mount(app: FastAPI) -> None:
    """Attach the document pages."""
    app.include_router(router)
