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

from panjereh.core.crypto import derive_key

PLACEHOLDER_SECRET = "dev-insecure-change-me"  # noqa: S105 — a known placeholder, refused outside development
PLACEHOLDER_REGISTRY_TOKEN = "dev-registry-token"  # noqa: S105
REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET_FILE = "secret.key"  # noqa: S105 — a file name, under `home`: development's own random secret, made on first run


class ExchangeSettings(BaseSettings):
    """The exchange's section (PANJEREH_EXCHANGE_*): the gateway, its timeouts, circuit breaker, rate
    limits, and its message log."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_EXCHANGE_", extra="ignore")

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

    model_config = SettingsConfigDict(env_prefix="PANJEREH_CONFORMANCE_", extra="ignore")

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
    demo_pass: bool = Field(
        default=True, description="`panjereh demo` runs one pass a few seconds after start-up"
    )


class BodyLimitSettings(BaseSettings):
    """Request body limits in bytes per route family (PANJEREH_MAX_BODY_*), enforced as the body arrives
    (core.bodies): the JSON API (any body not a form), urlencoded forms, multipart, the exchange gateway."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_MAX_BODY_", extra="ignore")

    api: int = Field(default=1024 * 1024, ge=1024, description="Any body that is not a form (the JSON API)")
    form: int = Field(default=256 * 1024, ge=1024, description="application/x-www-form-urlencoded")
    upload: int = Field(default=10 * 1024 * 1024, ge=1024, description="multipart/form-data")
    exchange: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="The exchange gateway, /exchange/v1/"
    )


class Settings(BaseSettings):
    """Everything an operator can set; read once per process, passed explicitly after that."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "panjereh:"
    secret_key: str = PLACEHOLDER_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
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
    # FastAPI's native OpenTelemetry (spans, metrics and logs to the globally configured providers). Off
    # unless an operator configures OpenTelemetry: /metrics and the JSON logs are the platform's own, and
    # FastAPI otherwise asks the global providers on every request (~2% of the gateway's CPU, profiled).
    opentelemetry: bool = False
    sql_pool_size: int = Field(default=10, ge=1)
    # A JWK Set of private P-256 keys, the first one signing (documents); unset: keys under `home`.
    documents_signing_keys: str | None = Field(default=None, repr=False)
    # The same for the OIDC provider's RS256 keys: several hosts sign with one ring (or share the folder).
    oidc_signing_keys: str | None = Field(default=None, repr=False)
    otp_ttl_seconds: int = Field(default=300, ge=30, le=600)  # NIST SP 800-63B: at most 10 minutes
    oidc_admin_token: str | None = None  # bearer token of the OIDC client-registration API (unset: API off)
    inprocess_worker: bool = False  # run the job worker inside the web process (the embedded demo)
    # What carries SMS and e-mail out (notify.providers); `outbox` is the development file, nothing leaves.
    notify_provider: Literal["outbox"] = "outbox"
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR networks, comma
    # separated); from anyone else those headers are ignored, so a client cannot choose its own address.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Public document verifications (page and API) per client address per minute.
    verify_per_minute: int = Field(default=30, ge=1)
    # Bearer token of /metrics. Unset: /metrics is off, except in development, where it is derived from
    # the secret (`panjereh demo` prints it).
    metrics_token: str | None = Field(default=None, repr=False)
    # A request the platform itself works on (submitted, processing, waiting) this long after it was
    # submitted goes to people (delivery.service.hand_to_people); the sweep looks this often. The bound
    # is past the longest run of retries (25 attempts, back-off capped at 5 minutes: about 85 minutes).
    delivery_stuck_after_seconds: int = Field(default=4 * 3600, ge=60)
    delivery_sweep_every_seconds: float = Field(default=300.0, gt=0)
    # Sections, each read from its own prefix (PANJEREH_EXCHANGE_*, PANJEREH_CONFORMANCE_*,
    # PANJEREH_MAX_BODY_*).
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    conformance: ConformanceSettings = Field(default_factory=ConformanceSettings)
    max_body: BodyLimitSettings = Field(default_factory=BodyLimitSettings)

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
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or an SQLite file under the home folder (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'panjereh.sqlite3').resolve()}"

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
