"""«My data» (as eesti.ee shows it): what the registries hold about the signed-in citizen, each block one
inquiry the platform makes through the exchange for the purpose `portal:my-data` (so each is in the ledger).

A registry that is down, refuses or answers nonsense gives its block a notice; the other blocks still show.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from panjereh.core.errors import ProblemError
from panjereh.core.logging import get_logger

if TYPE_CHECKING:
    from panjereh.exchange.client import PlatformClient

log = get_logger(__name__)

PURPOSE = "portal:my-data"
# Each block waits at most this long: the page is one look, not a process that may retry.
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Source:
    """One registry's block: the data service asked and how its answer's fields are read."""

    service_code: str
    title_fa: str
    title_en: str
    # field name → (Persian label, English label); fields not named here are not shown.
    fields: dict[str, tuple[str, str]]
    # A list field whose items are shown as rows (vehicles, properties, degrees), with its columns.
    rows_field: str | None = None
    row_fields: dict[str, tuple[str, str]] = field(default_factory=dict)


SOURCES: tuple[Source, ...] = (
    Source(
        "civil-registry.person",
        "ثبت احوال: هویت و نشانی",
        "Civil registry: identity and address",
        {
            "first_name": ("نام", "First name"),
            "last_name": ("نام خانوادگی", "Last name"),
            "father_name": ("نام پدر", "Father's name"),
            "gender": ("جنسیت", "Gender"),
            "birth_date": ("تاریخ تولد", "Date of birth"),
            "address": ("نشانی", "Address"),
        },
    ),
    Source(
        "shahkar.sims",
        "شاهکار: سیم‌کارت‌های به نام شما",
        "Shahkar: SIM cards in your name",
        {},
        rows_field="sims",
        row_fields={"mobile": ("شمارهٔ همراه", "Mobile number"), "operator": ("اپراتور", "Operator")},
    ),
    Source(
        "police.driving-licence",
        "فراجا: گواهینامهٔ رانندگی",
        "Police: driving licence",
        {"has_licence": ("گواهینامه دارد", "Holds a licence"), "valid": ("معتبر است", "Valid")},
    ),
    Source(
        "police.vehicles",
        "فراجا: خودروها",
        "Police: vehicles",
        {},
        rows_field="vehicles",
        row_fields={
            "model": ("خودرو", "Vehicle"),
            "plate": ("پلاک", "Plate"),
            "model_year": ("سال ساخت", "Model year"),
        },
    ),
    Source(
        "education.degrees",
        "آموزش و پرورش: مدرک‌ها",
        "Education: degrees",
        {},
        rows_field="degrees",
        row_fields={
            "level": ("مقطع", "Level"),
            "field": ("رشته", "Field"),
            "institution": ("مؤسسه", "Institution"),
            "graduated_on": ("تاریخ دانش‌آموختگی", "Graduated on"),
        },
    ),
    Source(
        "health-insurance.coverage",
        "بیمهٔ سلامت: پوشش",
        "Health insurance: coverage",
        {"covered": ("بیمه شده", "Insured"), "active": ("پوشش فعال", "Coverage active")},
    ),
    Source(
        "deeds.properties",
        "ثبت اسناد: املاک",
        "Deeds registry: properties",
        {},
        rows_field="properties",
        row_fields={
            "kind": ("نوع", "Kind"),
            "city": ("شهر", "City"),
            "share_dang": ("سهم (دانگ)", "Share (dang)"),
        },
    ),
)


@dataclass
class Block:
    """One registry's answer as the page shows it: label–value pairs and rows, or why there are none."""

    source: Source
    values: list[tuple[str, Any]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    unavailable: bool = False  # the registry did not answer (down, timed out, refused, nonsense)

    @property
    def service_code(self) -> str:
        return self.source.service_code


def _label(pair: tuple[str, str], fa: bool) -> str:
    return pair[0] if fa else pair[1]


GENDERS = {"male": ("مرد", "Male"), "female": ("زن", "Female")}


def _value(value: Any, fa: bool, name: str = "") -> Any:
    """A registry's value in words: yes/no, a gender, a date (the page shows it in Jalali)."""
    if name == "gender" and value in GENDERS:
        return _label(GENDERS[value], fa)
    if isinstance(value, str) and (name.endswith("_date") or name.endswith("_on")):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, bool):
        return ("بله" if value else "خیر") if fa else ("yes" if value else "no")
    if isinstance(value, dict):
        separator = "، " if fa else ", "
        return separator.join(str(item) for item in value.values() if item not in (None, ""))
    if value in (None, ""):
        return "—"
    return value


def read(source: Source, data: dict[str, Any], fa: bool) -> Block:
    """The block for one answer (pure: tested without the registries)."""
    block = Block(source)
    for name, pair in source.fields.items():
        if name in data:
            block.values.append((_label(pair, fa), _value(data[name], fa, name)))
    if source.rows_field:
        block.headers = [_label(pair, fa) for pair in source.row_fields.values()]
        for item in data.get(source.rows_field) or []:
            if isinstance(item, dict):
                block.rows.append([_value(item.get(name), fa, name) for name in source.row_fields])
    return block


async def _fetch(client: PlatformClient, source: Source, national_code: str, fa: bool) -> Block:
    try:
        answer = await client.ainquire(
            source.service_code,
            subject=national_code,
            purpose=PURPOSE,
            path_params={"national_code": national_code},
            timeout=TIMEOUT_SECONDS,
        )
    except ProblemError as error:  # unavailable, no grant, a refused inquiry: this block only
        log.info("my_data.unavailable", service=source.service_code, code=error.code)
        return Block(source, unavailable=True)
    if not answer.ok or not isinstance(answer.data, dict):
        log.info("my_data.unavailable", service=source.service_code, status=answer.status)
        return Block(source, unavailable=True)
    return read(source, answer.data, fa)


async def fetch_all(client: PlatformClient, national_code: str, *, fa: bool) -> list[Block]:
    """Every block, the registries asked side by side (the page waits for the slowest, never longer than
    the timeout)."""
    return list(await asyncio.gather(*(_fetch(client, s, national_code, fa) for s in SOURCES)))
