"""The login flow: identify, check the registries, send a code, verify it, then the second factor."""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.crypto import fernet, keyed_hash, sha256_hex
from panjereh.core.db import utcnow
from panjereh.core.errors import ValidationFailed
from panjereh.core.identifiers import (
    InvalidIdentifier,
    normalize_mobile,
    normalize_national_code,
)
from panjereh.core.jalali import to_tehran
from panjereh.core.persian import fold_digits, to_persian_digits
from panjereh.identity import constants as levels
from panjereh.identity import policy, selectors, totp
from panjereh.identity.exceptions import (
    AccountLocked,
    AttemptNotFound,
    CodeExpired,
    IdentifierMissing,
    InvalidMobile,
    InvalidNationalCode,
    LoginThrottled,
    SecondFactorInvalid,
    TooManyWrongCodes,
)
from panjereh.identity.models import Citizen, LoginAttempt, LoginEvent
from panjereh.identity.ratelimit import FailureCounters, LoginLimits
from panjereh.identity.registration import RegistrationChecks, RegistryPerson, check_person
from panjereh.notify import service as notify


@dataclass(frozen=True)
class StartedLogin:
    """A code was sent: the attempt id, the browser binding (a cookie) and where the code went."""

    attempt_id: str
    binding: str
    masked_mobile: str
    expires_at: datetime
    registering: bool


@dataclass(frozen=True)
class VerifyOutcome:
    """`ok` (a session may open), `second_factor` (TOTP next) or `wrong` (the code was wrong)."""

    status: str
    citizen: Citizen | None = None
    remaining: int = 0
    level: int = levels.LEVEL_SMS
    amr: tuple[str, ...] = ("sms",)


def _parse(raw: str | None, normalize: Callable[[str], str], invalid: type[ValidationFailed]) -> str | None:
    """A typed identifier normalized; None when left empty, ``invalid`` (naming why) when malformed."""
    if raw is None or not raw.strip():
        return None
    try:
        return normalize(raw)
    except InvalidIdentifier as exc:
        raise invalid(str(exc)) from exc


def parse_national_code(raw: str | None) -> str | None:
    return _parse(raw, normalize_national_code, InvalidNationalCode)


def parse_mobile(raw: str | None) -> str | None:
    return _parse(raw, normalize_mobile, InvalidMobile)


def mask_mobile(mobile: str) -> str:
    return f"{mobile[:4]}***{mobile[-4:]}" if mobile else ""


def _limit(counters: LoginLimits, key: str, windows: tuple[policy.Window, ...]) -> None:
    for window in windows:
        wait = counters.throttles.hit(key, window)
        if wait is not None:
            retry_after = max(math.ceil(wait), 1)
            raise LoginThrottled(
                f"At most {window.limit} per {window.seconds} s; retry after {retry_after} s",
                to_persian_digits(
                    f"حداکثر {window.limit} بار در هر {window.seconds // 60} دقیقه؛ "
                    f"{retry_after} ثانیهٔ دیگر دوباره تلاش کنید"
                ),
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )


def count_login_start(counters: LoginLimits, ip: str) -> None:
    """Count a login start per address (each may cost two registry inquiries)."""
    _limit(counters, f"start:ip:{ip}", policy.STARTS_PER_ADDRESS)


def check_not_locked(counters: FailureCounters, national_code: str) -> None:
    """Refuse while the account is in back-off or locked after consecutive failures."""
    count, ttl = counters.peek(f"cool:{national_code}")
    if count:
        failures, _ = counters.peek(f"fail:{national_code}")
        error = AccountLocked if failures >= policy.MAX_CONSECUTIVE_FAILURES else LoginThrottled
        raise error(
            f"{failures} consecutive failures; retry after {ttl} s",
            to_persian_digits(f"{failures} تلاش ناموفق پیاپی؛ {ttl} ثانیهٔ دیگر دوباره تلاش کنید"),
            headers={"Retry-After": str(ttl)},
            retry_after=ttl,
        )


def record_failure(counters: FailureCounters, national_code: str) -> int:
    """Count a consecutive failure for the account and start its back-off; returns the count."""
    failures, _ = counters.hit(f"fail:{national_code}", policy.FAILURE_WINDOW_SECONDS)
    wait = policy.backoff_seconds(failures)
    if wait:
        counters.put(f"cool:{national_code}", 1, wait)
    if failures >= policy.MAX_CONSECUTIVE_FAILURES:
        # The lock must outlive the failure window, so the counter is kept as long as the lock.
        counters.put(f"fail:{national_code}", failures, policy.LOCK_SECONDS)
    return failures


