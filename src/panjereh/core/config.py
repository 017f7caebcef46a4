"""Typed settings read from PANJEREH_* environment variables: one object with a section per domain that
has settings of its own, built once at the process's edge and passed from there."""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-change-me"  # noqa: S105 — a known placeholder, refused outside development
PLACEHOLDER_REGISTRY_TOKEN = "dev-registry-token"  # noqa: S105
REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET_FILE = "secret.key"  # noqa: S105 — a file name, under `home`: development's own random secret, made on first run


def _section(prefix: str) -> SettingsConfigDict:
    """How every settings section reads the environment. An error's text never echoes the input: pydantic
    would otherwise print its start (the whole environment section for a model check), and a refused
    PANJEREH_SECRET_KEY or SMTP password would end up in a terminal or a log. (`ValidationError.errors()`
    still carries the input: print the messages, as `panjereh serve` does, or `errors(include_input=False)`.
    Our own messages name a path or a proxy address at most, never a secret.)"""
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", hide_input_in_errors=True)


class ExchangeSettings(BaseSettings):
    """The exchange's section (PANJEREH_EXCHANGE_*): the gateway, its timeouts, circuit breaker, rate
    limits, and its message log."""

    model_config = _section("PANJEREH_EXCHANGE_")

    # auto: entries are written in batches by a writer thread, except where every session shares one
    # connection (the test harness): there they are written before the call returns.
    log_mode: Literal["auto", "background", "inline"] = "auto"
    log_batch_size: int = Field(default=500, ge=1)
    log_flush_ms: int = Field(default=50, ge=1)
    log_queue_max: int = Field(default=100_000, ge=100)
    # Bodies are not stored unless configured; their SHA-256 digests always are.
    store_bodies: bool = False
    # The unsealed window: the newest entries are sealed (and the seal witnessed) at least this often.
    seal_every_seconds: int = Field(default=60, ge=1)
    # The witness file (default PANJEREH_HOME/witness/exchange-log.jsonl): seal heads outside the database.
    witness_file: Path | None = None
    # An RFC 3161 time-stamping authority for the witness file's heads; none: no time-stamps.
    tsa_url: str | None = None
    # The TSA's root certificate(s), PEM; unset: fetched from `<tsa_url>/certificate` once and pinned.
    tsa_certificate: Path | None = None
    timestamp_every_seconds: int = Field(default=300, ge=1)
    retention_days: int = Field(default=3650, ge=1)
    archive_dir: Path | None = None
    connect_timeout_ms: int = Field(default=1000, ge=1)
    default_timeout_ms: int = Field(default=5000, ge=1)
    get_retries: int = Field(default=1, ge=0, le=3)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=10.0, gt=0)
    default_rate_per_second: int = Field(default=200, ge=1)
    token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    max_connections: int = Field(default=200, ge=1)


class ConformanceSettings(BaseSettings):
    """The connection standard's section (PANJEREH_CONFORMANCE_*): how often agencies are checked, how
    many probes, and when a status moves."""

    model_config = _section("PANJEREH_CONFORMANCE_")

    interval_minutes: int = Field(
        default=60, ge=1, description="An agency is due again this long after its last run"
    )
    fail_threshold: int = Field(
        default=2, ge=1, description="Failing runs in a row before connected → standard_lost"
    )
    unreachable_threshold: int = Field(
        default=2, ge=1, description="Unreachable runs in a row before the agency is disconnected"
    )
    recover_threshold: int = Field(
        default=1, ge=1, description="Passing runs in a row before the agency is connected"
    )
    latency_objective_ms: float = Field(
        default=800.0, gt=0, description="The p95 a system must answer within"
    )
    latency_probes: int = Field(default=10, ge=1, le=200, description="Probes behind the p95")
    timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of each probe")
    concurrency: int = Field(default=8, ge=1, description="Systems probed at the same time")
    manual_cooldown_seconds: int = Field(
        default=60,
        ge=0,
        description="A run on demand from the workspace is refused (429) this soon after the last run",
    )
    demo_pass: bool = Field(
        default=True, description="`panjereh demo` runs one pass a few seconds after start-up"
    )


