"""FastAPI dependencies shared by every domain's router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from panjereh.core.config import Settings
from panjereh.core.db import unit_of_work


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back when it raises."""
    with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


def get_settings(request: Request) -> Settings:
    """The application's settings (not the process environment: tests build apps with their own)."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens when the handler returns, BEFORE the response is sent, so a
# client that follows a redirect always finds the data, and a failed commit becomes a 500 problem instead
# of a success answer for work that was lost.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
