"""Document failures, as problems."""

from panjereh.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
)


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


class UnknownWalletSource(NotFound):
    code = "documents.wallet_unknown_source"
    title_en = "The wallet cannot fetch this kind of document"
    title_fa = "کیف مدارک این نوع مدرک را نمی‌تواند دریافت کند"


class WalletSourceUnavailable(ServiceUnavailable):
    code = "documents.wallet_unavailable"
    title_en = "The issuer's registry did not answer; your wallet is unchanged, try again later"
    title_fa = "سامانهٔ دستگاه صادرکننده پاسخ نداد؛ کیف مدارک شما دست نخورده است، بعداً دوباره تلاش کنید"


class ShareNotFound(NotFound):
    code = "documents.share_not_found"
    title_en = "No such share: the link is wrong or incomplete"
    title_fa = "چنین اشتراکی نیست: پیوند نادرست یا ناقص است"


class ShareGone(ProblemError):
    """A share that existed but may no longer be opened (410: the link will not work again)."""

    status = 410


class ShareRevoked(ShareGone):
    code = "documents.share_revoked"
    title_en = "The holder has revoked this share"
    title_fa = "دارندهٔ مدرک این اشتراک را لغو کرده است"


class ShareExpired(ShareGone):
    code = "documents.share_expired"
    title_en = "This share has expired"
    title_fa = "مهلت این اشتراک به پایان رسیده است"


class SharedDocumentInvalid(ShareGone):
    code = "documents.share_document_invalid"
    title_en = "The shared document is no longer valid (revoked, replaced or expired)"
    title_fa = "مدرکی که به اشتراک گذاشته شده دیگر معتبر نیست (باطل، جایگزین یا منقضی شده است)"


class InvalidShare(ValidationFailed):
    code = "documents.share_invalid"
    title_en = "The share cannot be made as asked"
    title_fa = "اشتراک با این انتخاب‌ها ساخته نمی‌شود"


class ShareAlreadyRevoked(Conflict):
    code = "documents.share_already_revoked"
    title_en = "The share is already revoked"
    title_fa = "این اشتراک پیش‌تر لغو شده است"


class ShareIdempotencyConflict(Conflict):
    code = "documents.share_idempotency_conflict"
    title_en = "This Idempotency-Key already made a different share"
    title_fa = "با این کلید تکرار (Idempotency-Key) پیش‌تر اشتراک دیگری ساخته شده است"


class ShareOpeningsThrottled(RateLimited):
    code = "documents.share_throttled"
    title_en = "Too many shared documents opened from this address; wait a little and try again"
    title_fa = "از این نشانی بیش از حد مجاز مدرک اشتراکی باز شده است؛ کمی صبر کنید و دوباره تلاش کنید"
