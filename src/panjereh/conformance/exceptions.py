"""Conformance failures, as problems."""

from panjereh.core.errors import NotFound


class RunNotFound(NotFound):
    code = "conformance.run_not_found"
    title_en = "No such conformance run"
    title_fa = "چنین اجرای بررسی استانداردی ثبت نشده است"
