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


def _message_keys(lines: list[str]) -> list[tuple[str | None, str]]:
    """Each entry's (context, id) as the file spells them, continuation lines joined; obsolete entries
    (`#~`) are not definitions."""
    keys: list[tuple[str | None, str]] = []
    context: str | None = None
    field: str | None = None
    text = ""
    for line in [*lines, ""]:
        if line.startswith('"') and field is not None:
            text += line[1:-1]
            continue
        if field == "msgctxt":
            context = text
        elif field == "msgid":
            keys.append((context, text))
            context = None
        field = None
        for name in ("msgctxt", "msgid"):
            if line.startswith(f'{name} "'):
                field, text = name, line[len(name) + 2 : -1]
    return keys


def test_no_message_is_defined_twice() -> None:
    """gettext's own tools (msgfmt) refuse a catalog with a message defined twice, and Babel silently keeps
    one of the two translations: a union merge of two branches can leave such a pair."""
    lines = (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8").splitlines()
    keys = _message_keys(lines)
    seen: set[tuple[str | None, str]] = set()
    twice = sorted({key[1] for key in keys if key in seen or seen.add(key)})  # type: ignore[func-returns-value]
    assert len(keys) > 500 and not twice, twice
