"""The reviewer's page: what changed against the published version, the tests, publish or send back."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import DefinitionStatus
from panjereh.delivery.exceptions import InvalidDefinition
from panjereh.staff import service as staff_service
from panjereh.staff.service import StaffContext
from panjereh.web.authoring import pages, trying
from panjereh.web.authoring.common import (
    PREFIX,
    Publisher,
    Reviewer,
    base_url,
    document_yaml,
    error_of,
    model_json,
    render,
    version_of_agency,
)
from panjereh.web.csrf import CsrfProtected

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def diff_lines(before: str, after: str, name: str) -> list[dict[str, str]]:
    """A unified diff as lines with their kind (added, removed, hunk, same) for the page to colour."""
    lines = []
    for line in difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        f"{name} (published)",
        f"{name} (this version)",
        lineterm="",
        n=2,
    ):
        kind = (
            "hunk"
            if line.startswith("@@")
            else "meta"
            if line[:3] in ("---", "+++")
            else {
                "+": "added",
                "-": "removed",
            }.get(line[:1], "same")
        )
        lines.append({"kind": kind, "text": line})
    return lines


def _review_page(
    request: Request, db: Session, ctx: StaffContext, record: Any, *, error: ProblemError | None = None
) -> HTMLResponse:
    published = pages._published_or_none(db, record.slug)
    before_doc = document_yaml(published.body) if published is not None and published.id != record.id else ""
    before_model = model_json(published.model) if published is not None and published.id != record.id else ""
    cases = trying.run_cases(record)
    return render(
        request,
        "authoring/review.html",
        {
            "ctx": ctx,
            "record": record,
            "published": published,
            "document_diff": diff_lines(before_doc, document_yaml(record.body), f"{record.slug}.yaml"),
            "model_diff": diff_lines(before_model, model_json(record.model), f"{record.slug}.decision.json"),
            "cases": cases,
            "all_pass": all(case.passed for case in cases),
            "own": ctx.national_code in (record.created_by, record.updated_by),
            # Publishing refuses these (delivery.grants); the designer asks for them in the editor.
            "missing_grants": delivery_selectors.missing_grants(db, record.agency_code, record.body),
            "requested_grants": pages.requested_grants(db, record.agency_code),
            "request_form": False,
            "error": error_of(request, error) if error else None,
            "base": base_url(ctx.agency_code),
        },
        status_code=error.status if error else 200,
    )


@router.get("/{definition_id}/review", response_class=HTMLResponse)
def review_page(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Reviewer
) -> HTMLResponse:
    """The version in review against the published one: the diff, its tests, the decision forms."""
    return _review_page(request, db, ctx, version_of_agency(db, ctx, definition_id))


@router.post("/{definition_id}/publish", response_model=None)
def publish(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Publisher, _: CsrfProtected
) -> HTMLResponse | RedirectResponse:
    """Publish (a second person, at level 2): from now on citizens' requests run on this version."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        if not all(case.passed for case in trying.run_cases(record)):
            raise InvalidDefinition(
                "A version whose tests fail is not published.", "نسخه‌ای که آزمون‌هایش رد می‌شوند منتشر نمی‌شود."
            )
        delivery_service.publish(db, record, by=ctx.national_code)
    except ProblemError as error:
        db.rollback()
        return _review_page(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(db, ctx, "definition.publish", record.slug, {"version": record.version})
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}", status_code=303)


@router.post("/{definition_id}/reject", response_model=None)
def reject(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Reviewer,
    _: CsrfProtected,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Send the version back to its designer as a draft, with the reason."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        delivery_service.reject(db, record, by=ctx.national_code, reason=reason)
    except ProblemError as error:
        db.rollback()
        return _review_page(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(
        db, ctx, "definition.reject", record.slug, {"version": record.version, "reason": reason[:500]}
    )
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}", status_code=303)


__all__ = ["DefinitionStatus", "diff_lines", "router"]
