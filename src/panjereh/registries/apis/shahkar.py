"""شاهکار: does this mobile number belong to this national code, and which SIMs does it hold?"""

from typing import Any

from fastapi import APIRouter, Depends

from panjereh.core.identifiers import InvalidIdentifier, normalize_mobile
from panjereh.registries.http import Context, RegistryError, bearer_guard, national_code
from panjereh.registries.schemas import ShahkarMatchIn, ShahkarMatchOut, SimsOut

# The simulator's own operator table; the platform must not rely on prefixes (they go stale).
_OPERATORS = (("092", "رایتل"), ("093", "ایرانسل"), ("090", "ایرانسل"), ("09", "همراه اول"))


def operator_of(mobile: str) -> str:
    """The operator a simulated SIM belongs to."""
    return next(name for prefix, name in _OPERATORS if mobile.startswith(prefix))


def router(ctx: Context) -> APIRouter:
    """The data routes, behind the registry token."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["shahkar"])

    @api.post(
        "/match", response_model=ShahkarMatchOut, summary="Is the mobile registered to the national code?"
    )
    def match(body: ShahkarMatchIn) -> dict[str, Any]:
        code = national_code(body.national_code)
        try:
            mobile = normalize_mobile(body.mobile)
        except InvalidIdentifier as exc:
            raise RegistryError(400, exc.code, "Invalid mobile number", str(exc)) from exc
        owner = ctx.population.owner_of(mobile)
        return {"matched": owner is not None and owner.national_code == code}

    @api.get("/sims/{national_code}", response_model=SimsOut, summary="SIM cards registered to a person")
    def sims(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return {
            "national_code": person.national_code,
            "sims": [{"mobile": m, "operator": operator_of(m)} for m in person.sims],
        }

    return api
