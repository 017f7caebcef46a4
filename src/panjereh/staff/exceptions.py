"""Staff failures, as problems."""

from panjereh.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class NotStaff(Forbidden):
    code = "staff.forbidden"
    title_en = "You do not hold a role in this workspace that allows this"
    title_fa = "شما در این میز کار نقشی ندارید که این کار را مجاز کند"


class MembershipNotFound(NotFound):
    code = "staff.membership_not_found"
    title_en = "No such staff membership"
    title_fa = "چنین عضویتی پیدا نشد"


class InvalidMembership(ValidationFailed):
    code = "staff.invalid_membership"
    title_en = "The staff membership is not valid"
    title_fa = "عضویت کارکنان معتبر نیست"


class MembershipExists(Conflict):
    code = "staff.membership_exists"
    title_en = "This person already holds this role"
    title_fa = "این شخص همین نقش را دارد"


class LastAdministrator(Conflict):
    code = "staff.last_administrator"
    title_en = "An agency keeps at least one administrator; appoint another first"
    title_fa = "دستگاه دست‌کم یک مدیر دارد؛ نخست مدیر دیگری منصوب کنید"


class RegistrationNotFound(NotFound):
    code = "staff.registration_not_found"
    title_en = "No such registration waiting for a decision"
    title_fa = "چنین ثبتی در انتظار تصمیم نیست"


class RegistrationNotActive(Conflict):
    code = "staff.registration_not_active"
    title_en = "This registration is not in effect: an operator has not approved it (or refused it)"
    title_fa = "این ثبت هنوز برقرار نیست: راهبر آن را تأیید نکرده (یا رد کرده) است"
