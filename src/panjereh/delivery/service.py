"""Requests: submission with idempotency, the state machine and its timeline, and the officers' actions."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from panjereh import jobs
from panjereh.core.config import Settings
from panjereh.core.db import utcnow
from panjereh.core.persian import fold_digits, fold_number
from panjereh.core.sandbox import is_test_persona
from panjereh.delivery import loading, selectors, tracking, workbench
from panjereh.delivery.constants import FINAL_STATES, WITHDRAWABLE_STATES, RequestState
from panjereh.delivery.definitions import InputField, LoadedDefinition
from panjereh.delivery.exceptions import (
    CannotWithdraw,
    IdempotencyConflict,
    InvalidApplication,
    InvalidTransition,
    NotAnOfficer,
    NotATestPersona,
    OwnRequest,
    ReviewNotOpen,
    WrongAudience,
)
from panjereh.delivery.models import DefinitionRecord, RequestEvent, ServiceRequest

# The definitions store's writes (draft, review, publish, retire, import) live in `delivery.store`; they
# are this domain's service API as well, named here for the pages and the other domains.
from panjereh.delivery.store import (
    ImportResult,
    create_draft,
    import_definitions,
    publish,
    reject,
    retire,
    submit_for_review,
    update_draft,
)
from panjereh.documents import service as documents_service
from panjereh.identity import selectors as identity_selectors
from panjereh.notify import constants as notify_constants
from panjereh.notify import service as notify_service
from panjereh.staff import selectors as staff_selectors
from panjereh.staff.constants import Role

if TYPE_CHECKING:
    from panjereh.delivery.engine import Decision

__all__ = [
    "ImportResult",
    "create_draft",
    "import_definitions",
    "publish",
    "reject",
    "retire",
    "submit_for_review",
    "update_draft",
]

S = RequestState
# The citizen may withdraw from every state in WITHDRAWABLE_STATES (`withdraw`, a conditional UPDATE
# rather than `transition`: it must never overwrite a decision written meanwhile).
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.AWAITING_PAYMENT: frozenset({S.SUBMITTED, S.WITHDRAWN}),  # the fee is paid (`payment_received`)
    # From each state the platform works on, a way to people (`hand_to_people`): never stuck there.
    S.SUBMITTED: frozenset({S.PROCESSING, S.IN_QUEUE, S.REFUSED, S.WITHDRAWN}),
    S.PROCESSING: frozenset({S.WAITING, S.APPROVED, S.REFUSED, S.IN_QUEUE}),
    S.WAITING: frozenset({S.PROCESSING, S.IN_QUEUE, S.REFUSED, S.WITHDRAWN}),
    S.IN_QUEUE: frozenset({S.IN_REVIEW, S.WITHDRAWN}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REFUSED, S.NEEDS_INFO, S.IN_QUEUE}),
    S.NEEDS_INFO: frozenset({S.IN_QUEUE, S.WITHDRAWN}),
    S.REFUSED: frozenset({S.IN_QUEUE}),  # only an automatic refusal, sent to a human for review
    S.APPROVED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
assert all(S.WITHDRAWN in TRANSITIONS[state] for state in WITHDRAWABLE_STATES)
# The states the platform works on by itself; people take over from any of them (`hand_to_people`).
AUTOMATED_STATES = frozenset({S.SUBMITTED, S.PROCESSING, S.WAITING})
PROCESS_JOB = "delivery.process"
POSTAL_CODE = re.compile(r"^[0-9]{10}$")
NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")


def clean_inputs(loaded: LoadedDefinition, raw: dict[str, Any]) -> dict[str, Any]:
    """The citizen's inputs, checked against the definition (unknown keys refused, digits folded)."""
    fields = {f.key: f for f in loaded.definition.inputs}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InvalidApplication(
            f"unknown inputs: {', '.join(unknown)}", f"ورودی ناشناخته: {'، '.join(unknown)}"
        )
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, spec in fields.items():
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                errors[key] = f"«{spec.label.fa}» لازم است"
            continue
        try:
            cleaned[key] = _clean_value(spec, value)
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise InvalidApplication(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), "؛ ".join(errors.values()), errors=errors
        )
    return cleaned


