"""Delivery commands: the job worker, and checking/loading service definitions."""

from __future__ import annotations

import asyncio
import signal

import typer
from rich.console import Console

from panjereh.core.config import get_settings
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
from panjereh.delivery import definitions as defs
from panjereh.delivery import engine, loading, proactive, recurring, tasks
from panjereh.exchange.client import PlatformClient

app = typer.Typer(help="Smart services: definitions and their checks.", no_args_is_help=True)
console = Console(stderr=True)


def worker(
    concurrency: int = typer.Option(16, help="Jobs run at once."),
    lease_seconds: float = typer.Option(
        60.0, help="How long a claimed job is ours before others may resume it."
    ),
    poll_interval: float = typer.Option(0.5, help="Seconds between polls when idle."),
    proactive_feed: bool = typer.Option(True, help="Poll the civil registry's life events."),
) -> None:
    """Run background jobs (requests, proactive services) until stopped; safe to run many at once."""
    settings = get_settings()
    # Each job in flight holds a connection while its registries are asked (see delivery.processing),
    # beside the claims, the message log's writer and the grants listener.
    factory = make_sessionmaker(make_engine(settings.resolved_database_url, pool_size=concurrency + 4))
    client = PlatformClient(settings, factory)
    runner = tasks.make_worker(
        settings,
        factory,
        client,
        concurrency=concurrency,
        lease_seconds=lease_seconds,
        poll_interval=poll_interval,
    )
    with unit_of_work(factory) as session:
        recurring.ensure_periodic(session)
        if proactive_feed:
            proactive.ensure_poller(session)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: runner.stop())
    console.print(f"[green]worker {runner.worker_id} running[/green]")

    async def run() -> None:
        try:
            await runner.run_forever()
        finally:
            await client.aclose()

    asyncio.run(run())
    client.close()


@app.command("check")
def check() -> None:
    """Validate every definition and run its test cases on the real rules engine (fails on any error)."""
    failed = 0
    for slug, item in defs.bundled().items():
        derivation = defs.derive_maturity(item.definition)
        results = engine.run_test_cases(item)
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        mark = "[green]ok[/green]" if not bad else "[red]FAIL[/red]"
        flags = ",".join(derivation.flags) or "-"
        console.print(f"{mark} {slug}: level {derivation.level}, {len(results)} cases, flags {flags}")
        for result in bad:
            console.print(f"    {result.name}: expected {result.expected}, got {result.actual}")
    if failed:
        raise typer.Exit(1)


@app.command("load")
def load() -> None:
    """Store the current definitions in the database and record their derived maturity in the catalog."""
    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.resolved_database_url))
    with unit_of_work(factory) as session:
        records = loading.sync_definitions(session)
    console.print(f"[green]{len(records)} definitions loaded[/green]")
