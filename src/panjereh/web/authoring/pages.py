"""The agency's definitions, new ones from a template or blank, and the editor of a draft."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.sandbox import PERSONAS
from panjereh.delivery import selectors as delivery_selectors
from panjereh.delivery import service as delivery_service
from panjereh.delivery.constants import DefinitionStatus
from panjereh.delivery.exceptions import InvalidDefinition
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange import service as exchange_service
from panjereh.staff import service as staff_service
from panjereh.staff.service import StaffContext
from panjereh.web.authoring import blueprints, trying
from panjereh.web.authoring.common import (
    MAX_DOCUMENT,
    PREFIX,
    Designer,
    Reader,
    base_url,
    document_yaml,
    error_of,
    model_json,
    parse_model,
    parse_yaml,
    render,
    version_of_agency,
)
from panjereh.web.csrf import CsrfProtected
from panjereh.web.home import STATIC_DIR

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# The editor page's own content security policy: the site's (scripts, styles, workers from this origin
# only; no inline script, no eval) with two additions the JDM editor needs, and nothing else:
# - `'wasm-unsafe-eval'`: the editor compiles zen-engine's WebAssembly (expression checking and completion;
#   without it the editor works and only those are missing). It admits WebAssembly, not JavaScript eval.
# - a per-response nonce on `style-src`: antd, React and Monaco write <style> elements from script; the
#   bundle puts the nonce on the ones it creates (web/assets/jdm-editor/editor.jsx).
EDITOR_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Built by `make assets` (web/assets/jdm-editor); without it the model is edited as JSON text.
JDM_BUNDLE = STATIC_DIR / "build" / "jdm-editor" / "editor.js"

INPUT_TYPES = ("text", "choice", "postal_code", "number", "date", "boolean")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@router.get("", response_class=HTMLResponse)
def definitions_page(request: Request, agency_code: str, db: DbSession, ctx: Reader) -> HTMLResponse:
    """The agency's definitions, each version with its status and derived level."""
    records = delivery_selectors.definitions_of_agency(db, agency_code)
    return render(
        request,
        "authoring/list.html",
        {
            "ctx": ctx,
            "agency": agency_selectors.get_agency_by_code(db, agency_code),
            "records": records,
            "base": base_url(agency_code),
        },
    )


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, agency_code: str, db: DbSession, ctx: Designer) -> HTMLResponse:
    """Start a definition: from one of the templates (most services need no model editing) or blank."""
    return _new_page(request, db, ctx)


def _new_page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    *,
    chosen: str | None = None,
    values: dict[str, str] | None = None,
    error: ProblemError | None = None,
) -> HTMLResponse:
    return render(
        request,
        "authoring/new.html",
        {
            "ctx": ctx,
            "agency": agency_selectors.get_agency_by_code(db, ctx.agency_code),
            "templates": blueprints.catalogue(),
            "chosen": chosen,
            "values": values or {},
            "error": error_of(request, error) if error else None,
            "base": base_url(ctx.agency_code),
            "services": exchange_selectors.list_services(db),
        },
        status_code=error.status if error else 200,
    )


@router.post("/new/{template}", response_model=None)
async def create_definition(
    request: Request, agency_code: str, template: str, db: DbSession, ctx: Designer, _: CsrfProtected
) -> HTMLResponse | RedirectResponse:
    """A draft from a template's form (or `blank`); the designer lands in its editor."""
    form = await request.form()
    values = _form_values(form)
    try:
        document, model = blueprints.render(template, values, agency_code=agency_code)
        record = delivery_service.create_draft(
            db, agency_code=agency_code, author=ctx.national_code, document=document, model=model
        )
    except ProblemError as error:
        db.rollback()
        return _new_page(request, db, ctx, chosen=template, values=values, error=error)
    staff_service.audit(
        db, ctx, "definition.create", record.slug, {"version": record.version, "from": template}
    )
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}", status_code=303)


def _form_values(form: FormData) -> dict[str, str]:
    return {
        key: str(value)[:MAX_DOCUMENT]
        for key, value in form.multi_items()
        if key != "csrf_token" and isinstance(value, str)
    }


@router.get("/{definition_id}", response_class=HTMLResponse)
def editor_page(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Reader
) -> HTMLResponse:
    """A version in the editor (a draft for its designers; any other version read-only)."""
    record = version_of_agency(db, ctx, definition_id)
    return editor(request, db, ctx, record)


