"""Subjects of inquiries: the national code of the person whose data is asked for."""

from __future__ import annotations

from panjereh.core.identifiers import InvalidIdentifier, normalize_national_code
from panjereh.core.persian import fold_digits


def normalize_subject(raw: str) -> str:
    """A subject as the log and the ledger store it: the canonical national code when it is one."""
    try:
        return normalize_national_code(raw)
    except InvalidIdentifier:
        # Not a valid code: keep it folded so the provider decides (and the log shows what was asked).
        return fold_digits(raw).replace("-", "").replace(" ", "").strip()[:20]
