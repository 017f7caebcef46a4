"""`panjereh catalog …`: import and export service cards."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from panjereh.agencies import selectors as agency_selectors
from panjereh.catalog import selectors, spreadsheet
from panjereh.catalog.exceptions import ImportRejected
from panjereh.core.db import settings_sessionmaker, unit_of_work

app = typer.Typer(
    help="The national service inventory: import and export service cards.", no_args_is_help=True
)
console = Console(stderr=True)


@app.command("import")
def import_cards(
    ctx: typer.Context,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv (UTF-8) or .xlsx file."),
    agency: str = typer.Option(None, "--agency", help="Agency code every row belongs to."),
    actor: str = typer.Option("cli", help="Who is importing (kept on every card version)."),
) -> None:
    """Import service cards; any bad row rejects the whole file (every error is listed)."""
    try:
        with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
            report = spreadsheet.import_file(session, file, agency_code=agency, actor=actor)
    except ImportRejected as rejected:
        table = Table("row", "column", "error", "خطا", title="nothing was imported / هیچ ردیفی وارد نشد")
        for error in rejected.errors:
            table.add_row(str(error["row"]), error["column"], error["message"], error["message_fa"])
        console.print(table)
        raise typer.Exit(1) from None
    console.print(
        f"[green]{report.rows} rows: {report.created} created, {report.changed} changed, "
        f"{report.unchanged} unchanged[/green]"
    )


@app.command("export")
def export_cards(
    ctx: typer.Context,
    output: Path = typer.Argument(Path("services.xlsx"), help="A .csv or .xlsx file to write."),
    agency: str = typer.Option(None, "--agency", help="Only this agency's cards."),
) -> None:
    """Export service cards (all, or one agency's) to CSV or XLSX."""
    if output.suffix.lower() not in spreadsheet.FORMATS:
        console.print("[red]use a .csv or .xlsx file name[/red]")
        raise typer.Exit(2)
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        agency_id = agency_selectors.get_agency_by_code(session, agency).id if agency else None
        count = spreadsheet.export_file(selectors.all_cards(session, agency_id), output)
    console.print(f"[green]{count} cards written to {output}[/green]")