def _clean_value(spec: InputField, value: Any) -> Any:
    text = fold_digits(str(value)).strip()
    if spec.type == "choice":
        if text not in spec.choices:
            raise ValueError(f"«{spec.label.fa}»: گزینهٔ نامعتبر")
        return text
    if spec.type == "postal_code":
        digits = text.replace("-", "").replace(" ", "")
        if not POSTAL_CODE.match(digits) or "0" in digits[:5] or "2" in digits[:5]:
            raise ValueError(f"«{spec.label.fa}»: کد پستی ده‌رقمی معتبر نیست")
        return digits
    if spec.type == "number":
        text = fold_number(text)  # «۵٫۵» is how a Persian keyboard writes 5.5
        # float() alone would take other scripts' digits, "1e9", "inf" and "nan".
        if not NUMBER.match(text):
            raise ValueError(f"«{spec.label.fa}»: عدد نیست")
        number = float(text)
        if number < 0:
            raise ValueError(f"«{spec.label.fa}»: منفی نمی‌شود")
        return int(number) if number.is_integer() else number
    if spec.type == "boolean":
        return text.lower() in ("1", "true", "yes", "on", "بله")
    if spec.type == "date":
        return date.fromisoformat(text).isoformat()
    if len(text) > spec.max_length:
        raise ValueError(f"«{spec.label.fa}»: بیش از {spec.max_length} نویسه")
    return text


