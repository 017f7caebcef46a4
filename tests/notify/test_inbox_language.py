"""The inbox in the citizen's language: a notice written in both languages shows in English to a citizen
reading in English (?lang=en, then the locale cookie), in Persian otherwise; a notice from before the
English columns (or with Persian words only) shows in Persian, marked right-to-left, in the English page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import new_id
from panjereh.notify import service
from panjereh.notify.models import InboxMessage
from tests.identity.helpers import DEMO_CODE, MINOR_CODE, signed_in


def _both_languages(db: Session, settings: Settings, national_code: str = DEMO_CODE) -> None:
    service.tell(
        db, settings, national_code=national_code, kind="payments.refund", at_most=frozenset({"inbox"}),
        subject_fa="برگشت وجه 12", body_fa="مبلغ به حساب شما برگشت.",
        subject_en="Refund 12", body_en="The amount went back to your account.",
        link="/account/requests/1402",
    )  # fmt: skip


def _persian_only_row(db: Session) -> None:
    """A row as every row was before migration 0028: no English columns filled."""
    db.execute(
        insert(InboxMessage).values(
            id=new_id(),
            national_code=DEMO_CODE,
            kind="delivery.request",
            subject_fa="پیام قدیمی",
            body_fa="متن قدیمی پیام",
            link=None,
        )  # fmt: skip
    )


def test_a_notice_shows_in_english_to_a_citizen_reading_in_english(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _both_languages(db, settings)
    db.commit()
    signed_in(client, db)
    english = client.get("/account/inbox?lang=en")
    assert english.status_code == 200
    assert "Refund 12" in english.text and "The amount went back to your account." in english.text
    assert "برگشت وجه" not in english.text
    again = client.get("/account/inbox")  # the locale cookie keeps the choice
    assert "Refund 12" in again.text
    persian = client.get("/account/inbox?lang=fa")
    assert "برگشت وجه ۱۲" in persian.text and "مبلغ به حساب شما برگشت." in persian.text
    assert "Refund 12" not in persian.text
    window = client.get("/window?lang=en")  # «my window» lists the newest notices too
    assert window.status_code == 200 and "Refund 12" in window.text


def test_an_older_persian_only_notice_keeps_working_in_the_english_page(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _persian_only_row(db)
    db.commit()
    signed_in(client, db)
    english = client.get("/account/inbox?lang=en")
    assert english.status_code == 200
    assert '<h2 class="h6" lang="fa" dir="rtl">پیام قدیمی</h2>' in english.text
    assert '<p class="mb-1" lang="fa" dir="rtl">متن قدیمی پیام</p>' in english.text
    persian = client.get("/account/inbox?lang=fa")
    assert '<h2 class="h6">پیام قدیمی</h2>' in persian.text  # no marking needed in the Persian page


def test_another_citizens_english_notice_is_not_shown(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _both_languages(db, settings, national_code=MINOR_CODE)
    db.commit()
    signed_in(client, db)
    assert "Refund 12" not in client.get("/account/inbox?lang=en").text


def test_the_model_falls_back_to_persian_per_field() -> None:
    row = InboxMessage(subject_fa="موضوع", body_fa="متن", subject_en="Subject", body_en=None)
    assert (row.subject_in("en"), row.body_in("en")) == ("Subject", "متن")
    assert (row.subject_in("fa"), row.body_in("fa")) == ("موضوع", "متن")
    empty = InboxMessage(subject_fa="موضوع", body_fa="متن", subject_en="", body_en="")
    assert (empty.subject_in("en"), empty.body_in("en")) == ("موضوع", "متن")
