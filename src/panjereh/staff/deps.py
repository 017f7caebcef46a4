"""FastAPI dependencies of the workspace: the signed-in person as staff of the agency in the path, or as an
operator.

    ctx: Annotated[StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, step_up=True))]

Not signed in: 401 (browsers go to the login page). Not staff of that agency in one of the roles: 403.
Then, when `step_up` is asked and the session is below level 2: the step-up flow (browsers are sent to
`/login/step-up` and come back; a form's POST comes back to the page it was sent from).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import Request

from panjereh.core.deps import DbSession
from panjereh.identity import constants as levels
from panjereh.identity.deps import SAFE_METHODS, CurrentCitizen, CurrentWebSession, ensure_level
from panjereh.staff import service
from panjereh.staff.constants import OPERATOR_SCOPE, Role
from panjereh.staff.service import StaffContext


def _return_to(request: Request, home: str) -> str | None:
    """Where a browser lands after the step-up: a GET comes back to itself; a POST to the workspace page it
    was sent from (its Referer, when that is one of this site's workspace pages), else `home`."""
    if request.method in SAFE_METHODS:
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    own_host = not referer.netloc or referer.netloc == request.headers.get("host", "")
    if own_host and referer.path.startswith(home) and "//" not in referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return home


def agency_staff(*roles: Role, step_up: bool = False) -> Callable[..., StaffContext]:
    """A dependency for routes under `/workspace/{agency_code}/...`: the person as staff of that agency
    holding one of `roles` (any role when none is named)."""

    def dependency(
        request: Request,
        agency_code: str,
        db: DbSession,
        citizen: CurrentCitizen,
        web_session: CurrentWebSession,
    ) -> StaffContext:
        ctx = service.context_for(
            db,
            national_code=citizen.national_code,
            name=citizen.display_name,
            agency_code=agency_code,
            level=web_session.level,
            roles=roles,
        )
        if step_up:
            ensure_level(
                request, levels.LEVEL_TWO_FACTOR, return_to=_return_to(request, f"/workspace/{agency_code}")
            )
        return ctx

    return dependency


def operator(*, step_up: bool = False) -> Callable[..., StaffContext]:
    """A dependency for routes under `/workspace/operator/...`: the person as a platform operator."""

    def dependency(
        request: Request, db: DbSession, citizen: CurrentCitizen, web_session: CurrentWebSession
    ) -> StaffContext:
        ctx = service.operator_context(
            db, national_code=citizen.national_code, name=citizen.display_name, level=web_session.level
        )
        if step_up:
            ensure_level(
                request,
                levels.LEVEL_TWO_FACTOR,
                return_to=_return_to(request, f"/workspace/{OPERATOR_SCOPE}"),
            )
        return ctx

    return dependency
