"""`panjereh exchange …`: verify and seal the message log, archive it, register agency clients."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import typer
from joserfc.jwk import ECKey
from rich.console import Console

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.config import Settings
from panjereh.core.db import settings_sessionmaker, unit_of_work, utcnow
from panjereh.exchange import service
from panjereh.exchange.messagelog import seal_head
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer
from panjereh.exchange.verify import verify_log

app = typer.Typer(help="The exchange: message log, grants and agency clients.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("verify-log")
def verify_log_command(
    ctx: typer.Context,
    archive_dir: Path = typer.Option(
        None, help="Archive folder (default: PANJEREH_EXCHANGE_ARCHIVE_DIR or $HOME/archive)."
    ),
) -> None:
    """Check the hash chain, its archive files and the signed seals; name every changed, removed or
    reordered entry."""
    settings: Settings = ctx.obj
    folder = archive_dir or settings.exchange.archive_dir or settings.home / "archive"
    with unit_of_work(settings_sessionmaker(settings)) as session:
        report = verify_log(session, load_signer(settings.home), archive_dir=folder)
    for finding in report.findings:
        console.print(f"[red]{finding.kind:9}[/red] seq {finding.seq}: {finding.detail}")
    span = f"{report.first_seq}–{report.last_seq}" if report.checked else "empty"
    status = "[green]intact[/green]" if report.ok else f"[red]{len(report.findings)} problem(s)[/red]"
    console.print(
        f"message log {status}: {report.checked} entries ({span}), {report.archived_checked} archived "
        f"in {report.archive_files} file(s), {report.seals_checked} seals checked"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command("seal")
def seal_command(ctx: typer.Context) -> None:
    """Sign the chain head now (the writer also seals periodically)."""
    settings: Settings = ctx.obj
    with unit_of_work(settings_sessionmaker(settings)) as session:
        seal = seal_head(session, load_signer(settings.home))
    console.print(f"sealed at seq {seal.seq}" if seal else "nothing to seal")


@app.command("archive")
def archive_command(
    ctx: typer.Context,
    older_than_days: int = typer.Option(None, help="Default: PANJEREH_EXCHANGE_RETENTION_DAYS."),
    to: Path = typer.Option(None, help="Folder (default: PANJEREH_EXCHANGE_ARCHIVE_DIR or $HOME/archive)."),
) -> None:
    """Move log entries past retention to a JSON-lines archive; the chain stays verifiable."""
    settings: Settings = ctx.obj
    config = settings.exchange
    days = older_than_days if older_than_days is not None else config.retention_days
    folder = to or config.archive_dir or settings.home / "archive"
    with unit_of_work(settings_sessionmaker(settings)) as session:
        moved = archive_before(session, utcnow() - timedelta(days=days), folder)
    console.print(f"archived {moved} entries to {folder}")


@app.command("new-client")
def new_client_command(
    ctx: typer.Context,
    agency: str = typer.Argument(..., help="The agency code, e.g. tax."),
    client_id: str = typer.Option(..., help="The client id the agency system will use."),
    key_out: Path = typer.Option(..., help="Where to write the new private key (JWK, keep it secret)."),
    rate: int = typer.Option(200, help="Calls a second allowed."),
) -> None:
    """Register an agency system as a client, with a fresh P-256 key pair (the private half to a file)."""
    key = ECKey.generate_key("P-256", parameters={"kid": f"{client_id}-{utcnow():%Y%m%d%H%M%S}"})
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        client = service.register_client(
            session,
            agency_selectors.get_agency_by_code(session, agency),
            client_id=client_id,
            name=f"{agency} system",
            rate_per_second=rate,
        )
        service.add_client_key(session, client, key.as_dict(private=False))
    key_out.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    key_out.chmod(0o600)
    console.print(f"client {client_id} of {agency}; key {key.kid} written to {key_out}")
