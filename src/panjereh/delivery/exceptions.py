"""Delivery failures, as problems."""

from panjereh.core.errors import Conflict, Forbidden, NotFound, ProblemError, ValidationFailed


class InvalidDefinition(ValidationFailed):
    code = "delivery.invalid_definition"
    title_en = "The service definition is not valid"
    title_fa = "تعریف خدمت معتبر نیست"


class DecisionModelFailed(ProblemError):
    code = "delivery.decision_model_failed"
    status = 500
    title_en = "The decision model could not decide"
    title_fa = "مدل تصمیم نتوانست تصمیم بگیرد"


class ServiceNotExecutable(NotFound):
    code = "delivery.service_not_executable"
    title_en = "This service cannot be applied for online yet"
    title_fa = "این خدمت هنوز به‌صورت برخط قابل درخواست نیست"


class InvalidApplication(ValidationFailed):
    code = "delivery.invalid_application"
    title_en = "The application is not complete or not valid"
    title_fa = "درخواست کامل یا معتبر نیست"


class RequestNotFound(NotFound):
    code = "delivery.request_not_found"
    title_en = "No such request"
    title_fa = "چنین درخواستی پیدا نشد"


class IdempotencyConflict(Conflict):
    code = "delivery.idempotency_conflict"
    title_en = "This idempotency key was already used for a different submission"
    title_fa = "این کلید یکتایی پیش‌تر برای درخواست دیگری به کار رفته است"


class InvalidTransition(Conflict):
    code = "delivery.invalid_transition"
    title_en = "The request cannot move to that state now"
    title_fa = "درخواست در وضعیت کنونی به این مرحله نمی‌رود"


class NotAnOfficer(Forbidden):
    code = "delivery.not_an_officer"
    title_en = "Only an officer of the agency can work this queue"
    title_fa = "فقط کارشناس همان دستگاه می‌تواند این کارتابل را ببیند"


class OwnRequest(Forbidden):
    code = "delivery.own_request"
    title_en = "An officer never works a request in which they are the applicant or the subject"
    title_fa = "کارشناس به درخواستی که خود متقاضی یا موضوع آن است رسیدگی نمی‌کند"


class InvalidTrackingCode(ValidationFailed):
    code = "delivery.invalid_tracking_code"
    title_en = "The tracking code is not valid (check digit)"
    title_fa = "کد رهگیری نادرست است (رقم کنترل نمی‌خواند)"


class DefinitionNotFound(NotFound):
    code = "delivery.definition_not_found"
    title_en = "No such version of a service definition"
    title_fa = "چنین نسخه‌ای از تعریف خدمت پیدا نشد"


class DefinitionNotEditable(Conflict):
    code = "delivery.definition_not_editable"
    title_en = "Only a draft can be changed; a published version never changes (start a new draft)"
    title_fa = "فقط پیش‌نویس ویرایش‌پذیر است؛ نسخهٔ منتشرشده تغییر نمی‌کند (پیش‌نویس تازه بسازید)"


class DefinitionLifecycleConflict(Conflict):
    code = "delivery.definition_lifecycle"
    title_en = "The definition cannot move to that status now"
    title_fa = "تعریف خدمت در وضعیت کنونی به این مرحله نمی‌رود"


class SlugOfAnotherAgency(Conflict):
    code = "delivery.slug_of_another_agency"
    title_en = "Another agency's service already uses this slug"
    title_fa = "این شناسهٔ خدمت از آنِ دستگاه دیگری است"


class FourEyesRequired(Forbidden):
    code = "delivery.four_eyes_required"
    title_en = "A second person must publish: the publisher cannot be the author or the last editor"
    title_fa = "انتشار با شخص دوم است: نویسنده یا آخرین ویرایشگر پیش‌نویس نمی‌تواند آن را منتشر کند"


class NotATestPersona(ValidationFailed):
    code = "delivery.not_a_test_persona"
    title_en = "A sandbox request is made for a test persona only"
    title_fa = "درخواست محیط آزمایشی فقط برای اشخاص آزمونی ثبت می‌شود"


class ReviewNotOpen(Conflict):
    """A review asked too late (the window after the automatic refusal closed) or after the fee was
    refunded (the refusal was taken as final and the money given back: a review would deliver the service
    free; the citizen applies again instead)."""

    code = "delivery.review_not_open"
    title_en = "A review can no longer be asked for this refusal; you may apply again"
    title_fa = "برای این ردّ دیگر نمی‌توان بازبینی خواست؛ می‌توانید دوباره درخواست دهید"


class NotTheSubject(Forbidden):
    code = "delivery.not_the_subject"
    title_en = "Only the person this request is for can change it here; acting for another is on the portal"
    title_fa = "فقط صاحب این درخواست می‌تواند اینجا آن را تغییر دهد؛ اقدام از طرف دیگری در درگاه است"


class CannotWithdraw(Conflict):
    """The request is being worked on (the worker deciding it, an officer holding it) or was decided."""

    code = "delivery.cannot_withdraw"
    title_en = "This request can no longer be withdrawn"
    title_fa = "انصراف از این درخواست دیگر ممکن نیست"


class WrongAudience(ValidationFailed):
    code = "delivery.wrong_audience"
    title_en = "This service is for companies: apply on behalf of a company you sign for"
    title_fa = "این خدمت برای شرکت‌هاست: از طرف شرکتی که حق امضای آن را دارید درخواست دهید"


class GrantMissing(Forbidden):
    """A definition reads a data service its agency holds no approved production grant for (publishing,
    submitting for review, importing); `services` names them, and the detail says whom to ask."""

    code = "delivery.grant_missing"
    title_en = "The agency holds no grant for a data service this definition reads"
    title_fa = "دستگاه مجوز یکی از سرویس‌های داده‌ای را که این تعریف خدمت می‌خواند ندارد"
