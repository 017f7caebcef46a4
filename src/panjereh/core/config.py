"""Typed settings read from PANJEREH_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "dev-insecure-change-me"  # noqa: S105 — a known placeholder, refused outside development
PLACEHOLDER_REGISTRY_TOKEN = "dev-registry-token"  # noqa: S105
REPO_ROOT = Path(__file__).resolve().parents[3]


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
    otp_ttl_seconds: int = Field(default=300, ge=30, le=600)  # NIST SP 800-63B: at most 10 minutes
    oidc_admin_token: str | None = None  # bearer token of the OIDC client-registration API (unset: API off)
    inprocess_worker: bool = False  # run the delivery job worker inside the web process (the embedded demo)

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

    def ensure_home(self) -> Path:
        """Create the home folder (database, outbox, keys) if missing."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()
