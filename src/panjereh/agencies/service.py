"""Writes to agencies: load and update the hierarchy (services flush; the caller commits)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from panjereh.agencies.constants import AgencyKind, ConnectionStatus
from panjereh.agencies.exceptions import InvalidAgency
from panjereh.agencies.models import Agency, AgencySystem
from panjereh.agencies.selectors import find_agency_by_code, get_system_by_code

DEMO_AGENCIES = Path(__file__).resolve().parent / "data" / "agencies.yaml"


def load_agency_records(path: Path = DEMO_AGENCIES) -> list[dict[str, Any]]:
    """Agency records from a YAML file, parents before children."""
    with path.open(encoding="utf-8") as handle:
        records: list[dict[str, Any]] = yaml.safe_load(handle)
    return records


def upsert_agencies(session: Session, records: Iterable[Mapping[str, Any]]) -> list[Agency]:
    """Create or update agencies by code; the connection status is set only when an agency is new."""
    result = []
    for record in records:
        agency = find_agency_by_code(session, record["code"])
        parent = _parent_of(session, record)
        if agency is None:
            agency = Agency(
                code=record["code"],
                connection_status=ConnectionStatus(record.get("status", ConnectionStatus.CONNECTED)),
            )
            session.add(agency)
        agency.kind = AgencyKind(record["kind"])
        agency.name_fa = record["fa"]
        agency.name_en = record["en"]
        agency.parent = parent
        for field in ("website", "contact_email", "contact_phone", "description_fa"):
            if field in record:
                setattr(agency, field, record[field])
        session.flush()
        result.append(agency)
    return result


def _parent_of(session: Session, record: Mapping[str, Any]) -> Agency | None:
    code = record.get("parent")
    if code is None:
        return None
    parent = find_agency_by_code(session, code)
    if parent is None:
        raise InvalidAgency(
            f"Agency {record['code']!r} names parent {code!r}, which is not loaded before it.",
            f"دستگاه مادر «{code}» برای «{record['code']}» پیش از آن تعریف نشده است.",
        )
    return parent


def upsert_system(
    session: Session,
    agency: Agency,
    *,
    code: str,
    name_fa: str,
    base_url: str,
    openapi_url: str | None = None,
    health_url: str | None = None,
) -> AgencySystem:
    """Register (or update) one of an agency's systems by its code."""
    system = get_system_by_code(session, code)
    if system is None:
        system = AgencySystem(code=code, agency=agency)
        session.add(system)
    system.agency = agency
    system.name_fa = name_fa
    system.base_url = base_url.rstrip("/")
    system.openapi_url = openapi_url
    system.health_url = health_url
    session.flush()
    return system


def set_connection_status(session: Session, agency: Agency, status: ConnectionStatus) -> None:
    """Record the agency's current connection (the connection standard decides; this stores it)."""
    agency.connection_status = status
    session.flush()


AGENCY_CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


def create_agency(
    session: Session,
    *,
    code: str,
    name_fa: str,
    name_en: str,
    kind: AgencyKind = AgencyKind.ORGANIZATION,
    parent_code: str | None = None,
    reserved: Collection[str] = (),
) -> Agency:
    """A new agency (not yet connected); a taken, reserved or malformed code is refused."""
    code = code.strip().lower()
    name_fa, name_en = name_fa.strip(), name_en.strip()
    if not AGENCY_CODE.match(code) or code in reserved:
        raise InvalidAgency(
            f"The code {code!r} is not allowed: 2-40 lowercase letters, digits or '-', a letter first.",
            f"کد «{code}» پذیرفته نیست: ۲ تا ۴۰ حرف کوچک لاتین، رقم یا خط تیره، با حرف آغاز شود.",
        )
    if not name_fa or not name_en or len(name_fa) > 200 or len(name_en) > 200:
        raise InvalidAgency(
            "Both names are needed (at most 200 characters).", "نام فارسی و انگلیسی لازم است."
        )
    if find_agency_by_code(session, code) is not None:
        raise InvalidAgency(f"An agency with code {code!r} exists.", f"دستگاهی با کد «{code}» ثبت شده است.")
    record: dict[str, Any] = {"code": code, "kind": kind, "fa": name_fa, "en": name_en, "parent": parent_code}
    [agency] = upsert_agencies(session, [{**record, "status": ConnectionStatus.NOT_CONNECTED}])
    return agency
