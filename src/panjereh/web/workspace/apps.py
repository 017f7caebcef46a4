"""Workspace pages of item 4: an agency's data services (published from its OpenAPI document and test-called
through the exchange), its apps (OIDC clients) and its exchange clients' keys; the operators' approvals.

Sandbox registrations take effect at once; production ones wait for an operator (`staff.Registration`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.deps import DbSession
from panjereh.core.errors import ProblemError
from panjereh.exchange import openapi
from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange import service as exchange_service
from panjereh.exchange.exceptions import (
    ClientNotFound,
    GrantStateConflict,
    InvalidInquiry,
    InvalidOpenApi,
    ServiceNotFound,
)
from panjereh.oidc import attributes as oidc_attributes
from panjereh.oidc import clients as oidc_clients
from panjereh.oidc.exceptions import ClientNotFound as AppNotFound
from panjereh.staff import selectors as staff_selectors
from panjereh.staff import service as staff_service
from panjereh.staff.constants import Environment, RegistrationKind, RegistrationState, Role
from panjereh.staff.deps import agency_staff
from panjereh.staff.exceptions import RegistrationNotActive
from panjereh.staff.service import StaffContext
from panjereh.web import oidc as oidc_web
from panjereh.web.csrf import CsrfProtected
from panjereh.web.workspace.common import AdministratorStepUp, Operator, OperatorStepUp, render

router = APIRouter(include_in_schema=False)
operator_router = APIRouter(include_in_schema=False)

Developer = Annotated[StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, Role.DEVELOPER))]
DeveloperStepUp = Annotated[
    StaffContext, Depends(agency_staff(Role.ADMINISTRATOR, Role.DEVELOPER, step_up=True))
]
TEST_PURPOSE = "workspace-test"
MAX_TEST_PARAMS = 20


def _states(db: Session, agency_code: str, kind: RegistrationKind) -> dict[str, Any]:
    """The newest registration of each of the agency's things of one kind, by reference."""
    found: dict[str, Any] = {}
    for registration in staff_selectors.registrations(db, agency_code, kind):
        found.setdefault(registration.reference, registration)
    return found


# --- data services ------------------------------------------------------------------------------------


def _services_page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    *,
    error: ProblemError | None = None,
    result: dict[str, Any] | None = None,
) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    return render(
        request,
        "workspace/data_services.html",
        {
            "ctx": ctx,
            "agency": agency,
            "services": exchange_selectors.services_of(db, agency.code),
            "registrations": _states(db, agency.code, RegistrationKind.DATA_SERVICE),
            "result": result,
        },
        error=error,
    )


@router.get("/workspace/{agency_code}/data-services", response_class=HTMLResponse)
def data_services(request: Request, db: DbSession, ctx: Developer) -> HTMLResponse:
    """The agency's data services, and the form that reads an OpenAPI document to publish more."""
    return _services_page(request, db, ctx)


