"""شرکت ملی پست: the structured address behind a postal code."""

from typing import Any

from fastapi import APIRouter, Depends

from panjereh.core.identifiers import InvalidIdentifier, format_postal_code, normalize_postal_code
from panjereh.registries.http import Context, RegistryError, bearer_guard
from panjereh.registries.schemas import PostalAddressOut


def router(ctx: Context) -> APIRouter:
    """The data routes, behind the registry token."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["post"])

    @api.get(
        "/postal-codes/{postal_code}", response_model=PostalAddressOut, summary="Address of a postal code"
    )
    def address(postal_code: str) -> dict[str, Any]:
        try:
            code = normalize_postal_code(postal_code)
        except InvalidIdentifier as exc:
            raise RegistryError(400, exc.code, "Invalid postal code", str(exc)) from exc
        found = ctx.population.by_postal_code.get(code)
        if found is None:
            raise RegistryError(
                404, "postal_code_not_found", "Postal code not found", f"Postal code {code} is not assigned."
            )
        return {**found.as_dict(), "formatted_postal_code": format_postal_code(code)}

    return api
