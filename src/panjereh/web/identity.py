"""Login, registration, SMS code, second factor, logout and the citizen's account pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from panjereh.core.cookies import LOGIN_COOKIE, SESSION_COOKIE, delete_cookie, read_cookie, set_cookie
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.errors import ProblemError
from panjereh.identity import constants as levels
from panjereh.identity import selectors, service, sessions, totp
from panjereh.identity.deps import CurrentCitizen, CurrentWebSession, OptionalCitizen, require_level
from panjereh.identity.exceptions import SecondFactorInvalid, WrongCode
from panjereh.identity.ratelimit import FailureCounters, LoginLimits
from panjereh.notify import selectors as inbox_selectors
from panjereh.notify import service as notify_service
from panjereh.oidc import attributes as oidc_attributes
from panjereh.oidc import logout as oidc_logout
from panjereh.oidc import tokens as oidc_tokens
from panjereh.web import oidc as oidc_web
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen

router = APIRouter(include_in_schema=False)

# Logging out drops what this browser kept of the citizen: the service worker's copies of their documents
# (Cache Storage) and the worker itself; cookies other than the session's (the language) stay.
CLEAR_SITE_DATA = '"cache", "storage"'
# Where a login lands when it was not asked for by a page: «my window», everything of mine on one page.
LANDING = "/window"


def safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a scheme): an open redirect is a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return LANDING
    return target


def _counters(request: Request, db: Any) -> LoginLimits:
    return LoginLimits(request.app.state.login_throttles, FailureCounters(db))


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.render(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_context(error: ProblemError, locale: str) -> dict[str, Any]:
    if locale == "fa":
        return {"error": error.title_fa, "error_detail": error.detail_fa, "error_code": error.code}
    return {"error": error.title_en, "error_detail": error.detail_en, "error_code": error.code}


def _problem_page(request: Request, name: str, context: dict[str, Any], error: ProblemError) -> HTMLResponse:
    locale = request.app.state.templates.locale_of(request)
    response = _render(request, name, {**context, **_error_context(error, locale)}, error.status)
    response.headers.update(error.headers)
    return response


# --- login -----------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, citizen: OptionalCitizen, next: str = LANDING, force: int = 0) -> Response:
    """The login and registration form (one form: returning citizens may give only one identifier)."""
    if citizen is not None and not force:
        return RedirectResponse(safe_next(next), status_code=303)
    hint = request.query_params.get("hint", "")
    return _render(request, "identity/login.html", {"next": safe_next(next), "hint": hint})


@router.post("/login", response_class=HTMLResponse)
def login_start(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    _: CsrfProtected,
    national_code: Annotated[str, Form()] = "",
    mobile: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = LANDING,
) -> Response:
    """Check the identifiers (and the registries on first login), then send the SMS code."""
    context = {"next": safe_next(next), "national_code": national_code, "mobile": mobile}
    store = _counters(request, db)
    try:
        # Each step ends its transaction: the exchange logs its inquiries in its own transaction, and on
        # SQLite a transaction that read before another writer committed cannot write afterwards.
        service.count_login_start(store, _ip(request))
        db.commit()
        who = service.identify(
            db, store, request.app.state.registration_checks, national_code=national_code, mobile=mobile
        )
        db.commit()
        started = service.send_code(db, settings, store, who, ip=_ip(request))
    except ProblemError as error:
        db.rollback()  # nothing half-created: a refused login leaves no attempt and no citizen behind
        return _problem_page(request, "identity/login.html", context, error)
    db.commit()  # the browser follows at once; request-scoped teardown commits only after the response
    response = RedirectResponse(
        f"/login/verify?attempt={started.attempt_id}&next={_quote(safe_next(next))}", status_code=303
    )
    binding = f"{started.attempt_id}.{started.binding}"
    set_cookie(response, settings, LOGIN_COOKIE, binding, max_age=settings.otp_ttl_seconds)
    return response


def _quote(value: str) -> str:
    return quote(value, safe="")


def _binding(request: Request, attempt_id: str) -> str | None:
    raw = read_cookie(request, LOGIN_COOKIE) or ""
    cookie_attempt, _, binding = raw.partition(".")
    return binding if cookie_attempt == attempt_id else None


@router.get("/login/verify", response_class=HTMLResponse)
def verify_form(request: Request, db: DbSession, attempt: str = "", next: str = LANDING) -> Response:
    """Enter the SMS code."""
    context: dict[str, Any] = {"attempt": attempt, "next": safe_next(next), "step": "sms"}
    try:
        row = service.get_attempt(db, attempt, _binding(request, attempt))
    except ProblemError as error:
        return _problem_page(request, "identity/verify.html", context, error)
    context["masked_mobile"] = service.mask_mobile(row.mobile)
    context["registering"] = row.purpose == "register"
    return _render(request, "identity/verify.html", context)


def _check(
    request: Request,
    db: Any,
    settings: Any,
    verify: Callable[..., Any],
    context: dict[str, Any],
    code: str,
    wrong: type[ProblemError],
) -> Any:
    """Run one of the code checks (SMS or second factor); a refusal or wrong code comes back as the page."""
    attempt = context["attempt"]
    try:
        entry = service.CodeEntry(
            attempt, _binding(request, attempt), code, _ip(request), request.headers.get("user-agent", "")
        )
        outcome = verify(db, settings, _counters(request, db), entry)
    except ProblemError as error:
        return _problem_page(request, "identity/verify.html", context, error)
    if outcome.status == "wrong":
        context["remaining"] = outcome.remaining
        return _problem_page(request, "identity/verify.html", context, wrong())
    return outcome


def _signed_in(
    request: Request, db: Any, citizen: Citizen, outcome: service.VerifyOutcome, next: str
) -> Response:
    web_session, token = sessions.open_session(
        db,
        citizen,
        level=outcome.level,
        amr=outcome.amr,
        ip=_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        replaces_token=read_cookie(request, SESSION_COOKIE),
    )
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, request.app.state.settings, SESSION_COOKIE, token)
    delete_cookie(response, request.app.state.settings, LOGIN_COOKIE)
    return response


def _code_submit(step: str, verify: Callable[..., Any], wrong: type[ProblemError]) -> Callable[..., Response]:
    """The handler that checks one step's code (SMS, then the second factor if the citizen has one):
    a new session (new id) when the last step passes."""

    def submit(
        request: Request,
        db: DbSession,
        settings: AppSettings,
        _: CsrfProtected,
        attempt: Annotated[str, Form()] = "",
        code: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = LANDING,
    ) -> Response:
        context: dict[str, Any] = {"attempt": attempt, "next": safe_next(next), "step": step}
        outcome = _check(request, db, settings, verify, context, code, wrong)
        if isinstance(outcome, Response):
            return outcome
        if outcome.status == "second_factor":
            db.commit()
            return RedirectResponse(
                f"/login/totp?attempt={attempt}&next={_quote(safe_next(next))}", status_code=303
            )
        assert outcome.citizen is not None
        return _signed_in(request, db, outcome.citizen, outcome, next)

    return submit


router.post("/login/verify", response_class=HTMLResponse, name="verify_submit")(
    _code_submit("sms", service.verify_code, WrongCode)
)


@router.get("/login/totp", response_class=HTMLResponse)
def totp_form(request: Request, attempt: str = "", next: str = LANDING) -> Response:
    """Enter the authenticator app's code (second factor)."""
    return _render(
        request, "identity/verify.html", {"attempt": attempt, "next": safe_next(next), "step": "totp"}
    )


