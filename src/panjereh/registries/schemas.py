"""Request and response shapes of the simulated registries (they make each OpenAPI document)."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]
    registry: str


class AddressOut(BaseModel):
    province: str
    city: str
    street: str
    alley: str | None
    plaque: int
    unit: int | None
    postal_code: str
    text: str = Field(description="The address written out in Persian")


class PersonOut(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    gender: Literal["male", "female"]
    birth_date: date
    alive: bool
    death_date: date | None
    address: AddressOut


class IdentityMatchIn(BaseModel):
    national_code: str
    birth_date: date


class IdentityMatchOut(BaseModel):
    matched: bool = Field(description="The national code exists and the birth date is its birth date")
    alive: bool | None = Field(description="Whether the matched person is alive; null when not matched")


class EventOut(BaseModel):
    id: int = Field(description="Grows in publication order; poll with `after=<last id>`")
    type: Literal["birth_registered", "death_registered", "turned_18", "address_changed"]
    national_code: str
    occurred_at: datetime
    occurred_on: date = Field(description="The Tehran calendar date of `occurred_at`")
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[EventOut]
    last_id: int | None = Field(description="The id to pass as `after` for the next page")
    has_more: bool


class EventIn(BaseModel):
    type: Literal["birth_registered", "death_registered", "turned_18", "address_changed"]
    national_code: str
    occurred_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ShahkarMatchIn(BaseModel):
    national_code: str
    mobile: str


class ShahkarMatchOut(BaseModel):
    matched: bool


class Sim(BaseModel):
    mobile: str
    operator: str


class SimsOut(BaseModel):
    national_code: str
    sims: list[Sim]


class PostalAddressOut(AddressOut):
    formatted_postal_code: str = Field(description="XXXXX-XXXXX")


class TaxClearanceOut(BaseModel):
    national_code: str
    taxpayer: bool
    debt_rials: int
    cleared: bool
    last_filed_year: int | None = Field(description="Jalali fiscal year of the last return")


class Plate(BaseModel):
    two: str
    letter: str
    three: str
    region: str
    text: str


class Vehicle(BaseModel):
    plate: Plate
    model: str
    color: str
    model_year: int = Field(description="Jalali model year")


class VehiclesOut(BaseModel):
    national_code: str
    vehicles: list[Vehicle]


class Licence(BaseModel):
    number: str
    class_: str = Field(alias="class")
    issued_on: date
    valid_until: date


class LicenceOut(BaseModel):
    national_code: str
    has_licence: bool
    valid: bool
    licence: Licence | None


class CriminalRecord(BaseModel):
    case_number: str
    offence: str
    verdict_on: date
    sentence: str


class CriminalRecordOut(BaseModel):
    national_code: str
    has_criminal_record: bool
    records: list[CriminalRecord]


class CoverageOut(BaseModel):
    national_code: str
    covered: bool
    active: bool
    insurer_code: str | None
    insurer: str | None
    fund: str | None
    valid_until: date | None


class Enrollment(BaseModel):
    institution: str
    level: str
    field: str | None
    since: date
    status: str


class EnrollmentOut(BaseModel):
    national_code: str
    enrolled: bool
    enrollment: Enrollment | None


class Degree(BaseModel):
    level: str
    field: str
    institution: str
    graduated_on: date


class DegreesOut(BaseModel):
    national_code: str
    highest: str | None
    degrees: list[Degree]


class Disability(BaseModel):
    file_number: str
    type: str
    severity: str
    registered_on: date


class DisabilityOut(BaseModel):
    national_code: str
    has_disability_record: bool
    disability: Disability | None


class Property(BaseModel):
    deed_serial: str
    kind: str
    area_m2: int
    province: str
    city: str
    registry_plate: str
    share_dang: int = Field(description="Share owned, in dang (sixths)")
    registered_on: date


class PropertiesOut(BaseModel):
    national_code: str
    properties: list[Property]


class Employer(BaseModel):
    legal_entity_id: str
    name: str


class InsuranceRecordOut(BaseModel):
    national_code: str
    insured: bool
    status: Literal["active", "inactive", "retired", "none"]
    months: int
    employer: Employer | None
    last_contribution_on: date | None


class AgencyFileOut(BaseModel):
    """An agency's own file of a person (the generic data service, `apis/agency_files.py`)."""

    national_code: str
    agency: str
    has_file: bool
    file_number: str | None
    status: Literal["none", "active", "suspended", "closed"]
    opened_on: str | None
    in_good_standing: bool


class FamilyLinkOut(BaseModel):
    national_code: str = Field(description="The other person: the child, or the parent or guardian")
    first_name: str
    last_name: str
    gender: Literal["male", "female"]
    birth_date: date
    alive: bool
    relation: Literal["father", "mother", "guardian"] = Field(
        description="The guardian's relation to the child"
    )
    since: date
    guardianship_ended_on: date | None = Field(
        description="The day a court ended this guardianship, if it did"
    )


class FamilyOut(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    birth_date: date
    alive: bool
    children: list[FamilyLinkOut] = Field(
        description="The children this person is recorded as parent or guardian of"
    )
    guardians: list[FamilyLinkOut] = Field(description="This person's recorded parents and guardians")


class FamilyLinkIn(BaseModel):
    child: str
    guardian: str
    relation: Literal["father", "mother", "guardian"] = "guardian"
    since: date
    ended_on: date | None = None


class CompanyOfficerOut(BaseModel):
    national_code: str
    first_name: str
    last_name: str
    position: str
    may_sign: bool = Field(description="Whether the registered minutes give this officer the right to sign")
    since: date
    until: date | None = Field(description="The end of the term; null when open-ended")


class CompanyOut(BaseModel):
    legal_entity_id: str
    name: str
    kind: str
    registration_number: str
    registered_on: date
    status: Literal["active", "dissolved"]
    officers: list[CompanyOfficerOut]


class PersonCompaniesOut(BaseModel):
    national_code: str
    companies: list[CompanyOut] = Field(description="Companies this person sits (or sat) on the board of")
