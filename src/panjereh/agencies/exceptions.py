"""Agency failures, as problems."""

from panjereh.core.errors import NotFound, ValidationFailed


class AgencyNotFound(NotFound):
    code = "agencies.not_found"
    title_en = "No such agency"
    title_fa = "چنین دستگاهی ثبت نشده است"


class InvalidAgency(ValidationFailed):
    code = "agencies.invalid"
    title_en = "The agency record is not valid"
    title_fa = "اطلاعات دستگاه معتبر نیست"
