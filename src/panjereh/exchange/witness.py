"""The witness file: the message log's seal heads written outside the database, as a signed chain of lines.

Whoever can write the database can delete seal rows, change entries and recompute the chain and its
head; they cannot take back what was already written here. Each line is one JSON object in canonical
form (keys sorted, no spaces, UTF-8) that names the previous line's SHA-256, so the file is a chain of its
own, and is signed with the log's Ed25519 key. A line is appended with O_APPEND under an exclusive lock
and fsynced before the lock is let go. `docs/protocols/message-log.md` describes the format.

Two kinds of line:

- `seal`: a seal of the database (`seal` its id, `seq` and `head` the chain head it signed, `at`, and the
  seal's own key id and signature, so a mirror can check the seal without the database);
- `timestamp`: an RFC 3161 time-stamp token over an earlier line's hash (`covers`, `covers_hash`); since
  each line names the one before it, one token dates every line up to the one it covers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.exchange.chain import canonical_time, seal_message
from panjereh.exchange.models import LogSeal
from panjereh.exchange.signing import LogSigner

FORMAT = "panjereh-witness/1"
GENESIS = "0" * 64
WITNESS_FILE = Path("witness") / "exchange-log.jsonl"  # under PANJEREH_HOME unless configured
_TAIL_CHUNK = 65536


def canonical(line: dict[str, Any]) -> bytes:
    """A line's bytes: sorted keys, no spaces, UTF-8 (what the file holds and what is hashed)."""
    return json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def line_hash(line: dict[str, Any]) -> str:
    """The SHA-256 (hex) of a whole line, signature included: what the next line's `prev` names."""
    return hashlib.sha256(canonical(line)).hexdigest()


def signed_bytes(line: dict[str, Any]) -> bytes:
    """What a line's signature covers: the line without its `sig`."""
    return canonical({name: value for name, value in line.items() if name != "sig"})


@dataclass(frozen=True)
class Tail:
    """What an append needs from the end of the file."""

    n: int = 0  # the last line's number (0: the file is empty)
    prev: str = GENESIS  # the last line's hash
    last_seq: int = 0  # the newest witnessed head's entry number
    last_seal_line: int = 0  # the line that witnessed it (0: no seal line yet)
    # The newest line a time-stamp covers, read back to the newest seal line only: 0 when no time-stamp
    # came after that seal (whatever came before), which is all an append needs to know.
    stamped_line: int = 0
    last_seal_body: dict[str, Any] | None = None  # the newest seal line itself (what a time-stamp covers)


def _parse_tail(data: bytes, *, partial_first: bool) -> Tail:
    lines = data.split(b"\n")
    if partial_first:
        lines = lines[1:]
    n, prev, last_seq, last_seal_line, stamped = 0, GENESIS, 0, 0, 0
    body: dict[str, Any] | None = None
    for raw in reversed([line for line in lines if line.strip()]):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not n:
            n, prev = int(line["n"]), line_hash(line)
        if line.get("kind") == "seal" and not last_seal_line:
            last_seq, last_seal_line, body = int(line["seq"]), int(line["n"]), line
        if line.get("kind") == "timestamp" and not stamped:
            stamped = int(line["covers"])
        if last_seal_line:
            break
    return Tail(n, prev, last_seq, last_seal_line, stamped, body)


