"""`panjereh agencies check`: run the connection standard against one agency or all, and print the reasons."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from panjereh.conformance.constants import CheckStatus, RunTrigger, RunVerdict
from panjereh.conformance.runner import AgencyReport
from panjereh.conformance.tasks import RunSummary, all_checked_agencies, run_checks
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.core.errors import ProblemError

app = typer.Typer(help="Agencies: the connection standard and its checks.", no_args_is_help=True)
console = Console()
progress_console = Console(stderr=True)

STATUS_STYLE = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "red",
    CheckStatus.NOT_APPLICABLE: "dim",
    CheckStatus.SKIPPED: "dim",
}


@app.command("check")
def check(
    ctx: typer.Context,
    agency: str = typer.Argument(None, help="The agency's code (e.g. welfare, agri-ivo)."),
    all_agencies: bool = typer.Option(
        False, "--all", help="Check every agency that has a registered system."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="One line per agency, no table of checks."),
) -> None:
    """Run the connection-standard checks now, record the run and print every result with its reason."""
    if bool(agency) == all_agencies:
        console.print("[red]name one agency, or pass --all[/red]")
        raise typer.Exit(2)
    settings: Settings = ctx.obj
    engine = make_engine(settings.resolved_database_url)
    factory = make_sessionmaker(engine)
    codes = all_checked_agencies(factory) if all_agencies else [agency]
    if not codes:
        console.print("no agency has a registered system yet (run `panjereh seed`)")
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=progress_console, transient=True) as progress:
            task = progress.add_task("checking agencies", total=len(codes))

            def done(report: AgencyReport) -> None:
                progress.advance(task)
                progress.update(task, description=f"checked {report.plan.agency_code}")

            summaries = run_checks(
                factory,
                settings,
                codes,
                trigger=RunTrigger.MANUAL,
                on_done=done,
            )
    except ProblemError as exc:
        console.print(f"[red]{exc.title_en}: {exc.detail_en or ''}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    for summary in summaries:
        _print_summary(summary, quiet=quiet)
    failing = sum(_fails(summary) for summary in summaries)
    console.print(f"{len(summaries)} agencies checked, {failing} not meeting the standard")
    if failing:
        raise typer.Exit(1)  # scripts and CI see a failing agency without reading the table


def _fails(summary: RunSummary) -> bool:
    """Whether the agency failed: a failing or unreachable verdict, or any check that failed."""
    return summary.verdict in (RunVerdict.FAILING, RunVerdict.UNREACHABLE) or any(
        finding.outcome.status is CheckStatus.FAIL for finding in summary.findings
    )


def _print_summary(summary: RunSummary, *, quiet: bool) -> None:
    moved = summary.status_before != summary.status_after
    status = (
        f"{summary.status_before.value} → {summary.status_after.value}"
        if moved
        else summary.status_after.value
    )
    console.print(f"[bold]{summary.agency_code}[/bold]: {summary.verdict.value} (status {status})")
    if quiet:
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for column in ("system", "check", "result"):
        table.add_column(column, no_wrap=True)
    # Reasons wrap rather than truncate: a URL or media type cut to "…" would hide the very reason.
    table.add_column("reason", overflow="fold")
    for finding in summary.findings:
        style = STATUS_STYLE[finding.outcome.status]
        table.add_row(
            finding.system_code or "(agency)",
            finding.check_id,
            f"[{style}]{finding.outcome.status.value}[/{style}]",
            finding.outcome.reason_en,
        )
    console.print(table)
