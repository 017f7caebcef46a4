"""Notification failures, as problems."""

from panjereh.core.errors import Forbidden, NotFound, RateLimited, ValidationFailed


class UnknownChannel(ValidationFailed):
    code = "notify.unknown_channel"
    title_en = "Unknown notification channel"
    title_fa = "کانال اطلاع‌رسانی ناشناخته است"


class NoRecipient(ValidationFailed):
    code = "notify.no_recipient"
    title_en = "The message has no recipient on that channel"
    title_fa = "گیرنده‌ای برای این کانال مشخص نشده است"


class InvalidEmail(ValidationFailed):
    code = "notify.invalid_email"
    title_en = "The e-mail address is not valid"
    title_fa = "نشانی ایمیل معتبر نیست؛ مانند name@example.com وارد کنید"


class InvalidLink(ValidationFailed):
    code = "notify.invalid_link"
    title_en = "A notice may link only to the portal's own pages"
    title_fa = "پیوند اعلان فقط می‌تواند به صفحه‌های خود پنجره باشد"


class VerificationInvalid(ValidationFailed):
    code = "notify.email_verification_invalid"
    title_en = "This verification link is not valid, has expired or was already used; ask for a new one"
    title_fa = "این پیوند تأیید معتبر نیست، منقضی شده یا قبلاً به کار رفته است؛ پیوند تازه بخواهید"


class EmailNotVerified(ValidationFailed):
    code = "notify.email_not_verified"
    title_en = "Add and verify an e-mail address before choosing e-mail"
    title_fa = "پیش از انتخاب ایمیل، نشانی ایمیل خود را بیفزایید و تأیید کنید"


class TooManyVerifications(RateLimited):
    code = "notify.too_many_verifications"
    title_en = "Too many verification e-mails; try again later"
    title_fa = "ایمیل تأیید بیش از اندازه درخواست شده است؛ کمی بعد دوباره تلاش کنید"


class CallbackOff(NotFound):
    code = "notify.callback_off"
    title_en = "Delivery-report callbacks are not taken here"
    title_fa = "گزارش تحویل از این راه پذیرفته نمی‌شود"


class CallbackRefused(Forbidden):
    """A delivery-report callback whose path secret is not ours: refused and logged, nothing changes."""

    code = "notify.callback_refused"
    title_en = "This delivery report cannot be accepted"
    title_fa = "این گزارش تحویل پذیرفته نیست"


class CallbackInvalid(ValidationFailed):
    code = "notify.callback_invalid"
    title_en = "The delivery report needs a numeric messageid and status"
    title_fa = "گزارش تحویل باید شناسهٔ پیامک (messageid) و وضعیت (status) عددی داشته باشد"


class UnknownMessage(NotFound):
    """A callback about a message the platform did not send (or has not yet recorded as sent)."""

    code = "notify.unknown_message"
    title_en = "No SMS sent by the platform has this message id"
    title_fa = "پیامکی با این شناسه از پنجره فرستاده نشده است"