router.post("/login/totp", response_class=HTMLResponse, name="totp_submit")(
    _code_submit("totp", service.verify_second_factor, SecondFactorInvalid)
)


@router.get("/login/step-up", response_class=HTMLResponse)
def step_up_form(request: Request, citizen: CurrentCitizen, next: str = LANDING) -> Response:
    """Raise this session's level with the second factor (or learn how to set one up)."""
    return _render(
        request,
        "identity/verify.html",
        {"next": safe_next(next), "step": "step_up", "has_totp": citizen.has_second_factor},
    )


@router.post("/login/step-up", response_class=HTMLResponse)
def step_up_submit(
    request: Request,
    db: DbSession,
    settings: AppSettings,
    citizen: CurrentCitizen,
    web_session: CurrentWebSession,
    _: CsrfProtected,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = LANDING,
) -> Response:
    context: dict[str, Any] = {
        "next": safe_next(next),
        "step": "step_up",
        "has_totp": citizen.has_second_factor,
    }
    store = FailureCounters(db)
    try:
        service.check_not_locked(store, citizen.national_code)
    except ProblemError as error:
        return _problem_page(request, "identity/verify.html", context, error)
    if not service.check_totp(db, settings, citizen, code):
        service.record_failure(store, citizen.national_code)
        return _problem_page(request, "identity/verify.html", context, SecondFactorInvalid())
    store.reset(f"fail:{citizen.national_code}")
    token = sessions.raise_level(db, web_session, levels.LEVEL_TWO_FACTOR, "otp")
    db.commit()
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, request.app.state.settings, SESSION_COOKIE, token)  # a new token for the new level
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, _: CsrfProtected) -> Response:
    """End this browser's session."""
    token = read_cookie(request, SESSION_COOKIE)
    if token:
        ended = sessions.resolve(db, token, touch=False)
        sessions.end_session_by_token(db, token)
        if ended is not None:  # the apps this session signed in to hear of it (OIDC back-channel logout)
            oidc_logout.session_ended(db, ended[0].id)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    delete_cookie(response, request.app.state.settings, SESSION_COOKIE)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


