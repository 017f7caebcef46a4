"""The OIDC provider's browser side: the authorization endpoint, the Persian consent screen, logout."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from panjereh.core.cookies import SESSION_COOKIE, delete_cookie, read_cookie
from panjereh.core.db import utcnow
from panjereh.core.deps import AppSettings, DbSession
from panjereh.core.requests import instance_uri
from panjereh.identity import sessions
from panjereh.identity.deps import CurrentCitizen, optional_citizen
from panjereh.oidc import attributes, clients, tokens
from panjereh.oidc import authorize as authz
from panjereh.oidc import logout as oidc_logout
from panjereh.oidc.exceptions import InvalidClientRequest
from panjereh.oidc.router import key_ring
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.identity.models import Citizen, WebSession

router = APIRouter(include_in_schema=False)

AUTHORIZE_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "acr_values",
    "login_hint",
    "response_mode",
)

SCOPE_LABELS = {
    "openid": ("شناسهٔ کاربری شما در این برنامه", "An identifier for you in this app"),
    "profile": ("نام، نام خانوادگی، تاریخ تولد و جنسیت (از ثبت احوال)", "Name, birth date and gender"),
    "national_code": ("کد ملی", "National code"),
    "phone": ("شمارهٔ همراه", "Mobile number"),
    "offline_access": ("دسترسی ادامه‌دار تا زمانی که لغو کنید", "Continued access until you revoke it"),
}


def scope_label(scope: str, locale: str = "fa") -> str:
    """A scope in words a citizen reads (never the machine code where a label exists)."""
    attribute = attributes.ATTRIBUTES.get(scope)
    pair = (attribute.label_fa, attribute.label_en) if attribute else SCOPE_LABELS.get(scope, (scope, scope))
    return pair[0] if locale == "fa" else pair[1]


@dataclass(frozen=True)
class AttributeAsked:
    """One attribute on the consent screen: what, why (the client's words), and from which registry."""

    scope: str
    label_fa: str
    label_en: str
    reason_fa: str
    reason_en: str
    sources_fa: str
    sources_en: str


def _asked(client: Any, scopes: list[str]) -> list[AttributeAsked]:
    purposes = client.attribute_purposes or {}
    asked = []
    for scope in scopes:
        attribute = attributes.ATTRIBUTES[scope]
        reason = purposes.get(scope) or ["", ""]
        asked.append(
            AttributeAsked(
                scope,
                attribute.label_fa,
                attribute.label_en,
                reason[0],
                reason[1] or reason[0],
                attribute.sources_fa,
                attribute.sources_en,
            )
        )
    return asked


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_request_page(request: Request, error: InvalidClientRequest) -> Response:
    problem = error.to_problem(instance_uri(getattr(request.state, "request_id", "unknown")))
    return _no_store(request.app.state.templates.render_problem(request, problem, error.status))


def _identity(request: Request, db: Any) -> tuple[WebSession, Citizen] | None:
    optional_citizen(request, db, read_cookie(request, SESSION_COOKIE))
    found: tuple[WebSession, Citizen] | None = request.state.identity
    return found


def _authorize_url(params: dict[str, str], drop: tuple[str, ...] = ()) -> str:
    kept = {key: value for key, value in params.items() if key in AUTHORIZE_FIELDS and key not in drop}
    return "/oauth2/authorize?" + urlencode(kept)


def _login_redirect(params: dict[str, str], request_: authz.AuthorizationRequest, force: bool) -> Response:
    # prompt=login / max_age are satisfied by the fresh login, so they are dropped from the way back.
    back = _authorize_url(params, drop=("prompt", "max_age") if force else ())
    target = f"/login?next={quote(back, safe='')}"
    if force:
        target += "&force=1"
    if request_.login_hint:
        target += f"&hint={quote(request_.login_hint, safe='')}"
    return RedirectResponse(target, status_code=303)


def _answer(request: Request, answer: authz.AuthorizationResponse) -> Response:
    """The authorization response: a redirect, or a page whose form the browser posts (`form_post`)."""
    if answer.response_mode != "form_post":
        return RedirectResponse(answer.location, status_code=303)
    return _no_store(
        request.app.state.templates.render(
            request,
            "oidc/form_post.html",
            {"redirect_uri": answer.redirect_uri, "parameters": answer.parameters},
        )
    )


def _duplicated(items: list[tuple[str, str]]) -> set[str]:
    """Parameters sent more than once (RFC 6749 §3.1: each at most once)."""
    counts = Counter(key for key, _value in items)
    return {key for key, count in counts.items() if count > 1}


def _handle(
    request: Request,
    db: Any,
    settings: Any,
    params: dict[str, str],
    duplicated: set[str] | None = None,
    declined: frozenset[str] = frozenset(),
) -> Response:
    """The authorization request, after login and consent; `declined`: the attribute scopes the citizen
    unticked on the consent screen just answered (left out of this authorization)."""
    issuer = settings.base_url
    try:
        request_ = authz.validate(db, params, duplicated or set())
    except InvalidClientRequest as error:
        return _bad_request_page(request, error)
    except authz.RedirectError as error:
        return _answer(request, error.response(issuer))
    request_.scopes = [scope for scope in request_.scopes if scope not in declined]

    def fail(error: str, description: str) -> Response:
        refused = authz.RedirectError(
            request_.redirect_uri, request_.state, error, description, request_.response_mode
        )
        return _answer(request, refused.response(issuer))

    found = _identity(request, db)
    none = "none" in request_.prompt
    if found is None:
        return (
            fail("login_required", "The citizen is not signed in")
            if none
            else _login_redirect(params, request_, force=False)
        )
    web_session, citizen = found
    if not authz.admits(request_.client, citizen):
        return fail("access_denied", authz.SANDBOX_REFUSAL)
    too_old = request_.max_age is not None and utcnow() - web_session.auth_time > timedelta(
        seconds=request_.max_age
    )
    if "login" in request_.prompt or too_old:
        if none:
            return fail("login_required", "A fresh login is needed")
        return _login_redirect(params, request_, force=True)
    wanted = max(request_.required_level(), request_.requested_level())
    if web_session.level < wanted:
        if none:
            return fail("interaction_required", "A higher assurance level needs interaction")
        if citizen.has_second_factor or request_.required_level() > web_session.level:
            back = quote(_authorize_url(params), safe="")
            return RedirectResponse(f"/login/step-up?next={back}", status_code=303)
        # acr_values are voluntary (OIDC Core §3.1.2.1): go on; the `acr` claim says what was done.
    if "consent" in request_.prompt or not authz.consent_covers(
        db, citizen, request_.client, request_.scopes
    ):
        if none:
            return fail("consent_required", "The citizen has not consented to these scopes")
        ask, agreed = authz.attributes_to_ask(db, citizen, request_)
        return _no_store(
            request.app.state.templates.render(
                request,
                "oidc/consent.html",
                {
                    "client": request_.client,
                    "scopes": [
                        (scope, SCOPE_LABELS.get(scope, (scope, scope)))
                        for scope in request_.scopes
                        if not attributes.is_attribute(scope)
                    ],
                    "attributes_asked": _asked(request_.client, ask),
                    "attributes_agreed": _asked(request_.client, agreed),
                    "params": {key: value for key, value in params.items() if key in AUTHORIZE_FIELDS},
                    "redirect_host": request_.redirect_uri.split("/")[2],
                    "offline": "offline_access" in request_.scopes,
                },
            )
        )
    try:
        code = authz.issue_code(db, request_, citizen, web_session)
    except authz.RedirectError as error:
        return _answer(request, error.response(issuer))
    db.commit()  # the client redeems the code at once; request-scoped teardown runs after the response
    return _answer(request, authz.success(request_, code, issuer))


@router.get("/oauth2/authorize")
def authorize(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """The authorization endpoint (GET, RFC 6749 §4.1.1)."""
    items = request.query_params.multi_items()
    return _handle(request, db, settings, dict(items), _duplicated(items))


@router.post("/oauth2/authorize")
async def authorize_post(request: Request) -> Response:
    """The authorization endpoint by form POST (OIDC Core §3.1.2.1: GET and POST must both work).

    The same request is answered as a GET (303): the session cookie is SameSite=Lax, so a browser
    leaves it off the relying party's cross-site form POST and would look signed out here (a needless
    login, or `login_required` for `prompt=none`); on the top-level GET it is sent. Every parameter is
    carried over, so the GET validates exactly what was posted.
    """
    form = await request.form()
    query = urlencode([(key, str(value)) for key, value in form.multi_items()])
    return _no_store(RedirectResponse(f"/oauth2/authorize?{query}", status_code=303))


@router.post("/oauth2/consent")
async def consent(request: Request, db: DbSession, settings: AppSettings, _: CsrfProtected) -> Response:
    """The citizen's answer on the consent screen; the request is validated again from scratch."""
    items = [(key, str(value)) for key, value in (await request.form()).multi_items()]
    ticked = [value for key, value in items if key == ATTRIBUTE_FIELD]
    rest = [(key, value) for key, value in items if key != ATTRIBUTE_FIELD]
    return await run_in_threadpool(_consent, request, db, settings, dict(rest), _duplicated(rest), ticked)


ATTRIBUTE_FIELD = "attribute"  # one checkbox per attribute on the consent screen, its value the scope


def _consent(
    request: Request,
    db: Any,
    settings: Any,
    form: dict[str, str],
    duplicated: set[str],
    ticked_attributes: Sequence[str] = (),
) -> Response:
    params = {key: value for key, value in form.items() if key in AUTHORIZE_FIELDS}
    try:
        request_ = authz.validate(db, params, duplicated & set(AUTHORIZE_FIELDS))
    except InvalidClientRequest as error:
        return _bad_request_page(request, error)
    except authz.RedirectError as error:
        return _answer(request, error.response(settings.base_url))
    found = _identity(request, db)
    if found is None:
        return _login_redirect(params, request_, force=False)
    if form.get("decision") != "allow" or not authz.admits(request_.client, found[1]):
        denied = authz.RedirectError(
            request_.redirect_uri,
            request_.state,
            "access_denied",
            "The citizen declined" if authz.admits(request_.client, found[1]) else authz.SANDBOX_REFUSAL,
            request_.response_mode,
        )
        return _answer(request, denied.response(settings.base_url))
    # Each attribute asked about is its own checkbox: the ticked ones are agreed to, the rest declined.
    asked, _agreed = authz.attributes_to_ask(db, found[1], request_)
    ticked = set(ticked_attributes) & set(asked)
    declined = frozenset(asked) - ticked
    authz.remember_consent(
        db,
        found[1],
        request_.client,
        [scope for scope in request_.scopes if scope not in declined],
        withdrawn=declined,
    )
    params.pop("prompt", None)
    return _handle(request, db, settings, params, declined=declined)


@router.post("/account/apps/{client_id}/attributes/{scope}/withdraw")
def withdraw_attribute(
    client_id: str, scope: str, citizen: CurrentCitizen, db: DbSession, _: CsrfProtected
) -> Response:
    """The citizen withdraws consent to one verified attribute of a connected app: it is released no more,
    even on tokens the app already holds; the rest of the consent stays."""
    authz.withdraw_attribute(db, citizen, client_id, scope)
    db.commit()
    return RedirectResponse("/account/apps", status_code=303)


def _logout_target(
    db: Any, settings: Any, request: Request, params: dict[str, str]
) -> tuple[str | None, str | None]:
    """The validated post-logout redirect (registered for the client the hint names) and the hinted sid."""
    hint = params.get("id_token_hint")
    claims = tokens.decode_id_token_hint(db, settings, key_ring(request), hint) if hint else None
    client_id = params.get("client_id") or (str(claims.get("aud")) if claims else None)
    if claims and params.get("client_id") and claims.get("aud") != params["client_id"]:
        return None, None
    client = clients.get_client(db, client_id or "")
    target = params.get("post_logout_redirect_uri")
    if target and client is not None and target in client.post_logout_redirect_uris:
        if params.get("state"):
            target = authz.add_query(target, {"state": params["state"]})
    else:
        target = None
    return target, (str(claims["sid"]) if claims and claims.get("sid") else None)


@router.api_route("/oauth2/logout", methods=["GET"])
def logout(request: Request, db: DbSession, settings: AppSettings) -> Response:
    """RP-initiated logout 1.0: with a hint naming this browser's session, log out at once; else ask."""
    params = dict(request.query_params)
    target, sid = _logout_target(db, settings, request, params)
    found = _identity(request, db)
    if found is not None and sid is not None and sid == found[0].id:
        sessions.end_session(db, found[0].id)
        oidc_logout.session_ended(db, found[0].id)
        db.commit()
        response = RedirectResponse(target or "/", status_code=303)
        delete_cookie(response, request.app.state.settings, SESSION_COOKIE)
        return response
    if found is None:
        return RedirectResponse(target or "/", status_code=303)
    return _no_store(
        request.app.state.templates.render(
            request,
            "oidc/logout.html",
            {
                "params": {
                    k: v
                    for k, v in params.items()
                    if k in ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")
                }
            },
        )
    )


@router.post("/oauth2/logout")
async def logout_confirm(
    request: Request, db: DbSession, settings: AppSettings, _: CsrfProtected
) -> Response:
    """The citizen confirmed logging out."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    return await run_in_threadpool(_logout, request, db, settings, form)


def _logout(request: Request, db: Any, settings: Any, form: dict[str, str]) -> Response:
    target, _sid = _logout_target(db, settings, request, form)
    found = _identity(request, db)
    if found is not None:
        sessions.end_session(db, found[0].id)
        oidc_logout.session_ended(db, found[0].id)
    db.commit()
    response = RedirectResponse(target or "/", status_code=303)
    delete_cookie(response, request.app.state.settings, SESSION_COOKIE)
    return response
