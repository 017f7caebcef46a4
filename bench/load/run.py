"""The national mix against the whole topology on this machine (bench/load/README.md).

    .venv/bin/python -m bench.load.run up                      # the topology, until Ctrl+C
    .venv/bin/python -m bench.load.run step --rates 5,10,20,30 --seconds 45
    .venv/bin/python -m bench.load.run decisions --count 200   # decisions/s with one and two workers
    .venv/bin/python -m bench.load.run faults --rate 10 --seconds 240

`step` runs Locust headless at each rate of visits in turn and reports, per step, the p95 and p99 of
every HTTP request, the error rate and the smart requests' end-to-end time (apply → decision, from the
database); then the highest rate held with p95 ≤ 1 s and p99 ≤ 2.5 s (GOV.UK One Login's objectives)
and under 1% errors, and how many such machines the article's national peak needs. `faults` holds one
rate while it kills and restarts the pieces, then checks that nothing was lost or done twice.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.load.stack import BIN, PANJEREH, Stack

HERE = Path(__file__).resolve().parent
# The article: 80 M visits a month, a peak of 10× the average (docs/deploy.md § Capacity).
VISITS_PER_MONTH = 80_000_000
PEAK_FACTOR = 10
PEAK_VISITS_PER_SECOND = VISITS_PER_MONTH / (30 * 86_400) * PEAK_FACTOR
P95_MS, P99_MS, MAX_ERRORS = 1000.0, 2500.0, 0.01
# Users start over RAMP_SECONDS (all at once, their first visits and TLS handshakes came as one burst that
# was the load generator's, not the nation's); the first WARMUP_SECONDS of a step are not counted.
RAMP_SECONDS = 10.0
WARMUP_SECONDS = 15.0
VISIT_SECONDS = 8.0  # a visit's longest journey (log in, apply, follow): users = rate × this


@dataclass
class Step:
    rate: float
    seconds: float
    visits_per_second: float
    requests: int
    requests_per_second: float
    p50: float
    p95: float
    p99: float
    errors: float
    e2e_p95_ms: float | None
    e2e_count: int

    @property
    def held(self) -> bool:
        return (
            self.p95 <= P95_MS
            and self.p99 <= P99_MS
            and self.errors < MAX_ERRORS
            and self.visits_per_second >= 0.9 * self.rate
        )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def read_events(path: Path, start: float, end: float) -> list[tuple[float, str, str, float, int]]:
    rows: list[tuple[float, str, str, float, int]] = []
    if not path.exists():
        return rows
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) != 5:
                continue
            at = float(row[0])
            if start <= at <= end:
                rows.append((at, row[1], row[2], float(row[3]), int(row[4])))
    return rows


def locust(stack: Stack, rate: float, seconds: float, events: Path, applies: Path) -> subprocess.Popen[bytes]:
    users = max(10, int(rate * VISIT_SECONDS))
    env = {
        **os.environ,
        "LOAD_WORKDIR": str(stack.workdir),
        "LOAD_VISITS_PER_SECOND": str(rate),
        "LOAD_USERS": str(users),
        "LOAD_EVENTS": str(events),
        "LOAD_APPLIES": str(applies),
        "PYTHONPATH": str(HERE.parents[1]),  # the locustfile imports bench.load.outbox
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        f"{users / RAMP_SECONDS:g}",
        "--run-time",
        f"{int(seconds)}s",
        "--host",
        stack.url,
        "--only-summary",
        "--stop-timeout",
        "70",
        "--loglevel",
        "WARNING",
    ]
    log = (stack.logs / "locust.log").open("ab")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def e2e(stack: Stack, start: float, end: float) -> tuple[float | None, int]:
    """Smart requests submitted in the window: p95 of submitted → decided, from the database."""
    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = (
            connection.execute(
                text(
                    "select extract(epoch from decided_at - created_at) * 1000 from delivery_request "
                    "where created_at >= to_timestamp(:start) and created_at <= to_timestamp(:end) "
                    "and decided_at is not null and decided_automatically"
                ),
                {"start": start, "end": end},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    values = [float(v) for v in rows]
    return (percentile(values, 0.95) if values else None), len(values)


def measure(stack: Stack, rate: float, seconds: float, folder: Path) -> Step:
    events, applies = folder / f"events-{rate:g}.csv", folder / f"applies-{rate:g}.jsonl"
    started = time.time()
    process = locust(stack, rate, seconds, events, applies)
    process.wait()
    window = (started + WARMUP_SECONDS, started + seconds)
    rows = read_events(events, *window)
    http = [r for r in rows if r[1] not in ("SMS", "E2E", "VISIT")]
    visits = [r for r in rows if r[1] == "VISIT"]
    span = max(window[1] - window[0], 1e-6)
    times = [r[3] for r in http]
    p95, p_count = e2e(stack, *window)
    return Step(
        rate=rate,
        seconds=span,
        visits_per_second=len(visits) / span,
        requests=len(http),
        requests_per_second=len(http) / span,
        p50=percentile(times, 0.50),
        p95=percentile(times, 0.95),
        p99=percentile(times, 0.99),
        errors=(sum(r[4] for r in http) / len(http)) if http else 1.0,
        e2e_p95_ms=p95,
        e2e_count=p_count,
    )


def report_steps(steps: list[Step], stack: Stack) -> dict[str, object]:
    print(
        f"\n== national mix: {stack.webs} web processes, {stack.workers} worker(s), nginx, PostgreSQL, Redis"
    )
    print(
        "visits/s target | achieved | requests/s | p50 ms | p95 ms | p99 ms | errors | e2e p95 ms (n) | held"
    )
    for s in steps:
        e2e_text = f"{s.e2e_p95_ms:.0f} ({s.e2e_count})" if s.e2e_p95_ms is not None else f"- ({s.e2e_count})"
        print(
            f"{s.rate:15g} | {s.visits_per_second:8.1f} | {s.requests_per_second:10.1f} | {s.p50:6.0f} | "
            f"{s.p95:6.0f} | {s.p99:6.0f} | {s.errors:6.2%} | {e2e_text:>14} | {'yes' if s.held else 'no'}"
        )
    held = [s for s in steps if s.held]
    best = max(held, key=lambda s: s.rate) if held else None
    result: dict[str, object] = {"steps": [s.__dict__ | {"held": s.held} for s in steps]}
    if best is None:
        print("no step held the objectives")
        return result
    machines = math.ceil(PEAK_VISITS_PER_SECOND / best.visits_per_second)
    print(
        f"highest sustained: {best.visits_per_second:.1f} visits/s "
        f"({best.requests_per_second:.0f} requests/s), "
        f"p95 {best.p95:.0f} ms, p99 {best.p99:.0f} ms, errors {best.errors:.2%}; national peak "
        f"{PEAK_VISITS_PER_SECOND:.0f} visits/s needs {machines} such machines"
    )
    result |= {"highest_visits_per_second": best.visits_per_second, "machines_for_peak": machines}
    return result


# -- decisions per second ---------------------------------------------------------------------------------
def decisions(stack: Stack, count: int) -> dict[str, float]:
    """Smart requests queued with every worker stopped, then drained by one worker, then by two."""
    results: dict[str, float] = {}
    sessions = [_logged_in(stack, index) for index in range(10)]
    for workers in (1, 2):
        stack.stop_workers()
        codes: list[str] = []
        per = math.ceil(count / len(sessions))
        for client in sessions:
            for _ in range(per):
                answer = client.post(
                    "/api/v1/services/no-criminal-record/requests",
                    json={"inputs": {"purpose": "employment"}},
                    headers={"Idempotency-Key": os.urandom(8).hex()},
                )
                answer.raise_for_status()
                codes.append(answer.json()["tracking_code"])
        for index in range(1, workers + 1):
            stack.start_worker(index)
        rate = _drain(stack, codes)
        results[f"{workers}_worker"] = rate
        print(f"decisions/s with {workers} worker process(es): {rate:.1f} ({len(codes)} smart requests)")
    for client in sessions:
        client.close()
    return results


def _logged_in(stack: Stack, index: int) -> httpx.Client:
    import re

    from bench.load.outbox import Outbox

    people = json.loads((stack.workdir / "citizens.json").read_text(encoding="utf-8"))
    person = people[-1 - index]
    client = httpx.Client(
        base_url=stack.url, verify=False, headers={"X-Forwarded-For": f"10.9.9.{index + 1}"}
    )  # noqa: S501
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    sent = time.time()
    started = client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "national_code": person["national_code"],
            "mobile": person["mobile"],
            "next": "/account",
        },
    )
    attempt = re.search(r"attempt=([0-9a-f]+)", started.headers["location"])
    assert attempt
    code = Outbox(stack.home / "outbox.jsonl").code_for(person["mobile"], sent - 1)
    page = client.get(f"/login/verify?attempt={attempt.group(1)}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token and code
    done = client.post(
        "/login/verify",
        data={"csrf_token": token.group(1), "attempt": attempt.group(1), "code": code, "next": "/account"},
    )
    assert done.status_code == 303, done.text[:300]
    return client


def _drain(stack: Stack, codes: list[str], timeout: float = 300) -> float:
    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    query = text(
        "select count(decided_at), extract(epoch from min(decided_at)), extract(epoch from max(decided_at)) "
        "from delivery_request where tracking_code = any(:codes)"
    )
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                decided, first, last = connection.execute(query, {"codes": codes}).one()
            if decided == len(codes):
                return (decided - 1) / max(float(last) - float(first), 1e-6)
            time.sleep(1)
        raise RuntimeError(f"only {decided} of {len(codes)} decided in {timeout} s")
    finally:
        engine.dispose()


# -- faults ----------------------------------------------------------------------------------------------
def faults(stack: Stack, rate: float, seconds: float, folder: Path) -> dict[str, object]:
    """Hold `rate` while each piece fails in turn; then check every request and the message log."""
    events, applies = folder / "events-faults.csv", folder / "applies-faults.jsonl"
    registry = "civil-registry"
    admin = {"Authorization": f"Bearer {stack.registry_token}"}

    def kill_web() -> None:
        stack.kill("web-1")
        time.sleep(5)  # a supervisor's restart (systemd, Kubernetes)
        stack.start_web(1)

    def kill_worker() -> None:
        stack.kill("worker-1")
        time.sleep(5)
        stack.start_worker(1)

    def registry_down() -> None:
        httpx.put(f"{stack.registries_url}/_admin/faults/{registry}", json={"down": True}, headers=admin)
        time.sleep(30)
        httpx.delete(f"{stack.registries_url}/_admin/faults", headers=admin)

    schedule: list[tuple[float, str, Callable[[], None]]] = [
        (30, "kill -9 a web process (restarted after 5 s)", kill_web),
        (60, "kill -9 a job worker (restarted after 5 s)", kill_worker),
        (90, "restart Redis", stack.restart_redis),
        (120, f"registry {registry} down for 30 s", registry_down),
        (170, "restart PostgreSQL (fast)", stack.restart_postgres),
    ]
    started = time.time()
    process = locust(stack, rate, seconds, events, applies)
    marks: list[tuple[str, float, float]] = []

    def inject() -> None:
        for at, name, action in schedule:
            time.sleep(max(0.0, started + at - time.time()))
            begin = time.time()
            action()
            marks.append((name, begin, time.time()))

    thread = threading.Thread(target=inject, daemon=True)
    thread.start()
    process.wait()
    thread.join()
    rows = [
        r
        for r in read_events(events, started + WARMUP_SECONDS, time.time())
        if r[1] not in ("SMS", "E2E", "VISIT")
    ]
    baseline = [r for r in rows if r[0] < started + schedule[0][0]]
    base_rate = sum(r[4] for r in baseline) / max(len(baseline), 1)
    print(
        f"\n== faults at {rate:g} visits/s for {seconds:g} s: {len(rows)} requests, "
        f"{sum(r[4] for r in rows)} failed ({sum(r[4] for r in rows) / max(len(rows), 1):.2%}); "
        f"before the first fault {base_rate:.2%}"
    )
    per_second = len(rows) / max(seconds - WARMUP_SECONDS, 1)
    costs = []
    for index, (name, begin, end) in enumerate(marks):
        # Each fault's window: from it to 30 s after it ended, or to the next fault if that comes sooner.
        until = min(end + 30, marks[index + 1][1]) if index + 1 < len(marks) else end + 30
        window = [r for r in rows if begin <= r[0] <= until]
        failed_names: dict[str, int] = {}
        for r in window:
            if r[4]:
                failed_names[r[2]] = failed_names.get(r[2], 0) + 1
        failed = sum(r[4] for r in window) - base_rate * len(window)
        slow = sum(1 for r in window if r[3] > P99_MS)
        costs.append(
            {
                "fault": name,
                "requests": len(window),
                "failed": max(0, round(failed)),
                "over_2_5_s": slow,
                "outage_seconds": max(0.0, failed) / per_second,
                "failed_by_request": failed_names,
                "window_seconds": until - begin,
            }
        )
        print(
            f"  {name}: {len(window)} requests in {until - begin:.0f} s from it, "
            f"failed {max(0, round(failed))} beyond the baseline "
            f"(= {max(0.0, failed) / per_second:.1f} s of full outage), {slow} slower than 2.5 s; "
            f"failed: {failed_names or 'none'}"
        )
    checks = settle_and_check(stack, applies)
    return {"rate": rate, "seconds": seconds, "faults": costs, "checks": checks}


def settle_and_check(stack: Stack, applies: Path, timeout: float = 180) -> dict[str, object]:
    """After the run: every application the platform accepted exists once, and each is decided or waiting
    with a reason; the exchange's message log verifies."""
    records = [json.loads(line) for line in applies.read_text(encoding="utf-8").splitlines() if line.strip()]
    accepted = {r["tracking"] for r in records if r["tracking"]}
    refused = [r for r in records if not r["tracking"]]
    keys = [r["key"] for r in records]
    engine = create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "select tracking_code, idempotency_key, state, decision from delivery_request "
                    "where idempotency_key = any(:keys)"
                ),
                {"keys": keys},
            ).all()
        moving = [r for r in rows if r.state in ("submitted", "processing")]
        if not moving or time.monotonic() > deadline:
            break
        time.sleep(3)
    with engine.connect() as connection:
        reasons: dict[str, str] = dict(
            connection.execute(
                text(
                    "select r.tracking_code, e.message_en from delivery_request r "
                    "join delivery_request_event e "
                    "on e.request_id = r.id where r.idempotency_key = any(:keys) and e.state = r.state "
                    "and r.state not in ('approved', 'refused')"
                ),
                {"keys": keys},
            ).all()
        )
    engine.dispose()
    stored = {r.tracking_code for r in rows}
    per_key: dict[str, int] = {}
    for r in rows:
        per_key[r.idempotency_key] = per_key.get(r.idempotency_key, 0) + 1
    states: dict[str, int] = {}
    for r in rows:
        states[r.state] = states.get(r.state, 0) + 1
    unexplained = [
        r.tracking_code
        for r in rows
        if r.state not in ("approved", "refused") and not reasons.get(r.tracking_code)
    ]
    verify = subprocess.run(
        [PANJEREH, "exchange", "verify-log"], env=stack.env(), capture_output=True, text=True, check=False
    )
    checks = {
        "applications": len(records),
        "accepted": len(accepted),
        "refused_by_the_platform": len(refused),
        "lost": sorted(accepted - stored),
        "duplicated_keys": sorted(k for k, n in per_key.items() if n > 1),
        "states": states,
        "still_moving": [r.tracking_code for r in rows if r.state in ("submitted", "processing")],
        "not_final_without_reason": unexplained,
        "verify_log_exit": verify.returncode,
        "verify_log": (verify.stdout + verify.stderr).strip().splitlines()[-3:],
    }
    print(json.dumps(checks, ensure_ascii=False, indent=2))
    return checks


