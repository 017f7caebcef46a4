"""Notification failures, as problems."""

from panjereh.core.errors import ValidationFailed


class UnknownChannel(ValidationFailed):
    code = "notify.unknown_channel"
    title_en = "Unknown notification channel"
    title_fa = "کانال اطلاع‌رسانی ناشناخته است"


class NoRecipient(ValidationFailed):
    code = "notify.no_recipient"
    title_en = "The message has no recipient on that channel"
    title_fa = "گیرنده‌ای برای این کانال مشخص نشده است"
