"""What leaves the platform: SMS text (Persian digits, absolute link, bounded length), e-mail addresses and
links checked."""

from __future__ import annotations

import pytest

from panjereh.core.config import Settings
from panjereh.notify.exceptions import InvalidEmail, InvalidLink
from panjereh.notify.texts import (
    UCS2_PART,
    absolute_link,
    email_message,
    normalize_email,
    sms_parts,
    sms_text,
)

LINK = "https://my.example/account/requests/1402-ABC"


def test_an_sms_is_in_persian_digits_with_its_link_whole() -> None:
    text = sms_text("درخواست 1402", "ثبت شد؛ کد 12345", LINK, max_parts=3, verbatim=False)
    assert text == f"پنجره ملی: درخواست ۱۴۰۲\nثبت شد؛ کد ۱۲۳۴۵\n{LINK}"
    assert sms_parts(text) <= 3


def test_a_login_code_keeps_its_ascii_digits() -> None:
    text = sms_text("کد ورود", "کد ورود شما: 482913", None, max_parts=3, verbatim=True)
    assert "482913" in text and "۴۸۲۹۱۳" not in text


@pytest.mark.parametrize("max_parts", [2, 3, 5])
def test_a_long_sms_is_shortened_within_its_parts_and_keeps_the_link(max_parts: int) -> None:
    body = "این متن بسیار بلندی است که در یک پیامک جا نمی‌شود. " * 40
    text = sms_text("وضعیت درخواست", body, LINK, max_parts=max_parts, verbatim=False)
    assert sms_parts(text) <= max_parts
    assert text.endswith(f"…\n{LINK}") and text.startswith("پنجره ملی: وضعیت درخواست\nاین متن")


def test_in_a_single_part_the_link_wins_over_the_text() -> None:
    text = sms_text("وضعیت درخواست", "متن " * 100, LINK, max_parts=1, verbatim=False)
    assert sms_parts(text) == 1 and text.endswith(f"…\n{LINK}")


def test_a_huge_subject_is_cut_too_never_the_link() -> None:
    text = sms_text("موضوع " * 500, "متن", LINK, max_parts=2, verbatim=False)
    assert sms_parts(text) <= 2 and text.endswith(LINK) and "…" in text


def test_sms_parts_count_as_a_phone_does() -> None:
    assert sms_parts("س" * 70) == 1
    assert sms_parts("س" * 71) == 2
    assert sms_parts("س" * (UCS2_PART * 3)) == 3
    assert sms_parts("a" * 160) == 1 and sms_parts("a" * 161) == 2


def test_arabic_and_persian_letters_are_carried_as_written() -> None:
    # ي/ك (Arabic) and ی/ک (Persian) in one text: nothing folded in a message a person reads.
    text = sms_text("كارت ملي", "کارت ملی شما صادر شد", None, max_parts=1, verbatim=False)
    assert "كارت ملي" in text and "کارت ملی" in text and sms_parts(text) == 1


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Ali.Rezaei@Example.COM", "Ali.Rezaei@example.com"),
        ("  sara+notices@mail.example.ir ", "sara+notices@mail.example.ir"),
        ("ali@پست.ایران", "ali@xn--pgbr8t.xn--mgba3a4f16a"),  # an IDN host, as its punycode
        ("ALI＠EXAMPLE.COM", "ALI@example.com"),  # a full-width at sign folds (NFKC)
    ],
)
def test_email_addresses_are_normalized(raw: str, stored: str) -> None:
    assert normalize_email(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ali",
        "ali@",
        "@example.com",
        "ali@example",
        "ali@@example.com",
        "ali @example.com",
        "ali@example.com\r\nBcc: victim@example.com",  # header injection
        "علی@example.com",  # a non-ASCII local part is not delivered by every relay
        "كريم@example.com",
        "a..b@example.com",
        "ali@-example.com",
        "ali@example.123",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "x" * 100_000,
    ],
)
def test_malformed_email_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


def test_links_are_absolute_and_only_the_portals(settings: Settings) -> None:
    assert absolute_link(settings, "/account/inbox") == f"{settings.base_url}/account/inbox"
    assert absolute_link(settings, f"{settings.base_url}/verify") == f"{settings.base_url}/verify"
    assert absolute_link(settings, None) is None
    for foreign in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)", "/\\evil", "x"):
        with pytest.raises(InvalidLink):
            absolute_link(settings, foreign)


def test_an_email_is_persian_rtl_with_an_english_alternative(settings: Settings) -> None:
    message = email_message(
        settings,
        message_id="abc123",
        to="ali@example.com",
        subject_fa="درخواست 1402",
        body_fa="تصمیم گرفته شد <b>.",
        subject_en="Request 1402",
        body_en="A decision was made.",
        link=f"{settings.base_url}/account/requests/1",
    )
    plain_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert plain_part is not None and html_part is not None
    plain, page = plain_part.get_content(), html_part.get_content()
    assert message["Subject"] == "درخواست ۱۴۰۲ | Request ۱۴۰۲" and "abc123" in message["Message-ID"]
    assert "تصمیم گرفته شد" in plain and "A decision was made." in plain
    assert f"{settings.base_url}/account/requests/1" in plain
    assert 'dir="rtl"' in page and 'lang="en"' in page and "&lt;b&gt;" in page and "<b>" not in page
