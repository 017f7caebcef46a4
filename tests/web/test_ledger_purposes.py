"""The «my data» page says why data was read in words, not in the platform's internal purpose codes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from panjereh.web.exchange import _purpose_label
from tests.support.factories import create_demo_agencies, create_flagship_cards


def test_platform_and_service_purposes_are_worded(db: Session) -> None:
    create_demo_agencies(db)
    create_flagship_cards(db)
    assert "ثبت‌نام" in _purpose_label(db, "identity.registration")
    assert (
        _purpose_label(db, "delivery:no-criminal-record") == "درخواست شما برای «گواهی عدم سوء پیشینهٔ کیفری»"
    )


def test_unknown_purposes_are_shown_as_sent(db: Session) -> None:
    assert _purpose_label(db, "tax-audit-1402") == "tax-audit-1402"
    assert _purpose_label(db, "delivery:no-such-service") == "delivery:no-such-service"