def editor(
    request: Request,
    db: Session,
    ctx: StaffContext,
    record: Any,
    *,
    text: str | None = None,
    model_text: str | None = None,
    error: ProblemError | None = None,
) -> HTMLResponse:
    """The editor, with the live check of what it shows (the stored version, or the text sent back)."""
    document_text = text if text is not None else document_yaml(record.body)
    model_body = model_text if model_text is not None else model_json(record.model)
    editable = record.status == DefinitionStatus.DRAFT and "designer" in {str(r) for r in ctx.roles}
    document = record.body if text is None else _lenient_yaml(text)
    style_nonce = secrets.token_urlsafe(18)
    response = render(
        request,
        "authoring/editor.html",
        {
            "ctx": ctx,
            "record": record,
            "document": document,
            "document_text": document_text,
            "model_text": model_body,
            "editable": editable,
            "error": error_of(request, error) if error else None,
            "check": trying.check_text(db, record, document_text, model_body),
            "directory": directory(db, ctx.agency_code),
            # Shown on every version (a draft from a template or a YAML save too): what its agency still
            # needs a grant for. A draft may be saved with it; it goes to review and is published without.
            "missing_grants": delivery_selectors.missing_grants(db, record.agency_code, document),
            "requested_grants": requested_grants(db, ctx.agency_code),
            "request_form": "designer" in {str(r) for r in ctx.roles},
            "personas": PERSONAS,
            "input_types": INPUT_TYPES,
            "base": base_url(ctx.agency_code),
            "published": _published_or_none(db, record.slug),
            "jdm_editor": JDM_BUNDLE.is_file(),
            "style_nonce": style_nonce,
        },
        status_code=error.status if error else 200,
    )
    response.headers["Content-Security-Policy"] = EDITOR_POLICY.format(nonce=style_nonce)
    return response


def _lenient_yaml(text: str) -> dict[str, Any]:
    try:
        return parse_yaml(text)
    except InvalidDefinition:
        return {}


def _published_or_none(db: Session, slug: str) -> Any:
    try:
        return delivery_selectors.published_definition(db, slug)
    except ProblemError:
        return None


def requested_grants(db: Session, agency_code: str) -> set[str]:
    """The data services the agency has asked a production grant for that their providers have not decided."""
    return {
        grant.service_code
        for grant in exchange_selectors.list_grants(
            db, client_agency_code=agency_code, include_standing=False
        )
        if str(grant.status) == "requested" and not grant.sandbox
    }


def directory(db: Session, agency_code: str) -> list[dict[str, Any]]:
    """The exchange's data services as the editor offers them: held or not, by the rule publishing applies
    (the agency's own, or an approved production grant in force: `exchange_selectors.services_not_held`),
    with a grant request waiting when there is one."""
    services = exchange_selectors.list_services(db)
    lacking = set(
        exchange_selectors.services_not_held(db, {agency_code: [s.code for s in services]})[agency_code]
    )
    requested = requested_grants(db, agency_code)
    rows = []
    for service in services:
        held = service.code not in lacking
        status = "approved" if held else "requested" if service.code in requested else ""
        rows.append({"service": service, "held": held, "grant": status})
    return rows