# --- account -----------------------------------------------------------------------------------


def _account(request: Request, section: str, context: dict[str, Any]) -> HTMLResponse:
    return _render(request, "identity/account.html", {"section": section, **context})


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request, citizen: CurrentCitizen, web_session: CurrentWebSession, db: DbSession
) -> Response:
    """Profile (from the civil registry) and the session's assurance level."""
    return _account(
        request,
        "profile",
        {
            "citizen": citizen,
            "web_session": web_session,
            "unread": inbox_selectors.unread_count(db, citizen.national_code),
        },
    )


@router.get("/account/sessions", response_class=HTMLResponse)
def account_sessions(
    request: Request, citizen: CurrentCitizen, web_session: CurrentWebSession, db: DbSession
) -> Response:
    return _account(
        request, "sessions", {"rows": selectors.active_sessions(db, citizen), "current_id": web_session.id}
    )


@router.post("/account/sessions/{session_id}/revoke")
def revoke_session(session_id: str, citizen: CurrentCitizen, db: DbSession, _: CsrfProtected) -> Response:
    sessions.revoke(db, citizen, session_id)
    oidc_logout.session_ended(db, session_id)
    db.commit()
    return RedirectResponse("/account/sessions", status_code=303)


@router.post("/account/sessions/revoke-all")
def revoke_all_sessions(
    citizen: CurrentCitizen, db: DbSession, settings: AppSettings, _: CsrfProtected
) -> Response:
    """Log out everywhere, this browser included."""
    ending = [row.id for row in selectors.active_sessions(db, citizen)]
    sessions.revoke_all(db, citizen)
    for session_id in ending:
        oidc_logout.session_ended(db, session_id)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    delete_cookie(response, settings, SESSION_COOKIE)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@router.get("/account/apps", response_class=HTMLResponse)
def account_apps(request: Request, citizen: CurrentCitizen, db: DbSession) -> Response:
    locale = request.app.state.templates.locale_of(request)
    context = {
        "apps": oidc_tokens.connected_apps(db, citizen),
        "scope_label": lambda scope: oidc_web.scope_label(scope, locale),
        "is_attribute": oidc_attributes.is_attribute,
    }
    return _account(request, "apps", context)


@router.post("/account/apps/{client_id}/revoke")
def revoke_app(client_id: str, citizen: CurrentCitizen, db: DbSession, _: CsrfProtected) -> Response:
    oidc_tokens.revoke_client_for_citizen(db, citizen, client_id)
    db.commit()
    return RedirectResponse("/account/apps", status_code=303)


@router.get("/account/logins", response_class=HTMLResponse)
def account_logins(request: Request, citizen: CurrentCitizen, db: DbSession) -> Response:
    return _account(request, "logins", {"events": selectors.recent_logins(db, citizen)})


@router.get("/account/inbox", response_class=HTMLResponse)
def account_inbox(request: Request, citizen: CurrentCitizen, db: DbSession) -> Response:
    messages = inbox_selectors.inbox(db, citizen.national_code)
    # How each message's SMS or e-mail went (queued, sent, delivered, failed), beside it.
    deliveries = inbox_selectors.delivery_of(db, citizen.national_code, (message.id for message in messages))
    return _account(request, "inbox", {"messages": messages, "deliveries": deliveries})


