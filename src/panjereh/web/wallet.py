"""The wallet («کیف مدارک») and sharing pages: my documents with the copies pulled from issuers'
registries, a share of chosen claims, its openings and revocation, and the public page a third party opens.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.jalali import tehran_today
from panjereh.core.persian import fold_digits
from panjereh.documents import claims as disclosure
from panjereh.documents import sharing, wallet
from panjereh.documents.deps import throttle_share_openings
from panjereh.documents.exceptions import (
    InvalidShare,
    ShareIdempotencyConflict,
    ShareNotFound,
    WalletSourceUnavailable,
)
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.selectors import (
    active_shares_of,
    document_of,
    find_share,
    opening_counts,
    openings_of,
    shares_of_document,
    wallet_checked_at,
    wallet_documents_of,
)
from panjereh.documents.verification import standing_of
from panjereh.identity.deps import CurrentCitizen, CurrentWebSession, ensure_level
from panjereh.web import share_link
from panjereh.web.csrf import CsrfProtected
from panjereh.web.documents import claim_label, claim_text
from panjereh.web.pwa import mark_offline_page
from panjereh.web.templating import render_private

if TYPE_CHECKING:
    from panjereh.core.config import Settings
    from panjereh.documents.models import DocumentShare, IssuedDocument
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

# The lifetimes the share form offers: minutes → (Persian, English).
LIFETIMES = {
    60: ("یک ساعت", "One hour"),
    24 * 60: ("یک روز", "One day"),
    7 * 24 * 60: ("یک هفته", "One week"),
    30 * 24 * 60: ("سی روز", "Thirty days"),
}
DEFAULT_LIFETIME = 24 * 60
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,43}")  # secrets.token_urlsafe(16): 22 characters
PULL_RESULTS = frozenset({"issued", "kept", "none"})


def _locale(request: Request) -> str:
    locale: str = request.app.state.templates.locale_of(request)
    return locale


# --- the wallet ------------------------------------------------------------------------------------


def _wallet_context(db: Session, citizen: Citizen) -> dict[str, Any]:
    documents = wallet_documents_of(db, citizen.national_code)
    copies = [item for item in documents if wallet.source_of_type(item.document_type) is not None]
    return {
        "issued": [item for item in documents if wallet.source_of_type(item.document_type) is None],
        "copies": copies,
        "sources": wallet.SOURCES,
        "checked_at": wallet_checked_at(db, citizen.national_code),
        "saved_at": utcnow(),  # what the copy the service worker keeps says it was saved at
    }


@router.get("/documents", response_class=HTMLResponse)
def my_documents(request: Request, db: DbSession, owner: CurrentCitizen) -> HTMLResponse:
    """The signed-in citizen's wallet: documents the window issued and copies from issuers' registries."""
    context = _wallet_context(db, owner)
    pulled = request.query_params.get("pulled")
    result = request.query_params.get("result")
    if pulled in wallet.SOURCES_BY_KEY and result in PULL_RESULTS:
        context["pulled"] = (wallet.SOURCES_BY_KEY[pulled], result)
    page = render_private(request, "documents/list.html", context)
    mark_offline_page(request, page)  # kept by the worker for reading offline, for this owner alone
    return page


@router.post("/documents/wallet/{source_key}")
async def pull_to_wallet(
    source_key: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    owner: CurrentCitizen,
    _: CsrfProtected,
) -> Response:
    """Fetch one kind of document from its registry through the exchange and sign fresh copies."""
    source = wallet.source_of(source_key)
    try:
        items = await wallet.fetch(request.app.state.exchange, source, owner.national_code)
    except WalletSourceUnavailable:
        # Nothing changes: the copies already in the wallet stay as they were.
        context = await run_in_threadpool(_wallet_context, db, owner)
        context |= {"unavailable": source}
        return render_private(request, "documents/list.html", context, status_code=503)
    name = f"{owner.first_name} {owner.last_name}"
    result = await run_in_threadpool(
        wallet.store, db, settings, source, national_code=owner.national_code, subject_name=name, items=items
    )
    outcome = "issued" if result.issued else ("kept" if result.kept else "none")
    return RedirectResponse(f"/documents?pulled={source.key}&result={outcome}", status_code=303)


# --- the owner's shares ----------------------------------------------------------------------------


def _own_document(db: Session, number: str, owner: Citizen) -> IssuedDocument:
    return document_of(db, owner.national_code, number)


def _own_share(db: Session, document: IssuedDocument, share_id: str) -> DocumentShare:
    share = find_share(db, share_id)
    if share is None or share.document_id != document.id:
        raise ShareNotFound()
    return share


def offered_rows(document: IssuedDocument, locale: str) -> list[dict[str, Any]]:
    """Each claim the citizen may disclose, with its label, today's value and whether it is derived."""
    today = tehran_today()
    names = disclosure.offered(document.claims or {}, today)
    values = sharing.claim_values(document, names, today)
    return [
        {
            "name": name,
            "label": claim_label(name, locale),
            "value": claim_text(name, values[name], locale),
            "derived": name in disclosure.DERIVED,
        }
        for name in names
    ]