@router.post("/{definition_id}", response_model=None)
def save_definition(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
    model: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
) -> HTMLResponse | RedirectResponse:
    """Save the draft's document and decision model (validated exactly as an imported file)."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        delivery_service.update_draft(
            db, record, editor=ctx.national_code, document=parse_yaml(document), model=parse_model(model)
        )
    except ProblemError as error:
        db.rollback()
        return editor(
            request,
            db,
            ctx,
            version_of_agency(db, ctx, definition_id),
            text=document,
            model_text=model,
            error=error,
        )
    staff_service.audit(db, ctx, "definition.save", record.slug, {"version": record.version})
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}#saved", status_code=303)


def _change(
    request: Request, db: Session, ctx: StaffContext, definition_id: str, action: str, change: Any
) -> HTMLResponse | RedirectResponse:
    """Apply one structured change to a draft's document and save it, or show why not."""
    record = version_of_agency(db, ctx, definition_id)
    document = copy.deepcopy(record.body)
    try:
        detail = change(document)
        delivery_service.update_draft(
            db, record, editor=ctx.national_code, document=document, model=record.model
        )
    except ProblemError as error:
        db.rollback()
        return editor(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(db, ctx, action, record.slug, {"version": record.version, **(detail or {})})
    return RedirectResponse(f"{base_url(ctx.agency_code)}/{record.id}", status_code=303)


def _valid_key(key: str, what_en: str, what_fa: str) -> str:
    key = key.strip()
    if not KEY.match(key):
        raise InvalidDefinition(
            f"The {what_en} key must be lower_snake_case (a-z, 0-9, _).",
            f"شناسهٔ {what_fa} باید با حروف کوچک لاتین، رقم و _ نوشته شود.",
        )
    return key


@router.post("/{definition_id}/inputs", response_model=None)
def add_input(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    key: Annotated[str, Form(max_length=41)] = "",
    label_fa: Annotated[str, Form(max_length=200)] = "",
    label_en: Annotated[str, Form(max_length=200)] = "",
    type: Annotated[str, Form(max_length=20)] = "text",  # noqa: A002 — the field's name in the format
    required: Annotated[str, Form(max_length=5)] = "",
) -> HTMLResponse | RedirectResponse:
    """Add a field the citizen types in."""

    def change(document: dict[str, Any]) -> dict[str, str]:
        name = _valid_key(key, "input", "ورودی")
        if type not in INPUT_TYPES:
            raise InvalidDefinition(f"No input type {type!r}.", "چنین نوعی برای ورودی نیست.")
        item: dict[str, Any] = {
            "key": name,
            "label": {"fa": label_fa.strip(), "en": label_en.strip()},
            "type": type,
        }
        item["required"] = bool(required)
        document.setdefault("inputs", []).append(item)
        return {"input": name}

    return _change(request, db, ctx, definition_id, "definition.input_add", change)


# A part of the definition listed by key, removed by the same form: its audit action and detail's name.
_REMOVABLE = {
    "inputs": ("definition.input_remove", "input"),
    "evidence": ("definition.evidence_remove", "evidence"),
}


@router.post("/{definition_id}/{part}/{key}/remove", response_model=None)
def remove_part(
    request: Request,
    agency_code: str,
    definition_id: str,
    part: Literal["inputs", "evidence"],
    key: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
) -> HTMLResponse | RedirectResponse:
    """Remove a field the citizen types in, or a piece of evidence."""
    action, name = _REMOVABLE[part]

    def change(document: dict[str, Any]) -> dict[str, str]:
        document[part] = [item for item in document.get(part, []) if item.get("key") != key]
        return {name: key}

    return _change(request, db, ctx, definition_id, action, change)


@router.post("/{definition_id}/evidence", response_model=None)
def add_evidence(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    service_code: Annotated[str, Form(max_length=80)] = "",
    key: Annotated[str, Form(max_length=41)] = "",
    why_fa: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse | RedirectResponse:
    """Add evidence from the exchange directory: only a data service the agency holds a grant for."""
    held = {row["service"].code: row for row in directory(db, agency_code)}

    def change(document: dict[str, Any]) -> dict[str, str]:
        row = held.get(service_code.strip())
        if row is None or not row["held"]:
            raise InvalidDefinition(
                f"The agency holds no grant for {service_code!r}; request one first.",
                "دستگاه شما مجوز این سرویس داده را ندارد؛ نخست آن را درخواست کنید.",
            )
        service = row["service"]
        item = blueprints.evidence_from_service(service, key=key.strip() or None, why_fa=why_fa.strip())
        _valid_key(item["key"], "evidence", "شاهد")
        document.setdefault("evidence", []).append(item)
        known = {entry.get("key") for entry in document.get("inputs", [])}
        for name in blueprints.inputs_needed(item):
            if name not in known:
                document.setdefault("inputs", []).append(
                    {"key": name, "label": {"fa": name, "en": name}, "type": "text", "required": True}
                )
        return {"evidence": item["key"], "service": service.code}

    return _change(request, db, ctx, definition_id, "definition.evidence_add", change)


@router.post("/{definition_id}/outcomes", response_model=None)
def set_outcomes(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    approve_fa: Annotated[str, Form(max_length=500)] = "",
    approve_en: Annotated[str, Form(max_length=500)] = "",
    refuse_fa: Annotated[str, Form(max_length=500)] = "",
    refuse_en: Annotated[str, Form(max_length=500)] = "",
    document_type: Annotated[str, Form(max_length=80)] = "",
    document_title_fa: Annotated[str, Form(max_length=200)] = "",
    document_title_en: Annotated[str, Form(max_length=200)] = "",
    valid_days: Annotated[str, Form(max_length=6)] = "",
    claims: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """The outcomes' wording and the document issued on approval, with its claims (`name = path` lines)."""

    def change(document: dict[str, Any]) -> dict[str, Any]:
        outcomes: dict[str, Any] = {
            "approve": {"fa": approve_fa.strip(), "en": approve_en.strip()},
            "refuse": {"fa": refuse_fa.strip(), "en": refuse_en.strip()},
        }
        if document_type.strip():
            outcomes["document"] = {
                "type": document_type.strip(),
                "title": {"fa": document_title_fa.strip(), "en": document_title_en.strip()},
                "claims": blueprints.parse_claims(claims),
            }
            if valid_days.strip():
                outcomes["document"]["valid_days"] = blueprints.whole_number(
                    valid_days, "valid days", "روز اعتبار"
                )
        document["outcomes"] = outcomes
        return {"document": bool(document_type.strip())}

    return _change(request, db, ctx, definition_id, "definition.outcomes", change)


@router.post("/{definition_id}/grants", response_model=None)
def request_grant(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    service_code: Annotated[str, Form(max_length=80)] = "",
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Ask a provider for a missing grant from the editor (the exchange's grant request, for production:
    what publishing needs). Any version: a grant revoked while the version waits in review is asked again
    here."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        grant = exchange_service.request_grant(
            db,
            client_agency=agency_selectors.get_agency_by_code(db, agency_code),
            service=exchange_selectors.get_service_by_code(db, service_code.strip()),
            purposes=[f"delivery:{record.slug}"],
            legal_basis=legal_basis,
            note=f"authoring {record.slug} v{record.version}",
            # Who asked: the provider's approver must be someone else (four eyes, exchange.service).
            requested_by=ctx.national_code,
        )
    except ProblemError as error:
        db.rollback()
        return editor(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(
        db, ctx, "grant.request", service_code.strip(), {"grant": grant.id, "for": record.slug}
    )
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}#grants", status_code=303)


@router.post("/{definition_id}/submit", response_model=None)
def submit_for_review(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Designer, _: CsrfProtected
) -> HTMLResponse | RedirectResponse:
    """Send the draft to review; it is published by a reviewer who neither wrote nor last edited it."""
    record = version_of_agency(db, ctx, definition_id)
    failing = [case for case in trying.run_cases(record) if not case.passed]
    try:
        if failing:
            raise InvalidDefinition(
                f"{len(failing)} test case(s) fail; a draft goes to review with its tests passing.",
                "برخی آزمون‌ها رد می‌شوند؛ پیش‌نویس با آزمون‌های موفق به بازبینی می‌رود.",
            )
        delivery_service.submit_for_review(db, record, by=ctx.national_code)
    except ProblemError as error:
        db.rollback()
        return editor(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(db, ctx, "definition.submit", record.slug, {"version": record.version})
    return RedirectResponse(f"{base_url(agency_code)}/{record.id}", status_code=303)


@router.post("/{definition_id}/new-version", response_model=None)
def new_version(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Designer, _: CsrfProtected
) -> HTMLResponse | RedirectResponse:
    """A new draft from this version (a published version never changes: a change is a new version)."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        draft = delivery_service.create_draft(
            db,
            agency_code=agency_code,
            author=ctx.national_code,
            document=copy.deepcopy(record.body),
            model=record.model,
        )
    except ProblemError as error:
        db.rollback()
        return editor(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(
        db, ctx, "definition.create", draft.slug, {"version": draft.version, "from": record.version}
    )
    return RedirectResponse(f"{base_url(agency_code)}/{draft.id}", status_code=303)


@router.post("/{definition_id}/discard", response_model=None)
def discard_draft(
    request: Request, agency_code: str, definition_id: str, db: DbSession, ctx: Designer, _: CsrfProtected
) -> HTMLResponse | RedirectResponse:
    """Discard a draft (it is kept, retired, for the record)."""
    record = version_of_agency(db, ctx, definition_id)
    try:
        if record.status != DefinitionStatus.DRAFT:
            raise InvalidDefinition("Only a draft can be discarded.", "فقط پیش‌نویس دورریختنی است.")
        delivery_service.retire(db, record, by=ctx.national_code)
    except ProblemError as error:
        db.rollback()
        return editor(request, db, ctx, version_of_agency(db, ctx, definition_id), error=error)
    staff_service.audit(db, ctx, "definition.discard", record.slug, {"version": record.version})
    return RedirectResponse(base_url(agency_code), status_code=303)
