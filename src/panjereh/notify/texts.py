"""What leaves the platform: an SMS's text (Persian digits, an absolute link, within a few parts) and an
e-mail (Persian RTL HTML and plain text, with an English alternative); and the checks on addresses."""

from __future__ import annotations

import html
import re
import unicodedata
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from panjereh.core.config import Settings
from panjereh.core.persian import to_persian_digits
from panjereh.notify.exceptions import InvalidEmail, InvalidLink

PLATFORM_FA = "پنجرهٔ ملی خدمات دولت هوشمند"
PLATFORM_EN = "Iran's national window of smart government services"
SMS_PREFIX = "پنجره ملی: "
ELLIPSIS = "…"
# A Unicode (UCS-2) SMS carries 70 characters alone, 67 per part when concatenated; GSM-7 160 / 153.
UCS2_SINGLE, UCS2_PART = 70, 67
GSM_SINGLE, GSM_PART = 160, 153
EMAIL_MAX = 254  # RFC 5321's path limit
# A conservative address: ASCII dot-atom local part, a dotted host name (IDN as its punycode form).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalize_email(raw: str) -> str:
    """An e-mail address as stored (host lower-cased, IDN hosts in punycode), or `InvalidEmail`."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text or len(text) > EMAIL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InvalidEmail()
    local, at, host = text.rpartition("@")
    if not at or not local or not host or len(local) > 64 or not _LOCAL.match(local):
        raise InvalidEmail()
    try:
        host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidEmail() from None
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidEmail()
    address = f"{local}@{host}"
    if len(address) > EMAIL_MAX:
        raise InvalidEmail()
    return address


def absolute_link(settings: Settings, link: str | None) -> str | None:
    """A link as it goes out by SMS or e-mail: a path on the portal made absolute from the public URL."""
    if link is None:
        return None
    if link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return settings.base_url + link
    if link.startswith(settings.base_url + "/"):
        return link
    # Only the portal's own pages are linked: a message must never carry a citizen elsewhere.
    raise InvalidLink()


def _fits(text: str) -> tuple[int, int]:
    """(characters in one part, per part when split) for this text's encoding."""
    return (GSM_SINGLE, GSM_PART) if text.isascii() else (UCS2_SINGLE, UCS2_PART)


def sms_parts(text: str) -> int:
    """How many SMS parts a text takes."""
    single, part = _fits(text)
    if len(text) <= single:
        return 1
    return -(-len(text) // part)


def sms_text(subject_fa: str, body_fa: str, link: str | None, *, max_parts: int, verbatim: bool) -> str:
    """The SMS: «پنجره ملی: subject», the body, the absolute link; digits in Persian unless `verbatim`
    (a code to be typed); shortened with «…» to at most `max_parts` parts, the link always kept whole."""
    convert = (lambda text: text) if verbatim else to_persian_digits
    head = SMS_PREFIX + convert(" ".join(subject_fa.split()))
    body = convert(body_fa.strip())
    tail = f"\n{link}" if link else ""
    text = f"{head}\n{body}{tail}"
    if sms_parts(text) <= max_parts:
        return text
    _single, part = _fits(text)
    room = part * max_parts if max_parts > 1 else _single
    # Cut the body first, then (if the subject alone is too long) the subject; never the link.
    keep = room - len(head) - 1 - len(tail) - len(ELLIPSIS)
    if keep > 0:
        return f"{head}\n{body[:keep].rstrip()}{ELLIPSIS}{tail}"
    keep = room - len(tail) - len(ELLIPSIS)
    return f"{head[: max(keep, 0)]}{ELLIPSIS}{tail}"


def email_message(
    settings: Settings,
    *,
    message_id: str,
    to: str,
    subject_fa: str,
    body_fa: str,
    subject_en: str | None,
    body_en: str | None,
    link: str | None,
) -> EmailMessage:
    """The e-mail: Persian first (RTL HTML and plain text), then the English alternative."""
    message = EmailMessage()
    sender_name, sender_address = parseaddr(settings.notify.email_from)
    message["From"] = formataddr((sender_name or PLATFORM_EN, sender_address))
    message["To"] = to
    subject = subject_fa if not subject_en else f"{subject_fa} | {subject_en}"
    message["Subject"] = " ".join(to_persian_digits(subject).split())[:250]
    domain = sender_address.rpartition("@")[2] or "panjereh.invalid"
    # The notification's id makes the Message-ID: a retried send is recognisably the same message.
    message["Message-ID"] = make_msgid(idstring=message_id, domain=domain)
    message["Content-Language"] = "fa, en"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    plain = [_persian_prose(body_fa)]
    if link:
        plain.append(f"مشاهده: {link}")
    if body_en:
        plain += ["", "—", "", body_en]
        if link:
            plain.append(f"View: {link}")
    plain += ["", "—", PLATFORM_FA, PLATFORM_EN]
    message.set_content("\n".join(plain), charset="utf-8")
    message.add_alternative(
        _html(subject_fa, body_fa, subject_en, body_en, link), subtype="html", charset="utf-8"
    )
    return message


def _persian_prose(text: str) -> str:
    """Persian digits in the text, web addresses left as they are."""
    return "\n".join(
        line if line.strip().startswith(("https://", "http://")) else to_persian_digits(line)
        for line in text.splitlines()
    )


def _paragraphs(text: str) -> str:
    """Each line a paragraph; a line that is a web address alone becomes its link."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(("https://", "http://")) and " " not in line:
            out.append(f'<p dir="ltr"><a href="{html.escape(line)}">{html.escape(line)}</a></p>')
        else:
            out.append(f"<p>{html.escape(line)}</p>")
    return "".join(out)


def _html(
    subject_fa: str, body_fa: str, subject_en: str | None, body_en: str | None, link: str | None
) -> str:
    fa_link = f'<p><a href="{html.escape(link)}">مشاهده در پنجره</a></p>' if link else ""
    en = ""
    if body_en:
        en_link = f'<p><a href="{html.escape(link)}">View in Panjereh</a></p>' if link else ""
        en = (
            '<hr><div dir="ltr" lang="en" style="text-align:left">'
            f"<h2>{html.escape(subject_en or '')}</h2>{_paragraphs(body_en)}{en_link}</div>"
        )
    return (
        '<!doctype html><html lang="fa" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{html.escape(to_persian_digits(subject_fa))}</title></head>"
        '<body style="font-family:Vazirmatn,Tahoma,sans-serif;direction:rtl;text-align:right">'
        f'<div dir="rtl" lang="fa"><h1>{html.escape(to_persian_digits(subject_fa))}</h1>'
        f"{_paragraphs(_persian_prose(body_fa))}{fa_link}</div>{en}"
        f"<hr><p><small>{html.escape(PLATFORM_FA)}</small></p></body></html>"
    )
