"""Delivery commands: checking and loading service definitions."""

from __future__ import annotations

import typer
from rich.console import Console

from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.delivery import definitions as defs
from panjereh.delivery import engine, loading

app = typer.Typer(help="Smart services: definitions and their checks.", no_args_is_help=True)
console = Console(stderr=True)


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
def load(ctx: typer.Context) -> None:
    """Store the current definitions in the database and record their derived maturity in the catalog."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        records = loading.sync_definitions(session)
    console.print(f"[green]{len(records)} definitions loaded[/green]")
