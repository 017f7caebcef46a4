"""FastAPI dependencies: the signed-in citizen (`CurrentCitizen`, `OptionalCitizen`) and `require_level`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import APIKeyCookie
from sqlalchemy import inspect
from starlette.requests import HTTPConnection

from panjereh.core.cookies import SESSION_COOKIE, read_cookie
from panjereh.core.db import unit_of_work
from panjereh.core.deps import DbSession
from panjereh.core.errors import PROBLEM_JSON, ProblemError
from panjereh.core.persian import to_persian_digits
from panjereh.core.requests import instance_uri
from panjereh.identity import constants as levels
from panjereh.identity import sessions
from panjereh.identity.exceptions import CrossSiteRequest, LevelNotOffered, LoginRequired, StepUpRequired
from panjereh.identity.models import Citizen, WebSession

_UNSET: Any = object()
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionCookie(APIKeyCookie):
    """The citizen's session cookie, as the API document declares it (an API key in a cookie).

    Read through `core.cookies`, so the name follows the deployment (`__Host-pj_session` over HTTPS); the
    application factory writes that name into the document it serves.
    """

    async def __call__(self, request: HTTPConnection) -> str | None:
        return read_cookie(request, SESSION_COOKIE)


session_cookie = SessionCookie(
    name=SESSION_COOKIE,
    scheme_name="citizenSession",
    description=(
        "The citizen's web session, set by the portal's login (SMS code, then the second factor where a "
        "service needs it). A state-changing call must come from the portal's own pages: `Sec-Fetch-Site: "
        "same-origin` or an `Origin` naming this host (a call with neither is not from a browser page)."
    ),
    auto_error=False,  # an anonymous caller is answered by `current_citizen` (a problem, or the login page)
)


def _resolve(request: Request, db: Any, token: str | None) -> tuple[WebSession, Citizen] | None:
    cached: tuple[WebSession, Citizen] | None = getattr(request.state, "identity", _UNSET)
    if cached is not _UNSET:
        return cached
    found = sessions.resolve(db, token)
    request.state.identity = found
    return found


def optional_citizen(
    request: Request, db: DbSession, token: Annotated[str | None, Security(session_cookie)]
) -> Citizen | None:
    """The signed-in citizen, or None."""
    found = _resolve(request, db, token)
    return found[1] if found else None


def current_citizen(
    request: Request, citizen: Annotated[Citizen | None, Depends(optional_citizen)]
) -> Citizen:
    """The signed-in citizen; API callers get 401, browsers are sent to the login page.

    A state-changing API call made with the session cookie must come from this site (see
    `refuse_cross_site`); the portal's forms carry a CSRF token instead.
    """
    if citizen is None:
        raise LoginRequired()
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        refuse_cross_site(request)
    return citizen


def refuse_cross_site(request: Request) -> None:
    """Refuse a request another site's page made a browser send (CSRF on the cookie-signed JSON API).

    Browsers say where a request comes from: `Sec-Fetch-Site` (Fetch Metadata) and, on every cross-origin
    POST, `Origin`. The first is trusted when present, else `Origin` must name this host; a request
    with neither is not from a browser page, so it cannot ride on a citizen's cookie. The same rule as
    Go 1.25's `http.CrossOriginProtection`, and OWASP's CSRF cheat sheet (Fetch Metadata, standard
    headers); SameSite=Lax on the cookie is the second line.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return
        raise CrossSiteRequest(f"Sec-Fetch-Site: {fetch_site[:40]}")
    origin = request.headers.get("origin")
    if origin is None:
        return
    own = {request.headers.get("host", ""), urlsplit(request.app.state.settings.base_url).netloc}
    if urlsplit(origin).netloc not in own - {""}:
        raise CrossSiteRequest(f"Origin: {origin[:100]}")


def current_web_session(
    request: Request, _citizen: Annotated[Citizen, Depends(current_citizen)]
) -> WebSession:
    """The signed-in browser's session row (its level, amr, auth time)."""
    found: tuple[WebSession, Citizen] | None = request.state.identity
    assert found is not None
    return found[0]


