"""Analytics benchmark: visit ingest rate, and every dashboard figure's time on a (national) database.

    .venv/bin/python bench/bench_analytics.py                    # ingest on SQLite; figures on the demo data
    PANJEREH_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/panjereh_bench \
    PANJEREH_NATIONAL_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/panjereh_national \
      .venv/bin/python bench/bench_analytics.py [--raw]

Ingest: events through VisitRecorder.record (the request path: bot filter, HMAC pseudonym, append)
and flush (batched multi-row inserts), per second of wall time and per second of this process's CPU.
Figures: each dashboard figure for the newest rolled-up month, timed on the national database;
`--raw` also times the same month's totals computed from the raw events (why rollups exist).
Peak memory is this process's maximum resident set size.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from panjereh import migrations
from panjereh.analytics import figures as fig
from panjereh.analytics import selectors
from panjereh.analytics.models import visit_event
from panjereh.analytics.visits import VisitRecorder
from panjereh.core.config import Settings
from panjereh.core.db import make_engine, make_sessionmaker
from panjereh.core.jalali import jalali_month_bounds

EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))


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

    settings = Settings(env="development", database_url=url, log_level="WARNING", home=tempfile.mkdtemp())
    app = create_app(settings)
    with TestClient(app) as client:
        for path in ("/dashboard", "/dashboard/agencies", "/dashboard/mandates", "/api/v1/open-data"):
            started = time.perf_counter()
            status = client.get(path).status_code
            print(f"  page {path:<39} {(time.perf_counter() - started) * 1000:9.1f} ms  ({status})")
    engine.dispose()


def main() -> None:
    ingest_url = (
        os.environ.get("PANJEREH_BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    )
    bench_ingest(ingest_url)
    national = os.environ.get("PANJEREH_NATIONAL_DATABASE_URL")
    if national:
        bench_figures(national, "--raw" in sys.argv)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