def _read_tail(fd: int) -> Tail:
    """The end of the file, read backwards until the newest seal line (appends never read the whole file)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return Tail()
    chunk = _TAIL_CHUNK
    while True:
        start = max(0, size - chunk)
        tail = _parse_tail(os.pread(fd, size - start, start), partial_first=start > 0)
        if start == 0 or tail.last_seal_line:
            return tail
        chunk *= 4


@dataclass(frozen=True)
class Witness:
    """The witness file at `path`, its lines signed by `signer` (the log's sealing key ring)."""

    path: Path
    signer: LogSigner

    @contextmanager
    def _locked(self) -> Iterator[int]:
        fresh = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing lets the lock go
        if fresh:  # the new file's name must survive a crash as well as its lines
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _append(self, fd: int, tail: Tail, lines: list[dict[str, Any]]) -> Tail:
        n, prev = tail.n, tail.prev
        data = bytearray()
        signer = self.signer.pinned()
        for body in lines:
            n += 1
            unsigned: dict[str, Any] = {**body, "n": n, "prev": prev}

            def message(key_id: str, unsigned: dict[str, Any] = unsigned) -> bytes:
                return signed_bytes({**unsigned, "key": key_id})

            key_id, signature = signer.sign_naming_key(message)
            line = {**unsigned, "key": key_id, "sig": signature}
            data += canonical(line) + b"\n"
            prev = line_hash(line)
        if data:
            os.write(fd, bytes(data))  # one write: O_APPEND puts it whole at the end
            os.fsync(fd)
        return Tail(n, prev)  # (the rest is not needed after an append)

    def tail(self) -> Tail:
        """The end of the file as it stands (an empty Tail when there is no file yet)."""
        if not self.path.exists():
            return Tail()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return _read_tail(fd)
        finally:
            os.close(fd)

    def witness_seals(self, session: Session) -> int:
        """Append every committed seal over a head newer than the newest witnessed one; returns how many.

        Call it after the seals' transaction has committed: a line for a seal that was then rolled back
        would name a head the log never had. Seals are made under the head's lock, each over a later
        head than the one before, so they commit in the order of their `seq`, and "newer than the newest
        witnessed head" leaves none out. Going by `seq` rather than by row id also means a seal row
        copied under a higher id by someone who can write the database is not witnessed twice, nor can it
        hide the real seals after it; a seal whose signature does not verify is not witnessed at all.
        """
        with self._locked() as fd:
            tail = _read_tail(fd)
            seals = session.scalars(
                select(LogSeal).where(LogSeal.seq > tail.last_seq).order_by(LogSeal.seq, LogSeal.id)
            ).all()
            chosen: list[LogSeal] = []
            signer = self.signer.pinned()
            for seal in seals:
                if chosen and seal.seq == chosen[-1].seq:
                    continue
                if signer.verify(
                    seal.key_id, seal_message(seal.seq, seal.head_hash, seal.sealed_at), seal.signature
                ):
                    chosen.append(seal)
            self._append(fd, tail, [seal_line(seal) for seal in chosen])
        return len(chosen)

    def add_timestamp(self, covers: dict[str, Any], tsa: str, token: str) -> None:
        """Append a time-stamp token (base64 DER TimeStampResp) over the line `covers`."""
        with self._locked() as fd:
            tail = _read_tail(fd)
            if tail.stamped_line >= int(covers["n"]):
                return  # another process stamped it (or a later line) meanwhile
            body = {
                "kind": "timestamp",
                "covers": int(covers["n"]),
                "covers_hash": line_hash(covers),
                "tsa": tsa,
                "token": token,
            }
            self._append(fd, tail, [body])

    def line(self, n: int) -> dict[str, Any] | None:
        """Line `n` (counting from 1), or None."""
        for line in self.lines(after=n - 1, limit=1):
            return line
        return None

    def lines(self, after: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The lines after line `after`, parsed (see `lines_of`)."""
        return lines_of(self.path, after, limit)


def lines_of(path: Path, after: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The lines of a witness file or mirror after line `after`, parsed; none when there is no file."""
    if not path.exists():
        return
    given = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= after:
                continue
            if limit is not None and given >= limit:
                return
            given += 1
            yield parse_line(raw, number)


def parse_line(raw: bytes | str, number: int) -> dict[str, Any]:
    """One line of a witness file or mirror; an unreadable one is {"n": number, "unreadable": text}."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        line = json.loads(text)
    except ValueError:
        return {"n": number, "unreadable": text.rstrip("\n")[:200]}
    return line if isinstance(line, dict) else {"n": number, "unreadable": text.rstrip("\n")[:200]}


def seal_line(seal: LogSeal) -> dict[str, Any]:
    """A seal as the witness writes it (before its number, link and signature)."""
    return {
        "kind": "seal",
        "seal": seal.id,
        "seq": seal.seq,
        "head": seal.head_hash,
        "at": canonical_time(seal.sealed_at),
        "seal_key": seal.key_id,
        "seal_sig": seal.signature,
    }


def witness_for(home: Path, configured: Path | None, signer: LogSigner) -> Witness:
    """The witness file a process uses: the configured path, else PANJEREH_HOME/witness/exchange-log.jsonl."""
    return Witness(configured or home / WITNESS_FILE, signer)