CurrentCitizen = Annotated[Citizen, Depends(current_citizen)]
OptionalCitizen = Annotated[Citizen | None, Depends(optional_citizen)]
CurrentWebSession = Annotated[WebSession, Depends(current_web_session)]


def ensure_level(request: Request, level: int, *, return_to: str | None = None) -> None:
    """Step-up unless this request's session is at `level` or higher (call after `CurrentCitizen`).

    `return_to` is where a browser comes back after the step-up when the request itself cannot be
    repeated by a redirect (a POST): a page it can GET. A level no login here reaches is refused outright.
    """
    found: tuple[WebSession, Citizen] | None = getattr(request.state, "identity", None)
    if found is None:
        raise LoginRequired()
    if level > levels.HIGHEST_LEVEL:
        raise LevelNotOffered(
            f"Assurance level {level} is needed; the highest a login here gives is {levels.HIGHEST_LEVEL}",
            to_persian_digits(
                f"سطح اطمینان {level} لازم است؛ بالاترین سطح ورود در پنجره {levels.HIGHEST_LEVEL} است"
            ),
            required_level=level,
        )
    if found[0].level < level:
        raise StepUpRequired(required_level=level, current_level=found[0].level, return_to=return_to)


def require_level(level: int, *, return_to: str | None = None) -> Callable[..., Citizen]:
    """A dependency: the citizen, signed in at `level` or higher (else step-up; see `ensure_level`)."""

    def dependency(request: Request, citizen: CurrentCitizen) -> Citizen:
        ensure_level(request, level, return_to=return_to)
        return citizen

    return dependency


def _expired_by_rollback(found: tuple[WebSession, Citizen] | None) -> bool:
    # A handler that raised rolled its unit of work back, which expires every object of its session;
    # the session is closed by then, so the citizen cannot be refreshed and must be loaded again.
    state = inspect(found[1], raiseerr=False) if found is not None else None
    return state is not None and state.detached and bool(state.expired_attributes)


def current_user_context(request: Request) -> dict[str, Any]:
    """Template context processor: `current_user` is the signed-in Citizen or None."""
    cached: tuple[WebSession, Citizen] | None = getattr(request.state, "identity", _UNSET)
    if cached is _UNSET or _expired_by_rollback(cached):
        token = read_cookie(request, SESSION_COOKIE)
        if not token:
            return {"current_user": None}
        # A second session beside the request's own (which on SQLite holds the write lock): it only
        # reads, so it never waits on it. Pages that need the citizen touch the session themselves.
        with unit_of_work(request.app.state.sessionmaker, writes=False) as db:
            cached = sessions.resolve(db, token, touch=False)
        request.state.identity = cached
    return {"current_user": cached[1] if cached else None}


def _is_api(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/oauth2/", "/exchange/")):
        return True
    return not request.headers.get("accept", "").startswith("text/html")


def _problem(request: Request, error: ProblemError) -> Response:
    problem = error.to_problem(instance_uri(getattr(request.state, "request_id", "unknown")))
    return JSONResponse(problem, status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers)


def _next_of(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(target, safe="")


def _step_up_return(request: Request, error: StepUpRequired) -> str:
    # The browser comes back with a GET: a POST's own URL may have no GET route (405), so it names one.
    if error.return_to:
        return quote(error.return_to, safe="")
    if request.method in SAFE_METHODS:
        return _next_of(request)
    return quote("/account", safe="")


def install(app: FastAPI) -> None:
    """Register the `current_user` context processor and the login/step-up redirects for browsers."""
    app.state.templates.context_processors.append(current_user_context)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if _is_api(request):
            return _problem(request, exc)
        return RedirectResponse(f"/login?next={_next_of(request)}", status_code=303)

    async def on_step_up(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StepUpRequired)
        if _is_api(request):
            return _problem(request, exc)
        return RedirectResponse(f"/login/step-up?next={_step_up_return(request, exc)}", status_code=303)

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(StepUpRequired, on_step_up)
