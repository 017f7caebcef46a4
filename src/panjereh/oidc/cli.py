"""`panjereh oidc ...`: register agency apps as clients, rotate signing keys."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.oidc import clients, keys, selectors

app = typer.Typer(
    help="The OpenID Connect provider: clients (agency apps) and signing keys.", no_args_is_help=True
)
client_app = typer.Typer(help="Agency apps registered as OIDC clients.", no_args_is_help=True)
keys_app = typer.Typer(help="ID-token signing keys.", no_args_is_help=True)
app.add_typer(client_app, name="client")
app.add_typer(keys_app, name="keys")
console = Console()


@client_app.command("add")
def add(
    ctx: typer.Context,
    client_id: str = typer.Argument(..., help="e.g. my.tax"),
    name_fa: str = typer.Option(..., "--name-fa", help="Persian name on the consent screen"),
    redirect_uri: list[str] = typer.Option(..., "--redirect-uri", help="Exact redirect URI (repeatable)"),
    name_en: str = typer.Option("", "--name-en"),
    agency: str | None = typer.Option(None, "--agency", help="Agency code, e.g. tax"),
    auth_method: str = typer.Option(
        "client_secret_basic", "--auth-method", help=", ".join(clients.AUTH_METHODS)
    ),
    jwks_file: Path | None = typer.Option(None, "--jwks-file", help="Public JWKS (private_key_jwt)"),
    post_logout_redirect_uri: list[str] = typer.Option([], "--post-logout-redirect-uri"),
    pairwise: bool = typer.Option(False, "--pairwise", help="Pairwise subject identifiers"),
    sector: str | None = typer.Option(None, "--sector", help="Sector identifier for pairwise subjects"),
    scope: str = typer.Option("openid profile national_code phone offline_access", "--scope"),
    min_level: int = typer.Option(1, "--min-level", help="Minimum assurance level (1 or 2)"),
) -> None:
    """Register a client; the secret is printed once (only its hash is kept)."""
    jwks = json.loads(jwks_file.read_text()) if jwks_file else None
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        client, secret = clients.register(
            session,
            client_id=client_id,
            name_fa=name_fa,
            name_en=name_en,
            agency_code=agency,
            redirect_uris=redirect_uri,
            token_endpoint_auth_method=auth_method,
            jwks=jwks,
            post_logout_redirect_uris=post_logout_redirect_uri,
            subject_type="pairwise" if pairwise else "public",
            sector_identifier=sector,
            scopes=scope.split(),
            min_level=min_level,
        )
        described = clients.describe(client)
    if secret:
        described["client_secret"] = secret
    typer.echo(json.dumps(described, ensure_ascii=False, indent=2))


@client_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Registered clients."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        rows = [clients.describe(client) for client in selectors.list_clients(session)]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))


@client_app.command("disable")
def disable(ctx: typer.Context, client_id: str) -> None:
    """Disable a client: its tokens stop working."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        clients.disable(session, client_id)
    console.print(f"disabled {client_id}")


@keys_app.command("rotate")
def rotate(ctx: typer.Context) -> None:
    """Make a new signing key; the previous one is retired but stays in the JWKS for verification."""
    console.print(f"active key {keys.rotate(ctx.obj).active_kid}")


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Signing keys, newest first."""
    ring = keys.load_keyring(ctx.obj)
    for entry in ring.entries:
        status = "active" if entry.key is ring.active else "retired"
        created = f"{entry.created_at:%Y-%m-%d %H:%M}" if entry.created_at else "-"
        typer.echo(f"{entry.key.kid}\t{status}\t{created}")