class BodyLimitSettings(BaseSettings):
    """Request body limits in bytes per route family (PANJEREH_MAX_BODY_*), enforced as the body arrives
    (core.bodies): the JSON API (any body not a form), urlencoded forms, multipart, the exchange gateway."""

    model_config = _section("PANJEREH_MAX_BODY_")

    api: int = Field(default=1024 * 1024, ge=1024, description="Any body that is not a form (the JSON API)")
    form: int = Field(default=256 * 1024, ge=1024, description="application/x-www-form-urlencoded")
    upload: int = Field(default=10 * 1024 * 1024, ge=1024, description="multipart/form-data")
    exchange: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="The exchange gateway, /exchange/v1/"
    )


class NotifySettings(BaseSettings):
    """Notifications' section (PANJEREH_NOTIFY_*): which provider carries each channel, and theirs.

    `outbox` (the development file, nothing leaves the machine) is the default of both channels; a
    deployment names `kavenegar` for SMS and `smtp` for e-mail, with the secrets below.
    """

    model_config = _section("PANJEREH_NOTIFY_")

    # The default of both channels (kept from before the channels were split).
    provider: Literal["outbox"] = "outbox"
    sms_provider: Literal["outbox", "kavenegar"] | None = Field(
        default=None, description="What carries SMS; unset: `provider`"
    )
    email_provider: Literal["outbox", "smtp"] | None = Field(
        default=None, description="What carries e-mail; unset: `provider`"
    )
    # Kavenegar (notify.providers.KavenegarSms): the account's API key is a secret; the sender is the
    # account's dedicated line. The URL is Kavenegar's own unless pointed at a compatible endpoint (the
    # simulated gateway under the registries, `/sms-gateway`).
    kavenegar_api_key: str | None = Field(default=None, repr=False)
    kavenegar_sender: str | None = None
    kavenegar_url: str = "https://api.kavenegar.com"
    kavenegar_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # The secret in the delivery-report callback's path (POST /api/v1/notify/kavenegar/delivery/<secret>),
    # the address set in Kavenegar's panel: Kavenegar signs nothing, so knowing the path is the proof.
    # Unset: no callback endpoint; delivery is polled only.
    kavenegar_callback_secret: str | None = Field(default=None, repr=False, min_length=32, max_length=200)
    # SMTP (notify.providers.SmtpEmail): `starttls` upgrades a plain connection (port 587), `tls` is
    # implicit TLS (port 465), `none` only for a relay on the same host or network, and in production
    # only without a login (Settings._refuse_a_plain_text_smtp_login).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    # The CA bundle (PEM) a relay's certificate is checked against, instead of the system's: a relay with
    # a certificate from the organisation's own CA. Verification itself is never switched off.
    smtp_ca_file: Path | None = None
    email_from: str = "Panjereh <no-reply@panjereh.example>"
    # An SMS longer than this many parts is shortened (its full text is in the inbox, behind the link).
    sms_max_parts: int = Field(default=3, ge=1, le=10)
    # How often sent SMS are asked about their delivery (the provider's status API), and for how long.
    delivery_poll_seconds: float = Field(default=60.0, gt=0)
    delivery_poll_hours: int = Field(default=72, ge=1)

    @model_validator(mode="after")
    def _kavenegar_needs_its_account(self) -> NotifySettings:
        if self.sms == "kavenegar" and not (self.kavenegar_api_key and self.kavenegar_sender):
            raise ValueError(
                "PANJEREH_NOTIFY_SMS_PROVIDER=kavenegar needs PANJEREH_NOTIFY_KAVENEGAR_API_KEY and "
                "PANJEREH_NOTIFY_KAVENEGAR_SENDER"
            )
        return self

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file_is_readable(cls, value: Path | None) -> Path | None:
        # Fail fast: a bundle that cannot be read would fail every e-mail's attempts, one by one, later.
        if value is not None:
            try:
                with value.open("rb"):
                    pass
            except OSError as exc:
                raise ValueError(
                    f"PANJEREH_NOTIFY_SMTP_CA_FILE={value}: not a readable file ({exc.strerror})"
                ) from None
        return value

    @property
    def sms(self) -> str:
        return self.sms_provider or self.provider

    @property
    def email(self) -> str:
        return self.email_provider or self.provider


