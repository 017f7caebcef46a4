"""Issuing and revoking: the contract delivery calls, with its refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents.exceptions import (
    AlreadyRevoked,
    DocumentNotFound,
    InvalidDocument,
    RevocationForbidden,
)
from panjereh.documents.keys import load_keyring
from panjereh.documents.masking import mask_name, mask_national_code
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import format_number, has_valid_check_digit
from panjereh.documents.selectors import documents_of, get_document
from panjereh.documents.service import revoke_document
from tests.documents.conftest import OTHER, OWNER, issue


def test_issue_numbers_signs_and_stores(db: Session, settings: Settings, document: IssuedDocument) -> None:
    assert has_valid_check_digit(document.number) and len(document.number) == 16
    assert document.signed_payload == document.payload and document.payload.count(".") == 2
    assert document.key_id == load_keyring(settings).active_kid
    assert document.issuer_name_fa == "قوه قضاییه" and document.issuer_name_en == "Judiciary"
    assert document.issued_at.tzinfo is not None
    assert document.request_tracking_code == "14051234567"
    assert get_document(db, format_number(document.number)).id == document.id


def test_national_codes_are_normalized(db: Session, settings: Settings, agencies: None) -> None:
    document = issue(db, settings, subject_national_code="۰۴۹۹-۳۷۰۸۹۹")
    assert document.subject_national_code == OWNER


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject_national_code", "0499370898"),  # wrong check digit
        ("issuer_agency_code", "no-such-agency"),
        ("title_fa", "  "),
        ("subject_name", ""),
        ("valid_until", date.today() - timedelta(days=2)),
    ],
)
def test_refusals_at_issue(
    db: Session, settings: Settings, agencies: None, field: str, value: object
) -> None:
    with pytest.raises(InvalidDocument):
        issue(db, settings, **{field: value})


def test_a_citizen_lists_only_their_own_documents(db: Session, settings: Settings, agencies: None) -> None:
    mine = [issue(db, settings), issue(db, settings, issuer_agency_code="tax", document_type="tax-clearance")]
    theirs = issue(db, settings, subject_national_code=OTHER, subject_name="مریم احمدی")
    listed = documents_of(db, OWNER)
    assert {d.number for d in listed} == {d.number for d in mine}
    assert theirs.number not in {d.number for d in listed}
    assert [d.number for d in documents_of(db, OTHER)] == [theirs.number]


def test_only_the_issuer_may_revoke(db: Session, settings: Settings, document: IssuedDocument) -> None:
    with pytest.raises(RevocationForbidden):
        revoke_document(db, document.number, agency_code="tax", reason="not ours")
    assert get_document(db, document.number).revoked_at is None
    with pytest.raises(InvalidDocument):
        revoke_document(db, document.number, agency_code="judiciary", reason="   ")
    revoked = revoke_document(db, document.number, agency_code="judiciary", reason="خطای ثبت")
    assert (
        revoked.is_revoked and revoked.revoked_by == "judiciary" and revoked.revocation_reason == "خطای ثبت"
    )
    with pytest.raises(AlreadyRevoked):
        revoke_document(db, document.number, agency_code="judiciary", reason="again")


def test_unknown_numbers(db: Session) -> None:
    with pytest.raises(DocumentNotFound):
        get_document(db, "1404-0000-0000-0000")
    with pytest.raises(DocumentNotFound):
        revoke_document(db, "not a number", agency_code="judiciary", reason="x")


def test_masking() -> None:
    assert mask_national_code("0499370899") == "0499****99"
    assert mask_name("علی رضایی") == "علی ر***"
    assert mask_name("محمد علی رضایی") == "محمد ر***"
    assert mask_name("رضا") == "ر***"
    assert mask_name("") == ""
