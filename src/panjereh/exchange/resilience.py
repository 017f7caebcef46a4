"""Per-provider circuit breakers (in-process; each worker keeps its own)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    probing: bool = False


class CircuitBreaker:
    """Opens after N consecutive failures of a provider; after a cool-down one probe call may pass."""

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, failures: int, cooldown_seconds: float) -> None:
        self.threshold = failures
        self.cooldown = cooldown_seconds
        self._circuits: dict[str, _Circuit] = {}
        self._lock = threading.Lock()

    def state(self, key: str) -> str:
        circuit = self._circuits.get(key)
        if circuit is None or circuit.opened_at is None:
            return self.CLOSED
        if time.monotonic() - circuit.opened_at >= self.cooldown:
            return self.HALF_OPEN
        return self.OPEN

    def allow(self, key: str) -> bool:
        """May a call to this provider go out now?"""
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None or circuit.opened_at is None:
                return True
            if time.monotonic() - circuit.opened_at < self.cooldown or circuit.probing:
                return False
            circuit.probing = True  # exactly one probe while half open
            return True

    def record(self, key: str, success: bool) -> None:
        """Count the outcome of a call that went out."""
        with self._lock:
            circuit = self._circuits.setdefault(key, _Circuit())
            circuit.probing = False
            if success:
                circuit.failures = 0
                circuit.opened_at = None
                return
            circuit.failures += 1
            if circuit.opened_at is not None or circuit.failures >= self.threshold:
                circuit.opened_at = time.monotonic()

    def reset(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._circuits.clear()
            else:
                self._circuits.pop(key, None)
