"""Mirrors of the witness file kept by third parties: fetched page by page from the heads endpoint,
appended to a file of their own, and compared with the platform's witness file."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from panjereh.exchange.findings import Finding
from panjereh.exchange.witness import Witness, canonical, line_hash

PAGE = 500


def fetch_heads(url: str, *, after: int = 0, timeout: float = 10.0) -> Iterator[dict[str, Any]]:
    """Every witness line after line `after`, following the endpoint's `next` links."""
    with httpx.Client(timeout=timeout) as client:
        page: str | None = url
        params: dict[str, int] | None = {"after": after, "limit": PAGE}
        while page:
            answer = client.get(page, params=params)
            answer.raise_for_status()
            body = answer.json()
            yield from body["lines"]
            page = urljoin(url, body["next"]) if body.get("next") else None
            params = None  # `next` carries them


def append_mirror(path: Path, lines: Iterable[dict[str, Any]]) -> int:
    """Append lines to a mirror file as the witness writes them (canonical JSON, fsynced); how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(canonical(line) + b"\n" for line in lines)
    if data:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    return data.count(b"\n")


def compare_with_witness(mirrored: Iterable[dict[str, Any]], witness: Witness) -> list[Finding]:
    """What a mirror shows about the platform's own witness file: lines it lost or that were replaced."""
    local = {line.get("n"): line_hash(line) for line in witness.lines()}
    missing: list[int] = []
    replaced: list[int] = []
    for line in mirrored:
        n = line.get("n")
        if not isinstance(n, int):
            continue
        if n not in local:
            missing.append(n)
        elif local[n] != line_hash(line):
            replaced.append(n)
    findings = []
    if missing:
        findings.append(
            Finding(
                0,
                "witness",
                f"the witness file lacks {len(missing)} line(s) the mirror holds, from line {missing[0]}",
            )
        )
    if replaced:
        findings.append(
            Finding(
                0,
                "witness",
                f"{len(replaced)} witness line(s) differ from the mirror's, from line {replaced[0]}",
            )
        )
    return findings