def _form(
    request: Request,
    db: Session,
    document: IssuedDocument,
    *,
    chosen: list[str],
    lifetime: int,
    recipient: str,
    error: Any,
) -> dict[str, Any]:
    locale = _locale(request)
    shares = shares_of_document(db, document.id)
    counts = opening_counts(db, [share.id for share in shares])
    return {
        "document": document,
        "rows": offered_rows(document, locale),
        "chosen": set(chosen),
        "lifetimes": [(minutes, labels[0 if locale == "fa" else 1]) for minutes, labels in LIFETIMES.items()],
        "lifetime": lifetime,
        "recipient": recipient,
        "error": error,
        # One key per rendering of the form: the same form sent twice (a double click) makes one share.
        "form_key": secrets.token_urlsafe(16),
        "shareable": standing_of(document).value == "valid",
        "shares": [
            {"share": share, "status": sharing.status_of(share), "openings": counts.get(share.id, 0)}
            for share in shares
        ],
    }


@router.get("/documents/{number}/share", response_class=HTMLResponse)
def share_form(
    number: str, request: Request, db: DbSession, owner: CurrentCitizen, web_session: CurrentWebSession
) -> HTMLResponse:
    """Choose the claims to disclose, how long the link lasts and whom it is for; the document's shares.

    The choices may come in the query: the step-up a share asks for brings the browser back with them."""
    document = _own_document(db, number, owner)
    query = request.query_params
    duration = _lifetime(query.get("lifetime", ""))
    minutes = int(duration.total_seconds() // 60) if duration else DEFAULT_LIFETIME
    context = _form(
        request,
        db,
        document,
        chosen=[name[:60] for name in query.getlist("claims")[:100]],
        lifetime=minutes if minutes in LIFETIMES else DEFAULT_LIFETIME,
        recipient=query.get("recipient", "")[: sharing.MAX_LABEL],
        error=None,
    )
    context["step_up_needed"] = web_session.level < sharing.SHARE_LEVEL
    return render_private(request, "documents/share_form.html", context)


def _form_again(number: str, chosen: list[str], lifetime: str, recipient: str) -> str:
    """The share form with these choices filled in: where the step-up brings the browser back."""
    query = [("claims", name) for name in chosen] + [
        ("lifetime", lifetime[:20]),
        ("recipient", recipient[: sharing.MAX_LABEL]),
    ]
    return f"/documents/{number}/share?{urlencode(query)}"


def _lifetime(text: str) -> timedelta | None:
    folded = fold_digits(text or "").strip()
    if not folded.isascii() or not folded.isdigit() or len(folded) > 6:
        return None
    return timedelta(minutes=int(folded))


@router.post("/documents/{number}/share", response_model=None)
def create_share(
    number: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    owner: CurrentCitizen,
    web_session: CurrentWebSession,
    _: CsrfProtected,
    claims: Annotated[list[str] | None, Form()] = None,
    lifetime: Annotated[str, Form(max_length=20)] = "",
    recipient: Annotated[str, Form(max_length=1000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Make the share and send the browser to its page, which shows the link and QR code once (POST →
    redirect → GET: a reload makes no second share; only the link's hash is kept).

    The form carries a key of its own: the same form sent again (a double click, a resend after a lost
    answer) makes no second share; it hands over a fresh link to the first one while that was never shown."""
    document = _own_document(db, number, owner)  # another's document: 404 before any step-up
    chosen = [name[:60] for name in (claims or [])[:100]]
    # A share discloses verified claims to a third party: a two-factor session, or a step-up that brings
    # the browser back to the form with these choices filled in.
    ensure_level(
        request, sharing.SHARE_LEVEL, return_to=_form_again(document.number, chosen, lifetime, recipient)
    )
    duration = _lifetime(lifetime)
    try:
        if duration is None:
            raise InvalidShare("Choose how long the link lasts.", "مدت اعتبار پیوند را برگزینید.")
        share, token = _make_share(
            db,
            settings,
            form_key=form_key,
            document_number=document.number,
            owner_national_code=owner.national_code,
            claims=chosen,
            lifetime=duration,
            recipient_label=recipient,
        )
    except InvalidShare as error:
        minutes = int(duration.total_seconds() // 60) if duration else DEFAULT_LIFETIME
        context = _form(
            request, db, document, chosen=chosen, lifetime=minutes, recipient=recipient[:100], error=error
        )
        return render_private(request, "documents/share_form.html", context, status_code=422)
    response = RedirectResponse(share_link.page_path(document.number, share.id), status_code=303)
    if token is not None:  # None: the same form again after its link was shown; the page shows the share
        share_link.hand_over(request, response, session_id=web_session.id, share=share, token=token)
    return response


def _make_share(
    db: Session, settings: Settings, *, form_key: str, **fields: Any
) -> tuple[DocumentShare, str | None]:
    """The form's share, made once per form key (the API's Idempotency-Key, in a namespace of its own)."""
    key = form_key.strip()
    if not FORM_KEY.fullmatch(key):  # no key (an old page or a script): every send makes a share
        return sharing.create_share(db, settings, **fields)
    try:
        share, token = sharing.create_share_once(db, settings, idempotency_key=f"form:{key}", **fields)
    except ShareIdempotencyConflict:
        # The same form sent back with other choices (the browser's Back, then edited): a new share, itself
        # made once (a double click on the edited form too), under the key and what it asks for.
        asked = sharing.request_digest(
            fields["document_number"], fields["claims"], fields["lifetime"], fields["recipient_label"]
        )
        share, token = sharing.create_share_once(
            db, settings, idempotency_key=f"form:{key}:{asked[:16]}", **fields
        )
    if token is None:  # a repeat: the first answer's link never reached a page, unless it was shown
        token = sharing.rekey_unshown(db, share)
    return share, token


def _qr(text: str) -> str:
    return str(segno.make_qr(text, error="m").svg_data_uri(scale=4, border=4))


def _disclosed(share: DocumentShare, locale: str) -> dict[str, Any]:
    """The share's claims as signed in its statement, in words."""
    values = sharing.statement_claims(share)
    return {
        "claim_rows": [
            (claim_label(name, locale), claim_text(name, value, locale), name in disclosure.DERIVED)
            for name, value in values.items()
        ]
    }


@router.get("/documents/{number}/shares/{share_id}", response_class=HTMLResponse)
def share_page(
    number: str,
    share_id: str,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    owner: CurrentCitizen,
    web_session: CurrentWebSession,
) -> HTMLResponse:
    """One of my shares: what it discloses, to whom, until when, each opening; revoke it. Right after it
    was made (and only then) the page also shows its link and QR code."""
    document = _own_document(db, number, owner)
    share = _own_share(db, document, share_id)
    context: dict[str, Any] = {
        "document": document,
        "share": share,
        "status": sharing.status_of(share),
        "openings": openings_of(db, share.id),
        **_disclosed(share, _locale(request)),
    }
    token = share_link.take(request, session_id=web_session.id, share=share)
    if token is not None and sharing.show_link_once(db, share, token):
        link = sharing.share_url(settings, token)
        context |= {"link": link, "qr_uri": _qr(link)}
    response = render_private(request, "documents/share.html", context)
    share_link.clear(request, response, share)
    return response


@router.post("/documents/{number}/shares/{share_id}/revoke")
def revoke_share(
    number: str, share_id: str, db: DbSession, owner: CurrentCitizen, _: CsrfProtected
) -> Response:
    """Revoke a share: the link is refused from now on, and the third party sees it revoked."""
    document = _own_document(db, number, owner)
    share = _own_share(db, document, share_id)
    sharing.revoke_share(db, share.id, owner_national_code=owner.national_code)
    return RedirectResponse(f"/documents/{document.number}/shares/{share.id}", status_code=303)


# --- the third party -------------------------------------------------------------------------------

STATUS_HTTP = {
    sharing.ShareStatus.VALID: 200,
    sharing.ShareStatus.REVOKED: 410,
    sharing.ShareStatus.EXPIRED: 410,
    sharing.ShareStatus.DOCUMENT_INVALID: 410,
}


@router.get("/shared/{token}", response_class=HTMLResponse)
def shared_page(token: str, request: Request, db: DbSession) -> HTMLResponse:
    """What a third party sees: the disclosed claims, the issuer, the share's validity (or why not)."""
    throttle_share_openings(request)
    share, status = sharing.open_share(
        db,
        token,
        channel="page",
        user_agent=request.headers.get("user-agent"),
        address=request.client.host if request.client else None,
    )
    document = share.document
    context: dict[str, Any] = {
        "share": share,
        "status": status,
        "document": document,
        "masked_subject": mask_national_code(document.subject_national_code),
        "masked_name": mask_name(document.subject_name),
        "api_url": f"{request.app.state.settings.base_url}/api/v1/documents/shares/{token}",
    }
    if status == sharing.ShareStatus.VALID:
        context |= _disclosed(share, _locale(request))
    response = render_private(request, "documents/shared.html", context, status_code=STATUS_HTTP[status])
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the key: never leak it onwards
    return response


def active_shares(db: Session, national_code: str, limit: int = 5) -> list[DocumentShare]:
    """My shares that can still be opened (for «my window»)."""
    return list(active_shares_of(db, national_code, limit=limit))


def mount(app: FastAPI) -> None:
    """Attach the wallet and sharing pages."""
    app.include_router(router)