@dataclass(frozen=True)
class Identified:
    """Who is logging in, and (on first login or a new mobile) what the registries said."""

    national_code: str  # "" when only an unknown mobile was given
    mobile: str  # the mobile the code goes to; "" when only an unknown national code was given
    citizen_id: str | None
    person: RegistryPerson | None
    typed_mobile: str = ""  # what the citizen typed: the only number the next page may show
    unknown: bool = False  # no account: answered like one, but no code is sent and none will match


def identify(
    session: Session,
    counters: LoginLimits,
    registries: RegistrationChecks,
    *,
    national_code: str | None,
    mobile: str | None,
    today: date | None = None,
) -> Identified:
    """Read-only: find the citizen, or check Shahkar and the civil registry on first login / a new mobile."""
    code_nc, code_mobile = parse_national_code(national_code), parse_mobile(mobile)
    if code_nc is None and code_mobile is None:
        raise IdentifierMissing()
    citizen: Citizen | None = None
    person: RegistryPerson | None = None
    if code_nc and code_mobile:
        citizen = selectors.get_citizen_by_national_code(session, code_nc)
        if citizen is None or citizen.mobile != code_mobile:
            check_not_locked(counters.failures, code_nc)
            # First login, or a new mobile: Shahkar and the civil registry decide (nothing is written first).
            person = check_person(registries, code_nc, code_mobile, today or to_tehran(utcnow()).date())
            citizen = None
    # One identifier alone logs in to an existing account. Whether there is one is not said: an unknown
    # identifier is answered exactly like a known one (OWASP ASVS V6.3.8; NIST SP 800-63B §5.2.2
    # leaves the limits to the send and failure counters), only no code is sent and none will match.
    elif code_nc:
        citizen = selectors.get_citizen_by_national_code(session, code_nc)
        if citizen is None:
            return Identified(code_nc, "", None, None, unknown=True)
        code_mobile = citizen.mobile
        return Identified(code_nc, code_mobile, citizen.id, None)
    else:
        assert code_mobile is not None
        citizen = selectors.get_citizen_by_mobile(session, code_mobile)
        if citizen is None:
            return Identified("", code_mobile, None, None, typed_mobile=code_mobile, unknown=True)
        code_nc = citizen.national_code
    assert code_nc is not None and code_mobile is not None
    return Identified(
        code_nc, code_mobile, citizen.id if citizen is not None else None, person, typed_mobile=code_mobile
    )


