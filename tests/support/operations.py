"""The operators' side of the test application: the /metrics bearer token."""

from __future__ import annotations

METRICS_TOKEN = "test-metrics-token"  # noqa: S105 — the test settings' own
METRICS_AUTH = {"authorization": f"Bearer {METRICS_TOKEN}"}
