"""The exchange's own settings (PANJEREH_EXCHANGE_*): log, timeouts, circuit breaker, rate limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExchangeSettings(BaseSettings):
    """Operator settings of the gateway and its message log."""

    model_config = SettingsConfigDict(env_prefix="PANJEREH_EXCHANGE_", extra="ignore")

    # auto: entries are written in batches by a writer thread, except where every session shares one
    # connection (the test harness): there they are written before the call returns.
    log_mode: Literal["auto", "background", "inline"] = "auto"
    log_batch_size: int = Field(default=500, ge=1)
    log_flush_ms: int = Field(default=50, ge=1)
    log_queue_max: int = Field(default=100_000, ge=100)
    # Bodies are not stored unless configured; their SHA-256 digests always are.
    store_bodies: bool = False
    seal_every_seconds: int = Field(default=60, ge=1)
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
