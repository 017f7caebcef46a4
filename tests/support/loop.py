"""Catch database work done on an event loop: it stalls every other request the process is serving."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements_on_an_event_loop(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run, while the block runs, on a thread that is running an asyncio loop."""
    seen: list[str] = []

    def check(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: where sync database work belongs
            return
        seen.append(statement.split("\n", 1)[0][:120])

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", check)
