"""Analytics benchmark: visit ingest rate, and every dashboard figure's time on a (national) database.

    .venv/bin/python bench/bench_analytics.py                    # ingest on SQLite; figures on the demo data
    PANJEREH_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/panjereh_bench \
    PANJEREH_NATIONAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/panjereh_national \
      .venv/bin/python bench/bench_analytics.py [--raw]

    .venv/bin/python bench/bench_analytics.py --pages [--seconds 4] [--rounds 3]

Pages (`--pages`, nothing else): `/dashboard` against `/services` on the same server in the same run:
the demo seeded into a scratch PANJEREH_HOME (SQLite), `panjereh serve` with one worker process, wrk
(50 connections unless --connections) in alternating rounds on the two pages; prints requests a second
(median of the rounds), p50/p99, and the ratio dashboard / services (the target is >= 0.5); then the
same per CPU-second of the server process (steadier than wall rates when other work shares the cores).

Ingest: events through VisitRecorder.record (the request path: bot filter, HMAC pseudonym, append)
and flush (batched multi-row inserts), per second of wall time and per second of this process's CPU.
Figures: each dashboard figure for the newest rolled-up month, timed on the national database;
`--raw` also times the same month's totals computed from the raw events (why rollups exist).
Peak memory is this process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from panjereh import migrations
from panjereh.analytics import figures as fig
from panjereh.analytics import selectors
from panjereh.analytics.models import visit_event
from panjereh.analytics.visits import VisitRecorder
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.core.jalali import jalali_month_bounds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_exchange import CONCURRENCY, Round, _wrk_ms, cpu_seconds, free_port, wait_for  # noqa: E402

EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
PAGES = ("/services", "/dashboard")


def _timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    print(f"  {label:<44} {(time.perf_counter() - started) * 1000:9.1f} ms")
    return result


def bench_ingest(url: str) -> None:
    engine = make_engine(url)
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    settings = Settings(env="development", secret_key="bench-secret-key-0123456789abcdef")
    recorder = VisitRecorder(
        settings, lambda: factory, background=False, batch_size=5000, max_buffer=EVENTS + 1
    )
    when = datetime(2030, 1, 1, tzinfo=UTC)  # a day of its own, removed afterwards
    agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for index in range(EVENTS):
        recorder.record(
            citizen_id=f"citizen-{index % 50_000}",
            agency_code="justice" if index % 3 else "tax",
            service="no-criminal-record",
            user_agent=agent,
            occurred_at=when + timedelta(seconds=index % 86_000),
        )
    wall1 = time.perf_counter()
    written = recorder.flush()
    cpu2, wall2 = time.process_time(), time.perf_counter()
    assert written == EVENTS, written
    print(f"ingest on {engine.dialect.name}: {EVENTS:,} events")
    print(
        f"  record (request path)   {EVENTS / (wall1 - wall0):>12,.0f} events/s   "
        f"{(wall1 - wall0) / EVENTS * 1e6:.2f} µs each"
    )
    print(f"  flush (batched writes)  {EVENTS / (wall2 - wall1):>12,.0f} events/s wall")
    print(f"  end to end              {EVENTS / (wall2 - wall0):>12,.0f} events/s wall, "
          f"{EVENTS / (cpu2 - cpu0):,.0f} events per CPU-second of this process")  # fmt: skip
    with engine.begin() as connection:
        day = when.date()
        connection.execute(visit_event.delete().where(visit_event.c.day >= day))
        connection.execute(text("DELETE FROM analytics_user WHERE first_seen_on >= :day"), {"day": day})
    engine.dispose()


def bench_figures(url: str, raw: bool) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        month = selectors.default_month(session)
        if month is None:
            print("figures: no data (seed first)")
            return
        start, end = jalali_month_bounds(*month)
        print(
            f"figures on {engine.dialect.name} for {month[0]}-{month[1]:02d} "
            "(all from rollups unless marked raw):"
        )
        _timed("users ever (authenticated, 18+)", fig.users_ever, session, end)
        figures = _timed("month figures (users, visits, active, per user)", fig.month_figures, session, month)
        _timed("growth by Jalali month (series)", fig.monthly_series, session, (1401, 1), month)
        _timed("visits by agency", fig.visits_by_agency, session, start, end)
        _timed("visits by channel", fig.visits_by_channel, session, start, end)
        _timed("mandate report 1402 (all agencies)", selectors.mandate_report, session, 1402)
        _timed("whole overview page data", selectors.overview, session, month)
        print(
            f"  -> users {figures.users_at_end:,}, visits {figures.visits:,}, "
            f"active {figures.active_users or 0:,}, "
            f"visits/user {figures.visits_per_user:.2f}, growth {figures.user_growth.text_en()}"
        )
        if raw:
            where = (visit_event.c.day >= start, visit_event.c.day < end)
            _timed(
                "RAW: visits in the month (count)",
                lambda: session.scalar(select(func.count()).select_from(visit_event).where(*where)),
            )
            _timed("RAW: distinct users in the month", fig.active_users_between, session, start, end)
    from fastapi.testclient import TestClient

    from panjereh.app import create_app

    settings = Settings(
        env="development", database_url=url, log_level="WARNING", home=Path(tempfile.mkdtemp())
    )
    app = create_app(settings)
    with TestClient(app) as client:
        for path in ("/dashboard", "/dashboard/agencies", "/dashboard/mandates", "/api/v1/open-data"):
            started = time.perf_counter()
            status = client.get(path).status_code
            print(f"  page {path:<39} {(time.perf_counter() - started) * 1000:9.1f} ms  ({status})")
    engine.dispose()


def wrk_page(url: str, seconds: int, connections: int) -> Round:
    """One wrk round on a page (one thread, `connections` connections, a 30 s timeout: a page slower than
    wrk's default 2 s on a busy machine is a slow answer to count, not a socket error to give up on)."""
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", url],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    calls = int(re.search(r"([0-9]+) requests in", out).group(1))  # type: ignore[union-attr]
    took = float(re.search(r"requests in ([0-9.]+)s", out).group(1))  # type: ignore[union-attr]
    distribution = out.split("Latency Distribution", 1)[1]
    p50 = _wrk_ms(re.search(r"\b50%\s+(\S+)", distribution).group(1))  # type: ignore[union-attr]
    p99 = _wrk_ms(re.search(r"\b99%\s+(\S+)", distribution).group(1))  # type: ignore[union-attr]
    return Round(calls, took, p50, p99)


def bench_pages(seconds: int, rounds: int, connections: int = CONCURRENCY) -> float:
    """Requests a second of /dashboard and /services on one server, alternating; returns the ratio."""
    home = Path(tempfile.mkdtemp(prefix="panjereh-bench-pages-"))
    env = {
        **os.environ,
        "PANJEREH_HOME": str(home),
        "PANJEREH_ENV": "development",
        "PANJEREH_LOG_LEVEL": "WARNING",
    }
    env.pop("PANJEREH_DATABASE_URL", None)
    cli = [sys.executable, "-m", "panjereh"]
    subprocess.run([*cli, "seed"], env=env, check=True, capture_output=True)  # noqa: S603
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "1"], env=env)  # noqa: S603
    try:
        wait_for(base + "/healthz", 60)
        for path in PAGES:  # warm: templates compiled, the catalog's index and the figures built once
            wait_for(base + path, 30)
        results: dict[str, list[Round]] = {path: [] for path in PAGES}
        per_cpu: dict[str, list[float]] = {path: [] for path in PAGES}
        for _ in range(rounds):
            for path in PAGES:
                cpu = cpu_seconds(server.pid)
                done = wrk_page(base + path, seconds, connections)
                results[path].append(done)
                per_cpu[path].append(done.calls / (cpu_seconds(server.pid) - cpu))
    finally:
        server.terminate()
        server.wait(30)
    rates = {path: statistics.median(r.rate for r in rounds_) for path, rounds_ in results.items()}
    print(f"pages on one `panjereh serve` worker (demo, SQLite), wrk {connections} connections, "
          f"{rounds} × {seconds} s rounds each, alternating:")  # fmt: skip
    for path, rounds_ in results.items():
        p50 = statistics.median(r.p50_ms for r in rounds_)
        p99 = statistics.median(r.p99_ms for r in rounds_)
        rounds_text = ", ".join(f"{r.rate:,.0f}" for r in rounds_)
        print(f"  {path:<12} {rates[path]:>8,.0f} req/s  (rounds {rounds_text})  "
              f"p50 {p50:.1f} ms  p99 {p99:.1f} ms")  # fmt: skip
    ratio = rates["/dashboard"] / rates["/services"]
    print(f"  ratio dashboard / services: {ratio:.2f} (target >= 0.5)")
    # Requests per CPU-second of the server: what the page costs, whatever else the machine is doing.
    cost = {path: statistics.median(values) for path, values in per_cpu.items()}
    services, dashboard = cost["/services"], cost["/dashboard"]
    print(f"  per server CPU-second: /services {services:,.0f}, /dashboard {dashboard:,.0f}, "
          f"ratio {dashboard / services:.2f}")  # fmt: skip
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", action="store_true", help="also time the month's totals from raw events")
    parser.add_argument("--pages", action="store_true", help="only /dashboard against /services (wrk)")
    parser.add_argument("--seconds", type=int, default=4, help="length of a pages round")
    parser.add_argument("--rounds", type=int, default=3, help="pages rounds per page")
    parser.add_argument("--connections", type=int, default=CONCURRENCY, help="wrk connections for pages")
    args = parser.parse_args()
    if args.pages:
        bench_pages(args.seconds, args.rounds, args.connections)
        return
    ingest_url = (
        os.environ.get("PANJEREH_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    )
    bench_ingest(ingest_url)
    national = os.environ.get("PANJEREH_NATIONAL_DATABASE_URL")
    if national:
        bench_figures(national, args.raw)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
