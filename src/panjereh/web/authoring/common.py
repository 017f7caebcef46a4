"""What the authoring pages share: who may do what, a version of this agency, the document as YAML."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from panjereh.core.errors import ProblemError
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery.exceptions import DefinitionNotFound, InvalidDefinition
from panjereh.staff.constants import Role
from panjereh.staff.deps import agency_staff
from panjereh.staff.service import StaffContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from panjereh.delivery.models import DefinitionRecord

PREFIX = "/workspace/{agency_code}/services"

# Who may do what. Designers write and try; reviewers publish or send back (publishing needs a level-2
# session); administrators read. Officers and developers have no part in authoring.
Reader = Annotated[StaffContext, Depends(agency_staff(Role.DESIGNER, Role.REVIEWER, Role.ADMINISTRATOR))]
Designer = Annotated[StaffContext, Depends(agency_staff(Role.DESIGNER))]
Reviewer = Annotated[StaffContext, Depends(agency_staff(Role.REVIEWER))]
Publisher = Annotated[StaffContext, Depends(agency_staff(Role.REVIEWER, step_up=True))]

MAX_DOCUMENT = 200_000  # characters of YAML or JSON a form may send

STATUS_LABELS = {
    "draft": ("پیش‌نویس", "Draft"),
    "in_review": ("در انتظار بازبینی", "In review"),
    "published": ("منتشرشده", "Published"),
    "retired": ("بایگانی‌شده", "Retired"),
}


def base_url(agency_code: str) -> str:
    return PREFIX.format(agency_code=agency_code)


def version_of_agency(db: Session, ctx: StaffContext, definition_id: str) -> DefinitionRecord:
    """A version of this agency's definitions; another agency's versions do not exist here (404)."""
    record = delivery_selectors.definition_version(db, definition_id)
    if record.agency_code != ctx.agency_code:
        raise DefinitionNotFound(f"No definition {definition_id!r} in {ctx.agency_code}.")
    return record


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases: a repeated fact is written out again, as a person would."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def document_yaml(document: dict[str, Any]) -> str:
    """A definition document as the YAML a designer reads and edits (the import/export file format)."""
    return yaml.dump(document, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False, width=110)


def model_json(model: dict[str, Any]) -> str:
    return json.dumps(model, ensure_ascii=False, indent=2)


def parse_yaml(text: str) -> dict[str, Any]:
    """The designer's YAML as a mapping, or InvalidDefinition saying where it breaks."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidDefinition(
            f"The definition is not valid YAML{where}.", f"متن تعریف خدمت YAML درستی نیست{where}."
        ) from exc
    if not isinstance(value, dict):
        raise InvalidDefinition(
            "The definition must be a mapping.", "تعریف خدمت باید یک نگاشت (mapping) باشد."
        )
    return value


def parse_model(text: str) -> dict[str, Any]:
    """The decision model's JSON, or InvalidDefinition."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDefinition(
            f"The decision model is not valid JSON (line {exc.lineno}).",
            f"مدل تصمیم JSON درستی نیست (سطر {exc.lineno}).",
        ) from exc
    if not isinstance(value, dict):
        raise InvalidDefinition("The decision model must be a JSON object.", "مدل تصمیم باید شیء JSON باشد.")
    return value


def error_of(request: Request, error: ProblemError) -> dict[str, str]:
    """A problem as the page shows it, in the page's language."""
    fa = request.app.state.templates.locale_of(request) == "fa"
    return {
        "title": error.title_fa if fa else error.title_en,
        "detail": (error.detail_fa if fa else error.detail_en) or "",
        "code": error.code,
    }


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """An authoring page: never cached (drafts are not public)."""
    context.setdefault("status_labels", STATUS_LABELS)
    response: HTMLResponse = request.app.state.templates.render(
        request, name, context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response
