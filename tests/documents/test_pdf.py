"""The PDF: Persian text in Vazirmatn, Jalali dates, and a QR code that scans back to a verifying payload."""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

import segno
import zxingcpp
from joserfc import jws
from joserfc.jwk import KeySet
from PIL import Image
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.jalali import to_jalali
from panjereh.core.persian import to_persian_digits
from panjereh.documents import payload as signed
from panjereh.documents.keys import load_keyring
from panjereh.documents.models import IssuedDocument
from panjereh.documents.qr import png_bytes, qr_text
from panjereh.documents.service import revoke_document
from panjereh.documents.verification import Status, verify_text
from panjereh.web.documents import render_pdf
from panjereh.web.templating import Templates

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def rasterize(pdf: bytes, folder: Path, dpi: int = 150) -> Image.Image:
    """The first page as an image, with poppler's pdftoppm (Debian poppler-utils, installed by make)."""
    source = folder / "document.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", str(source), str(folder / "page")],
        check=True,
    )
    return Image.open(next(folder.glob("page*.png")))


def pdf_text(pdf: bytes, folder: Path) -> str:
    source = folder / "text.pdf"
    source.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True, text=True).stdout


def test_the_pdfs_qr_code_scans_back_and_verifies(
    db: Session, settings: Settings, document: IssuedDocument, tmp_path: Path
) -> None:
    pdf = render_pdf(Templates(settings), settings, document)
    # As a phone's scanner reads it: QR codes only (read for every format, CI once reported a second
    # barcode on the page, which has one); and one symbol may be reported twice, so count payloads.
    codes = zxingcpp.read_barcodes(rasterize(pdf, tmp_path), formats=QR_ONLY)
    payloads = {code.text for code in codes}
    assert len(payloads) == 1, [(str(code.format), str(code.position)) for code in codes]
    scanned = payloads.pop()
    assert scanned == qr_text(settings, document.payload)
    # Offline: only the published JWKS, no database.
    claims = signed.verify(scanned, KeySet.import_key_set({"keys": load_keyring(settings).jwks()["keys"]}))
    assert claims.number == document.number and claims.issuer == "judiciary"
    # Online, as /verify does.
    assert verify_text(db, settings, scanned).status is Status.VALID


def test_a_scanned_qr_from_an_altered_document_is_refused(
    db: Session, settings: Settings, document: IssuedDocument
) -> None:
    header, body, signature = document.payload.split(".")
    swap = "B" if body[20] != "B" else "C"
    altered = f"{header}.{body[:20]}{swap}{body[21:]}.{signature}"
    image = Image.open(BytesIO(png_bytes(settings, altered)))
    scanned = zxingcpp.read_barcodes(image, formats=QR_ONLY)[0].text
    result = verify_text(db, settings, scanned)
    assert result.status is Status.INVALID and result.reason_code == "payload.signature"


def test_the_pdf_is_persian_with_vazirmatn_and_jalali_dates(
    settings: Settings, document: IssuedDocument, tmp_path: Path
) -> None:
    pdf = render_pdf(Templates(settings), settings, document)
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(source)], check=True, capture_output=True, text=True).stdout
    assert "Vazirmatn" in fonts
    text = pdf_text(pdf, tmp_path)
    assert "قوه قضاییه" in text and "علی رضایی" in text
    issued = to_jalali(document.issued_at)
    assert to_persian_digits(str(issued.year)) in text
    assert document.valid_until is not None
    until = to_jalali(document.valid_until)
    assert to_persian_digits(f"{until.day}") in text and to_persian_digits(str(until.year)) in text
    assert to_persian_digits(document.number[:4]) in text  # the number, in Persian digits
    assert "/verify" in text


def test_a_revoked_documents_pdf_says_so(
    db: Session, settings: Settings, document: IssuedDocument, tmp_path: Path
) -> None:
    revoke_document(db, document.number, agency_code="judiciary", reason="خطا")
    text = pdf_text(render_pdf(Templates(settings), settings, document), tmp_path)
    assert "باطل" in text


def test_the_qr_stays_small_enough_to_scan_from_paper(settings: Settings, document: IssuedDocument) -> None:
    qr = segno.make_qr(qr_text(settings, document.payload), error="m", boost_error=False)
    assert isinstance(qr.version, int) and qr.version <= 20, qr.version  # a full QR code, not a micro one
    assert jws.extract_compact(document.payload.encode()).headers()["alg"] == "ES256"