class Settings(BaseSettings):
    """Everything an operator can set; read once per process, passed explicitly after that."""

    model_config = _section("PANJEREH_")

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "panjereh:"
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    # The address citizens reach the portal at: every link in an SMS or e-mail is made absolute from it
    # (and it is the OIDC issuer). Required outside development.
    public_url: str | None = None
    # Unset: the local registries on `registries_port` (so setting only the port moves both).
    registries_url: str = "http://127.0.0.1:8100"
    registries_port: int = 8100
    registry_token: str = PLACEHOLDER_REGISTRY_TOKEN
    assets_dir: Path = REPO_ROOT / "node_modules"
    log_level: str = "INFO"
    log_json: bool = True
    default_locale: Literal["fa", "en"] = "fa"
    db_echo: bool = False
    # OpenTelemetry tracing (core/otel.py): FastAPI's server spans, aiohttp/httpx client spans and
    # SQLAlchemy's database spans, exported as the OTEL_* variables say. Off by default: /metrics and the
    # JSON logs are the platform's own, and FastAPI otherwise asks the global providers on every request
    # (~2% of the gateway's CPU, profiled).
    opentelemetry: bool = False
    sql_pool_size: int = Field(default=10, ge=1)
    # A JWK Set of private P-256 keys, the first one signing (documents); unset: keys under `home`.
    documents_signing_keys: str | None = Field(default=None, repr=False)
    # The same for the OIDC provider's RS256 keys: several hosts sign with one ring (or share the folder).
    oidc_signing_keys: str | None = Field(default=None, repr=False)
    otp_ttl_seconds: int = Field(default=300, ge=30, le=600)  # NIST SP 800-63B: at most 10 minutes
    oidc_admin_token: str | None = None  # bearer token of the OIDC client-registration API (unset: API off)
    inprocess_worker: bool = False  # run the job worker inside the web process (the embedded demo)
    # `panjereh serve`: web processes (uvicorn workers) beside the supervisor; 1 serves in-process.
    web_workers: int = Field(default=1, ge=1)
    # Seconds a web process may take to answer the supervisor's health ping, from its start (importing
    # the application on a busy machine took ~4-6 s; uvicorn's own 5 s killed workers before they served)
    # and while it runs (a process silent this long is killed and replaced).
    worker_startup_timeout: int = Field(default=60, ge=1)
    # Seconds a stopping process (SIGTERM) gives work in flight: the web process drains its requests,
    # then a job worker lets running jobs finish and gives the rest back to the queue at once.
    graceful_timeout: int = Field(default=30, ge=0)
    # A job worker touches this file every few seconds while its loop turns (unset: never): the liveness
    # probe of a worker, which serves no HTTP, reads its age (deploy/k8s/worker.yaml).
    worker_heartbeat_file: Path | None = None
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR networks, comma
    # separated); from anyone else those headers are ignored, so a client cannot choose its own address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Public document verifications (page and API) per client address per minute.
    verify_per_minute: int = Field(default=30, ge=1)
    # Openings of shared documents (/shared/{token} and its API) per client address per minute.
    share_opens_per_minute: int = Field(default=30, ge=1)
    # The OIDC userinfo endpoint (oidc.ratelimit): calls a minute per client and per client and citizen
    # (each call with verified attributes asks the registries and writes the citizen's ledger), and how
    # long the attributes released to one access token are kept (oidc.release_cache; 0: not kept; never
    # past the token's own expiry).
    oidc_userinfo_per_minute: int = Field(default=3000, ge=1)
    oidc_userinfo_per_citizen_per_minute: int = Field(default=30, ge=1)
    oidc_userinfo_cache_seconds: int = Field(default=300, ge=0, le=600)
    # Ratings and problem reports a citizen may send per hour (each counted on its own).
    feedback_per_hour: int = Field(default=20, ge=1)
    # The fewest ratings an average is shown from (service card, scorecard): fewer say "not enough ratings".
    feedback_min_ratings: int = Field(default=5, ge=1)
    # Bearer token of /metrics. Unset: /metrics is off, except in development, where it is derived from
    # the secret (`panjereh demo` prints it).
    metrics_token: str | None = Field(default=None, repr=False)
    # The switch to `__Host-` cookie names (core.cookies): while on, production still reads a session
    # cookie under its old bare name. On for the deployment that brings the prefix, off again once the
    # longest session (24 hours, identity.policy) has passed: a bare name is what a sibling host can plant.
    legacy_session_cookie: bool = False
    # A request the platform itself works on (submitted, processing, waiting) this long after it was
    # submitted goes to people (delivery.service.hand_to_people); the sweep looks this often. The bound
    # is past the longest run of retries (25 attempts, back-off capped at 5 minutes: about 85 minutes).
    delivery_stuck_after_seconds: int = Field(default=4 * 3600, ge=60)
    delivery_sweep_every_seconds: float = Field(default=300.0, gt=0)
    # How many days after an automatic refusal the citizen may still ask a human to review it
    # (delivery.service.request_review). Until then the refusal is not final, so a fee paid for the
    # request is refunded only after this window (payments' sweep) unless an officer refuses it sooner.
    review_window_days: int = Field(default=14, ge=1, le=365)
    # Payments (payments.providers): which payment provider carries a fee; `ipg-simulated` is the
    # registries' simulated internet payment gateway (Shaparak-style token, callback, verify, settle).
    payment_provider: Literal["ipg-simulated"] = "ipg-simulated"
    # The gateway's server-to-server base URL; unset: `<registries_url>/ipg`. The citizen's browser is sent
    # to `payment_public_gateway_url` (unset: the same) for the payment page.
    payment_gateway_url: str | None = None
    payment_public_gateway_url: str | None = None
    payment_merchant_id: str = Field(default="panjereh-ito", min_length=1, max_length=40)
    # How long one server-to-server call to the gateway may take (token, verify, settle, reverse, report).
    payment_gateway_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A payment the gateway reported paid (or a token the citizen took to the gateway) that is not verified
    # and settled within this many seconds is reversed by the sweep (payments.sweep, run this often); a
    # settled payment whose request was then refused is refunded by the same sweep.
    payment_verify_timeout_seconds: int = Field(default=20 * 60, ge=60)
    payment_sweep_every_seconds: float = Field(default=60.0, gt=0)
    # The reconciliation against the gateway's daily report (payments.reconcile), by default daily.
    payment_reconcile_every_seconds: float = Field(default=86400.0, gt=0)
    # Sections, each read from its own prefix (PANJEREH_EXCHANGE_*, PANJEREH_CONFORMANCE_*,
    # PANJEREH_MAX_BODY_*, PANJEREH_NOTIFY_*).
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    conformance: ConformanceSettings = Field(default_factory=ConformanceSettings)
    max_body: BodyLimitSettings = Field(default_factory=BodyLimitSettings)
    # What carries SMS and e-mail out (notify.providers), PANJEREH_NOTIFY_*.
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_from_a_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        # Fail fast: uvicorn takes a malformed entry for a literal host name and trusts nobody by it.
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"PANJEREH_TRUSTED_PROXIES: {item!r} is not an address or network") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, value: str | None) -> str | None:
        if value is not None and not (
            value.startswith(("https://", "http://")) and "?" not in value and "#" not in value
        ):
            raise ValueError("PANJEREH_PUBLIC_URL must be an http(s) address without query or fragment")
        return value

    @model_validator(mode="after")
    def _registries_url_follows_the_port(self) -> Settings:
        if "registries_url" not in self.model_fields_set:
            self.registries_url = f"http://127.0.0.1:{self.registries_port}"
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        # Only a developer's own machine may run on the published placeholders: a test or staging
        # deployment that is reachable would otherwise sign sessions with a key anyone can read.
        if self.env != "development":
            if self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    f"PANJEREH_SECRET_KEY must be a real secret of 32+ characters outside development "
                    f"(PANJEREH_ENV={self.env})"
                )
            if self.registry_token == PLACEHOLDER_REGISTRY_TOKEN:
                raise ValueError(
                    f"PANJEREH_REGISTRY_TOKEN must not be the development placeholder outside development "
                    f"(PANJEREH_ENV={self.env})"
                )
            if not self.public_url:
                raise ValueError(
                    f"PANJEREH_PUBLIC_URL must be set outside development: links in SMS and e-mail are "
                    f"absolute (PANJEREH_ENV={self.env})"
                )
        return self

    @model_validator(mode="after")
    def _refuse_a_plain_text_smtp_login(self) -> Settings:
        # `none` is for a relay on the same host or network that asks no login: a user and password sent
        # over a plain connection can be read (and reused) by anyone on the path. Development and the
        # tests talk to a local relay on loopback, so they may.
        notify = self.notify
        if (
            self.env not in ("development", "test")
            and notify.smtp_security == "none"
            and (notify.smtp_user or notify.smtp_password)
        ):
            raise ValueError(
                "PANJEREH_NOTIFY_SMTP_SECURITY=none would send PANJEREH_NOTIFY_SMTP_USER and _PASSWORD in "
                f"plain text: use starttls or tls, or a relay that needs no login (PANJEREH_ENV={self.env})"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or an SQLite file under the home folder (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'panjereh.sqlite3').resolve()}"

    @property
    def resolved_payment_gateway_url(self) -> str:
        """The payment gateway's server-to-server address."""
        return (self.payment_gateway_url or f"{self.registries_url.rstrip('/')}/ipg").rstrip("/")

    @property
    def resolved_payment_public_gateway_url(self) -> str:
        """Where the citizen's browser meets the payment gateway."""
        return (self.payment_public_gateway_url or self.resolved_payment_gateway_url).rstrip("/")

    @property
    def base_url(self) -> str:
        """The address users reach the portal at."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def cookies_secure(self) -> bool:
        """Cookies are `Secure` everywhere but local development and tests over plain HTTP."""
        return self.env == "production"

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def resolved_metrics_token(self) -> str | None:
        """The bearer token of /metrics, or None when /metrics is off."""
        if self.metrics_token:
            return self.metrics_token
        if self.is_development:
            # Imported here: the settings are read by `panjereh.cli`, which must stay light (cryptography).
            from panjereh.core.crypto import derive_key

            return derive_key(self.secret_key, "metrics-token", 16).hex()
        return None

    def ensure_home(self) -> Path:
        """Create the home folder (database, outbox, keys) if missing; in development, without a secret
        of its own, use the home's random secret (made on first run, readable by its owner alone)."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.is_development and self.secret_key == PLACEHOLDER_SECRET:
            self.secret_key = home_secret(self.home)
        return self.home


def home_secret(home: Path) -> str:
    """The secret in `home/secret.key`, made with mode 0600 if missing (several processes may race)."""
    path = home / SECRET_FILE
    if not path.exists():
        draft = home / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)  # atomic, and never over another process's secret
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
