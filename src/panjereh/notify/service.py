"""Sending notifications: inbox rows in the database; SMS and e-mail stored and sent by a job through the
configured provider (`notify.tasks`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import new_id, utcnow
from panjereh.core.logging import get_logger
from panjereh.notify import selectors
from panjereh.notify.constants import (
    CHANNELS,
    DATA_ACCESS,
    EMAIL,
    INBOX,
    SMS,
    TOPIC_BY_CODE,
    ordered,
    topic_for,
)
from panjereh.notify.exceptions import (
    CallbackInvalid,
    CallbackOff,
    CallbackRefused,
    EmailNotVerified,
    NoRecipient,
    TooManyVerifications,
    UnknownChannel,
    UnknownMessage,
    VerificationInvalid,
)
from panjereh.notify.models import InboxMessage, Notification, NotificationPreference, TopicPreference
from panjereh.notify.providers import KavenegarSms, kavenegar_report
from panjereh.notify.tasks import LASTING_ATTEMPTS, MAX_ATTEMPTS, SEND_JOB
from panjereh.notify.texts import absolute_link, normalize_email

log = get_logger(__name__)

# A verification link lives a day; a new one may be asked for a minute after the last.
EMAIL_TOKEN_TTL = timedelta(hours=24)
EMAIL_RESEND_AFTER = timedelta(seconds=60)
SUBJECT_MAX = 300
VERIFY_PATH = "/account/notices/email/verify"


def send(
    session: Session,
    settings: Settings,
    *,
    national_code: str | None,
    mobile: str | None = None,
    email: str | None = None,
    channels: frozenset[str] = frozenset({INBOX}),
    subject_fa: str,
    body_fa: str,
    kind: str,
    link: str | None = None,
    expires_at: datetime | None = None,
    subject_en: str | None = None,
    body_en: str | None = None,
) -> None:
    """Send one message on exactly the channels asked for; a channel without its address is an error.

    This is the path for messages to an address the citizen just typed (a login code, an e-mail
    address's check); notices about a citizen's affairs go through `tell`, which follows their choices.
    Everything is written in the caller's transaction: the inbox row, and for SMS and e-mail a
    notification row and the job that sends it, so a message leaves the platform only once that
    transaction commits (a code texted for a login attempt that was rolled back would point at nothing).
    A process with its own worker running starts the send at that commit (`jobs.enqueue`'s hand-over);
    otherwise a worker process finds it at its next poll. A message not sent by `expires_at` (a login
    code past its lifetime) is marked failed instead of sent late. Links are paths on the portal: the
    inbox keeps them as they are, SMS and e-mail carry them absolute (`PANJEREH_PUBLIC_URL`).
    """
    unknown = channels - CHANNELS
    if unknown:
        raise UnknownChannel(f"Unknown channels: {sorted(unknown)}", f"کانال ناشناخته: {sorted(unknown)}")
    subject_fa = subject_fa[:SUBJECT_MAX]
    subject_en = subject_en[:SUBJECT_MAX] if subject_en else None
    inbox_id = None
    if INBOX in channels:
        if not national_code:
            raise NoRecipient("The inbox needs a national code", "صندوق پیام بدون کد ملی ممکن نیست")
        absolute_link(settings, link)  # the same links are accepted on every channel
        inbox_id = new_id()
        session.add(
            InboxMessage(
                id=inbox_id,
                national_code=national_code,
                kind=kind,
                subject_fa=subject_fa,
                body_fa=body_fa,
                subject_en=subject_en,
                body_en=body_en,
                link=link,
            )
        )  # written with the caller's next flush: nothing here needs its row yet
    for channel, address in ((SMS, mobile), (EMAIL, email)):
        if channel not in channels:
            continue
        if not address:
            raise NoRecipient(f"No address for {channel}", f"نشانی برای کانال {channel} داده نشده است")
        notification = Notification(
            id=new_id(),
            channel=channel,
            recipient=address,
            national_code=national_code,
            kind=kind,
            inbox_id=inbox_id,
            subject_fa=subject_fa,
            subject_en=subject_en,
            body_sealed=Notification.seal(settings, body_fa),
            body_en_sealed=Notification.seal(settings, body_en) if body_en else None,
            link=absolute_link(settings, link),
            expires_at=expires_at,
        )
        session.add(notification)
        # A login code is worth minutes: a few quick attempts; any other notice may wait out an outage.
        attempts = MAX_ATTEMPTS if expires_at is not None else LASTING_ATTEMPTS
        jobs.enqueue(session, SEND_JOB, {"notification_id": notification.id}, max_attempts=attempts)


def tell(
    session: Session,
    settings: Settings,
    *,
    national_code: str,
    kind: str,
    subject_fa: str,
    body_fa: str,
    mobile: str | None = None,
    link: str | None = None,
    subject_en: str | None = None,
    body_en: str | None = None,
    at_most: frozenset[str] = CHANNELS,
) -> frozenset[str]:
    """Tell a citizen about their affairs on the channels they chose for this kind of notice; the channels
    used.

    `at_most` is the caller's bound (a request's every step reaches the inbox, only the steps that need
    the citizen go by SMS); e-mail is used only once the citizen's address is verified, SMS only with a
    mobile number. A security notice always reaches the inbox and SMS or e-mail whatever was chosen.
    """
    topic = topic_for(kind)
    chosen = selectors.channels_for(session, national_code, topic.code)
    email = selectors.verified_email(session, national_code)
    reachable = {INBOX} | ({SMS} if mobile else set()) | ({EMAIL} if email else set())
    if topic.locked:  # the inbox and SMS always; e-mail too if chosen
        channels = frozenset(({INBOX, SMS} | chosen) & reachable)
    else:
        channels = frozenset(chosen & at_most & reachable)
    if channels:
        send(
            session,
            settings,
            national_code=national_code,
            mobile=mobile if SMS in channels else None,
            email=email if EMAIL in channels else None,
            channels=channels,
            subject_fa=subject_fa,
            body_fa=body_fa,
            kind=kind,
            link=link,
            subject_en=subject_en,
            body_en=body_en,
        )
    return channels


def set_topic_channels(
    session: Session, national_code: str, topic_code: str, channels: frozenset[str]
) -> frozenset[str]:
    """Choose the channels of one kind of notice (a security topic keeps the inbox and SMS)."""
    topic = TOPIC_BY_CODE.get(topic_code)
    if topic is None:
        raise UnknownChannel(f"Unknown kind of notice: {topic_code[:40]!r}", "نوع اعلان ناشناخته است")
    unknown = channels - CHANNELS
    if unknown:
        raise UnknownChannel(f"Unknown channels: {sorted(unknown)[:3]}", "کانال ناشناخته")
    if EMAIL in channels and selectors.verified_email(session, national_code) is None:
        raise EmailNotVerified()
    if topic.locked:
        channels = channels | topic.default  # the inbox and SMS cannot be switched off
    row = session.get(TopicPreference, (national_code, topic.code))
    if row is None:
        row = TopicPreference(national_code=national_code, topic=topic.code, channels="")
        session.add(row)
    row.channels = ",".join(ordered(channels))
    session.flush()
    return channels


def set_data_access_notices(session: Session, national_code: str, enabled: bool) -> None:
    """Turn on or off the notice sent when an agency looks at this citizen's data (on: the inbox, plus
    whatever else was chosen for it before)."""
    current = selectors.channels_for(session, national_code, DATA_ACCESS)
    set_topic_channels(session, national_code, DATA_ACCESS, (current | {INBOX}) if enabled else frozenset())


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_email_verification(
    session: Session, settings: Settings, national_code: str, raw_email: str
) -> str:
    """Hold a new e-mail address as pending and send it a verification link; the normalized address.

    The address is used for notices only once the citizen opens the link signed in as themselves
    (`verify_email`); until then the verified address, if any, stays in use.
    """
    address = normalize_email(raw_email)
    now = utcnow()
    preference = _preference(session, national_code)
    if (
        preference.email_token_expires_at is not None
        and preference.email_token_expires_at - EMAIL_TOKEN_TTL + EMAIL_RESEND_AFTER > now
    ):
        raise TooManyVerifications(headers={"Retry-After": str(int(EMAIL_RESEND_AFTER.total_seconds()))})
    token = secrets.token_urlsafe(32)
    preference.email_pending = address
    preference.email_token_hash = _token_hash(token)
    preference.email_token_expires_at = now + EMAIL_TOKEN_TTL
    session.flush()
    url = settings.base_url + f"{VERIFY_PATH}?token={token}"
    send(
        session,
        settings,
        national_code=national_code,
        email=address,
        channels=frozenset({EMAIL}),
        kind="notify.email_verification",
        subject_fa="تأیید نشانی ایمیل در پنجره",
        # The link is in the (sealed) body, not the notification's `link`, which is kept readable: the
        # token is otherwise stored only as a hash.
        body_fa=(
            "این نشانی برای دریافت اعلان‌های پنجرهٔ ملی افزوده شده است. برای تأیید، پیوند زیر را باز کنید "
            "(تا ۲۴ ساعت معتبر است). اگر شما نبوده‌اید، این پیام را نادیده بگیرید.\n" + url
        ),
        subject_en="Confirm your e-mail address for Panjereh",
        body_en=(
            "This address was added to receive notices from Iran's national window. Open the link below "
            "to confirm it (valid for 24 hours). If it was not you, ignore this message.\n" + url
        ),
        expires_at=now + EMAIL_TOKEN_TTL,
    )
    return address


def verify_email(session: Session, national_code: str, token: str) -> str:
    """Verify the pending address with the token of its link (this citizen's, unexpired, once)."""
    preference = session.get(NotificationPreference, national_code)
    if (
        preference is None
        or not preference.email_pending
        or not preference.email_token_hash
        or preference.email_token_expires_at is None
        or preference.email_token_expires_at <= utcnow()
        or len(token) > 100
        or not hmac.compare_digest(preference.email_token_hash, _token_hash(token))
    ):
        raise VerificationInvalid()
    preference.email = preference.email_pending
    preference.email_verified_at = utcnow()
    preference.email_pending = None
    preference.email_token_hash = None
    preference.email_token_expires_at = None
    session.flush()
    return preference.email


def tell_email_verified(session: Session, settings: Settings, national_code: str, mobile: str | None) -> None:
    """The security notice that an e-mail address now receives this citizen's notices (by SMS too: if it
    was not them, they hear of it where the intruder is not)."""
    address = selectors.verified_email(session, national_code) or ""
    tell(
        session,
        settings,
        national_code=national_code,
        mobile=mobile,
        kind="notify.security.email_verified",
        subject_fa="نشانی ایمیل حساب شما تأیید شد",
        body_fa=f"از این پس اعلان‌هایی که انتخاب کرده‌اید به {address} هم فرستاده می‌شود. "
        "اگر این کار را شما نکرده‌اید، همهٔ نشست‌ها را ببندید و ایمیل را حذف کنید.",
        subject_en="Your account's e-mail address was confirmed",
        body_en=f"The notices you chose will also go to {address}. "
        "If it was not you, end all sessions and remove the e-mail address.",
        link="/account/notices",
    )


def remove_email(session: Session, national_code: str) -> None:
    """Forget the citizen's e-mail address (verified and pending); e-mail is dropped from every topic."""
    preference = session.get(NotificationPreference, national_code)
    if preference is not None:
        preference.email = preference.email_verified_at = preference.email_pending = None
        preference.email_token_hash = preference.email_token_expires_at = None
    for row in selectors.topic_rows(session, national_code):
        kept = [channel for channel in row.channels.split(",") if channel and channel != EMAIL]
        row.channels = ",".join(kept)
    session.flush()


def _preference(session: Session, national_code: str) -> NotificationPreference:
    preference = session.get(NotificationPreference, national_code)
    if preference is None:
        preference = NotificationPreference(national_code=national_code)
        session.add(preference)
    return preference


def mark_read(session: Session, national_code: str, message_id: str) -> bool:
    """Mark one of the citizen's own messages read; another citizen's message is never touched."""
    result = session.execute(
        update(InboxMessage)
        .where(
            InboxMessage.id == message_id,
            InboxMessage.national_code == national_code,
            InboxMessage.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def kavenegar_delivery_callback(
    session: Session, settings: Settings, *, secret: str, messageid: str, status: str
) -> bool:
    """Kavenegar's delivery report for one SMS, called back: the notification moves as a polled report
    would move it; whether its status changed.

    The secret in the callback's path is the only proof it is Kavenegar's (it signs nothing). A report for
    a message already delivered or undelivered (a replay, a retry, a poll that came first) changes nothing
    and is answered as taken, so the provider stops retrying it. A forged, malformed or unknown callback
    raises a problem, logged; polling still settles the message if a genuine callback was lost.
    """
    expected = settings.notify.kavenegar_callback_secret
    if expected is None or settings.notify.sms != KavenegarSms.name:
        raise CallbackOff()
    if not hmac.compare_digest(secret.encode(), expected.encode()):
        _refuse_callback("wrong_secret", CallbackRefused(), messageid)
    if not _is_number(messageid, 20) or not _is_number(status, 4):
        _refuse_callback("malformed", CallbackInvalid(), messageid)
    notification = session.scalars(
        select(Notification)
        .where(
            Notification.provider == KavenegarSms.name,
            Notification.provider_reference == messageid,
            Notification.channel == SMS,
        )
        .with_for_update()
    ).first()
    if notification is None:
        # Also a callback racing the send's own record of the message id: Kavenegar calls again later.
        _refuse_callback("unknown_message", UnknownMessage(), messageid)
    report = kavenegar_report(messageid, int(status), "(callback)")
    changed = notification.take_report(report.delivered, report.text, utcnow())
    session.flush()
    log.info(
        "notify.delivery_callback",
        notification=notification.id,
        provider_status=int(status),
        changed=changed,
        notification_status=notification.status.value,
    )
    return changed


def _is_number(value: str, digits: int) -> bool:
    return 0 < len(value) <= digits and value.isascii() and value.isdigit()


def _refuse_callback(reason: str, error: Exception, messageid: str) -> NoReturn:
    log.warning("notify.callback_refused", reason=reason, messageid=messageid[:40])
    raise error
