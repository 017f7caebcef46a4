"""Reads of the OIDC provider's registered clients, for its admin API, its CLI and the connection standard."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.oidc.models import OidcClient


def list_clients(session: Session) -> Sequence[OidcClient]:
    """Every registered client (disabled ones included), by client id."""
    return session.scalars(select(OidcClient).order_by(OidcClient.client_id)).all()
