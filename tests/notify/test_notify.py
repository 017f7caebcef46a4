"""Notify: inbox rows, the development outbox, and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.notify import selectors, service
from panjereh.notify.backends import read_outbox
from panjereh.notify.exceptions import NoRecipient, UnknownChannel


def text_demo_citizen(
    db: Session,
    settings: Settings,
    body_fa: str,
    *,
    subject_fa: str = "کد ورود",
    kind: str = "identity.login_code",
) -> None:
    """An SMS to the demo citizen, in the test's transaction."""
    service.send(
        db, settings, national_code="0499370899", mobile="09121234567", channels=frozenset({"sms"}),
        subject_fa=subject_fa, body_fa=body_fa, kind=kind,
    )  # fmt: skip


def test_inbox_and_sms(db: Session, settings: Settings) -> None:
    before = len(read_outbox(settings))
    service.send(
        db,
        settings,
        national_code="0499370899",
        mobile="09121234567",
        channels=frozenset({"inbox", "sms"}),
        subject_fa="درخواست شما",
        body_fa="تصمیم گرفته شد",
        kind="delivery.decided",
        link="/requests/1",
    )
    rows = selectors.inbox(db, "0499370899")
    assert [row.subject_fa for row in rows] == ["درخواست شما"]
    assert selectors.unread_count(db, "0499370899") == 1
    assert selectors.inbox(db, "0790419904") == []
    assert len(read_outbox(settings)) == before  # nothing leaves before the transaction commits
    db.commit()
    outbox = read_outbox(settings)
    assert len(outbox) == before + 1 and outbox[-1]["to"] == "09121234567" and outbox[-1]["channel"] == "sms"
    assert service.mark_read(db, "0790419904", rows[0].id) is False  # not theirs
    assert service.mark_read(db, "0499370899", rows[0].id) is True
    assert selectors.unread_count(db, "0499370899") == 0


def test_a_message_of_a_rolled_back_transaction_never_leaves(db: Session, settings: Settings) -> None:
    before = len(read_outbox(settings))
    text_demo_citizen(db, settings, "کد: 123456")
    db.rollback()  # the request failed after the send: the code would point at an attempt that is gone
    db.commit()  # a later transaction of the same session commits nothing that was rolled back
    assert len(read_outbox(settings)) == before
    text_demo_citizen(db, settings, "کد: 654321")
    db.commit()
    db.commit()  # delivered once, not again
    sent = read_outbox(settings)[before:]
    assert [record["body_fa"] for record in sent] == ["کد: 654321"]


def test_refusals(db: Session, settings: Settings) -> None:
    with pytest.raises(UnknownChannel):
        service.send(
            db,
            settings,
            national_code="0499370899",
            channels=frozenset({"fax"}),
            subject_fa="x",
            body_fa="x",
            kind="k",
        )
    with pytest.raises(NoRecipient):
        service.send(
            db,
            settings,
            national_code="0499370899",
            channels=frozenset({"sms"}),
            subject_fa="x",
            body_fa="x",
            kind="k",
        )


def test_a_savepoint_released_is_not_the_commit_a_message_waits_for(db: Session, settings: Settings) -> None:
    before = len(read_outbox(settings))
    text_demo_citizen(db, settings, "ثبت شد", subject_fa="درخواست", kind="delivery.request")
    with db.begin_nested():  # released: SQLAlchemy announces it as a commit, yet nothing is committed
        service.mark_read(db, "0499370899", "no-such-message")
    assert len(read_outbox(settings)) == before
    db.commit()
    assert [record["body_fa"] for record in read_outbox(settings)[before:]] == ["ثبت شد"]
