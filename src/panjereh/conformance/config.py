"""Settings of the connection standard (PANJEREH_CONFORMANCE_*): schedule, thresholds, probes."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConformanceSettings(BaseSettings):
    """How often agencies are checked, how many probes, and when a status moves."""

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
