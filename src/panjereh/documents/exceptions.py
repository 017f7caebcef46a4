"""Document failures, as problems."""

from panjereh.core.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed


class DocumentNotFound(NotFound):
    code = "documents.not_found"
    title_en = "No such document"
    title_fa = "چنین سندی پیدا نشد"


class InvalidDocument(ValidationFailed):
    code = "documents.invalid"
    title_en = "The document cannot be issued as given"
    title_fa = "صدور سند با این اطلاعات ممکن نیست"


class RevocationForbidden(Forbidden):
    code = "documents.revocation_forbidden"
    title_en = "Only the issuing agency may revoke a document"
    title_fa = "تنها دستگاه صادرکننده می‌تواند سند را باطل کند"


class AlreadyRevoked(Conflict):
    code = "documents.already_revoked"
    title_en = "The document is already revoked"
    title_fa = "این سند پیش‌تر باطل شده است"


class NothingToVerify(ValidationFailed):
    code = "documents.nothing_to_verify"
    title_en = "Give the QR code's text (payload) or the document number"
    title_fa = "متن کد QR یا شمارهٔ سند را وارد کنید"


class VerificationThrottled(RateLimited):
    code = "documents.verification_throttled"
    title_en = "Too many verifications from this address; wait a little and try again"
    title_fa = "استعلام‌های اصالت از این نشانی بیش از حد مجاز بوده است؛ کمی صبر کنید و دوباره تلاش کنید"
