"""`panjereh documents …`: revoke a document, rotate the signing key, print the published keys, verify."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from panjereh.core.config import Settings
from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.core.errors import ProblemError
from panjereh.core.keys import KeyConfigurationError
from panjereh.documents import keys as signing_keys
from panjereh.documents.selectors import get_document
from panjereh.documents.service import revoke_document
from panjereh.documents.verification import verify_text

app = typer.Typer(help="Issued documents: revocation, signing keys, verification.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def revoke(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="The document number (dashes and Persian digits are fine)."),
    reason: str = typer.Option(..., "--reason", help="Why the document no longer stands (shown at /verify)."),
    agency: str | None = typer.Option(
        None, "--agency", help="The revoking agency's code; must be the issuer (default: the issuer)."
    ),
) -> None:
    """Revoke a document on behalf of its issuing agency; /verify reports it revoked at once."""
    try:
        with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
            document = get_document(session, number)
            revoke_document(
                session, document.number, agency_code=agency or document.issuer_agency_code, reason=reason
            )
    except ProblemError as error:
        console.print(f"[red]{error.title_en}[/red] {error.detail_en or ''}")
        raise typer.Exit(1) from error
    console.print(f"[green]revoked {document.number}[/green] ({document.issuer_agency_code}): {reason}")


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Start signing with a new key; the old keys stay published so documents already issued verify."""
    settings: Settings = ctx.obj
    try:
        ring = signing_keys.rotate(settings)
    except KeyConfigurationError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"[green]signing with {ring.active_kid}[/green]; published: {len(ring.published)} keys")


@app.command("keys")
def show_keys(ctx: typer.Context) -> None:
    """Print the published JWK Set (the same as GET /api/v1/documents/keys)."""
    settings: Settings = ctx.obj
    typer.echo(json.dumps(signing_keys.load_keyring(settings).jwks(), indent=2))


@app.command()
def verify(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="A payload, a /verify link or a document number."),
) -> None:
    """Verify a document as /verify does; exit status 0 only when it is valid."""
    settings: Settings = ctx.obj
    with unit_of_work(settings_sessionmaker(settings)) as session:
        result = verify_text(session, settings, text)
    typer.echo(f"{result.status.value}: {result.reason_en} ({result.reason_code})")
    if not result.valid:
        raise typer.Exit(1)
