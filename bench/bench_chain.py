"""The message log's hash with the sandbox flag: what an entry costs to chain, against the payload as it
was before the flag (the same fields, no flag element), measured in one run, interleaved rounds.

The flag is hashed only when true (exchange/chain.py), so a production entry's payload is the old one; the
figure to watch is the ratio of the new `entry_hash` to that old payload's hashing, for a production and
for a sandbox entry. Each round takes the best of three timings of 20,000 hashes; a few seconds in all.

    .venv/bin/python bench/bench_chain.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import timeit
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panjereh.exchange.chain import CHAIN_FIELDS, FLAG_FIELDS, _canonical, entry_hash  # noqa: E402

PREV = "0" * 64
BEFORE_THE_FLAG = tuple(name for name in CHAIN_FIELDS if name not in FLAG_FIELDS)


def hash_before_the_flag(prev_hash: str, fields: dict[str, Any]) -> str:
    """`entry_hash` as it was before the sandbox flag existed."""
    payload = [prev_hash, *(_canonical(fields.get(name)) for name in BEFORE_THE_FLAG)]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def fields(sandbox: bool) -> dict[str, Any]:
    return {
        "message_id": uuid.uuid4().hex,
        "at": datetime.now(UTC),
        "client_agency_code": "tax",
        "client_id": "tax-system",
        "service_code": "civil-registry.person",
        "provider_agency_code": "nocr",
        "subject": "0499370899",
        "purpose": "tax-audit",
        "case_ref": None,
        "method": "GET",
        "path": "/persons/0499370899",
        "status": 200,
        "outcome": "ok",
        "duration_ms": 3.5,
        "request_digest": "a" * 64,
        "response_digest": "b" * 64,
        "sandbox": sandbox,
    }


def micros(call: Any, number: int = 20_000) -> float:
    return min(timeit.repeat(call, number=number, repeat=3)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    production, sandbox = fields(False), fields(True)
    assert entry_hash(PREV, production) == hash_before_the_flag(PREV, production)  # unchanged format
    assert entry_hash(PREV, sandbox) != hash_before_the_flag(PREV, sandbox)
    before, after, flagged = [], [], []
    for _ in range(args.rounds):
        before.append(micros(lambda: hash_before_the_flag(PREV, production)))
        after.append(micros(lambda: entry_hash(PREV, production)))
        flagged.append(micros(lambda: entry_hash(PREV, sandbox)))
    base = min(before)
    print(f"before the flag      {base:6.2f} µs/entry")
    print(f"production entry     {min(after):6.2f} µs/entry   ratio {min(after) / base:.3f}")
    print(f"sandbox entry        {min(flagged):6.2f} µs/entry   ratio {min(flagged) / base:.3f}")


if __name__ == "__main__":
    main()
