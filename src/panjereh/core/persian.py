"""Persian text: digits folded to ASCII, search keys that fold spelling variants, Persian digits for display.

Search keys fold; display text does not (it keeps ZWNJ and shows Persian digits). The folding
rules are exactly those of ``/work/shared/domain.md`` §5.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

__all__ = [
    "fold_digits",
    "fold_number",
    "format_number_fa",
    "matches",
    "search_key",
    "search_keys_variants",
    "to_persian_digits",
    "tokenize",
]

ZWNJ = "\u200c"
ZWJ = "\u200d"
TATWEEL = "\u0640"

_LETTER_FOLD = {
    "ي": "ی",  # Arabic yeh
    "ى": "ی",  # alef maksura
    "ك": "ک",  # Arabic kaf
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",  # heh with yeh above
    "ە": "ه",  # Kurdish ae
    "أ": "ا",
    "إ": "ا",
    "ٱ": "ا",  # alef wasla
    "ؤ": "و",
}
# The one rule for what is a digit: the decimal digits people type here, Latin, Persian (۰-۹) and
# Arabic-Indic (٠-٩). Superscripts («²»), circled numbers («①») and the other characters Unicode gives
# a digit value are not digits: a code that accepts them is not the code that was printed.
_DIGITS_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_DROP = {cp: None for cp in [*range(0x064B, 0x0660), 0x0670, ord(TATWEEL), ord(ZWJ)]}
_FOLD = str.maketrans({**{ord(k): v for k, v in _LETTER_FOLD.items()}, **_DIGITS_TO_ASCII, **_DROP})

_TO_PERSIAN = str.maketrans("0123456789٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+")

PERSIAN_THOUSANDS_SEPARATOR = "٬"  # U+066C
PERSIAN_DECIMAL_SEPARATOR = "٫"  # U+066B


def fold_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII; every other character, other digit-like ones too, kept."""
    return text.translate(_DIGITS_TO_ASCII)


def fold_number(text: str) -> str:
    """A number as people type it here, in ASCII: Persian or Arabic-Indic digits folded, the Persian
    decimal separator «٫» read as a point and the Persian thousands separator «٬» dropped (۱٬۲۳۴٫۵ → 1234.5).
    Whether the result is a number is the caller's check."""
    return fold_digits(text).replace(PERSIAN_DECIMAL_SEPARATOR, ".").replace(PERSIAN_THOUSANDS_SEPARATOR, "")


def _fold(text: str) -> str:
    """Apply every fold except the ZWNJ rule (the caller decides space or join)."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD).lower()


def _collapse(text: str) -> str:
    """Collapse runs of whitespace into one space and trim the ends."""
    return _SPACES.sub(" ", text).strip()


def search_key(text: str | None) -> str:
    """The folded form of ``text`` used for search: ZWNJ becomes a space."""
    if not text:
        return ""
    return _collapse(_fold(text).replace(ZWNJ, " "))


def search_keys_variants(text: str | None) -> tuple[str, ...]:
    """Every key ``text`` is indexed under: the spaced ZWNJ form, then the joined one if different."""
    if not text:
        return ()
    folded = _fold(text)
    spaced = _collapse(folded.replace(ZWNJ, " "))
    joined = _collapse(folded.replace(ZWNJ, ""))
    return (spaced,) if spaced == joined else (spaced, joined)


def matches(query: str | None, text: str | None) -> bool:
    """True when every variant-folded ``query`` occurs in some variant of ``text``."""
    query_keys = search_keys_variants(query)
    if not query_keys:
        return False
    text_keys = search_keys_variants(text)
    return any(q in t for q in query_keys for t in text_keys)


def tokenize(text: str | None) -> list[str]:
    """Split ``text`` into folded word tokens (ZWNJ splits words, punctuation is dropped)."""
    return _TOKEN.findall(search_key(text).replace("_", " "))


def to_persian_digits(s: object) -> str:
    """Show ASCII and Arabic-Indic digits as Persian digits (۰-۹); other characters unchanged."""
    return str(s).translate(_TO_PERSIAN)


def format_number_fa(n: int | float | Decimal) -> str:
    """Format a number with Persian digits and separators: 1234567.5 → ۱٬۲۳۴٬۵۶۷٫۵."""
    text = f"{n:,}"
    text = text.replace(",", PERSIAN_THOUSANDS_SEPARATOR).replace(".", PERSIAN_DECIMAL_SEPARATOR)
    return to_persian_digits(text)
