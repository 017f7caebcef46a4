"""The per-person inquiry registries: tax, police, judiciary, health insurance, education,
welfare, deeds and social security. Each answers from ``facts.py`` for one national code."""

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends

from panjereh.registries import facts, schemas
from panjereh.registries.http import Context, bearer_guard


def _api(ctx: Context, tag: str) -> APIRouter:
    return APIRouter(dependencies=[Depends(bearer_guard(ctx.token))], tags=[tag])


def _not_past(iso: str | None, today: date) -> bool:
    return iso is not None and date.fromisoformat(iso) >= today


def tax(ctx: Context) -> APIRouter:
    """سازمان امور مالیاتی: tax debt and clearance."""
    api = _api(ctx, "tax")

    @api.get(
        "/clearance/{national_code}", response_model=schemas.TaxClearanceOut, summary="Tax debt and clearance"
    )
    def clearance(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.tax(person, ctx.seed)
        return {"national_code": person.national_code, **found, "cleared": found["debt_rials"] == 0}

    return api


def police(ctx: Context) -> APIRouter:
    """فراجا: vehicles by owner and driving licences."""
    api = _api(ctx, "police")

    @api.get("/vehicles/{national_code}", response_model=schemas.VehiclesOut, summary="Vehicles of an owner")
    def vehicles(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return {"national_code": person.national_code, "vehicles": facts.vehicles(person, ctx.seed)}

    @api.get(
        "/driving-licences/{national_code}", response_model=schemas.LicenceOut, summary="Driving licence"
    )
    def licence(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.driving_licence(person, ctx.seed)
        valid = found is not None and _not_past(found["valid_until"], ctx.today())
        return {
            "national_code": person.national_code,
            "has_licence": found is not None,
            "valid": valid,
            "licence": found,
        }

    return api


def judiciary(ctx: Context) -> APIRouter:
    """قوه قضاییه: criminal record summary."""
    api = _api(ctx, "judiciary")

    @api.get(
        "/criminal-records/{national_code}",
        response_model=schemas.CriminalRecordOut,
        summary="Criminal record summary",
    )
    def record(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        records = facts.criminal_records(person, ctx.seed)
        return {
            "national_code": person.national_code,
            "has_criminal_record": bool(records),
            "records": records,
        }

    return api


def health_insurance(ctx: Context) -> APIRouter:
    """بیمه سلامت: basic health-insurance coverage."""
    api = _api(ctx, "health-insurance")

    @api.get(
        "/coverage/{national_code}", response_model=schemas.CoverageOut, summary="Health insurance coverage"
    )
    def coverage(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.health_insurance(person, ctx.seed) or {}
        active = _not_past(found.get("valid_until"), ctx.today()) and ctx.death_date(person) is None
        return {
            "national_code": person.national_code,
            "covered": bool(found),
            "active": active,
            "insurer_code": found.get("insurer_code"),
            "insurer": found.get("insurer"),
            "fund": found.get("fund"),
            "valid_until": found.get("valid_until"),
        }

    return api


def education(ctx: Context) -> APIRouter:
    """آموزش و پرورش: current enrollment and degrees."""
    api = _api(ctx, "education")

    @api.get(
        "/enrollments/{national_code}", response_model=schemas.EnrollmentOut, summary="Current enrollment"
    )
    def enrollment(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.education_enrollment(person, ctx.seed)
        return {"national_code": person.national_code, "enrolled": found is not None, "enrollment": found}

    @api.get("/degrees/{national_code}", response_model=schemas.DegreesOut, summary="Degrees earned")
    def degrees(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.education_degrees(person, ctx.seed)
        return {
            "national_code": person.national_code,
            "highest": found[-1]["level"] if found else None,
            "degrees": found,
        }

    return api


def welfare(ctx: Context) -> APIRouter:
    """بهزیستی: disability record."""
    api = _api(ctx, "welfare")

    @api.get(
        "/disability-records/{national_code}",
        response_model=schemas.DisabilityOut,
        summary="Disability record",
    )
    def disability(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.disability(person, ctx.seed)
        return {
            "national_code": person.national_code,
            "has_disability_record": found is not None,
            "disability": found,
        }

    return api


def deeds(ctx: Context) -> APIRouter:
    """ثبت اسناد و املاک: properties by owner."""
    api = _api(ctx, "deeds")

    @api.get(
        "/properties/{national_code}", response_model=schemas.PropertiesOut, summary="Properties of an owner"
    )
    def properties(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        return {"national_code": person.national_code, "properties": facts.properties(person, ctx.seed)}

    return api


def social_security(ctx: Context) -> APIRouter:
    """تأمین اجتماعی: insurance record (months paid, employer)."""
    api = _api(ctx, "social-security")

    @api.get(
        "/insurance-records/{national_code}",
        response_model=schemas.InsuranceRecordOut,
        summary="Insurance record",
    )
    def record(national_code: str) -> dict[str, Any]:
        person = ctx.person(national_code)
        found = facts.social_security(person, ctx.seed)
        if found is None:
            return {
                "national_code": person.national_code,
                "insured": False,
                "status": "none",
                "months": 0,
                "employer": None,
                "last_contribution_on": None,
            }
        return {"national_code": person.national_code, "insured": True, **found}

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
