"""The channels a notice goes out on, and the kinds of notice (topics) a citizen chooses channels for."""

from __future__ import annotations

from dataclasses import dataclass

INBOX = "inbox"
SMS = "sms"
EMAIL = "email"
CHANNELS = frozenset({INBOX, SMS, EMAIL})
CHANNEL_ORDER = (INBOX, SMS, EMAIL)  # as shown and stored


@dataclass(frozen=True)
class Topic:
    """A kind of notice the citizen chooses channels for; a message's `kind` falls under the topic whose
    prefix it starts with (the longest wins)."""

    code: str
    title_fa: str
    title_en: str
    prefixes: tuple[str, ...]
    default: frozenset[str]
    # Security notices cannot be switched off: the inbox and SMS always (e-mail may be added).
    locked: bool = False


SECURITY = "security"
DATA_ACCESS = "data_access"
OTHER = "other"

TOPICS: tuple[Topic, ...] = (
    Topic("requests", "پیگیری درخواست‌ها", "Updates on my requests", ("delivery.",), frozenset({INBOX, SMS})),
    Topic(
        "documents",
        "صدور مدرک و گواهی",
        "Documents issued to me",
        ("documents.", "wallet.", "sharing."),
        frozenset({INBOX, SMS}),
    ),
    Topic("payments", "پرداخت‌ها", "Payments", ("payments.", "payment."), frozenset({INBOX, SMS})),
    Topic(
        SECURITY,
        "ورود و امنیت حساب",
        "Sign-in and account security",
        ("identity.", "oidc.", "acting.", "representation.", "notify.security."),
        frozenset({INBOX, SMS}),
        locked=True,
    ),
    Topic(
        "proactive",
        "خدمات پیشنهادی و فعال",
        "Proactive services and suggestions",
        ("delivery.proactive", "proactive."),
        frozenset({INBOX}),
    ),
    # Off unless the citizen turns it on (as before the channels): looks happen often.
    Topic(
        DATA_ACCESS,
        "دسترسی دستگاه‌ها به دادهٔ من",
        "Agencies looking at my data",
        ("exchange.data_access", "consent."),
        frozenset(),
    ),
    # An agency's answer to a problem the citizen reported (also on /account/feedback, whatever is chosen).
    Topic("feedback", "پاسخ به گزارش‌های من", "Replies to my reports", ("feedback.",), frozenset({INBOX})),
    Topic(OTHER, "سایر اعلان‌ها", "Other notices", (), frozenset({INBOX})),
)
TOPIC_BY_CODE = {topic.code: topic for topic in TOPICS}

# Kinds sent to an address the citizen typed, whatever their choices: a login code, an address check.
TRANSACTIONAL_KINDS = frozenset({"identity.login_code", "notify.email_verification"})
# Kinds whose text carries a code to be typed: their digits stay ASCII in an SMS (phones offer them to the
# form as they are); every other SMS is in Persian digits.
VERBATIM_KINDS = frozenset({"identity.login_code"})


def topic_for(kind: str) -> Topic:
    """The topic a message kind falls under (the longest matching prefix; else «other»)."""
    best: Topic = TOPIC_BY_CODE[OTHER]
    length = -1
    for topic in TOPICS:
        for prefix in topic.prefixes:
            if kind.startswith(prefix) and len(prefix) > length:
                best, length = topic, len(prefix)
    return best


def ordered(channels: frozenset[str] | set[str]) -> tuple[str, ...]:
    """Channels in their fixed order."""
    return tuple(channel for channel in CHANNEL_ORDER if channel in channels)
