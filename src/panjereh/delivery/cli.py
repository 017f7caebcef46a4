"""Definitions commands: check files, import them into the store (published), export the store to files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.core.errors import ProblemError
from panjereh.delivery import definitions as defs
from panjereh.delivery import engine, loading, selectors, store

app = typer.Typer(help="Smart services: definitions, their checks, import and export.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("check")
def check(
    source: Annotated[
        Path, typer.Argument(help="a folder of definitions or one <slug>.yaml")
    ] = defs.DEFINITIONS_DIR,
) -> None:
    """Validate definition files and run their test cases on the real rules engine (fails on any error)."""
    failed = 0
    for item in store.read_files(source):
        derivation = defs.derive_maturity(item.definition)
        results = engine.run_test_cases(item)
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        mark = "[green]ok[/green]" if not bad else "[red]FAIL[/red]"
        flags = ",".join(derivation.flags) or "-"
        console.print(f"{mark} {item.slug}: level {derivation.level}, {len(results)} cases, flags {flags}")
        for result in bad:
            console.print(f"    {result.name}: expected {result.expected}, got {result.actual}")
    if failed:
        raise typer.Exit(1)


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="a folder of definitions or one <slug>.yaml")],
    by: Annotated[str, typer.Option(help="who imports (recorded as import:<by>)")] = "cli",
) -> None:
    """Validate definition files and publish each as its service's new version (unchanged ones are kept)."""
    items = store.read_files(source)
    failed = [item.slug for item in items if not all(r.passed for r in engine.run_test_cases(item))]
    if failed:
        console.print(f"[red]test cases fail: {', '.join(failed)} (see `panjereh definitions check`)[/red]")
        raise typer.Exit(1)
    try:
        with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
            result = store.import_loaded(session, items, by=by)
            published = [f"{r.slug} v{r.version}" for r in result.published]
    except ProblemError as error:  # a grant missing, a slug of another agency: nothing was imported
        # Escaped: the detail names titles and codes, and a "[" in one would be read as Rich markup.
        console.print(f"[red]{escape(error.title_en)}[/red] {escape(error.detail_en or '')}")
        raise typer.Exit(1) from error
    console.print(f"[green]{len(published)} published, {len(result.unchanged)} unchanged[/green]")
    for line in published:
        console.print(f"  {line}")


@app.command("export")
def export(
    ctx: typer.Context,
    slugs: Annotated[list[str], typer.Argument(help="services (their published versions), then the folder")],
    all_: Annotated[bool, typer.Option("--all", help="every published version")] = False,
) -> None:
    """`export SLUG... DIR` or `export --all DIR`: published versions as files (what `import` reads back)."""
    *slug, folder = slugs
    target = Path(folder)
    if bool(slug) == all_:
        console.print("[red]name the services or --all (not both), then the folder[/red]")
        raise typer.Exit(2)
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        records = (
            list(selectors.published_definitions(session))
            if all_
            else [selectors.published_definition(session, s) for s in slug]
        )
        for record in records:
            store.export_record(record, target)
    console.print(f"[green]{len(records)} definitions exported to {target}[/green]")


@app.command("load")
def load(ctx: typer.Context) -> None:
    """Import the shipped definitions (the demo's import set), published."""
    try:
        with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
            records = loading.sync_definitions(session, settings=ctx.obj)
    except ProblemError as error:  # in production, a grant not yet approved: nothing was loaded
        console.print(f"[red]{escape(error.title_en)}[/red] {escape(error.detail_en or '')}")
        raise typer.Exit(1) from error
    console.print(f"[green]{len(records)} definitions loaded[/green]")
