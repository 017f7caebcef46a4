"""The citizen's notice preferences: which channels per kind of notice, and an e-mail address verified by a
link before it is used."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.identity.deps import CurrentCitizen
from panjereh.notify import constants, selectors, service
from panjereh.web.csrf import CsrfProtected

router = APIRouter(include_in_schema=False)

PAGE = "/account/notices"
TOKEN_MAX = 100
NOTICES: dict[str, tuple[str, str]] = {  # ?done=… after a change: what the page says (fa, en)
    "saved": ("ترجیحات اعلان ذخیره شد.", "Your notice preferences were saved."),
    "sent": (
        "پیوند تأیید به ایمیل شما فرستاده شد؛ تا تأیید نشود، ایمیلی برایتان نمی‌فرستیم.",
        "A confirmation link was sent to your e-mail; nothing is e-mailed to you until it is confirmed.",
    ),
    "verified": ("نشانی ایمیل تأیید شد.", "Your e-mail address is confirmed."),
    "removed": ("نشانی ایمیل حذف شد.", "Your e-mail address was removed."),
}


def _page(request: Request, db: Any, citizen: Any, status: int = 200, **extra: Any) -> HTMLResponse:
    templates = request.app.state.templates
    locale = templates.locale_of(request)
    done = NOTICES.get(request.query_params.get("done", ""))
    context = {
        "section": "notices",
        "topics": constants.TOPICS,
        "channel_order": constants.CHANNEL_ORDER,
        "chosen": selectors.preferences(db, citizen.national_code),
        "email_state": selectors.email_state(db, citizen.national_code),
        "has_mobile": bool(citizen.mobile),
        "done": (done[0] if locale == "fa" else done[1]) if done else None,
        **extra,
    }
    response: HTMLResponse = templates.render(request, "identity/account.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _failed(request: Request, db: Any, citizen: Any, error: ProblemError, **extra: Any) -> HTMLResponse:
    db.rollback()
    locale = request.app.state.templates.locale_of(request)
    shown = (
        {"error": error.title_fa, "error_detail": error.detail_fa}
        if locale == "fa"
        else {"error": error.title_en, "error_detail": error.detail_en}
    )
    response = _page(request, db, citizen, error.status, error_code=error.code, **shown, **extra)
    response.headers.update(error.headers)
    return response


@router.get(PAGE, response_class=HTMLResponse)
def notices(request: Request, citizen: CurrentCitizen, db: DbSession) -> Response:
    """Channels per kind of notice, and the e-mail address."""
    return _page(request, db, citizen)


@router.post(PAGE, response_class=HTMLResponse)
async def save(request: Request, citizen: CurrentCitizen, db: DbSession, _: CsrfProtected) -> Response:
    """Save every topic's channels at once (a checkbox per topic and channel, `<topic>=<channel>`)."""
    form = await request.form()
    try:
        for topic in constants.TOPICS:
            picked = frozenset(str(value)[:10] for value in form.getlist(topic.code)[:5])
            service.set_topic_channels(db, citizen.national_code, topic.code, picked)
    except ProblemError as error:
        return _failed(request, db, citizen, error)
    return RedirectResponse(f"{PAGE}?done=saved", status_code=303)


@router.post(f"{PAGE}/email", response_class=HTMLResponse)
def add_email(
    request: Request,
    citizen: CurrentCitizen,
    db: DbSession,
    settings: AppSettings,
    _: CsrfProtected,
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Send a verification link to a new address (used once the citizen opens it)."""
    try:
        service.request_email_verification(db, settings, citizen.national_code, email)
    except ProblemError as error:
        return _failed(request, db, citizen, error, typed_email=email[:254])
    return RedirectResponse(f"{PAGE}?done=sent", status_code=303)


@router.get(f"{PAGE}/email/verify", response_class=HTMLResponse)
def confirm_email_form(request: Request, citizen: CurrentCitizen, db: DbSession, token: str = "") -> Response:
    """The link's landing: a button confirms (mail scanners that open links must not verify for anyone)."""
    return _page(request, db, citizen, verify_token=token[:TOKEN_MAX])


@router.post(f"{PAGE}/email/verify", response_class=HTMLResponse)
def confirm_email(
    request: Request,
    citizen: CurrentCitizen,
    db: DbSession,
    settings: AppSettings,
    _: CsrfProtected,
    token: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        service.verify_email(db, citizen.national_code, token)
    except ProblemError as error:
        return _failed(request, db, citizen, error)
    service.tell_email_verified(db, settings, citizen.national_code, citizen.mobile)
    return RedirectResponse(f"{PAGE}?done=verified", status_code=303)


@router.post(f"{PAGE}/email/remove")
def remove_email(citizen: CurrentCitizen, db: DbSession, _: CsrfProtected) -> Response:
    service.remove_email(db, citizen.national_code)
    return RedirectResponse(f"{PAGE}?done=removed", status_code=303)


def mount(app: FastAPI) -> None:
    app.include_router(router)
