"""`panjereh exchange …`: verify and seal the message log, archive it, register agency clients."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from joserfc.jwk import ECKey
from rich.console import Console

from panjereh.agencies import selectors as agency_selectors
from panjereh.core.config import Settings
from panjereh.core.db import settings_sessionmaker, unit_of_work, utcnow
from panjereh.exchange import selectors, service
from panjereh.exchange.findings import Finding, VerifyReport
from panjereh.exchange.messagelog import seal_and_witness
from panjereh.exchange.mirror import append_mirror, compare_with_witness, fetch_heads
from panjereh.exchange.retention import archive_before
from panjereh.exchange.signing import load_signer
from panjereh.exchange.timestamps import load_roots, roots_path, stamp_witness
from panjereh.exchange.verify import verify_log
from panjereh.exchange.witness import Witness, lines_of, witness_for
from panjereh.exchange.witness_check import WitnessSource

app = typer.Typer(help="The exchange: message log, grants and agency clients.", no_args_is_help=True)
console = Console(stderr=True)


def _witness(settings: Settings) -> Witness:
    return witness_for(settings.home, settings.exchange.witness_file, load_signer(settings.home))


def print_report(report: VerifyReport, title: str) -> None:
    for finding in report.findings:
        console.print(f"[red]{finding.kind:9}[/red] seq {finding.seq}: {finding.detail}")
    span = f"{report.first_seq}–{report.last_seq}" if report.checked else "empty"
    status = "[green]intact[/green]" if report.ok else f"[red]{len(report.findings)} problem(s)[/red]"
    console.print(
        f"{title} {status}: {report.checked} entries ({span}), {report.archived_checked} archived "
        f"in {report.archive_files} file(s), {report.seals_checked} seals checked"
    )
    unsealed = max(0, (report.last_seq or 0) - report.witnessed_through)
    console.print(
        f"witness: {report.witness_lines} lines, {report.witnessed_seals} seals, heads up to entry "
        f"{report.witnessed_through} (unsealed after it: {unsealed}), "
        f"{report.unwitnessed_seals} seal(s) not yet witnessed; {report.timestamps_checked} time-stamp(s) "
        f"verified, lines up to {report.stamped_through} time-stamped"
    )


def _source(
    settings: Settings, witness: Witness, lines: Iterable[dict[str, Any]], name: str
) -> WitnessSource:
    return WitnessSource(lines, name, load_roots(roots_path(settings, witness)))


@app.command("verify-log")
def verify_log_command(
    ctx: typer.Context,
    archive_dir: Path = typer.Option(
        None, help="Archive folder (default: PANJEREH_EXCHANGE_ARCHIVE_DIR or $HOME/archive)."
    ),
    witness_file: Path = typer.Option(
        None, "--witness", help="Witness file (default: PANJEREH_EXCHANGE_WITNESS_FILE or $HOME/witness/…)."
    ),
) -> None:
    """Check the hash chain, its archive files and the signed seals, and the database against the witness
    file; name every changed, removed, reordered, rewritten or truncated entry."""
    report = check_message_log(ctx.obj, archive_dir, witness_file)
    print_report(report, "message log")
    if not report.ok:
        raise typer.Exit(1)


def check_message_log(
    settings: Settings, archive_dir: Path | None = None, witness_file: Path | None = None
) -> VerifyReport:
    """`verify-log`'s check of the settings' message log (`panjereh restore` runs it on its restore)."""
    folder = archive_dir or settings.exchange.archive_dir or settings.home / "archive"
    witness = _witness(settings)
    path = witness_file or witness.path
    source = _source(settings, witness, lines_of(path), path.name)
    with unit_of_work(settings_sessionmaker(settings), writes=False) as session:
        report = verify_log(session, load_signer(settings.home), archive_dir=folder, witness=source)
        if not path.exists() and report.seals_checked:
            report.findings.append(
                Finding(
                    0, "witness", f"no witness file at {path} ({report.seals_checked} seals in the database)"
                )
            )
    return report


@app.command("check-mirror")
def check_mirror_command(
    ctx: typer.Context,
    mirror: str = typer.Argument(
        ..., help="A mirror of the heads: a file of witness lines, or the heads URL."
    ),
) -> None:
    """Check a third party's mirror of the heads against the database and against the witness file."""
    settings: Settings = ctx.obj
    witness = _witness(settings)
    if mirror.startswith(("http://", "https://")):
        lines = list(fetch_heads(mirror))
    else:
        lines = list(lines_of(Path(mirror)))
    source = _source(settings, witness, lines, "mirror")
    with unit_of_work(settings_sessionmaker(settings), writes=False) as session:
        report = verify_log(session, load_signer(settings.home), witness=source)
    report.findings.extend(compare_with_witness(lines, witness))
    print_report(report, "message log against the mirror:")
    if not report.ok:
        raise typer.Exit(1)


@app.command("mirror-heads")
def mirror_heads_command(
    url: str = typer.Argument(..., help="The heads endpoint, e.g. https://…/api/v1/exchange/log/heads."),
    to: Path = typer.Argument(..., help="The mirror file (lines are appended after those it has)."),
) -> None:
    """Copy new witness lines from a platform's heads endpoint to a mirror file (what a third party runs)."""
    have = sum(1 for _ in lines_of(to))
    added = append_mirror(to, fetch_heads(url, after=have))
    console.print(f"mirror {to}: {have + added} lines ({added} new)")


@app.command("seal")
def seal_command(ctx: typer.Context) -> None:
    """Sign the chain head now and witness it (the writer and a job also seal periodically)."""
    settings: Settings = ctx.obj
    seal = seal_and_witness(settings_sessionmaker(settings), load_signer(settings.home), _witness(settings))
    console.print(f"sealed at seq {seal.seq}" if seal else "nothing to seal")


@app.command("timestamp")
def timestamp_command(ctx: typer.Context) -> None:
    """Get a time-stamp from the TSA over the newest witnessed head now (a job also does this)."""
    settings: Settings = ctx.obj
    if not settings.exchange.tsa_url:
        console.print("no TSA configured (PANJEREH_EXCHANGE_TSA_URL)")
        raise typer.Exit(1)
    console.print("time-stamped" if stamp_witness(settings, _witness(settings)) else "nothing time-stamped")


@app.command("trace")
def trace_command(
    ctx: typer.Context,
    trace_or_message_id: str = typer.Argument(..., help="A W3C trace id (32 hex) or a message id."),
) -> None:
    """The message-log entries of a trace, or a message's entry with its trace id (tracing.md)."""
    with unit_of_work(settings_sessionmaker(ctx.obj), writes=False) as session:
        entries = selectors.log_entries_of(session, trace_or_message_id)
        for entry in entries:
            typer.echo(
                f"seq {entry.seq}  {entry.at:%Y-%m-%dT%H:%M:%S.%fZ}  message {entry.message_id}  "
                f"trace {entry.trace_id or '-'}  {entry.client_id} → {entry.service_code}  "
                f"{entry.status} {entry.outcome}"
            )
    if not entries:
        console.print(f"no message-log entry for {trace_or_message_id[:64]!r}")
        raise typer.Exit(1)


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
    sandbox: bool = typer.Option(False, help="A sandbox client: sandbox grants, test personas only."),
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
            sandbox=sandbox,
        )
        service.add_client_key(session, client, key.as_dict(private=False))
    key_out.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    key_out.chmod(0o600)
    where = " (sandbox)" if sandbox else ""
    console.print(f"client {client_id} of {agency}{where}; key {key.kid} written to {key_out}")
