"""The development outbox read as it grows (`PANJEREH_HOME/outbox.jsonl`, one JSON line per message): how
the load test learns the SMS codes it logs in with, as the tests do (tests/identity/helpers.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path


class Outbox:
    """The development outbox read as it grows: the newest login code per mobile."""

    def __init__(self, path: Path, sleep: Callable[[float], object] = time.sleep) -> None:
        self.path = path
        self.sleep = sleep
        self.offset = 0
        self.codes: dict[str, tuple[str, float]] = {}

    def code_for(self, mobile: str, since: float, timeout: float = 20.0) -> str | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._read()
            found = self.codes.get(mobile)
            if found is not None and found[1] >= since:
                return found[0]
            self.sleep(0.1)
        return None

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += end
        for line in chunk[:end].splitlines():
            record = json.loads(line)
            if record.get("kind") == "identity.login_code":
                code = re.search(r"\d{6}", record["body_fa"])
                if code:
                    self.codes[record["to"]] = (code.group(0), time.time())
