"""The «my data» page says why data was read in words, not in the platform's internal purpose codes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.agencies.service import load_agency_records, upsert_agencies
from panjereh.catalog import seed as catalog_seed
from panjereh.web.exchange import _purpose_label


def test_platform_and_service_purposes_are_worded(db: Session) -> None:
    upsert_agencies(db, load_agency_records())
    catalog_seed.load_cards(
        db, [(r["agency"], catalog_seed._flagship_card(r)) for r in catalog_seed.load_flagship()]
    )
    assert "ثبت‌نام" in _purpose_label(db, "identity.registration")
    assert (
        _purpose_label(db, "delivery:no-criminal-record") == "درخواست شما برای «گواهی عدم سوء پیشینهٔ کیفری»"
    )


def test_unknown_purposes_are_shown_as_sent(db: Session) -> None:
    assert _purpose_label(db, "tax-audit-1402") == "tax-audit-1402"
    assert _purpose_label(db, "delivery:no-such-service") == "delivery:no-such-service"
