"""Identity failures, as problems (Persian and English on each)."""

from __future__ import annotations

from panjereh.core.errors import (
    Forbidden,
    NotFound,
    ProblemError,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    ValidationFailed,
)
from panjereh.core.persian import to_persian_digits
from panjereh.identity import constants as levels


class InvalidNationalCode(ValidationFailed):
    code = "identity.invalid_national_code"
    title_en = "The national code is not valid"
    title_fa = "کد ملی معتبر نیست؛ ده رقم کد ملی را درست وارد کنید"


class InvalidMobile(ValidationFailed):
    code = "identity.invalid_mobile"
    title_en = "The mobile number is not valid"
    title_fa = "شماره همراه معتبر نیست؛ مانند ۰۹۱۲۱۲۳۴۵۶۷ وارد کنید"


class IdentifierMissing(ValidationFailed):
    code = "identity.identifier_missing"
    title_en = "Enter your national code and mobile number"
    title_fa = "کد ملی و شماره همراه خود را وارد کنید"


class ShahkarMismatch(Forbidden):
    code = "identity.shahkar_mismatch"
    title_en = "This mobile number is not registered to this national code (Shahkar)"
    title_fa = "این شماره همراه به نام صاحب این کد ملی ثبت نشده است (سامانه شاهکار)"


class PersonNotFound(NotFound):
    code = "identity.person_not_found"
    title_en = "The civil registry has no person with this national code"
    title_fa = "این کد ملی در ثبت احوال یافت نشد"


class PersonDeceased(Forbidden):
    code = "identity.deceased"
    title_en = "The civil registry records this person as deceased"
    title_fa = "بر پایهٔ ثبت احوال، صاحب این کد ملی فوت شده است؛ ورود ممکن نیست"


class Underage(Forbidden):
    code = "identity.underage"
    title_en = "Citizens under 18 cannot open an account; a parent or guardian acts for them"
    title_fa = "ثبت‌نام برای افراد زیر ۱۸ سال ممکن نیست؛ ولی یا سرپرست به جای آنان اقدام می‌کند"


class RegistryUnavailable(ServiceUnavailable):
    code = "identity.registry_unavailable"
    title_en = "The identity registries are not answering right now; nothing was saved, try again shortly"
    title_fa = (
        "سامانه‌های استعلام هویت (ثبت احوال / شاهکار) اکنون پاسخ نمی‌دهند؛ "
        "چیزی ذخیره نشد، چند دقیقه دیگر دوباره تلاش کنید"
    )


class AttemptNotFound(ProblemError):
    code = "identity.attempt_not_found"
    status = 400
    title_en = "This login has expired or belongs to another browser; start again"
    title_fa = "این درخواست ورود منقضی شده یا متعلق به مرورگر دیگری است؛ دوباره شروع کنید"


class CodeExpired(ProblemError):
    code = "identity.code_expired"
    status = 400
    title_en = "The code has expired or was already used; ask for a new one"
    title_fa = "کد منقضی شده یا قبلاً به کار رفته است؛ کد تازه بگیرید"


class WrongCode(ProblemError):
    code = "identity.wrong_code"
    status = 400
    title_en = "The code is not correct"
    title_fa = "کد واردشده درست نیست"


class TooManyWrongCodes(ProblemError):
    code = "identity.too_many_wrong_codes"
    status = 400
    title_en = "Too many wrong codes for this request; ask for a new code"
    title_fa = "تعداد کدهای نادرست از حد گذشت؛ کد تازه بگیرید"


class LoginThrottled(RateLimited):
    code = "identity.throttled"
    title_en = "Too many attempts; wait before trying again"
    title_fa = "تلاش‌ها بیش از حد مجاز بوده است؛ پیش از تلاش دوباره کمی صبر کنید"


class AccountLocked(RateLimited):
    code = "identity.locked"
    title_en = "Too many failed logins: the account is locked for 24 hours"
    title_fa = "به دلیل ورودهای ناموفق پیاپی، حساب تا ۲۴ ساعت قفل است"


class LoginRequired(Unauthenticated):
    code = "identity.login_required"


class StepUpRequired(Forbidden):
    """The session's assurance level is below what the page, service or client needs.

    The problem names both levels (`required_level`, `current_level`) and the `acr` to reach; browsers
    are sent to the step-up page and come back to `return_to` (a page they can GET), or to the page they
    asked for.
    """

    code = "identity.step_up_required"
    title_en = "This needs a stronger login (a second factor)"
    title_fa = "این کار به ورود قوی‌تر (عامل دوم) نیاز دارد"

    def __init__(self, *, required_level: int, current_level: int, return_to: str | None = None) -> None:
        super().__init__(
            f"This needs assurance level {required_level}; this session is at level {current_level}",
            to_persian_digits(
                f"این کار به سطح اطمینان {required_level} نیاز دارد؛ سطح ورود کنونی شما {current_level} است"
            ),
            required_level=required_level,
            current_level=current_level,
            required_acr=f"{levels.ACR_PREFIX}{required_level}",
        )
        self.required_level = required_level
        self.return_to = return_to


class LevelNotOffered(Forbidden):
    code = "identity.level_not_offered"
    title_en = "This needs an assurance level the window cannot give online yet"
    title_fa = "این کار به سطح اطمینانی نیاز دارد که پنجره هنوز به صورت برخط فراهم نمی‌کند"


class CrossSiteRequest(Forbidden):
    code = "client.cross_site"
    title_en = "A signed-in API call must come from this site's own pages"
    title_fa = "درخواست از صفحه‌های همین سایت فرستاده نشده است"


class SecondFactorInvalid(ProblemError):
    code = "identity.second_factor_invalid"
    status = 400
    title_en = "The authenticator code is not correct"
    title_fa = "کد برنامهٔ احراز هویت درست نیست"


class SessionNotFound(NotFound):
    code = "identity.session_not_found"
    title_en = "No such session"
    title_fa = "چنین نشستی یافت نشد"