# -- the command -------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "step", "decisions", "faults"])
    parser.add_argument("--webs", type=int, default=2, help="web processes behind nginx")
    parser.add_argument("--workers", type=int, default=1, help="job worker processes")
    parser.add_argument("--rates", default="5,10,20", help="visits per second, one step each (step)")
    parser.add_argument("--rate", type=float, default=10, help="visits per second (faults)")
    parser.add_argument("--seconds", type=float, default=45, help="each step's length")
    parser.add_argument("--count", type=int, default=200, help="smart requests drained (decisions)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        sys.exit("nginx is missing: `make bench-packages`")
    workdir = Path(tempfile.mkdtemp(prefix="panjereh-load-"))
    stack = Stack(workdir, webs=args.webs, workers=args.workers)
    print(f"run folder {workdir}", flush=True)
    try:
        began = time.monotonic()
        stack.start()
        print(f"topology up in {time.monotonic() - began:.0f} s: {stack.url}", flush=True)
        result: dict[str, object] = {}
        if args.command == "up":
            print("Ctrl+C stops every process of the run", flush=True)
            while True:
                time.sleep(3600)
        elif args.command == "step":
            # Warm-up: each web process builds its catalog index and templates on first use.
            measure(stack, 2, WARMUP_SECONDS + 10, workdir)
            steps = [measure(stack, float(rate), args.seconds, workdir) for rate in args.rates.split(",")]
            result = report_steps(steps, stack)
        elif args.command == "decisions":
            result = dict(decisions(stack, args.count))
        else:
            measure(stack, 2, WARMUP_SECONDS + 10, workdir)
            result = faults(stack, args.rate, args.seconds, workdir)
        (workdir / "result.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    except KeyboardInterrupt:
        pass
    finally:
        stack.shutdown()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
