"""The article, reproduced at `panjereh demo` start-up: Welfare's system down, one pass of the checks."""

from __future__ import annotations

import threading
import time

import httpx

from panjereh.conformance.constants import RunTrigger
from panjereh.conformance.tasks import RunSummary, run_due_checks
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.core.logging import get_logger

log = get_logger(__name__)

# The State Welfare Organization's registry is down in the demo (as the article found it disconnected).
DEMO_FAULTS = {"welfare": {"down": True}}


def set_demo_faults(settings: Settings) -> None:
    """Switch the demo's faults on in the simulated registries (their admin API, with the registry token)."""
    headers = {"authorization": f"Bearer {settings.registry_token}"}
    for registry, fault in DEMO_FAULTS.items():
        url = f"{settings.registries_url.rstrip('/')}/_admin/faults/{registry}"
        httpx.put(url, json=fault, headers=headers, timeout=5).raise_for_status()


def demo_pass(settings: Settings) -> list[RunSummary]:
    """Set the demo faults and run one pass over every due agency."""
    set_demo_faults(settings)
    engine = make_engine(settings.resolved_database_url)
    try:
        return run_due_checks(make_sessionmaker(engine), settings, trigger=RunTrigger.DEMO)
    finally:
        engine.dispose()


def start_demo_pass(settings: Settings, *, delay_seconds: float = 2.0) -> threading.Thread | None:
    """Run `demo_pass` in a background thread, so the portal starts at once; None when switched off."""
    config = settings.conformance
    if not config.demo_pass:
        return None

    def work() -> None:
        time.sleep(delay_seconds)  # let the portal bind its port first
        try:
            summaries = demo_pass(settings)
            log.info("conformance.demo_pass", agencies=len(summaries))
        except Exception as exc:  # the demo goes on without the pass; the log says why
            log.warning("conformance.demo_pass_failed", error=repr(exc))

    thread = threading.Thread(target=work, name="conformance-demo-pass", daemon=True)
    thread.start()
    return thread