def submission_digest(slug: str, inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([slug, inputs], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """What a request's inquiries need: handed to the worker with the job when the submission commits,
    or read back by a worker that claims the job later (`processing._read_snapshot`)."""

    request_id: str
    national_code: str
    tracking_code: str
    inputs: dict[str, Any]
    loaded: LoadedDefinition


@dataclass(frozen=True)
class OnBehalf:
    """Someone applying for another (checked by the caller at this act): the request is the subject's
    (`national_code`), made by the actor; its timeline says «ثبت‌شده توسط ... از طرف ...»."""

    actor_code: str
    actor_name: str
    subject_kind: str  # person | company
    subject_name: str
    relation: str  # parent | company | delegate
    role_fa: str
    role_en: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def submit(
    session: Session,
    settings: Settings,
    *,
    national_code: str,
    slug: str,
    inputs: dict[str, Any],
    idempotency_key: str | None,
    origin: str = "citizen",
    on_behalf: OnBehalf | None = None,
) -> tuple[ServiceRequest, bool]:
    """One request for one submission: the same key again returns the first request (created=False).

    `national_code` is the subject's; with `on_behalf` the actor applied for the subject."""
    record = selectors.published_definition(session, slug)
    loaded = loading.loaded_from_record(record)
    subject_kind = on_behalf.subject_kind if on_behalf else "person"
    if loaded.definition.audience == "business" and subject_kind != "company":
        # A business service's evidence is about a company (its legal-entity ID): a person applying for
        # himself would have the registries asked about no one. (A company named for a service for people
        # is refused before this, by the representation check: such a service accepts no company.)
        raise WrongAudience()
    cleaned = clean_inputs(loaded, inputs)
    digest = submission_digest(slug, cleaned)
    key = (idempotency_key or "").strip()[:80] or f"auto:{tracking.new_tracking_code()}"
    existing = _by_key(session, national_code, key)
    if existing is not None:
        return _same_or_conflict(existing, digest), False
    try:
        with session.begin_nested():
            request = ServiceRequest(
                tracking_code=_unused_tracking_code(session),
                slug=slug,
                definition_id=record.id,
                agency_code=record.agency_code,
                national_code=national_code,
                idempotency_key=key,
                submission_digest=digest,
                origin=origin,
                inputs=cleaned,
                state=S.AWAITING_PAYMENT
                if origin != "proactive" and selectors.fee_of(session, slug)
                else S.SUBMITTED,
                subject_kind=subject_kind,
                acted_by=on_behalf.actor_code if on_behalf else None,
                representation=on_behalf.as_dict() if on_behalf else None,
            )
            session.add(request)
            session.flush()
    except IntegrityError:
        # A concurrent submission with the same key won the race: answer with its request.
        existing = _by_key(session, national_code, key)
        if existing is None:
            raise
        return _same_or_conflict(existing, digest), False
    record_event(
        session,
        request,
        kind="submitted",
        actor="citizen" if origin == "citizen" else "system",
        message_fa=(
            f"درخواست «{record.title_fa}» ثبت شد؛ کد رهگیری {tracking.in_sentence(request.tracking_code)}"
        ),
        message_en=f"Request for “{record.title_en}” received",
    )
    if on_behalf is not None:
        who = on_behalf
        record_event(
            session,
            request,
            kind="on_behalf",
            actor="citizen",
            message_fa=f"ثبت‌شده توسط {who.actor_name} از طرف {who.subject_name} ({who.role_fa})",
            message_en=f"Submitted by {who.actor_name} on behalf of {who.subject_name} ({who.role_en})",
            detail=who.as_dict(),
        )
    if request.state is S.AWAITING_PAYMENT:  # its job is queued once the fee is paid (`payment_received`)
        _notify(
            session,
            settings,
            request,
            f"درخواست «{record.title_fa}» ثبت شد؛ برای ادامه، هزینهٔ آن را بپردازید.",
        )
        return request, True
    _enqueue_processing(session, request, loaded)
    _notify(session, settings, request, f"درخواست «{record.title_fa}» ثبت شد.")
    return request, True


def _enqueue_processing(session: Session, request: ServiceRequest, loaded: LoadedDefinition) -> None:
    snapshot = Snapshot(
        request.id, request.national_code, request.tracking_code, dict(request.inputs), loaded
    )
    jobs.enqueue(
        session, PROCESS_JOB, {"request_id": request.id}, dedupe_key=f"process:{request.id}", hint=snapshot
    )


def _ensure_awaiting_payment(request: ServiceRequest) -> None:
    if request.state is not S.AWAITING_PAYMENT:
        raise InvalidTransition(
            f"{request.state.value}: the request is not waiting for a payment",
            "این درخواست در انتظار پرداخت نیست",
        )


def payment_received(
    session: Session, settings: Settings, request: ServiceRequest, *, reference: str, amount_rials: int
) -> None:
    """The fee is paid (verified and settled at the gateway): the request goes on to be processed, its
    job queued in this transaction. Refused if the request is not waiting for its fee."""
    _ensure_awaiting_payment(request)
    transition(
        session,
        settings,
        request,
        S.SUBMITTED,
        kind="paid",
        message_fa="هزینهٔ خدمت پرداخت شد؛ درخواست برای بررسی فرستاده شد",
        message_en="The fee was paid; the request went on to be processed",
        detail={"reference": reference, "amount_rials": amount_rials},
        notify=False,
    )
    _enqueue_processing(session, request, loading.loaded_from_record(request.definition))


def fee_no_longer_due(session: Session, settings: Settings, request: ServiceRequest) -> None:
    """The service's fee was dropped (the catalog card says none now) while the request waited for it:
    it goes on to be processed as a fee-free one, its job queued in this transaction."""
    _ensure_awaiting_payment(request)
    transition(
        session,
        settings,
        request,
        S.SUBMITTED,
        kind="fee_waived",
        message_fa="این خدمت دیگر هزینه ندارد؛ درخواست بی‌پرداخت برای بررسی فرستاده شد",
        message_en="The service no longer has a fee; the request went on to be processed without payment",
        notify=False,
    )
    _enqueue_processing(session, request, loading.loaded_from_record(request.definition))


WITHDRAW_ATTEMPTS = 5  # more than the withdrawable states a request can pass through while one click waits


def withdraw(session: Session, settings: Settings, request: ServiceRequest, *, actor_code: str) -> bool:
    """The citizen gives the request up (from `WITHDRAWABLE_STATES`): True if it was withdrawn now, False if
    it already was (a second click: no second line, no second notice); `CannotWithdraw` otherwise.

    A conditional UPDATE (`... WHERE state = <the state read>`), not a read and a write: a withdrawal and a
    decision never both win. On PostgreSQL the UPDATE waits for the row lock the worker or an officer holds
    while deciding, then finds the state they wrote; on SQLite the writer lock orders them. Who may withdraw
    (the subject, or who applied for him while his right holds) is the caller's check; the fee (a token
    still open, a settled payment to give back) is the payments domain's (`payments.service.withdraw`)."""
    # Compare and swap: the UPDATE names the state it moves from, so the timeline's "from" is the state the
    # request really left (a payment settled a moment earlier moves `awaiting_payment` to `submitted`). A
    # miss reads the row again and tries from what it finds; each try either wins or finds a later state.
    withdrawn_now = False
    for _attempt in range(WITHDRAW_ATTEMPTS):
        previous = request.state
        if previous is S.WITHDRAWN:  # a second click, or two at once: the other one withdrew it
            return False
        if previous not in WITHDRAWABLE_STATES:
            break
        moved = session.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == request.id, ServiceRequest.state == previous)
            .values(state=S.WITHDRAWN, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        session.refresh(request)
        withdrawn_now = moved.rowcount == 1  # type: ignore[attr-defined]
        if withdrawn_now:
            break
    if not withdrawn_now:
        if request.state is S.WITHDRAWN:
            return False
        raise CannotWithdraw(
            f"{request.state.value}: a request being decided, with an officer, or decided stays",
            "درخواستی که در حال تصمیم‌گیری یا نزد کارشناس است یا تصمیمش گرفته شده، قابل انصراف نیست",
            state=request.state.value,
        )
    # The timeline is read by the subject too: a withdrawal by who applied for him names that person.
    actor_name = (request.representation or {}).get("actor_name") if actor_code == request.acted_by else None
    record_event(
        session,
        request,
        kind="withdrawn",
        actor="citizen",
        message_fa=f"{actor_name} از این درخواست انصراف داد؛ درخواست بسته شد"
        if actor_name
        else "از این درخواست انصراف داده شد؛ درخواست بسته شد",
        message_en=f"{actor_name} withdrew this request; it is closed"
        if actor_name
        else "The request was withdrawn; it is closed",
        detail={"from": previous.value, "by": actor_code},
    )
    # A fee to give back is told by the payments domain with its refund (`payments.service.withdraw`).
    _notify(
        session,
        settings,
        request,
        f"از درخواست «{request.definition.title_fa}» انصراف دادید؛ درخواست بسته شد.",
        f"You withdrew your request for “{request.definition.title_en}”; it is closed.",
    )
    return True


def note_on_timeline(
    session: Session,
    request: ServiceRequest,
    *,
    kind: str,
    message_fa: str,
    message_en: str,
    detail: dict[str, Any],
) -> None:
    """A line on the request's timeline from another domain (a payment refunded), in its current state."""
    record_event(session, request, kind=kind, message_fa=message_fa, message_en=message_en, detail=detail)


DRY_RUN_STATES = {"approve": S.APPROVED, "refuse": S.REFUSED, "refer": S.IN_QUEUE}


def record_dry_run(
    session: Session,
    record: DefinitionRecord,
    *,
    national_code: str,
    inputs: dict[str, Any],
    facts: dict[str, Any],
    decision: Decision,
) -> ServiceRequest:
    """Keep an authoring dry run as a sandbox request: the draft version, the persona, what the exchange
    answered and what the model decided. No document, no notice, no job; a sandbox request is in no
    citizen's list, no officer's queue and no figure (the selectors leave `sandbox` rows out)."""
    if not is_test_persona(national_code):
        raise NotATestPersona()
    request = ServiceRequest(
        tracking_code=_unused_tracking_code(session),
        slug=record.slug,
        definition_id=record.id,
        agency_code=record.agency_code,
        national_code=national_code,
        idempotency_key=f"dry-run:{uuid.uuid4().hex}",
        submission_digest=submission_digest(record.slug, inputs),
        origin="sandbox",
        inputs=inputs,
        facts=facts,
        state=DRY_RUN_STATES[decision.decision],
        decision=decision.as_dict(),
        decided_automatically=decision.decision != "refer",
        decided_at=utcnow(),
        sandbox=True,
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        request,
        kind="dry_run",
        message_fa=f"آزمون «{record.title_fa}» (نسخهٔ {record.version}) در محیط آزمایشی",
        message_en=f"Dry run of “{record.title_en}” (version {record.version}) in the sandbox",
        detail={"decision": decision.decision, "version": record.version},
    )
    return request


def _by_key(session: Session, national_code: str, key: str) -> ServiceRequest | None:
    return session.scalar(
        select(ServiceRequest).where(
            ServiceRequest.national_code == national_code, ServiceRequest.idempotency_key == key
        )
    )


def _same_or_conflict(existing: ServiceRequest, digest: str) -> ServiceRequest:
    if existing.submission_digest != digest:
        raise IdempotencyConflict(tracking_code=existing.tracking_code)
    return existing


def _unused_tracking_code(session: Session) -> str:
    while True:
        code = tracking.new_tracking_code()
        if session.scalar(select(ServiceRequest.id).where(ServiceRequest.tracking_code == code)) is None:
            return code


def record_event(
    session: Session,
    request: ServiceRequest,
    *,
    kind: str,
    message_fa: str,
    message_en: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> RequestEvent:
    """Append a line to the request's timeline (in its current state), dated now unless `at` says when.

    The line is written with the session's next flush, together with the request's own changes: a
    decision that moves the request twice is one UPDATE and its lines, not a flush per line.
    """
    # The next number is computed inside the INSERT (one statement, not a SELECT and an INSERT); lines
    # with such a value are inserted one statement each, in order, so each sees the one before. Lines
    # of one request never race: the request row is updated first in the same flush, which locks it.
    next_seq = (
        select(func.coalesce(func.max(RequestEvent.seq), 0) + 1)
        .where(RequestEvent.request_id == request.id)
        .scalar_subquery()
    )
    entry = RequestEvent(
        request_id=request.id,
        seq=next_seq,
        state=request.state,
        kind=kind,
        actor=actor,
        message_fa=message_fa,
        message_en=message_en,
        detail=detail or {},
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


def transition(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    to: RequestState,
    *,
    kind: str,
    message_fa: str,
    message_en: str = "",
    actor: str = "system",
    detail: dict[str, Any] | None = None,
    notify: bool = True,
    at: datetime | None = None,
) -> None:
    """Move the request to `to` if the state machine allows it, with a timeline line and a notification."""
    if to not in TRANSITIONS[request.state]:
        raise InvalidTransition(
            f"{request.state.value} → {to.value} is not allowed",
            f"درخواست از وضعیت «{request.state.value}» به «{to.value}» نمی‌رود",
        )
    request.state = to
    if to in FINAL_STATES:
        request.decided_at = utcnow()
    record_event(
        session,
        request,
        kind=kind,
        message_fa=message_fa,
        message_en=message_en,
        actor=actor,
        detail=detail,
        at=at,
    )
    if notify:
        _notify(session, settings, request, message_fa, message_en)


# States that need the citizen (a decision, or a question from the officer) also go out by SMS;
# every state change reaches the inbox.
SMS_STATES = FINAL_STATES | {RequestState.NEEDS_INFO}


def _notify(
    session: Session, settings: Settings, request: ServiceRequest, body_fa: str, body_en: str = ""
) -> None:
    """Tell the citizen on the channels they chose: a proactive service's news, an issued document, or a
    request's step (by SMS only the steps that need them; e-mail and the inbox every step)."""
    # A request made for another reaches the one who made it too; a company has no inbox of its own.
    if request.acted_by:
        _notify_one(session, settings, request, body_fa, body_en, request.acted_by)
    if request.subject_kind == "person":
        _notify_one(session, settings, request, body_fa, body_en, request.national_code)


def _notify_one(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    body_fa: str,
    body_en: str,
    national_code: str,
) -> None:
    citizen = identity_selectors.get_citizen_by_national_code(session, national_code)
    if request.origin == "proactive":
        kind = "delivery.proactive"
    elif request.state is RequestState.APPROVED and request.document_number:
        kind = "documents.issued"
    else:
        kind = "delivery.request"
    notify_service.tell(
        session,
        settings,
        national_code=national_code,
        mobile=citizen.mobile if citizen is not None else None,
        kind=kind,
        at_most=notify_constants.CHANNELS
        if request.state in SMS_STATES
        else frozenset({notify_constants.INBOX, notify_constants.EMAIL}),
        subject_fa=f"درخواست {tracking.in_sentence(request.tracking_code)}",
        body_fa=body_fa,
        subject_en=f"Request {request.tracking_code}",
        body_en=body_en or None,
        link=f"/account/requests/{request.tracking_code}",
    )


def issue_outcome_document(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    loaded: LoadedDefinition,
    subject_name: str,
    *,
    number: str | None = None,
) -> str | None:
    """Issue the definition's document for an approved request; its number, or None if it issues none.

    `number`: one already taken from `documents.service.unused_number`, if the caller took one."""
    spec = loaded.definition.outcomes.document
    if spec is None:
        return None
    context = {
        "inputs": request.inputs,
        **(request.facts or {}),
        **((request.decision or {}).get("output") or {}),
    }
    claims = {name: _pluck(context, path) for name, path in spec.claims.items()}
    # A document is read by people: a choice the citizen made is written as its label, not its code.
    choices = {f"inputs.{field.key}": field.choices for field in loaded.definition.inputs if field.choices}
    for name, path in spec.claims.items():
        label = choices.get(path, {}).get(str(claims[name]))
        if label is not None:
            claims[name] = label.fa
    claims["service"] = loaded.slug
    valid_until = (utcnow() + timedelta(days=spec.valid_days)).date() if spec.valid_days else None
    document = documents_service.issue_document(
        session,
        settings,
        document_type=spec.type,
        title_fa=spec.title.fa,
        title_en=spec.title.en,
        subject_national_code=request.national_code,
        subject_name=subject_name,
        issuer_agency_code=request.agency_code,
        claims=claims,
        valid_until=valid_until,
        request_tracking_code=request.tracking_code,
        number=number,
    )
    request.document_number = document.number
    return document.number


def _pluck(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def subject_name(session: Session, request: ServiceRequest) -> str:
    """The name on a document: the registered citizen's, else the civil registry's, else the code."""
    citizen = identity_selectors.get_citizen_by_national_code(session, request.national_code)
    if citizen is not None:
        return str(citizen.display_name)
    person = (request.facts or {}).get("person") or {}
    name = f"{person.get('first_name', '')} {person.get('last_name', '')}".strip()
    # A request made for another names its subject as the registry gave it at the act.
    return name or str((request.representation or {}).get("subject_name") or "") or request.national_code


# --- when the platform cannot finish a request itself -------------------------------------------------

# Why the platform gave a request up, as the timeline's detail records it (and the officer reads it).
HANDOVER_REASONS = {
    "definition_error": ("تعریف خدمت ایراد دارد", "The service definition is faulty"),
    "undecidable": ("مدل تصمیم نتوانست بر این داده‌ها تصمیم بگیرد", "The decision model could not decide"),
    "retries_exhausted": (
        "سامانهٔ دستگاه پس از بارها تلاش پاسخ نداد",
        "A registry did not answer after retries",
    ),
    "job_failed": ("پردازش خودکار درخواست با خطا متوقف شد", "The automatic processing failed"),
    "stuck": ("پردازش خودکار درخواست بیش از حد طول کشید", "The automatic processing took too long"),
}


def agency_has_officers(session: Session, agency_code: str) -> bool:
    """Whether anyone works this agency's queue (see `officer_of` for who)."""
    return bool(staff_selectors.members(session, agency_code, Role.OFFICER))


def hand_to_people(
    session: Session,
    settings: Settings,
    request: ServiceRequest,
    *,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """The platform cannot finish this request by itself: hand it to people, and tell the citizen.

    The rule: a request of an agency with officers goes to its queue, with what went wrong as the
    officer's note; an agency nobody works the queue of could never decide it, so it is refused as a
    technical failure (not a decision on the citizen's eligibility: no review is offered, they may apply
    again). Either way a timeline line and a notification. False (and nothing written) if the request
    is no longer the platform's to give up (decided, or already with people)."""
    if request.state not in AUTOMATED_STATES:
        return False
    why_fa, why_en = HANDOVER_REASONS[reason]
    noted = {"reason": reason, "reason_fa": why_fa, "reason_en": why_en, **(detail or {})}
    if agency_has_officers(session, request.agency_code):
        request.recommendation = {"decision": "refer", "technical": noted}
        transition(
            session,
            settings,
            request,
            S.IN_QUEUE,
            kind="handed_to_officer",
            message_fa=(
                "سامانه نتوانست درخواست شما را خودکار بررسی کند؛ "
                "درخواست به کارتابل کارشناس دستگاه رفت و کارشناس درباره‌اش تصمیم می‌گیرد"
            ),
            message_en="The platform could not decide automatically; the request is in the agency's queue",
            detail=noted,
        )
        return True
    request.decision = {
        "decision": "refuse",
        "technical_failure": noted,
        "reasons": [{"code": "technical_failure", "reason_fa": why_fa, "reason_en": why_en, "legal_ref": ""}],
    }
    request.decided_automatically = False  # nobody decided on eligibility: nothing to review
    transition(
        session,
        settings,
        request,
        S.REFUSED,
        kind="technical_failure",
        message_fa=(
            f"درخواست شما به دلیل خطای فنی انجام نشد ({why_fa})؛ این تصمیمی دربارهٔ شرایط شما نیست "
            "و می‌توانید دوباره درخواست دهید"
        ),
        message_en=(
            "Your request could not be completed because of a technical failure; this is not a decision "
            "on your eligibility, and you may apply again"
        ),
        detail=noted,
    )
    return True


def stuck_requests(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Ids of requests still with the platform longer after submission than the settings allow."""
    bound = (now or utcnow()) - timedelta(seconds=settings.delivery_stuck_after_seconds)
    return list(
        session.scalars(
            select(ServiceRequest.id)
            .where(ServiceRequest.state.in_(AUTOMATED_STATES), ServiceRequest.created_at < bound)
            .order_by(ServiceRequest.created_at)
            .limit(500)
        )
    )


def hand_over_if_stuck(
    session: Session, settings: Settings, request_id: str, now: datetime | None = None
) -> bool:
    """Lock the request and hand it to people if it is still with the platform past the bound."""
    request = session.scalars(
        select(ServiceRequest).where(ServiceRequest.id == request_id).with_for_update()
    ).first()
    bound = (now or utcnow()) - timedelta(seconds=settings.delivery_stuck_after_seconds)
    if request is None or request.created_at >= bound:
        return False
    waited = round(((now or utcnow()) - request.created_at).total_seconds())
    return hand_to_people(
        session, settings, request, reason="stuck", detail={"seconds_since_submission": waited}
    )


# --- the human work queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Officer:
    """Who works an agency's queue: a person who holds the role officer in that agency (staff)."""

    national_code: str
    agency_code: str
    name: str


def officer_of(session: Session, national_code: str, agency_code: str | None = None) -> Officer:
    """The person as an officer (of `agency_code` if given, else of their first agency), or NotAnOfficer."""
    memberships = [
        membership
        for membership in staff_selectors.holders(session, national_code, Role.OFFICER)
        if agency_code is None or membership.agency_code == agency_code
    ]
    if not memberships or memberships[0].agency_code is None:
        raise NotAnOfficer()
    agency = memberships[0].agency_code
    citizen = identity_selectors.get_citizen_by_national_code(session, national_code)
    return Officer(national_code, agency, citizen.display_name if citizen else f"کارشناس {agency}")


def officers_of(session: Session, agency_code: str) -> list[Officer]:
    """Everyone who works this agency's queue, by name."""
    officers = []
    for membership in staff_selectors.members(session, agency_code, Role.OFFICER):
        citizen = identity_selectors.get_citizen_by_national_code(session, membership.national_code)
        name = citizen.display_name if citizen else f"کارشناس {agency_code}"
        officers.append(Officer(membership.national_code, agency_code, name))
    return sorted(officers, key=lambda officer: officer.name)


def assign(
    session: Session, settings: Settings, officer: Officer, request: ServiceRequest, assignee_code: str
) -> None:
    """An officer gives a queued request to a colleague of the agency (or to themselves) to work on."""
    _for_officer(request, officer)
    assignee = officer_of(session, fold_digits(assignee_code).strip())
    _for_officer(request, assignee)  # never to someone the request is about
    if request.state != S.IN_QUEUE:
        raise InvalidTransition("only a queued request is assigned", "فقط درخواست در کارتابل واگذار می‌شود")
    request.officer_national_code = assignee.national_code
    record_event(
        session,
        request,
        kind="assigned",
        actor="officer",
        message_fa="درخواست به یکی از کارشناسان دستگاه سپرده شد",
        message_en="The request was assigned to an officer of the agency",
    )


def _for_officer(request: ServiceRequest, officer: Officer) -> None:
    """The officer may work this request: their agency's, and not one they are the applicant or subject of."""
    if request.agency_code != officer.agency_code:
        raise NotAnOfficer()
    if officer.national_code in workbench.people_of(request):
        raise OwnRequest()


def take(session: Session, settings: Settings, officer: Officer, request: ServiceRequest) -> None:
    """An officer takes a queued request."""
    _for_officer(request, officer)
    request.officer_national_code = officer.national_code
    request.human_touched = True
    transition(
        session,
        settings,
        request,
        S.IN_REVIEW,
        kind="taken",
        actor="officer",
        message_fa="کارشناس دستگاه بررسی درخواست را آغاز کرد",
        message_en="An officer started the review",
    )


def decide(
    session: Session,
    settings: Settings,
    officer: Officer,
    request: ServiceRequest,
    *,
    approve: bool,
    reason_fa: str,
    reason_en: str = "",
) -> None:
    """An officer decides with reasons (Persian, and English if given); approval issues the document."""
    _for_officer(request, officer)
    if request.state != S.IN_REVIEW or request.officer_national_code != officer.national_code:
        raise InvalidTransition("take the request first", "ابتدا درخواست را بردارید")
    reason_fa = reason_fa.strip()
    if not reason_fa:
        raise InvalidApplication("a decision needs reasons", "تصمیم بدون دلیل پذیرفته نیست")
    loaded = loading.loaded_from_record(request.definition)
    previous = dict(request.decision or {})
    request.decision = {
        **previous,
        "decision": "approve" if approve else "refuse",
        "decided_by": "officer",
        "officer_reason_fa": reason_fa,
        "officer_reason_en": reason_en.strip()[:2000],
        "reasons": previous.get("reasons", []) if not approve else [],
        "rule_version": loaded.definition.decision.rule_version,
    }
    request.decided_automatically = False
    if approve:
        issue_outcome_document(session, settings, request, loaded, subject_name(session, request))
        transition(
            session,
            settings,
            request,
            S.APPROVED,
            kind="approved",
            actor="officer",
            message_fa=f"{loaded.definition.outcomes.approve.fa} {reason_fa}",
            message_en=f"{loaded.definition.outcomes.approve.en} {reason_en.strip()}".strip(),
        )
    else:
        transition(
            session,
            settings,
            request,
            S.REFUSED,
            kind="refused",
            actor="officer",
            message_fa=f"{loaded.definition.outcomes.refuse.fa} دلیل: {reason_fa}",
            message_en=f"{loaded.definition.outcomes.refuse.en} {reason_en.strip()}".strip(),
        )


def ask_for_info(
    session: Session, settings: Settings, officer: Officer, request: ServiceRequest, question_fa: str
) -> None:
    """An officer asks the citizen for more."""
    _for_officer(request, officer)
    if not question_fa.strip():
        raise InvalidApplication("the question is empty", "متن پرسش خالی است")
    transition(
        session,
        settings,
        request,
        S.NEEDS_INFO,
        kind="info_requested",
        actor="officer",
        message_fa=f"کارشناس از شما پرسیده است: {question_fa.strip()}",
        message_en="The officer asked for more information",
        detail={"question_fa": question_fa.strip()},
    )


def answer_info(session: Session, settings: Settings, request: ServiceRequest, answer_fa: str) -> None:
    """The citizen answers the officer's question; the request goes back to the queue."""
    if not answer_fa.strip():
        raise InvalidApplication("the answer is empty", "پاسخ خالی است")
    transition(
        session,
        settings,
        request,
        S.IN_QUEUE,
        kind="info_given",
        actor="citizen",
        message_fa="پاسخ شما ثبت شد و درخواست به کارتابل دستگاه برگشت",
        message_en="Your answer was recorded",
        detail={"answer_fa": answer_fa.strip()[:2000]},
    )


def request_review(session: Session, settings: Settings, request: ServiceRequest) -> None:
    """Send an automatic refusal to a human for review (once, within `review_window_days`). Refused once
    the request's fee was refunded: the refusal was final and the money given back, so a review that
    approved it would deliver the service free (the citizen applies again and pays again)."""
    if request.state != S.REFUSED or not request.decided_automatically:
        raise InvalidTransition(
            "only an automatic refusal can be reviewed", "فقط ردّ خودکار را می‌توان برای بازبینی فرستاد"
        )
    if selectors.fee_refunded(session, request):
        raise ReviewNotOpen(
            "the fee of this request was refunded, so its refusal is final; apply again for a review",
            "هزینهٔ این درخواست به شما برگشت داده شده و ردّ آن قطعی است؛ برای بررسی دوباره، درخواست تازه دهید",
        )
    if not selectors.review_can_be_asked(settings, request):
        raise ReviewNotOpen(
            f"a review may be asked within {settings.review_window_days} days of the refusal",
            f"بازبینی را تا {settings.review_window_days} روز پس از ردّ می‌توان خواست",
        )
    request.decided_automatically = False
    request.decided_at = None
    transition(
        session,
        settings,
        request,
        S.IN_QUEUE,
        kind="review_requested",
        actor="citizen",
        message_fa="درخواست بازبینی انسانی ثبت شد؛ کارشناس دستگاه تصمیم را بررسی می‌کند",
        message_en="A human review was requested",
    )