def send_code(
    session: Session, settings: Settings, counters: LoginLimits, who: Identified, *, ip: str
) -> StartedLogin:
    """Within the send limits, make an attempt bound to this browser and text its code (unless there is no
    account: then the attempt is made all the same and nothing is sent)."""
    check_not_locked(counters.failures, _account_key(who.national_code, who.mobile))
    if who.mobile:
        _limit(counters, f"send:mobile:{who.mobile}", policy.SENDS_PER_MOBILE)
    if who.national_code:
        _limit(counters, f"send:nc:{who.national_code}", policy.SENDS_PER_NATIONAL_CODE)
    _limit(counters, f"send:ip:{ip}", policy.SENDS_PER_ADDRESS)
    code = f"{secrets.randbelow(10**policy.CODE_DIGITS):0{policy.CODE_DIGITS}d}"
    binding = secrets.token_urlsafe(32)
    now = utcnow()
    attempt = LoginAttempt(
        purpose="register" if who.person is not None else "login",
        national_code=who.national_code,
        mobile=who.typed_mobile,
        citizen_id=who.citizen_id,
        registry_data=who.person.as_dict() if who.person is not None else None,
        binding_hash=sha256_hex(binding),
        code_hash="",
        created_at=now,
        expires_at=now + timedelta(seconds=settings.otp_ttl_seconds),
        ip=ip[:64],
    )
    session.add(attempt)
    session.flush()
    attempt.code_hash = _code_hash(settings, attempt.id, code)
    minutes = max(settings.otp_ttl_seconds // 60, 1)
    if who.unknown:
        return StartedLogin(attempt.id, binding, mask_mobile(who.typed_mobile), attempt.expires_at, False)
    notify.send(
        session,
        settings,
        national_code=who.national_code,
        mobile=who.mobile,
        channels=frozenset({"sms"}),
        subject_fa="کد ورود پنجره",
        # The code stays in ASCII digits (phones offer it to the form as typed); the sentence is Persian.
        body_fa=(
            f"کد ورود شما به پنجره ملی: {code}\n"
            f"این کد تا {to_persian_digits(str(minutes))} دقیقه معتبر است. آن را به کسی ندهید."
        ),
        kind="identity.login_code",
        expires_at=attempt.expires_at,
    )
    return StartedLogin(
        attempt.id, binding, mask_mobile(who.typed_mobile), attempt.expires_at, who.person is not None
    )


def _account_key(national_code: str, mobile: str) -> str:
    """Whose failures are counted: the national code, or the mobile when only an unknown one was given."""
    return national_code or f"mobile:{mobile}"


def start_login(
    session: Session,
    settings: Settings,
    counters: LoginLimits,
    registries: RegistrationChecks,
    *,
    national_code: str | None,
    mobile: str | None,
    ip: str,
    today: date | None = None,
) -> StartedLogin:
    """Count the start, identify the citizen, send the code (the web layer runs the steps separately)."""
    count_login_start(counters, ip)
    who = identify(session, counters, registries, national_code=national_code, mobile=mobile, today=today)
    return send_code(session, settings, counters, who, ip=ip)


def _code_hash(settings: Settings, attempt_id: str, code: str) -> str:
    return keyed_hash(settings.secret_key, "login-code", f"{attempt_id}:{code}")


def get_attempt(
    session: Session, attempt_id: str, binding: str | None, *, lock: bool = False
) -> LoginAttempt:
    """The attempt, only for the browser holding its binding; `lock` holds its row until the transaction
    ends, so that concurrent guesses at its code are checked and counted one after the other."""
    attempt = None
    if attempt_id:
        statement = select(LoginAttempt).where(LoginAttempt.id == attempt_id)
        if lock:
            # Read afresh under the lock: a copy loaded earlier in this session may be stale.
            statement = statement.with_for_update().execution_options(populate_existing=True)
        attempt = session.scalars(statement).one_or_none()
    if attempt is None or not binding or not hmac.compare_digest(attempt.binding_hash, sha256_hex(binding)):
        raise AttemptNotFound()
    return attempt


@dataclass(frozen=True)
class CodeEntry:
    """One code a browser sent for a login attempt, and where it came from (for the login events)."""

    attempt_id: str
    binding: str | None
    code: str
    ip: str = ""
    user_agent: str = ""


def _open_step(
    session: Session, counters: LoginLimits, entry: CodeEntry, *, sms_verified: bool
) -> tuple[LoginAttempt, datetime, str]:
    """The attempt a code is for, with the time and the account key: still open, at this step (SMS code
    checked or not yet), not voided and its account not locked out; otherwise the refusal is raised."""
    # Locked: parallel wrong guesses must not all read the same count (at most 5 per attempt).
    attempt = get_attempt(session, entry.attempt_id, entry.binding, lock=True)
    now = utcnow()
    at_step = (attempt.code_verified_at is not None) == sms_verified
    if not at_step or attempt.completed_at is not None or now >= attempt.expires_at:
        raise CodeExpired()
    # A voided attempt says so first (a new code is needed), whatever the account's back-off.
    if attempt.failed_count >= policy.MAX_WRONG_CODES_PER_ATTEMPT:
        raise TooManyWrongCodes()
    account = _account_key(attempt.national_code, attempt.mobile)
    check_not_locked(counters.failures, account)
    return attempt, now, account


def _wrong_code(
    session: Session,
    counters: LoginLimits,
    attempt: LoginAttempt,
    failures: str,
    method: str,
    entry: CodeEntry,
) -> VerifyOutcome:
    """Count a wrong code on the attempt and against ``failures`` (the back-off key); returned, not
    raised, so the count is committed."""
    attempt.failed_count += 1
    record_failure(counters.failures, failures)
    _log_event(session, attempt.national_code, "failure", method, entry.ip, entry.user_agent)
    session.flush()
    return VerifyOutcome("wrong", remaining=policy.MAX_WRONG_CODES_PER_ATTEMPT - attempt.failed_count)


def _completed(
    session: Session,
    counters: LoginLimits,
    attempt: LoginAttempt,
    now: datetime,
    method: str,
    entry: CodeEntry,
) -> None:
    """Close the attempt as signed in: the account's failures forgotten, the success logged."""
    attempt.completed_at = now
    counters.failures.reset(f"fail:{attempt.national_code}")
    _log_event(session, attempt.national_code, "success", method, entry.ip, entry.user_agent)
    session.flush()


def verify_code(
    session: Session, settings: Settings, counters: LoginLimits, entry: CodeEntry
) -> VerifyOutcome:
    """Check the SMS code; a wrong code is counted and returned (not raised) so the count is committed."""
    attempt, now, account = _open_step(session, counters, entry, sms_verified=False)
    given = fold_digits(entry.code or "").strip()
    if not hmac.compare_digest(attempt.code_hash, _code_hash(settings, attempt.id, given)):
        return _wrong_code(session, counters, attempt, account, "sms", entry)
    attempt.code_verified_at = now
    citizen = _citizen_for(session, attempt)
    if citizen.has_second_factor:
        session.flush()
        return VerifyOutcome("second_factor", citizen=citizen)
    _completed(session, counters, attempt, now, "sms", entry)
    return VerifyOutcome("ok", citizen=citizen)


def _citizen_for(session: Session, attempt: LoginAttempt) -> Citizen:
    """The citizen of a verified attempt; a registration creates (or refreshes) them only now."""
    citizen = selectors.get_citizen_by_national_code(session, attempt.national_code)
    if attempt.purpose == "register":
        data = attempt.registry_data or {}
        fields = {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "father_name": data.get("father_name", ""),
            "gender": data.get("gender", ""),
            "birth_date": date.fromisoformat(data["birth_date"]),
            "mobile": attempt.mobile,
            "registry_checked_at": attempt.created_at,
        }
        if citizen is None:
            citizen = Citizen(national_code=attempt.national_code, **fields)
            session.add(citizen)
        else:
            for name, value in fields.items():
                setattr(citizen, name, value)
        session.flush()
    if citizen is None:
        raise AttemptNotFound()
    return citizen


def verify_second_factor(
    session: Session, settings: Settings, counters: LoginLimits, entry: CodeEntry
) -> VerifyOutcome:
    """The TOTP step after a correct SMS code, on the same attempt and browser."""
    attempt, now, _ = _open_step(session, counters, entry, sms_verified=True)
    citizen = _citizen_for(session, attempt)
    if not check_totp(session, settings, citizen, entry.code):
        return _wrong_code(session, counters, attempt, attempt.national_code, "otp", entry)
    _completed(session, counters, attempt, now, "sms+otp", entry)
    return VerifyOutcome("ok", citizen=citizen, level=levels.LEVEL_TWO_FACTOR, amr=("sms", "otp", "mfa"))


def check_totp(session: Session, settings: Settings, citizen: Citizen, code: str) -> bool:
    """A fresh TOTP code of the citizen's enrolled authenticator (each code is accepted once)."""
    # Locked and read afresh: two requests carrying the same code must not both see it unused.
    session.refresh(citizen, with_for_update=True)
    if not citizen.totp_secret or citizen.totp_enabled_at is None:
        return False
    secret = fernet(settings.secret_key, "totp").decrypt(citizen.totp_secret.encode()).decode()
    step = totp.matching_step(secret, fold_digits(code or ""), after_step=citizen.totp_last_step)
    if step is None:
        return False
    citizen.totp_last_step = step
    session.flush()
    return True


def begin_totp_enrolment(session: Session, settings: Settings, citizen: Citizen) -> str:
    """A new secret for the citizen to scan; it is not in force until a code from it is confirmed."""
    secret = totp.new_secret()
    citizen.totp_secret = fernet(settings.secret_key, "totp").encrypt(secret.encode()).decode()
    citizen.totp_enabled_at = None
    citizen.totp_last_step = None
    session.flush()
    return secret


def pending_totp_secret(settings: Settings, citizen: Citizen) -> str | None:
    if not citizen.totp_secret:
        return None
    return fernet(settings.secret_key, "totp").decrypt(citizen.totp_secret.encode()).decode()


def confirm_totp_enrolment(session: Session, settings: Settings, citizen: Citizen, code: str) -> None:
    """Turn the second factor on once the citizen proves the app shows the right codes."""
    secret = pending_totp_secret(settings, citizen)
    step = totp.matching_step(secret, code, after_step=None) if secret else None
    if step is None:
        raise SecondFactorInvalid()
    citizen.totp_enabled_at = utcnow()
    citizen.totp_last_step = step
    session.flush()


def disable_totp(session: Session, citizen: Citizen) -> None:
    citizen.totp_secret = None
    citizen.totp_enabled_at = None
    citizen.totp_last_step = None
    session.flush()


def _log_event(session: Session, national_code: str, outcome: str, method: str, ip: str, ua: str) -> None:
    session.add(
        LoginEvent(
            national_code=national_code, outcome=outcome, method=method, ip=ip[:64], user_agent=ua[:300]
        )
    )


def latest_attempt(session: Session, national_code: str) -> LoginAttempt | None:
    """The newest attempt for a national code (tests and support tools)."""
    return session.scalars(
        select(LoginAttempt)
        .where(LoginAttempt.national_code == national_code)
        .order_by(LoginAttempt.created_at.desc())
    ).first()
