"""Test data: one function per thing a test needs, made through the product's own services.

Each `create_*` takes the test's session, makes what it names, flushes and returns it; the test's
outer transaction rolls it back. A test commits only when the code under test must read the row from a
unit of work of its own. `seed_*` loads a slice of the demo data, as `panjereh seed` would.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date

from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.agencies import service as agency_service
from panjereh.agencies.constants import ConnectionStatus
from panjereh.agencies.models import Agency, AgencySystem
from panjereh.catalog import seed as catalog_seed
from panjereh.catalog import selectors as catalog_selectors
from panjereh.catalog import service as catalog_service
from panjereh.catalog.models import ServiceCard
from panjereh.catalog.schemas import ServiceCardIn
from panjereh.core.config import Settings
from panjereh.delivery import service as delivery_service
from panjereh.delivery.service import Officer
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange import service as exchange_service
from panjereh.exchange.models import ExchangeClient, Grant
from panjereh.exchange.seed import seed_exchange
from panjereh.identity.models import Citizen
from panjereh.registries.services import published_services
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Role
from panjereh.staff.models import StaffMembership

DEMO_CITIZEN = "0499370899"  # the registries' clean adult (population seed 1402)
_numbers = itertools.count(1)


def _ignore(_count: int) -> None:
    return None


def create_demo_agencies(db: Session) -> dict[str, Agency]:
    """The demo ministries and organizations, by code."""
    records = agency_service.load_agency_records()
    return {agency.code: agency for agency in agency_service.upsert_agencies(db, records)}


def create_agency(db: Session, code: str, status: ConnectionStatus = ConnectionStatus.CONNECTED) -> Agency:
    """An agency of its own (not one of the demo's)."""
    record = {"code": code, "kind": "organization", "fa": f"دستگاه {code}", "en": f"Agency {code}"}
    [agency] = agency_service.upsert_agencies(db, [{**record, "status": status}])
    return agency


def create_system(db: Session, agency: Agency, base_url: str, code: str | None = None) -> AgencySystem:
    """An agency's system at `base_url` (the connection standard's checks call it)."""
    return agency_service.upsert_system(
        db, agency, code=code or f"{agency.code}.system", name_fa="سامانه آزمایشی", base_url=base_url
    )


def create_card(db: Session, agency: str = "justice", **fields: object) -> ServiceCard:
    """A service card of a demo agency; fields not given are a numbered test service's."""
    number = next(_numbers)
    values: dict[str, object] = {
        "slug": f"test-service-{number}",
        "title_fa": f"خدمت آزمایشی {number}",
        "life_event": "other",
        **fields,
    }
    owner = agency_selectors.get_agency_by_code(db, agency)
    card, _ = catalog_service.upsert_card(
        db, ServiceCardIn.model_validate(values), agency=owner, actor="test"
    )
    return card


def create_flagship_cards(db: Session) -> None:
    """The hand-written flagship cards (the demo agencies must be there)."""
    catalog_seed.load_cards(db, catalog_seed.flagship_cards())


def derive_declared_smart(db: Session) -> None:
    """Record level 5 derived for every card declared smart, as publishing their definitions would."""
    cards = catalog_selectors.all_cards(db)
    catalog_service.record_derived_maturities(
        db, {c.slug: (5, []) for c in cards if c.declared_maturity_level == 5}, source="test"
    )


def seed_demo_catalog(db: Session, settings: Settings) -> None:
    """The demo agencies and the whole demo inventory (1,246 cards): slow, so seeded once per session."""
    create_demo_agencies(db)
    catalog_seed.seed_catalog(db, settings, _ignore)


def seed_exchange_data(db: Session, settings: Settings) -> None:
    """The demo agencies, the registries' data services and the platform's standing grants, committed
    (what login's checks and the gateway use)."""
    create_demo_agencies(db)
    seed_exchange(db, settings, _ignore, published=published_services())
    db.commit()


def create_citizen(
    db: Session,
    national_code: str = DEMO_CITIZEN,
    *,
    first: str = "علی",
    last: str = "رضایی",
    mobile: str = "09121234567",
    birth_date: date = date(1985, 6, 12),
) -> Citizen:
    """A registered citizen, as a first login would make one."""
    citizen = Citizen(
        national_code=national_code, first_name=first, last_name=last, birth_date=birth_date, mobile=mobile
    )
    db.add(citizen)
    db.flush()
    return citizen


def create_officer(db: Session, national_code: str, agency_code: str) -> Officer:
    """An agency's officer, who decides requests in the officer queue."""
    staff_service.grant(db, national_code, Role.OFFICER, agency_code)
    return delivery_service.officer_of(db, national_code, agency_code)


def create_staff(
    db: Session, national_code: str, agency_code: str | None, *roles: Role
) -> list[StaffMembership]:
    """Give a person roles in an agency (`None` and `Role.OPERATOR`: a platform operator)."""
    return [staff_service.grant(db, national_code, role, agency_code) for role in roles]


def create_key(kid: str | None = None) -> ECKey:
    """A new P-256 signing key, as an agency system would make one."""
    return ECKey.generate_key("P-256", parameters={"kid": kid or uuid.uuid4().hex[:12]})


def create_exchange_client(
    db: Session, agency: str, *, rate: int = 200, sandbox: bool = False
) -> tuple[ExchangeClient, ECKey]:
    """An agency system registered with the exchange, with its private key (the public half registered)."""
    key = create_key()
    client = exchange_service.register_client(
        db,
        agency_selectors.get_agency_by_code(db, agency),
        client_id=f"{agency}-system-{uuid.uuid4().hex[:6]}",
        name=f"{agency} system",
        rate_per_second=rate,
        sandbox=sandbox,
    )
    exchange_service.add_client_key(db, client, key.as_dict(private=False))
    return client, key


def create_grant(
    db: Session, client_agency: str, service_code: str, purposes: list[str], *, sandbox: bool = False
) -> Grant:
    """A grant requested by the client agency and approved by the provider (committed)."""
    grant = exchange_service.request_grant(
        db,
        client_agency=agency_selectors.get_agency_by_code(db, client_agency),
        service=exchange_selectors.get_service_by_code(db, service_code),
        purposes=purposes,
        legal_basis="Direct Taxes Act, art. 231",
        sandbox=sandbox,
    )
    exchange_service.approve_grant(db, grant, provider_agency_code=grant.service.provider.code)
    db.commit()
    return grant
