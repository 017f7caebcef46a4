"""Each agency's own file of a person: the generic data service of an agency that has no dedicated
registry here (energy, heritage, sport …), so its services can be smart in the demo.

One sub-app under ``/agency-files`` answers for every such agency (``/{agency}/persons/{national_code}``,
one route per agency, so the OpenAPI document lists each data service's path). The answer is the same on
every run: derived from the population's seed, the agency and the person; the demo personas hold an
active file at every agency."""

from __future__ import annotations

import zlib
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends

from panjereh.registries import schemas
from panjereh.registries.http import Context, bearer_guard
from panjereh.registries.population import Person

PREFIX = "/agency-files"


def person_file(ctx: Context, agency: str, person: Person) -> dict[str, Any]:
    """Whether the agency holds a file on the person, its number, status and standing."""
    h = zlib.crc32(f"{ctx.seed}:{agency}:{person.national_code}".encode())
    has_file = person.persona is not None or h % 10 < 8
    if not has_file:
        return {
            "agency": agency,
            "has_file": False,
            "file_number": None,
            "status": "none",
            "opened_on": None,
            "in_good_standing": False,
        }
    suspended = person.persona is None and (h // 10) % 10 == 0
    alive = ctx.death_date(person) is None
    status = "closed" if not alive else "suspended" if suspended else "active"
    return {
        "agency": agency,
        "has_file": True,
        "file_number": f"{agency[:3].upper()}-{h % 10**8:08d}",
        "status": status,
        "opened_on": date(2008 + h % 15, 1 + (h // 7) % 12, 1 + (h // 13) % 28).isoformat(),
        "in_good_standing": status == "active",
    }


def _endpoint(ctx: Context, agency: str) -> Any:
    def endpoint(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return {"national_code": person.national_code, **person_file(ctx, agency, person)}

    return endpoint


def router(ctx: Context, agencies: list[str]) -> APIRouter:
    """``GET /{agency}/persons/{national_code}`` for each agency named."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["agency-files"])
    for agency in agencies:
        api.add_api_route(
            f"/{agency}/persons/{{national_code}}",
            _endpoint(ctx, agency),
            methods=["GET"],
            name=f"{agency}_person_file",
            response_model=schemas.AgencyFileOut,
            summary=f"The file {agency} holds on a person",
        )
    return api
