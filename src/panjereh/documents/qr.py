"""QR codes: a /verify link whose query carries the whole signed payload (any phone camera opens it)."""

from __future__ import annotations

import io
from urllib.parse import quote

import segno

from panjereh.core.config import Settings


def qr_text(settings: Settings, payload: str) -> str:
    """What the QR code holds: `<portal>/verify?p=<compact JWS>`; offline verifiers read the `p` part."""
    return f"{settings.base_url}/verify?p={quote(payload, safe='.-_')}"


def make_qr(settings: Settings, payload: str) -> segno.QRCode:
    """The QR code at error-correction level M (survives a crease or a stain on paper)."""
    return segno.make_qr(qr_text(settings, payload), error="m", boost_error=False)


def svg_data_uri(settings: Settings, payload: str) -> str:
    """The QR code as an SVG data URI, for pages and the PDF."""
    return make_qr(settings, payload).svg_data_uri(scale=4, border=4)


def png_bytes(settings: Settings, payload: str, scale: int = 6) -> bytes:
    """The QR code as a PNG image."""
    buffer = io.BytesIO()
    make_qr(settings, payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