@router.post("/account/inbox/{message_id}/read")
def inbox_read(message_id: str, citizen: CurrentCitizen, db: DbSession, _: CsrfProtected) -> Response:
    notify_service.mark_read(db, citizen.national_code, message_id)
    db.commit()
    return RedirectResponse("/account/inbox", status_code=303)


def _security_next(next: str) -> str:
    """Where confirming a new second factor leads: back to what asked for it, else the security page."""
    return safe_next(next) if next else ""


@router.get("/account/security", response_class=HTMLResponse)
def account_security(
    request: Request,
    citizen: CurrentCitizen,
    web_session: CurrentWebSession,
    settings: AppSettings,
    next: str = "",
) -> Response:
    """Second-factor set-up: scan, confirm, or turn off."""
    context: dict[str, Any] = {"citizen": citizen, "web_session": web_session, "next": _security_next(next)}
    secret = service.pending_totp_secret(settings, citizen) if not citizen.has_second_factor else None
    if secret:
        uri = totp.provisioning_uri(secret, citizen.national_code)
        context.update(secret=secret, qr_svg=segno.make(uri, error="m").svg_inline(scale=4), otpauth=uri)
    return _account(request, "security", context)


def _security_page(next: str) -> str:
    return f"/account/security?next={_quote(next)}" if next else "/account/security"


@router.post("/account/security/totp/start")
def totp_start(
    citizen: CurrentCitizen,
    db: DbSession,
    settings: AppSettings,
    _: CsrfProtected,
    next: Annotated[str, Form()] = "",
) -> Response:
    if not citizen.has_second_factor:
        service.begin_totp_enrolment(db, settings, citizen)
    db.commit()
    return RedirectResponse(_security_page(_security_next(next)), status_code=303)


@router.post("/account/security/totp/confirm", response_class=HTMLResponse)
def totp_confirm(
    request: Request,
    citizen: CurrentCitizen,
    web_session: CurrentWebSession,
    db: DbSession,
    settings: AppSettings,
    _: CsrfProtected,
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Proving the app works turns the factor on and raises this session to level 2 (under a new token);
    the citizen goes back to what asked for the step-up, if anything did."""
    back = _security_next(next)
    try:
        service.confirm_totp_enrolment(db, settings, citizen, code)
    except ProblemError as error:
        context: dict[str, Any] = {"citizen": citizen, "web_session": web_session, "next": back}
        secret = service.pending_totp_secret(settings, citizen)
        if secret:
            context.update(secret=secret, otpauth=totp.provisioning_uri(secret, citizen.national_code))
        locale = request.app.state.templates.locale_of(request)
        page = _account(request, "security", {**context, **_error_context(error, locale)})
        page.status_code = error.status
        return page
    token = sessions.raise_level(db, web_session, levels.LEVEL_TWO_FACTOR, "otp")
    notify_service.tell(  # a security notice: the inbox and SMS always, e-mail too if chosen
        db,
        settings,
        national_code=citizen.national_code,
        mobile=citizen.mobile,
        subject_fa="عامل دوم ورود فعال شد",
        body_fa=(
            "برنامهٔ احراز هویت برای حساب شما در پنجره فعال شد. "
            "اگر این کار را شما نکرده‌اید، همهٔ نشست‌ها را ببندید."
        ),
        subject_en="A second sign-in factor was turned on",
        body_en=(
            "An authenticator app was turned on for your Panjereh account. "
            "If it was not you, end all sessions."
        ),
        kind="identity.second_factor_enabled",
        link="/account/security",
    )
    db.commit()
    response = RedirectResponse(back or "/account/security", status_code=303)
    set_cookie(response, request.app.state.settings, SESSION_COOKIE, token)  # a new token for the new level
    return response


@router.post("/account/security/totp/disable")
def totp_disable(
    # A POST cannot be repeated by the redirect back from step-up: the browser returns to the page.
    # FastAPI takes the last dependency of the flattened `Annotated`: this one, which asks for level 2.
    citizen: Annotated[
        CurrentCitizen, Depends(require_level(levels.LEVEL_TWO_FACTOR, return_to="/account/security"))
    ],
    db: DbSession,
    _: CsrfProtected,
) -> Response:
    """Turning the second factor off needs a level-2 session (an attacker with only the SIM cannot)."""
    service.disable_totp(db, citizen)
    db.commit()
    return RedirectResponse("/account/security", status_code=303)
