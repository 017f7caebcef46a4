"""Payment failures, as problems."""

from panjereh.core.errors import Conflict, Forbidden, NotFound, ProblemError, ValidationFailed


class PaymentNotNeeded(Conflict):
    code = "payments.not_needed"
    title_en = "This request is not waiting for a payment"
    title_fa = "این درخواست در انتظار پرداخت نیست"


class PaymentNotFound(NotFound):
    code = "payments.not_found"
    title_en = "No such payment"
    title_fa = "چنین پرداختی پیدا نشد"


class GatewayUnavailable(ProblemError):
    code = "payments.gateway_unavailable"
    status = 503
    title_en = "The payment gateway cannot be reached now; nothing was charged, please try again"
    title_fa = "درگاه پرداخت اکنون در دسترس نیست؛ مبلغی کسر نشد، دوباره تلاش کنید"


class CallbackRefused(Forbidden):
    """A callback that cannot be trusted (forged, altered, replayed): refused, logged and counted."""

    code = "payments.callback_refused"
    title_en = "This payment result cannot be accepted"
    title_fa = "این نتیجهٔ پرداخت پذیرفته نیست"


class CallbackReplayed(Conflict):
    code = "payments.callback_replayed"
    title_en = "This payment result was already received"
    title_fa = "این نتیجهٔ پرداخت پیش‌تر دریافت شده است"


class NotRefundable(Conflict):
    code = "payments.not_refundable"
    title_en = "Only a settled payment can be refunded"
    title_fa = "فقط پرداخت تسویه‌شده برگشت‌پذیر است"


class InvalidDay(ValidationFailed):
    code = "payments.invalid_day"
    title_en = "Choose a day in the past"
    title_fa = "روزی در گذشته را برگزینید"
