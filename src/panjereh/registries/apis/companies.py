"""سامانهٔ ثبت شرکت‌ها: a company by its national ID, and the companies a person sits on the board of."""

from typing import Any

from fastapi import APIRouter, Depends

from panjereh.core.identifiers import InvalidIdentifier, normalize_legal_entity_id
from panjereh.registries import schemas
from panjereh.registries.companies import COMPANIES_BY_ID, Company, companies_of, company_out
from panjereh.registries.http import Context, RegistryError, bearer_guard


def _company(ctx: Context, company: Company) -> dict[str, Any]:
    names = {}
    for officer in company.officers:
        person = ctx.population.person(officer.national_code)
        if person is not None:
            names[officer.national_code] = (person.first_name, person.last_name)
    return company_out(company, names)


def router(ctx: Context) -> APIRouter:
    """The data routes, behind the registry token."""
    api = APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=["companies"])

    @api.get(
        "/companies/{legal_entity_id}", response_model=schemas.CompanyOut, summary="A company and its board"
    )
    def company(legal_entity_id: str) -> dict[str, Any]:
        try:
            code = normalize_legal_entity_id(legal_entity_id)
        except InvalidIdentifier as exc:
            raise RegistryError(400, exc.code, "Invalid legal-entity national ID", str(exc)) from exc
        found = COMPANIES_BY_ID.get(code)
        if found is None:
            raise RegistryError(404, "company_not_found", "Company not found", f"No company with ID {code}.")
        return _company(ctx, found)

    @api.get(
        "/persons/{national_code}/companies",
        response_model=schemas.PersonCompaniesOut,
        summary="Companies a person sits on the board of",
    )
    def of_person(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return {
            "national_code": person.national_code,
            "companies": [_company(ctx, c) for c in companies_of(person.national_code)],
        }

    return api
