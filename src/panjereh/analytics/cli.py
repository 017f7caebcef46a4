"""`panjereh report …` and `panjereh analytics …`: reports, rollups, measured shares, the national load."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import typer
from rich.console import Console

from panjereh.analytics import national, reports, rollups, selectors, sources
from panjereh.analytics.exceptions import MandateYearUnknown
from panjereh.analytics.mandates import load_mandate
from panjereh.core.config import Settings
from panjereh.core.db import settings_sessionmaker, unit_of_work

report_app = typer.Typer(help="Reports of the national dashboard.", no_args_is_help=True)
analytics_app = typer.Typer(help="Analytics jobs: rollups, measured shares, the national-scale load.")
console = Console(stderr=True)


@report_app.command("mandates")
def report_mandates(
    ctx: typer.Context,
    year: int = typer.Option(..., "--year", help="Fiscal (Jalali) year, e.g. 1402."),
    fmt: str = typer.Option("table", "--format", help="table, csv, json or xlsx."),
    output: str = typer.Option(
        None, "--output", "-o", help="Write to this file (xlsx goes to stdout if not)."
    ),
) -> None:
    """Every agency against the budget-law duties of a fiscal year: met or not, and by how much."""
    if fmt not in reports.FORMATS:
        console.print(f"[red]--format must be one of {', '.join(reports.FORMATS)}[/red]")
        raise typer.Exit(2)
    try:
        load_mandate(year)
    except MandateYearUnknown as exc:
        console.print(f"[red]{exc.detail_fa}\n{exc.detail_en}[/red]")
        raise typer.Exit(2) from None
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        body = reports.render_mandates(selectors.mandate_report(session, year), fmt)
    if output:
        mode = "wb" if isinstance(body, bytes) else "w"
        with open(output, mode) as handle:
            handle.write(body)
        console.print(f"written {output}")
    elif isinstance(body, bytes):
        sys.stdout.buffer.write(body)
    else:
        sys.stdout.write(body)


@analytics_app.command("rollup")
def rollup(ctx: typer.Context, year: int = typer.Option(None), month: int = typer.Option(None)) -> None:
    """Roll up raw visits: one Jalali month, or (default) the last two days and their months."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        if year and month:
            rollups.rollup_month(session, year, month)
        else:
            rollups.rollup_recent(session, datetime.now(UTC).date())
    console.print("[green]rolled up[/green]")


@analytics_app.command("measure")
def measure(ctx: typer.Context) -> None:
    """Store this month's measured shares from the catalog, the exchange, delivery and agencies."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        result = sources.refresh_measured_shares(session)
    console.print(f"{result.rows} figures for {result.period}")


@analytics_app.command("load-national")
def load_national(
    ctx: typer.Context,
    fraction: float = typer.Option(
        1.0, help="Share of the national size (0.01 = 350,000 users, 800,000 visits)."
    ),
) -> None:
    """The national month at any fraction, into PostgreSQL (what `seed --scale national` runs at 1.0)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    plan = national.NATIONAL.scaled(fraction)
    settings: Settings = ctx.obj
    with Progress(
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("national month (users + visits)", total=plan.total)
        with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
            national.seed_national(session, settings, lambda n: progress.advance(task, n), plan)
