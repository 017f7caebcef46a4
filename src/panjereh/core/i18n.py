"""Message catalogs: Persian is the source language, English the second locale (gettext .po files)."""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("fa", "en")
DEFAULT_LOCALE = "fa"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for the marker)
    """Mark a Persian message for the catalog where it is defined; the page translates it when shown."""
    return message


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for a locale (compiled in memory from the .po, so no binary is committed)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate_locale(query_value: str | None, cookie_value: str | None) -> str:
    """An explicit choice wins, then the remembered one; otherwise Persian.

    Accept-Language is ignored on purpose: many citizens browse with an English-language browser
    and still expect the national portal in Persian.
    """
    for candidate in (query_value, cookie_value):
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE
