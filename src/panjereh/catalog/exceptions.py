"""Catalog failures, as problems."""

from __future__ import annotations

from typing import Any

from panjereh.core.errors import NotFound, ValidationFailed


class ServiceNotFound(NotFound):
    code = "catalog.service_not_found"
    title_en = "No such service"
    title_fa = "چنین خدمتی در فهرست ملی خدمات نیست"


class InvalidServiceCard(ValidationFailed):
    code = "catalog.invalid_card"
    title_en = "The service card is not valid"
    title_fa = "شناسنامهٔ خدمت معتبر نیست"


class ImportRejected(ValidationFailed):
    """A spreadsheet had bad rows; nothing from it was imported."""

    code = "catalog.import_rejected"
    title_en = "The file was rejected; nothing was imported"
    title_fa = "پرونده پذیرفته نشد و هیچ ردیفی از آن وارد نشد"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(
            f"{len(errors)} error(s) in the file.", f"{len(errors)} خطا در پرونده.", errors=errors
        )
        self.errors = errors
