"""`panjereh oidc ...`: register agency apps as clients, rotate signing keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from panjereh.core.db import settings_sessionmaker, unit_of_work, utcnow
from panjereh.core.errors import ProblemError
from panjereh.core.keys import KeyConfigurationError
from panjereh.oidc import clients, keys, selectors

app = typer.Typer(
    help="The OpenID Connect provider: clients (agency apps) and signing keys.", no_args_is_help=True
)
client_app = typer.Typer(help="Agency apps registered as OIDC clients.", no_args_is_help=True)
keys_app = typer.Typer(help="ID-token signing keys.", no_args_is_help=True)
app.add_typer(client_app, name="client")
app.add_typer(keys_app, name="keys")
console = Console()
USAGE_ERROR = 2  # as click's own usage errors


@contextmanager
def one_line_errors() -> Iterator[None]:
    """An operator's mistake (a bad URI, a duplicate or unknown client, an unreadable file) is one line on
    stderr and exit status 2, not a traceback."""
    try:
        yield
    except ProblemError as exc:
        message: Any = exc.detail_en or exc.title_en
    except (OSError, ValueError, KeyConfigurationError) as exc:  # json.JSONDecodeError is a ValueError
        message = str(exc) or type(exc).__name__
    except SQLAlchemyError as exc:
        message = f"database: {str(exc).splitlines()[0]}"
    else:
        return
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


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
    application_type: str = typer.Option(
        "web", "--application-type", help="web, or native (a mobile or desktop app, RFC 8252)"
    ),
    public: bool = typer.Option(False, "--public", help="A native app without a secret (PKCE only)"),
    backchannel_logout_uri: str | None = typer.Option(
        None, "--backchannel-logout-uri", help="Where logout tokens are POSTed (back-channel logout)"
    ),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="A sandbox app: it signs in the test personas only"
    ),
    attribute_purpose: list[str] = typer.Option(
        [],
        "--attribute-purpose",
        help="SCOPE=REASON for each verified attribute in --scope (address, education, vehicles, "
        "properties, insurance); the reason is shown to the citizen. Approved at once: this is the operator",
    ),
) -> None:
    """Register a client; the secret is printed once (only its hash is kept)."""
    if public:
        auth_method = "none"
    with one_line_errors(), unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        jwks = json.loads(jwks_file.read_text()) if jwks_file else None
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
            application_type=application_type,
            backchannel_logout_uri=backchannel_logout_uri,
            sandbox=sandbox,
            attribute_purposes=dict(item.partition("=")[::2] for item in attribute_purpose),
            approve_attributes=True,
        )
        described = clients.describe(client)
    if secret:
        described["client_secret"] = secret
    typer.echo(json.dumps(described, ensure_ascii=False, indent=2))


@client_app.command("list")
def list_(ctx: typer.Context) -> None:
    """Registered clients."""
    with one_line_errors(), unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        rows = [clients.describe(client) for client in selectors.list_clients(session)]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))


@client_app.command("disable")
def disable(ctx: typer.Context, client_id: str) -> None:
    """Disable a client: its tokens stop working."""
    with one_line_errors(), unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        clients.disable(session, client_id)
    console.print(f"disabled {client_id}")


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    now: bool = typer.Option(
        False, "--now", help="Sign with the new key at once (only when the current one is compromised)"
    ),
) -> None:
    """Publish a new signing key; it signs once the JWKS cache time has passed, so relying parties have it
    first. The previous key stays in the JWKS for verification."""
    with one_line_errors():
        ring = keys.rotate(ctx.obj, publish_ahead=None if now else keys.PUBLISH_AHEAD)
    new = ring.entries[0]
    if new.signs_from is not None and new.signs_from > utcnow():
        console.print(f"published key {new.key.kid}; it signs from {new.signs_from:%Y-%m-%d %H:%M:%S} UTC")
    else:
        console.print(f"active key {ring.active_kid}")


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Signing keys, newest first: active (signs now), published (signs later), retired (verifies only)."""
    with one_line_errors():
        ring = keys.load_keyring(ctx.obj)
    active, moment = ring.active, utcnow()
    for entry in ring.entries:
        if entry.key is active:
            status = "active"
        elif entry.signs_from is not None and entry.signs_from > moment:
            status = f"published (signs from {entry.signs_from:%Y-%m-%d %H:%M:%S} UTC)"
        else:
            status = "retired"
        created = f"{entry.created_at:%Y-%m-%d %H:%M}" if entry.created_at else "-"
        typer.echo(f"{entry.key.kid}\t{status}\t{created}")
