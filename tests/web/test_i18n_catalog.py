"""Every Persian message in the templates and code has an English translation in the catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from panjereh.core.i18n import LOCALE_DIR

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "panjereh"
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def test_every_message_is_translated_to_english() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {message.id for message in catalog if message.id and message.string}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(PACKAGE, METHOD_MAP, OPTIONS)
    }
    missing = sorted(extracted - translated)
    assert not missing, "run `make messages` and translate in locale/en/LC_MESSAGES/messages.po: " + repr(
        missing
    )
