"""Trying a draft before anyone applies: its test cases on the real engine as the designer types (htmx,
nothing saved), and a dry run against a test persona through the exchange, in the sandbox."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.core.jalali import tehran_today
from panjereh.core.sandbox import PERSONA_BY_KEY
from panjereh.delivery import definitions as defs
from panjereh.delivery import engine, loading, processing, store
from panjereh.delivery import service as delivery_service
from panjereh.delivery.exceptions import InvalidDefinition
from panjereh.staff import service as staff_service
from panjereh.web.authoring.common import (
    MAX_DOCUMENT,
    PREFIX,
    Designer,
    error_of,
    parse_model,
    parse_yaml,
    render,
    version_of_agency,
)
from panjereh.web.csrf import CsrfProtected

if TYPE_CHECKING:
    from panjereh.delivery.models import DefinitionRecord

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass
class Check:
    """What the live check shows: the validation error, or the tests, the level and the way to level 5."""

    error: dict[str, str] | None = None
    error_en: str = ""
    cases: list[engine.CaseResult] = field(default_factory=list)
    derivation: defs.Derivation | None = None
    smart: bool = False
    to_level_five: list[dict[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None and all(case.passed for case in self.cases)


def loaded_of(
    db: Session, record: DefinitionRecord, document: dict[str, Any], model: dict[str, Any]
) -> tuple[defs.LoadedDefinition, defs.Derivation]:
    """A document and model, validated as a stored draft is (its slug and agency kept), ready to run."""
    document = {**document, "slug": record.slug, "agency": record.agency_code}
    checked = store.check(db, document, model, where=record.slug)
    loaded = defs.LoadedDefinition(
        definition=checked.definition,
        model=checked.model,
        digest=checked.digest,
        path=Path(f"{record.slug}.yaml"),
    )
    return loaded, checked.derivation


def check_text(
    db: Session, record: DefinitionRecord, document_text: str, model_text: str, fa: bool = True
) -> Check:
    """Validate, run every test case on zen-engine and derive the maturity of what the editor shows."""
    try:
        loaded, derivation = loaded_of(db, record, parse_yaml(document_text), parse_model(model_text))
    except ProblemError as error:
        return Check(
            error={"title": error.title_fa, "detail": error.detail_fa or "", "code": error.code},
            error_en=error.detail_en or error.title_en,
        )
    return Check(
        cases=engine.run_test_cases(loaded),
        derivation=derivation,
        smart=loaded.definition.is_smart,
        to_level_five=steps_to_level_five(loaded.definition, derivation),
    )


def run_cases(record: DefinitionRecord) -> list[engine.CaseResult]:
    """A stored version's test cases on the real engine."""
    return engine.run_test_cases(loading.loaded_from_record(record))


def steps_to_level_five(
    definition: defs.ServiceDefinition, derivation: defs.Derivation
) -> list[dict[str, str]]:
    """What to change so the definition derives level 5 and keeps the once-only principle."""
    providers = defs.concept_providers()
    steps = []
    for item in definition.evidence:
        if item.source == defs.Source.INQUIRY:
            continue
        service = providers.get(item.concept or "")
        if service:
            fa = f"«{item.label.fa}» را از سرویس دادهٔ {service} استعلام کنید، نه از شهروند یا کارشناس."
            en = f"Ask the data service {service} for “{item.label.en}” instead."
        elif item.source == defs.Source.HUMAN:
            fa = f"تصمیم «{item.label.fa}» را با قاعده در مدل تصمیم بنویسید و از سرویس داده بگیرید."
            en = f"Write “{item.label.en}” as rules in the decision model, on data from a data service."
        else:
            fa = f"برای «{item.label.fa}» سرویس داده لازم است؛ دستگاه دارنده آن را روی تبادل منتشر کند."
            en = f"“{item.label.en}” needs a data service: ask the agency that holds it to publish one."
        steps.append({"key": item.key, "fa": fa, "en": en})
    if "declared_level_unsupported" in derivation.flags:
        steps.append(
            {
                "key": "declared",
                "fa": "سطح اعلام‌شدهٔ کارت خدمت بالاتر از سطح این تعریف است.",
                "en": "The card declares a higher level than this definition supports.",
            }
        )
    return steps


@router.post("/{definition_id}/check", response_class=HTMLResponse)
def live_check(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
    model: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
) -> HTMLResponse:
    """The tests, level and once-only flags of the text in the editor, as a fragment (nothing is saved)."""
    record = version_of_agency(db, ctx, definition_id)
    return render(request, "authoring/_check.html", {"check": check_text(db, record, document, model)})


async def _form_of(request: Request) -> FormData:
    """The request's form (already read for the declared fields; Starlette keeps it)."""
    return await request.form()


@router.post("/{definition_id}/dry-run", response_class=HTMLResponse)
def dry_run(
    request: Request,
    agency_code: str,
    definition_id: str,
    db: DbSession,
    ctx: Designer,
    _: CsrfProtected,
    persona: Annotated[str, Form(max_length=40)] = "demo",
    document: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
    model: Annotated[str, Form(max_length=MAX_DOCUMENT)] = "",
) -> HTMLResponse:
    """Run the draft for a test persona: its inquiries through the exchange by the platform's sandbox client
    (sandbox grants, test personas only; the log marks them sandbox, so they stay out of the citizen's
    ledger and the figures), then the decision, kept as a sandbox request (in no citizen's list, queue or
    figure)."""
    record = version_of_agency(db, ctx, definition_id)
    context: dict[str, Any] = {"persona": PERSONA_BY_KEY.get(persona), "result": None, "error": None}
    try:
        subject = PERSONA_BY_KEY.get(persona)
        if subject is None:
            raise InvalidDefinition(f"No test persona {persona!r}.", "چنین شخص آزمونی نیست.")
        loaded, _derivation = loaded_of(
            db,
            record,
            parse_yaml(document) if document else record.body,
            parse_model(model) if model else record.model,
        )
        form = anyio.from_thread.run(_form_of, request)
        raw = {spec.key: str(form.get(f"input_{spec.key}", "")) for spec in loaded.definition.inputs}
        inputs = delivery_service.clean_inputs(loaded, raw)
        facts = anyio.from_thread.run(
            functools.partial(
                processing.fetch_evidence,
                request.app.state.exchange.in_sandbox(),
                loaded,
                national_code=subject.national_code,
                inputs=inputs,
                case=f"dry-run:{record.id}",
            )
        )
        decision = engine.evaluate(
            loaded,
            engine.decision_context(inputs, facts, national_code=subject.national_code, today=tehran_today()),
        )
        request_ = delivery_service.record_dry_run(
            db, record, national_code=subject.national_code, inputs=inputs, facts=facts, decision=decision
        )
        context["result"] = {"decision": decision, "facts": facts, "inputs": inputs, "request": request_}
    except processing.EvidenceUnavailable as exc:
        fa = request.app.state.templates.locale_of(request) == "fa"
        context["error"] = {
            "title": "سرویس داده اکنون پاسخ نداد" if fa else "A data service did not answer now",
            "detail": str(exc),
            "code": "delivery.evidence_unavailable",
        }
    except ProblemError as error:
        context["error"] = error_of(request, error)
    staff_service.audit(
        db, ctx, "definition.dry_run", record.slug, {"version": record.version, "persona": persona[:40]}
    )
    return render(request, "authoring/_dry_run.html", context)
