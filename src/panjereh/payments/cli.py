"""Payments commands: reconcile a day against the gateway's report, sweep unverified and refused payments."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console

from panjereh.core.config import Settings
from panjereh.core.db import settings_sessionmaker, utcnow
from panjereh.payments import providers, tasks

app = typer.Typer(
    help="Payments: reconciliation against the gateway's report, the sweep of unverified payments.",
    no_args_is_help=True,
)
console = Console(stderr=True)


@app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="the UTC day, YYYY-MM-DD (default: yesterday)")] = None,
) -> None:
    """Match one day of the gateway's report against the platform's payments; list the mismatches.

    Exits 1 when the report could not be fetched, 2 when there are mismatches."""
    settings: Settings = ctx.obj
    try:
        chosen = date.fromisoformat(day) if day else (utcnow() - timedelta(days=1)).date()
    except ValueError:
        raise typer.BadParameter(f"not a day: {day!r}", param_hint="--day") from None
    run = tasks.reconcile_day(
        settings_sessionmaker(settings), settings, providers.from_settings(settings), chosen, trigger="manual"
    )
    if run.error:
        console.print(f"[red]the gateway's report could not be fetched:[/red] {run.error}")
        raise typer.Exit(1)
    console.print(
        f"{chosen.isoformat()}: {run.gateway_count} at the gateway, {run.platform_count} here, "
        f"{run.matched} matched, {len(run.mismatches)} mismatches"
    )
    for item in run.mismatches:
        console.print(
            f"  {item.kind.value}: order {item.order_id} gateway {item.gateway_amount}/{item.gateway_state} "
            f"platform {item.platform_amount}/{item.platform_state}"
        )
    if run.mismatches:
        raise typer.Exit(2)


@app.command("sweep")
def sweep(ctx: typer.Context) -> None:
    """Reverse payments not verified in time and refund those whose request was refused (the periodic job)."""
    settings: Settings = ctx.obj
    moved = tasks.sweep(settings_sessionmaker(settings), settings, providers.from_settings(settings))
    console.print(f"{moved} payments moved")
