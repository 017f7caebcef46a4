"""Subjects of inquiries: the national code of the person whose data is asked for."""

from __future__ import annotations

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize_subject(raw: str) -> str:
    """A subject as stored in the log and the ledger: ASCII digits, no spaces or dashes."""
    return raw.translate(_DIGITS).replace("-", "").replace(" ", "").strip()[:20]
