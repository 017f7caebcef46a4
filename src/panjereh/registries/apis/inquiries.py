"""The per-person inquiry registries: tax, police, judiciary, health insurance, education,
welfare, deeds and social security. Each answers from ``facts.py`` for one national code."""

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends

from panjereh.registries import facts, schemas
from panjereh.registries.http import Context, bearer_guard
from panjereh.registries.population import Person


def _api(ctx: Context, tag: str) -> APIRouter:
    return APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=[tag])


Answer = Callable[[Person], dict[str, Any]]


def _per_person(
    api: APIRouter, ctx: Context, path: str, out: type, summary: str
) -> Callable[[Answer], Answer]:
    """Register ``GET path`` answering for the person its national code names: 400/404 come from
    ``ctx.person``, the answer names the person's code, then whatever the decorated function finds."""

    def register(answer: Answer) -> Answer:
        def endpoint(national_code: str) -> dict[str, Any]:
            person = ctx.person(national_code)
            return {"national_code": person.national_code, **answer(person)}

        api.add_api_route(
            path, endpoint, methods=["GET"], name=answer.__name__, response_model=out, summary=summary
        )
        return answer

    return register


def _not_past(iso: str | None, today: date) -> bool:
    return iso is not None and date.fromisoformat(iso) >= today


def tax(ctx: Context) -> APIRouter:
    """سازمان امور مالیاتی: tax debt and clearance."""
    api = _api(ctx, "tax")

    @_per_person(api, ctx, "/clearance/{national_code}", schemas.TaxClearanceOut, "Tax debt and clearance")
    def clearance(person: Person) -> dict[str, Any]:
        found = facts.tax(person, ctx.seed)
        return {**found, "cleared": found["debt_rials"] == 0}

    return api


def police(ctx: Context) -> APIRouter:
    """فراجا: vehicles by owner and driving licences."""
    api = _api(ctx, "police")

    @_per_person(api, ctx, "/vehicles/{national_code}", schemas.VehiclesOut, "Vehicles of an owner")
    def vehicles(person: Person) -> dict[str, Any]:
        return {"vehicles": facts.vehicles(person, ctx.seed)}

    @_per_person(api, ctx, "/driving-licences/{national_code}", schemas.LicenceOut, "Driving licence")
    def licence(person: Person) -> dict[str, Any]:
        found = facts.driving_licence(person, ctx.seed)
        valid = found is not None and _not_past(found["valid_until"], ctx.today())
        return {"has_licence": found is not None, "valid": valid, "licence": found}

    return api


def judiciary(ctx: Context) -> APIRouter:
    """قوه قضاییه: criminal record summary."""
    api = _api(ctx, "judiciary")

    @_per_person(
        api, ctx, "/criminal-records/{national_code}", schemas.CriminalRecordOut, "Criminal record summary"
    )
    def record(person: Person) -> dict[str, Any]:
        records = facts.criminal_records(person, ctx.seed)
        return {"has_criminal_record": bool(records), "records": records}

    return api


def health_insurance(ctx: Context) -> APIRouter:
    """بیمه سلامت: basic health-insurance coverage."""
    api = _api(ctx, "health-insurance")

    @_per_person(api, ctx, "/coverage/{national_code}", schemas.CoverageOut, "Health insurance coverage")
    def coverage(person: Person) -> dict[str, Any]:
        found = facts.health_insurance(person, ctx.seed) or {}
        active = _not_past(found.get("valid_until"), ctx.today()) and ctx.death_date(person) is None
        fields = ("insurer_code", "insurer", "fund", "valid_until")
        return {"covered": bool(found), "active": active, **{key: found.get(key) for key in fields}}

    return api


def education(ctx: Context) -> APIRouter:
    """آموزش و پرورش: current enrollment and degrees."""
    api = _api(ctx, "education")

    @_per_person(api, ctx, "/enrollments/{national_code}", schemas.EnrollmentOut, "Current enrollment")
    def enrollment(person: Person) -> dict[str, Any]:
        found = facts.education_enrollment(person, ctx.seed)
        return {"enrolled": found is not None, "enrollment": found}

    @_per_person(api, ctx, "/degrees/{national_code}", schemas.DegreesOut, "Degrees earned")
    def degrees(person: Person) -> dict[str, Any]:
        found = facts.education_degrees(person, ctx.seed)
        return {"highest": found[-1]["level"] if found else None, "degrees": found}

    return api


def welfare(ctx: Context) -> APIRouter:
    """بهزیستی: disability record."""
    api = _api(ctx, "welfare")

    @_per_person(api, ctx, "/disability-records/{national_code}", schemas.DisabilityOut, "Disability record")
    def disability(person: Person) -> dict[str, Any]:
        found = facts.disability(person, ctx.seed)
        return {"has_disability_record": found is not None, "disability": found}

    return api


def deeds(ctx: Context) -> APIRouter:
    """ثبت اسناد و املاک: properties by owner."""
    api = _api(ctx, "deeds")

    @_per_person(api, ctx, "/properties/{national_code}", schemas.PropertiesOut, "Properties of an owner")
    def properties(person: Person) -> dict[str, Any]:
        return {"properties": facts.properties(person, ctx.seed)}

    return api


def social_security(ctx: Context) -> APIRouter:
    """تأمین اجتماعی: insurance record (months paid, employer)."""
    api = _api(ctx, "social-security")

    @_per_person(
        api, ctx, "/insurance-records/{national_code}", schemas.InsuranceRecordOut, "Insurance record"
    )
    def record(person: Person) -> dict[str, Any]:
        found = facts.social_security(person, ctx.seed)
        if found is None:
            return {
                "insured": False,
                "status": "none",
                "months": 0,
                "employer": None,
                "last_contribution_on": None,
            }
        return {"insured": True, **found}

    return api


ROUTERS: dict[str, Callable[[Context], APIRouter]] = {
    "tax": tax,
    "police": police,
    "judiciary": judiciary,
    "health-insurance": health_insurance,
    "education": education,
    "welfare": welfare,
    "deeds": deeds,
    "social-security": social_security,
}
