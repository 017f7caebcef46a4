"""Verification: genuine documents pass; tampering, foreign keys, alg=none, revocation and expiry do not."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from joserfc import jws
from joserfc.jwk import OctKey
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.documents import payload as signed
from panjereh.documents import verification
from panjereh.documents.keys import POLICY, load_keyring
from panjereh.documents.models import IssuedDocument
from panjereh.documents.numbers import check_digit, format_number
from panjereh.documents.qr import qr_text
from panjereh.documents.service import revoke_document
from panjereh.documents.verification import Status, verify_number, verify_payload, verify_text
from tests.documents.conftest import OWNER, issue


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> dict:
    return json.loads(unb64(token.split(".")[1]))


def test_a_genuine_document_is_valid_and_shows_only_the_masked_subject(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    result = verify_payload(db, settings, document.payload)
    assert result.status is Status.VALID and result.valid
    assert result.issuer_code == "judiciary" and result.issuer_name_fa == "قوه قضاییه"
    assert result.masked_subject == "0499****99"
    assert result.masked_name == "علی ر***"
    assert OWNER not in repr(result)
    assert result.issued_at == document.issued_at


def test_the_payload_itself_never_holds_the_full_national_code(document: IssuedDocument) -> None:
    claims = claims_of(document.payload)
    assert OWNER not in json.dumps(claims)
    assert claims["sm"] == "0499****99"
    assert claims["n"] == document.number and claims["i"] == "judiciary"
    assert claims["exp"] > claims["iat"]


def test_the_qr_link_and_a_typed_number_verify_too(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    assert verify_text(db, settings, qr_text(settings, document.payload)).valid
    assert verify_text(db, settings, document.payload).valid
    persian = format_number(document.number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert verify_text(db, settings, persian).valid
    assert verify_number(db, settings, document.number).valid


def test_altered_claims_are_refused(db: Session, settings: Settings, document: IssuedDocument) -> None:
    header, body, signature = document.payload.split(".")
    claims = claims_of(document.payload)
    claims["c"]["record"] = "clean-forever"
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    result = verify_payload(db, settings, forged)
    assert result.status is Status.INVALID and result.reason_code == "payload.signature"
    assert result.issuer_code is None  # nothing about a forged document is shown


def test_a_flipped_character_in_the_signature_is_refused(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    header, body, signature = document.payload.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert verify_payload(db, settings, f"{header}.{body}.{flipped}").reason_code == "payload.signature"
    assert verify_payload(db, settings, f"{header}.{body}.").reason_code == "payload.signature"


def test_alg_none_is_refused(db: Session, settings: Settings, document: IssuedDocument) -> None:
    kid = load_keyring(settings).active_kid
    header = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    body = document.payload.split(".")[1]
    result = verify_payload(db, settings, f"{header}.{body}.")
    assert result.status is Status.INVALID and result.reason_code == "payload.algorithm"
    assert "ES256" in result.reason_en


def test_hmac_signed_with_the_public_key_is_refused(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    # The classic confusion attack: HS256 keyed with the published key's bytes.
    ring = load_keyring(settings)
    secret = OctKey.import_key(json.dumps(ring.jwks()["keys"][0]).encode())
    body = unb64(document.payload.split(".")[1])
    token = jws.serialize_compact(
        {"alg": "HS256", "kid": ring.active_kid}, body, secret, algorithms=["HS256"]
    )
    assert verify_payload(db, settings, token).reason_code == "payload.algorithm"


def test_a_payload_signed_by_an_unknown_key_is_refused(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    stranger = POLICY.new_key()
    body = unb64(document.payload.split(".")[1])
    own_kid = jws.serialize_compact({"alg": "ES256", "kid": stranger.kid}, body, stranger)
    assert verify_payload(db, settings, own_kid).reason_code == "payload.unknown_key"
    # The stranger claiming our key id does not get past the signature check either.
    our_kid = jws.serialize_compact(
        {"alg": "ES256", "kid": load_keyring(settings).active_kid}, body, stranger
    )
    assert verify_payload(db, settings, our_kid).reason_code == "payload.signature"
    no_kid = jws.serialize_compact({"alg": "ES256"}, body, stranger)
    assert verify_payload(db, settings, no_kid).reason_code == "payload.unknown_key"


@pytest.mark.parametrize(
    "text", ["", "hello", "a.b", "https://example.org/verify", "!!!.???.***", "e30.e30.e30"]
)
def test_garbage_is_refused_with_a_reason(db: Session, settings: Settings, text: str) -> None:
    result = verify_payload(db, settings, text)
    assert result.status is Status.INVALID
    assert result.reason_code in {"payload.malformed", "payload.algorithm"}
    assert result.reason_fa and result.reason_en


def test_genuine_signature_over_claims_we_never_issued(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    key = load_keyring(settings).active
    unknown = "1404" + "12345678901"
    unknown += check_digit(unknown)
    claims = claims_of(document.payload) | {"n": unknown}
    assert verify_payload(db, settings, signed.sign(claims, key)).reason_code == "document.not_found"
    altered = claims_of(document.payload) | {"sn": "someone else"}
    assert verify_payload(db, settings, signed.sign(altered, key)).reason_code == "document.mismatch"
    # A valid signature over claims of an unknown format is refused, not crashed on.
    assert verify_payload(db, settings, signed.sign({"v": 99}, key)).reason_code == "payload.claims"


def test_revocation_shows_at_once(db: Session, settings: Settings, document: IssuedDocument) -> None:
    revoke_document(db, document.number, agency_code="judiciary", reason="صادرشده بر پایهٔ اطلاعات نادرست")
    for result in (
        verify_payload(db, settings, document.payload),
        verify_number(db, settings, document.number),
    ):
        assert result.status is Status.REVOKED and not result.valid
        assert result.reason_code == "document.revoked"
        assert result.revocation_reason == "صادرشده بر پایهٔ اطلاعات نادرست"
        assert result.revoked_at is not None


def test_expiry_is_the_end_of_the_last_day_in_tehran(
    db: Session, settings: Settings, agencies: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = issue(db, settings, valid_until=date.today() + timedelta(days=1))
    end = signed.expiry_instant(document.valid_until)  # type: ignore[arg-type]
    assert end.astimezone(UTC).utcoffset() == timedelta(0)
    monkeypatch.setattr(verification, "utcnow", lambda: end - timedelta(seconds=1))
    assert verify_payload(db, settings, document.payload).status is Status.VALID
    monkeypatch.setattr(verification, "utcnow", lambda: end)
    result = verify_payload(db, settings, document.payload)
    assert result.status is Status.EXPIRED and result.reason_code == "document.expired"


def test_expiry_instant_is_tehran_midnight() -> None:
    # 1 Farvardin 1404 = 2025-03-21; Tehran is UTC+3:30 (no daylight saving since 2022).
    assert signed.expiry_instant(date(2025, 3, 20)) == datetime(2025, 3, 20, 20, 30, tzinfo=UTC)


def test_numbers_typed_wrong_or_unknown(db: Session, settings: Settings, document: IssuedDocument) -> None:
    wrong = document.number[:-1] + str((int(document.number[-1]) + 1) % 10)
    assert verify_number(db, settings, wrong).reason_code == "number.malformed"
    unknown = "1404" + "98765432109"
    unknown += check_digit(unknown)
    assert verify_number(db, settings, unknown).reason_code == "document.not_found"


def test_documents_signed_before_a_rotation_still_verify(
    db: Session, isolated_settings: Settings, agencies: None
) -> None:
    from panjereh.documents.keys import rotate

    before = issue(db, isolated_settings)
    rotate(isolated_settings)
    after = issue(db, isolated_settings)
    assert before.key_id != after.key_id
    assert verify_payload(db, isolated_settings, before.payload).valid
    assert verify_payload(db, isolated_settings, after.payload).valid


def test_large_claims_travel_as_a_digest(db: Session, settings: Settings, agencies: None) -> None:
    claims = {"vehicles": [f"خودروی شماره {i} با پلاک ایران ۱۱ ب ۲۲۲" for i in range(40)]}
    document = issue(db, settings, claims=claims)
    assert len(document.payload) <= signed.MAX_COMPACT_LENGTH
    carried = claims_of(document.payload)
    assert "c" not in carried and carried["cd"] == signed.claims_digest(claims)
    assert verify_payload(db, settings, document.payload).valid
