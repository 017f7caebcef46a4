"""Preferences per kind of notice and channel, security notices always sent, e-mail used only once
verified, and the verification link's refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.notify import selectors, service
from panjereh.notify.constants import DATA_ACCESS, EMAIL, INBOX, SMS, topic_for
from panjereh.notify.exceptions import (
    EmailNotVerified,
    InvalidEmail,
    TooManyVerifications,
    UnknownChannel,
    VerificationInvalid,
)
from panjereh.notify.models import InboxMessage, Notification, NotificationPreference
from panjereh.notify.providers import read_outbox
from tests.notify.helpers import send_queued

ALI, ALI_MOBILE = "0499370899", "09121234567"
SARA = "0790419904"


def tell_ali(db: Session, settings: Settings, kind: str, **extra: object) -> frozenset[str]:
    return service.tell(
        db, settings, national_code=ALI, mobile=ALI_MOBILE, kind=kind, subject_fa="موضوع",
        body_fa="متن", link="/account/inbox", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def outgoing(db: Session) -> list[tuple[str, str, str]]:
    db.flush()
    rows = db.scalars(select(Notification).order_by(Notification.channel)).all()
    return [(row.channel, row.recipient, row.kind) for row in rows]


def verified(db: Session, settings: Settings, address: str = "ali@example.com", who: str = ALI) -> None:
    """An address verified through its link (the link read from the stored body, as the e-mail has it)."""
    service.request_email_verification(db, settings, who, address)
    db.flush()
    [row] = [n for n in db.scalars(select(Notification)).all() if n.kind == "notify.email_verification"]
    token = re.search(r"token=([\w-]+)", row.open_body(settings))
    assert token
    service.verify_email(db, who, token.group(1))


def test_kinds_fall_under_their_topics() -> None:
    assert topic_for("delivery.request").code == "requests"
    assert topic_for("delivery.proactive").code == "proactive"  # the longer prefix wins
    assert topic_for("documents.issued").code == "documents"
    assert topic_for("payments.receipt").code == "payments"
    assert topic_for("identity.second_factor_enabled").code == "security"
    assert topic_for("exchange.data_access").code == DATA_ACCESS
    assert topic_for("something.new").code == "other"


def test_defaults_are_sms_and_inbox_for_request_updates(db: Session, settings: Settings) -> None:
    assert tell_ali(db, settings, "delivery.request") == {INBOX, SMS}
    assert outgoing(db) == [("sms", ALI_MOBILE, "delivery.request")]
    assert len(selectors.inbox(db, ALI)) == 1
    # Agencies' looks at my data are off unless turned on; proactive suggestions reach the inbox only.
    assert tell_ali(db, settings, "exchange.data_access") == frozenset()
    assert tell_ali(db, settings, "delivery.proactive") == {INBOX}


def test_preferences_are_respected_per_kind_and_channel(db: Session, settings: Settings) -> None:
    service.set_topic_channels(db, ALI, "requests", frozenset({INBOX}))
    service.set_topic_channels(db, ALI, "proactive", frozenset({SMS}))
    assert tell_ali(db, settings, "delivery.request") == {INBOX}
    assert tell_ali(db, settings, "delivery.proactive") == {SMS}
    assert outgoing(db) == [("sms", ALI_MOBILE, "delivery.proactive")]
    assert [m.kind for m in selectors.inbox(db, ALI)] == ["delivery.request"]
    # The caller's bound: a step that does not need the citizen goes by SMS to nobody.
    service.set_topic_channels(db, ALI, "requests", frozenset({INBOX, SMS}))
    assert tell_ali(db, settings, "delivery.request", at_most=frozenset({INBOX, EMAIL})) == {INBOX}
    # Nothing chosen: nothing sent, not even the inbox.
    service.set_topic_channels(db, ALI, "payments", frozenset())
    assert tell_ali(db, settings, "payments.receipt") == frozenset()
    assert selectors.preferences(db, ALI)["payments"] == frozenset()
    assert selectors.preferences(db, SARA)["payments"] == {INBOX, SMS}  # another citizen: untouched


def test_security_notices_cannot_be_switched_off(db: Session, settings: Settings) -> None:
    assert service.set_topic_channels(db, ALI, "security", frozenset()) == {INBOX, SMS}
    assert selectors.channels_for(db, ALI, "security") == {INBOX, SMS}
    assert tell_ali(db, settings, "identity.second_factor_enabled") == {INBOX, SMS}
    assert outgoing(db) == [("sms", ALI_MOBILE, "identity.second_factor_enabled")]


def test_an_unverified_email_is_never_used(db: Session, settings: Settings) -> None:
    with pytest.raises(EmailNotVerified):
        service.set_topic_channels(db, ALI, "requests", frozenset({INBOX, EMAIL}))
    service.request_email_verification(db, settings, ALI, "ali@example.com")
    with pytest.raises(EmailNotVerified):  # pending is not verified
        service.set_topic_channels(db, ALI, "requests", frozenset({EMAIL}))
    assert selectors.verified_email(db, ALI) is None
    assert tell_ali(db, settings, "delivery.request") == {INBOX, SMS}
    # Only the verification itself went to the address.
    assert [kind for channel, _to, kind in outgoing(db) if channel == "email"] == [
        "notify.email_verification"
    ]


def test_a_verified_email_is_used_as_chosen(db: Session, settings: Settings) -> None:
    verified(db, settings)
    assert selectors.verified_email(db, ALI) == "ali@example.com"
    service.set_topic_channels(db, ALI, "requests", frozenset({EMAIL}))
    service.set_topic_channels(db, ALI, "security", frozenset({EMAIL}))
    assert tell_ali(db, settings, "delivery.request", subject_en="Subject", body_en="Text") == {EMAIL}
    assert tell_ali(db, settings, "identity.second_factor_enabled") == {INBOX, SMS, EMAIL}
    email = db.scalars(select(Notification).where(Notification.kind == "delivery.request")).one()
    assert (email.channel, email.recipient, email.subject_en) == ("email", "ali@example.com", "Subject")
    assert email.link == f"{settings.base_url}/account/inbox"  # absolute
    assert email.open_body_en(settings) == "Text"
    service.remove_email(db, ALI)  # e-mail leaves every topic with the address
    assert selectors.verified_email(db, ALI) is None
    assert selectors.channels_for(db, ALI, "requests") == frozenset()
    assert selectors.channels_for(db, ALI, "security") == {INBOX, SMS}


def test_a_verification_link_is_this_citizens_unexpired_and_used_once(
    db: Session, settings: Settings
) -> None:
    service.request_email_verification(db, settings, ALI, "ali@example.com")
    db.flush()
    [row] = db.scalars(select(Notification).where(Notification.kind == "notify.email_verification")).all()
    body = row.open_body(settings)
    found = re.search(r"(https?://\S+/account/notices/email/verify\?token=([\w-]+))", body)
    assert found and found.group(1).startswith(settings.base_url)  # absolute
    token = found.group(2)
    assert token not in (row.link or "")  # the readable columns do not hold the token
    stored = db.get(NotificationPreference, ALI)
    assert stored is not None and token not in (stored.email_token_hash or "")
    for forged in (
        "",
        "x",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token + "x",
        "ی" * 50,
        "a" * 5000,
    ):
        with pytest.raises(VerificationInvalid):
            service.verify_email(db, ALI, forged)
    with pytest.raises(VerificationInvalid):  # another citizen's link
        service.verify_email(db, SARA, token)
    assert service.verify_email(db, ALI, token) == "ali@example.com"
    with pytest.raises(VerificationInvalid):  # once
        service.verify_email(db, ALI, token)


def test_an_expired_verification_link_is_refused(db: Session, settings: Settings) -> None:
    service.request_email_verification(db, settings, ALI, "ali@example.com")
    db.flush()
    [row] = db.scalars(select(Notification).where(Notification.kind == "notify.email_verification")).all()
    token = re.search(r"token=([\w-]+)", row.open_body(settings))
    assert token
    stored = db.get(NotificationPreference, ALI)
    assert stored is not None
    stored.email_token_expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(VerificationInvalid):
        service.verify_email(db, ALI, token.group(1))
    assert selectors.verified_email(db, ALI) is None


def test_verification_emails_are_limited(db: Session, settings: Settings) -> None:
    service.request_email_verification(db, settings, ALI, "ali@example.com")
    with pytest.raises(TooManyVerifications):
        service.request_email_verification(db, settings, ALI, "other@example.com")
    stored = db.get(NotificationPreference, ALI)
    assert stored is not None and stored.email_pending == "ali@example.com"


def test_a_malformed_or_unknown_choice_is_refused(db: Session, settings: Settings) -> None:
    with pytest.raises(UnknownChannel):
        service.set_topic_channels(db, ALI, "requests", frozenset({"fax"}))
    with pytest.raises(UnknownChannel):
        service.set_topic_channels(db, ALI, "no-such-topic", frozenset({INBOX}))
    with pytest.raises(InvalidEmail):
        service.request_email_verification(db, settings, ALI, "not an address")


def test_data_access_notices_follow_the_topic(db: Session, settings: Settings) -> None:
    assert not selectors.wants_data_access_notices(db, ALI)
    service.set_data_access_notices(db, ALI, True)
    assert selectors.channels_for(db, ALI, DATA_ACCESS) == {INBOX}
    assert selectors.data_access_subscribers(db, [ALI, SARA]) == {ALI}
    service.set_data_access_notices(db, ALI, False)
    assert selectors.data_access_subscribers(db, [ALI, SARA]) == set()


def test_the_inbox_links_each_notice_to_how_its_channels_went(
    db: Session, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    tell_ali(db, settings, "delivery.request")
    db.commit()
    [message] = db.scalars(select(InboxMessage).where(InboxMessage.national_code == ALI)).all()
    assert send_queued(session_factory, settings) == 1
    db.expire_all()
    deliveries = selectors.delivery_of(db, ALI, [message.id])
    assert [(n.channel, n.status.value) for n in deliveries[message.id]] == [("sms", "sent")]
    assert selectors.delivery_of(db, SARA, [message.id]) == {}  # not another citizen's
    sms = read_outbox(settings)[-1]
    assert sms["link"] == f"{settings.base_url}/account/inbox"
    assert sms["text"].endswith(f"\n{settings.base_url}/account/inbox")
