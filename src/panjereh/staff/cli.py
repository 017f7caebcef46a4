"""`panjereh staff ...`: grant and revoke roles from the command line (the first operator comes from here)."""

from __future__ import annotations

import typer
from rich.console import Console

from panjereh.core.db import settings_sessionmaker, unit_of_work
from panjereh.staff import selectors, service
from panjereh.staff.constants import Role

app = typer.Typer(help="Agency staff and the platform's operators.", no_args_is_help=True)
console = Console()


@app.command("grant")
def grant(
    ctx: typer.Context,
    national_code: str = typer.Argument(..., help="The person's national code"),
    role: Role = typer.Argument(..., help="operator, or a role in an agency"),
    agency: str | None = typer.Option(None, "--agency", help="Agency code (not for operator)"),
) -> None:
    """Give a role (idempotent); recorded in the audit trail as done by `system`."""
    with unit_of_work(settings_sessionmaker(ctx.obj)) as session:
        membership = service.grant(session, national_code, role, agency)
        system = service.StaffContext(service.SYSTEM, "", agency or "", frozenset(), 0)
        service.audit(session, system, "staff.granted", membership.national_code, {"role": role.value})
    console.print(f"{membership.national_code} is {role.value}" + (f" of {agency}" if agency else ""))


@app.command("list")
def list_staff(
    ctx: typer.Context,
    agency: str | None = typer.Option(None, "--agency", help="Agency code; none: operators"),
) -> None:
    """The agency's staff, or the platform's operators."""
    with unit_of_work(settings_sessionmaker(ctx.obj), writes=False) as session:
        rows = selectors.members(session, agency) if agency else selectors.operators(session)
        for row in rows:
            console.print(f"{row.national_code}\t{row.role.value}\t{row.agency_code or '-'}")
