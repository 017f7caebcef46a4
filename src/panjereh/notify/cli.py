"""`panjereh notify …`: the operator's view of SMS and e-mail that did not reach citizens."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.notify import selectors
from panjereh.notify.models import Notification, NotificationStatus

app = typer.Typer(help="Notifications: SMS and e-mail that failed, and how many are in each status.")
console = Console()


def mask(recipient: str) -> str:
    """A recipient as an operator sees it: enough to tell two apart, not enough to contact anyone."""
    if "@" in recipient:
        local, _at, host = recipient.partition("@")
        return f"{local[:1]}***@{host}"
    return f"{recipient[:4]}****{recipient[-3:]}" if len(recipient) > 7 else "****"


def _row(item: Notification) -> dict[str, object]:
    return {
        "id": item.id,
        "created_at": item.created_at.isoformat(),
        "failed_at": item.failed_at.isoformat() if item.failed_at else None,
        "channel": item.channel,
        "recipient": mask(item.recipient),
        "kind": item.kind,
        "provider": item.provider,
        "attempts": item.attempts,
        "reason": item.last_error,
    }


@app.command()
def failures(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, max=10_000, help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """SMS and e-mail that failed (refused, out of attempts, expired or reported undelivered), with why."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        rows = [
            _row(item)
            for item in selectors.notifications(session, status=NotificationStatus.FAILED, limit=limit)
        ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("failed at", "channel", "to", "kind", "provider", "attempts", "reason")
    for row in rows:
        table.add_row(
            str(row["failed_at"] or row["created_at"])[:19],
            str(row["channel"]),
            str(row["recipient"]),
            str(row["kind"]),
            str(row["provider"] or ""),
            str(row["attempts"]),
            str(row["reason"] or "")[:120],
        )
    console.print(table)
    console.print(f"{len(rows)} failed")


@app.command()
def status(ctx: typer.Context) -> None:
    """How many SMS and e-mail are in each status."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        counts = selectors.status_counts(session)
    for (channel, state), count in sorted(counts.items()):
        typer.echo(f"{channel}\t{state}\t{count}")
