"""Reads of the OIDC provider's registered clients, for its admin API, its CLI and the connection standard."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.oidc.models import OidcClient


def list_clients(session: Session) -> Sequence[OidcClient]:
    """Every registered client (disabled ones included), by client id."""
    return session.scalars(select(OidcClient).order_by(OidcClient.client_id)).all()


def client_names(session: Session, client_ids: Collection[str]) -> dict[str, tuple[str, str]]:
    """Clients' Persian and English names by id (the ledger names the organisation a release went to)."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(OidcClient.client_id, OidcClient.name_fa, OidcClient.name_en).where(
            OidcClient.client_id.in_(list(client_ids))
        )
    ).all()
    return {client_id: (name_fa, name_en or name_fa) for client_id, name_fa, name_en in rows}