@router.post("/workspace/{agency_code}/data-services/import", response_class=HTMLResponse)
async def import_document(
    request: Request,
    db: DbSession,
    ctx: DeveloperStepUp,
    _: CsrfProtected,
    openapi_url: Annotated[str, Form(max_length=500)] = "",
    environment: Annotated[str, Form(max_length=20)] = "sandbox",
    document: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Read and validate the document (a URL or an uploaded file), then offer its operations to pick."""
    raw = await document.read(openapi.MAX_DOCUMENT_BYTES + 1) if document is not None else b""

    def read() -> HTMLResponse:
        try:
            if raw:
                parsed, source = openapi.parse(raw), None
            elif openapi_url.strip():
                parsed, source = openapi.fetch(openapi_url.strip()), openapi_url.strip()
            else:
                raise InvalidOpenApi(
                    "Give the document's URL or upload it.", "نشانی سند را بدهید یا آن را بارگذاری کنید."
                )
        except ProblemError as error:
            return _services_page(request, db, ctx, error=error)
        agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
        info = parsed.get("info") or {}
        return render(
            request,
            "workspace/data_service_pick.html",
            {
                "ctx": ctx,
                "agency": agency,
                "operations": openapi.operations(parsed),
                "document_json": json.dumps(parsed, ensure_ascii=False),
                "openapi_url": source or "",
                "base_url": openapi.base_url(parsed, source),
                "system_name": str(info.get("title", "") if isinstance(info, dict) else "")[:200],
                "environment": staff_service.parse_environment(environment).value,
            },
        )

    return await run_in_threadpool(read)


def _publications(form: Any, count: int) -> list[exchange_service.Publication]:
    picked = []
    for index in range(count):
        if form.get(f"pick_{index}") != "on":
            continue
        try:
            latency = int(str(form.get(f"latency_{index}", "1000")).strip() or "1000")
        except ValueError:
            latency = -1
        picked.append(
            exchange_service.Publication(
                slug=str(form.get(f"slug_{index}", "")),
                method=str(form.get(f"method_{index}", "")),
                path=str(form.get(f"path_{index}", "")),
                title_fa=str(form.get(f"title_fa_{index}", "")),
                title_en=str(form.get(f"title_en_{index}", "")),
                personal_data=form.get(f"personal_{index}") == "on",
                subject_field=str(form.get(f"subject_{index}", "")) or None,
                latency_objective_ms=latency,
            )
        )
    return picked


@router.post("/workspace/{agency_code}/data-services/publish", response_class=HTMLResponse)
async def publish(request: Request, db: DbSession, ctx: DeveloperStepUp, _: CsrfProtected) -> Response:
    """Publish the picked operations: in the sandbox at once, in production after an operator approves."""
    form = await request.form()

    def publish_in_thread() -> Response:
        environment = staff_service.parse_environment(str(form.get("environment", "")))
        try:
            document = openapi.parse(str(form.get("document", "")))
            operations = openapi.operations(document)
            picked = _publications(form, len(operations))
            known = {(op.method, op.path) for op in operations}
            if any((item.method.upper(), item.path) not in known for item in picked):
                raise InvalidOpenApi("An operation is not in the document.", "عملیاتی در سند نیست.")
            agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
            services = exchange_service.publish_from_document(
                db,
                agency,
                system_slug=str(form.get("system_slug", "")),
                system_name=str(form.get("system_name", "")),
                base_url=str(form.get("base_url", "")).strip().rstrip("/"),
                openapi_url=str(form.get("openapi_url", "")) or None,
                document=document,
                publications=picked,
                active=environment is Environment.SANDBOX,
            )
            for item in services:
                staff_service.register(
                    db, ctx, RegistrationKind.DATA_SERVICE, item.code, environment, name=item.title_fa
                )
        except ProblemError as error:
            db.rollback()
            return _services_page(request, db, ctx, error=error)
        return RedirectResponse(f"/workspace/{ctx.agency_code}/data-services", status_code=303)

    return await run_in_threadpool(publish_in_thread)


def _pairs(text: str) -> dict[str, str]:
    """`name=value` lines (or `&`-separated) as a dict; blank lines are skipped."""
    pairs: dict[str, str] = {}
    for part in text.replace("&", "\n").splitlines():
        if part.strip():
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise InvalidInquiry(
                    f"Not name=value: {part[:60]!r}", f"به شکل نام=مقدار نیست: «{part[:60]}»"
                )
            pairs[name.strip()] = value.strip()
    if len(pairs) > MAX_TEST_PARAMS:
        raise InvalidInquiry("Too many parameters.", "پارامترها بیش از اندازه است.")
    return pairs


@router.post("/workspace/{agency_code}/data-services/{code}/test", response_class=HTMLResponse)
def test_call(
    request: Request,
    code: str,
    db: DbSession,
    ctx: DeveloperStepUp,
    _: CsrfProtected,
    subject: Annotated[str, Form(max_length=20)] = "",
    path_params: Annotated[str, Form(max_length=2000)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    """Call one of the agency's own data services through the exchange, as the platform's sandbox client:
    about a test persona only, logged as a sandbox call (in no ledger, no figure)."""
    try:
        service = exchange_selectors.get_service_by_code(db, code)
        if service.provider.code != ctx.agency_code:
            raise ServiceNotFound()
        if not service.active:
            raise InvalidInquiry(
                "The service is not open yet (waiting for approval).", "این خدمت هنوز باز نشده است."
            )
        params, query_params = _pairs(path_params), _pairs(query)
        db.commit()  # the exchange logs the call in its own transaction
        answer = request.app.state.exchange.in_sandbox().inquire(
            code,
            subject=subject.strip() or None,
            purpose=TEST_PURPOSE,
            path_params=params or None,
            query=query_params or None,
        )
    except ProblemError as error:
        db.rollback()
        return _services_page(request, db, ctx, error=error)
    staff_service.audit(db, ctx, "data_service.test_called", code, {"status": answer.status})
    result = {
        "code": code,
        "ok": answer.ok,
        "status": answer.status,
        "duration_ms": round(answer.duration_ms, 1),
        "message_id": answer.message_id,
        "body": json.dumps(answer.data if answer.ok else answer.problem, ensure_ascii=False, indent=2)[
            :20_000
        ],
    }
    return _services_page(request, db, ctx, result=result)


# --- apps: OIDC clients ---------------------------------------------------------------------------------


def _apps_page(
    request: Request,
    db: Session,
    ctx: StaffContext,
    *,
    error: ProblemError | None = None,
    secret: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    locale = request.app.state.templates.locale_of(request)
    return render(
        request,
        "workspace/apps.html",
        {
            "ctx": ctx,
            "agency": agency,
            "apps": oidc_clients.clients_of(db, agency.code),
            "registrations": _states(db, agency.code, RegistrationKind.OIDC_CLIENT),
            "auth_methods": oidc_clients.AUTH_METHODS,
            "secret": secret,
            "form": form or {},
            "attribute_choices": [
                (scope, oidc_web.scope_label(scope, locale)) for scope in oidc_attributes.SCOPES
            ],
            "attribute_label": lambda scope: oidc_web.scope_label(scope, locale),
        },
        error=error,
    )


@router.get("/workspace/{agency_code}/apps", response_class=HTMLResponse)
def apps(request: Request, db: DbSession, ctx: Developer) -> HTMLResponse:
    """The agency's apps that sign citizens in with the national login (OIDC clients)."""
    return _apps_page(request, db, ctx)


def _own_app(db: Session, ctx: StaffContext, client_id: str) -> Any:
    for app in oidc_clients.clients_of(db, ctx.agency_code):
        if app.client_id == client_id:
            return app
    raise AppNotFound()


@router.post("/workspace/{agency_code}/apps", response_class=HTMLResponse)
def register_app(
    request: Request,
    db: DbSession,
    ctx: DeveloperStepUp,
    _: CsrfProtected,
    slug: Annotated[str, Form(max_length=60)] = "",
    name_fa: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    redirect_uris: Annotated[str, Form(max_length=4000)] = "",
    auth_method: Annotated[str, Form(max_length=40)] = "client_secret_basic",
    jwks: Annotated[str, Form(max_length=20_000)] = "",
    subject_type: Annotated[str, Form(max_length=20)] = "public",
    min_level: Annotated[int, Form(ge=1, le=2)] = 1,
    environment: Annotated[str, Form(max_length=20)] = "sandbox",
    reason_address: Annotated[str, Form(max_length=300)] = "",
    reason_education: Annotated[str, Form(max_length=300)] = "",
    reason_vehicles: Annotated[str, Form(max_length=300)] = "",
    reason_properties: Annotated[str, Form(max_length=300)] = "",
    reason_insurance: Annotated[str, Form(max_length=300)] = "",
) -> HTMLResponse:
    """Register an app; its secret is shown once, on this answer only. A verified attribute is asked for
    by giving the reason for it; a production app's attributes open when an operator approves the app."""
    form = {"slug": slug, "name_fa": name_fa, "name_en": name_en, "redirect_uris": redirect_uris,
            "auth_method": auth_method, "subject_type": subject_type, "environment": environment}  # fmt: skip
    reasons = {"address": reason_address, "education": reason_education, "vehicles": reason_vehicles,
               "properties": reason_properties, "insurance": reason_insurance}  # fmt: skip
    purposes = {scope: reason.strip() for scope, reason in reasons.items() if reason.strip()}
    form.update({f"reason_{scope}": reason for scope, reason in reasons.items()})
    env = staff_service.parse_environment(environment)
    try:
        key_set = json.loads(jwks) if jwks.strip() else None
        client_id = f"{ctx.agency_code}.{exchange_service.publication_slug(slug)}"
        client, secret = oidc_clients.register(
            db,
            client_id=client_id,
            name_fa=name_fa.strip() or client_id,
            name_en=name_en.strip(),
            agency_code=ctx.agency_code,
            redirect_uris=[uri.strip() for uri in redirect_uris.split() if uri.strip()],
            token_endpoint_auth_method=auth_method,
            jwks=key_set if isinstance(key_set, dict) else None,
            subject_type=subject_type,
            min_level=min_level,
            sandbox=env is Environment.SANDBOX,
            scopes=[*oidc_clients.BASE_SCOPES, *purposes],
            attribute_purposes=purposes,
            # The sandbox signs in the test personas only, answered from the sandbox's own grants: its
            # attributes open at once; production's wait for the operator (`_take_effect`).
            approve_attributes=env is Environment.SANDBOX,
        )
        if env is Environment.PRODUCTION:
            oidc_clients.disable(db, client.client_id)  # until an operator approves
        staff_service.register(
            db, ctx, RegistrationKind.OIDC_CLIENT, client.client_id, env, name=client.name_fa
        )
    except ValueError:
        db.rollback()
        return _apps_page(
            request,
            db,
            ctx,
            error=InvalidInquiry("The JWKS is not JSON.", "JWKS به قالب JSON نیست."),
            form=form,
        )
    except ProblemError as error:
        db.rollback()
        return _apps_page(request, db, ctx, error=error, form=form)
    shown = {"client_id": client.client_id, "secret": secret} if secret else {"client_id": client.client_id}
    return _apps_page(request, db, ctx, secret=shown)


@router.post("/workspace/{agency_code}/apps/{client_id}/rotate", response_class=HTMLResponse)
def rotate_app_secret(
    request: Request, client_id: str, db: DbSession, ctx: DeveloperStepUp, _: CsrfProtected
) -> HTMLResponse:
    """A new secret, shown once; the old one stops working at once."""
    try:
        _own_app(db, ctx, client_id)
        secret = oidc_clients.rotate_secret(db, client_id)
        staff_service.audit(db, ctx, "oidc_client.secret_rotated", client_id)
    except ProblemError as error:
        db.rollback()
        return _apps_page(request, db, ctx, error=error)
    return _apps_page(request, db, ctx, secret={"client_id": client_id, "secret": secret})


@router.post("/workspace/{agency_code}/apps/{client_id}/disable", response_class=HTMLResponse)
def disable_app(
    request: Request, client_id: str, db: DbSession, ctx: DeveloperStepUp, _: CsrfProtected
) -> Response:
    try:
        _own_app(db, ctx, client_id)
        oidc_clients.disable(db, client_id)
        staff_service.audit(db, ctx, "oidc_client.disabled", client_id)
    except ProblemError as error:
        db.rollback()
        return _apps_page(request, db, ctx, error=error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/apps", status_code=303)


@router.post("/workspace/{agency_code}/apps/{client_id}/enable", response_class=HTMLResponse)
def enable_app(
    request: Request, client_id: str, db: DbSession, ctx: AdministratorStepUp, _: CsrfProtected
) -> Response:
    """An administrator lets a disabled app sign citizens in again. Not one an operator has yet to approve
    (or refused): re-enabling must never open a path around the production approval."""
    try:
        _own_app(db, ctx, client_id)
        registration = _states(db, ctx.agency_code, RegistrationKind.OIDC_CLIENT).get(client_id)
        if registration is not None and registration.state != RegistrationState.ACTIVE:
            raise RegistrationNotActive()
        oidc_clients.enable(db, client_id)
        staff_service.audit(db, ctx, "oidc_client.enabled", client_id)
    except ProblemError as error:
        db.rollback()
        return _apps_page(request, db, ctx, error=error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/apps", status_code=303)


# --- exchange clients and their keys ----------------------------------------------------------------------


def _clients_page(
    request: Request, db: Session, ctx: StaffContext, *, error: ProblemError | None = None
) -> HTMLResponse:
    agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
    return render(
        request,
        "workspace/exchange_clients.html",
        {
            "ctx": ctx,
            "agency": agency,
            "clients": exchange_selectors.clients_of(db, agency.code),
            "registrations": _states(db, agency.code, RegistrationKind.EXCHANGE_CLIENT),
        },
        error=error,
    )


@router.get("/workspace/{agency_code}/exchange-clients", response_class=HTMLResponse)
def exchange_clients(request: Request, db: DbSession, ctx: Developer) -> HTMLResponse:
    """The agency's systems that call the exchange, with their public keys (rotate: add, then retire)."""
    return _clients_page(request, db, ctx)


def _own_client(db: Session, ctx: StaffContext, client_id: str) -> Any:
    client = exchange_selectors.get_client(db, client_id)
    if client.agency.code != ctx.agency_code:
        raise ClientNotFound()
    return client


@router.post("/workspace/{agency_code}/exchange-clients", response_class=HTMLResponse)
def register_exchange_client(
    request: Request,
    db: DbSession,
    ctx: DeveloperStepUp,
    _: CsrfProtected,
    slug: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    environment: Annotated[str, Form(max_length=20)] = "sandbox",
) -> Response:
    env = staff_service.parse_environment(environment)
    try:
        client_id = f"{ctx.agency_code}.{exchange_service.publication_slug(slug)}"
        try:
            exchange_selectors.get_client(db, client_id)
            raise GrantStateConflict(
                f"The client {client_id!r} exists.", f"کارخواه «{client_id}» پیش‌تر ثبت شده است."
            )
        except ClientNotFound:
            pass
        agency = agency_selectors.get_agency_by_code(db, ctx.agency_code)
        exchange_service.register_client(
            db,
            agency,
            client_id=client_id,
            name=name.strip()[:200] or client_id,
            sandbox=env is Environment.SANDBOX,
        )
        if env is Environment.PRODUCTION:
            exchange_service.set_client_active(db, client_id, False)  # until an operator approves
        staff_service.register(db, ctx, RegistrationKind.EXCHANGE_CLIENT, client_id, env, name=name)
    except ProblemError as error:
        db.rollback()
        return _clients_page(request, db, ctx, error=error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/exchange-clients", status_code=303)


@router.post("/workspace/{agency_code}/exchange-clients/{client_id}/keys", response_class=HTMLResponse)
def add_key(
    request: Request,
    client_id: str,
    db: DbSession,
    ctx: DeveloperStepUp,
    _: CsrfProtected,
    public_jwk: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Add a public key (JWK); the older keys stay valid until retired, so a key rotates without downtime."""
    try:
        client = _own_client(db, ctx, client_id)
        try:
            jwk = json.loads(public_jwk)
        except ValueError as exc:
            raise InvalidInquiry("The key is not JSON (a JWK).", "کلید به قالب JSON (JWK) نیست.") from exc
        if not isinstance(jwk, dict):
            raise InvalidInquiry("The key is not a JWK object.", "کلید یک JWK نیست.")
        key = exchange_service.add_client_key(db, client, jwk)
        staff_service.audit(db, ctx, "exchange_client.key_added", client_id, {"kid": key.kid})
    except ProblemError as error:
        db.rollback()
        return _clients_page(request, db, ctx, error=error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/exchange-clients", status_code=303)


@router.post(
    "/workspace/{agency_code}/exchange-clients/{client_id}/keys/{kid}/retire", response_class=HTMLResponse
)
def retire_key(
    request: Request, client_id: str, kid: str, db: DbSession, ctx: DeveloperStepUp, _: CsrfProtected
) -> Response:
    try:
        client = _own_client(db, ctx, client_id)
        exchange_service.retire_client_key(db, client, kid)
        staff_service.audit(db, ctx, "exchange_client.key_retired", client_id, {"kid": kid})
    except ProblemError as error:
        db.rollback()
        return _clients_page(request, db, ctx, error=error)
    return RedirectResponse(f"/workspace/{ctx.agency_code}/exchange-clients", status_code=303)


# --- the operators' approvals -----------------------------------------------------------------------------


def _approvals_page(
    request: Request, db: Session, ctx: StaffContext, error: ProblemError | None = None
) -> HTMLResponse:
    pending = staff_selectors.pending_registrations(db)
    return render(
        request,
        "workspace/approvals.html",
        {
            "ctx": ctx,
            "pending": pending,
            # What an app asks of citizens' registry data, and why: the operator approves it with the app.
            "attributes_asked": {
                item.reference: oidc_clients.attributes_asked(db, item.reference)
                for item in pending
                if item.kind is RegistrationKind.OIDC_CLIENT
            },
        },
        error=error,
    )


@operator_router.get("/workspace/operator/approvals", response_class=HTMLResponse)
def approvals(request: Request, db: DbSession, ctx: Operator) -> HTMLResponse:
    """Production registrations waiting for an operator."""
    return _approvals_page(request, db, ctx)


def _take_effect(db: Session, kind: RegistrationKind, reference: str) -> None:
    """An approved registration opens in its own domain."""
    if kind is RegistrationKind.DATA_SERVICE:
        exchange_service.set_service_active(db, reference, True)
    elif kind is RegistrationKind.EXCHANGE_CLIENT:
        exchange_service.set_client_active(db, reference, True)
    else:
        oidc_clients.enable(db, reference)
        oidc_clients.approve_attributes_of(db, reference)  # the verified attributes it gave reasons for


@operator_router.post(
    "/workspace/operator/approvals/{registration_id}/{decision}", response_class=HTMLResponse
)
def decide(
    request: Request,
    registration_id: str,
    decision: str,
    db: DbSession,
    ctx: OperatorStepUp,
    _: CsrfProtected,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if decision not in ("approve", "refuse"):
        return _approvals_page(request, db, ctx, InvalidInquiry("approve or refuse", "تأیید یا رد"))
    try:
        registration = staff_service.decide_registration(
            db, ctx, registration_id, approve=decision == "approve", note=note
        )
        if registration.state is RegistrationState.ACTIVE:
            _take_effect(db, registration.kind, registration.reference)
    except ProblemError as error:
        db.rollback()
        return _approvals_page(request, db, ctx, error)
    return RedirectResponse("/workspace/operator/approvals", status_code=303)
