"""The duties' reads: what the to-do list and the measured smart share add to the dashboard's pages.

Seeds the demo agencies, catalog (1,245 cards), exchange directory and the demo's smart definitions into a
fresh SQLite database, then times, in one run and one read-only transaction each, alternating rounds:

- per agency with cards, `analytics.duties.todo` against `analytics.selectors.scorecard` (what the
  scorecard page read before the list): the ratio is what the list adds to `/dashboard/agencies/{code}`;
- `mandate_report(1402)` (a live year: the smart share counted from the catalog now) against
  `mandate_report(1403)` (dated figures only): the ratio is what the measured smart share costs the
  agencies table and the open data.

Prints the median of the rounds in milliseconds and the ratios.

    .venv/bin/python bench/bench_duties.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session  # noqa: E402

from panjereh import migrations  # noqa: E402
from panjereh.agencies import seed as agencies_seed  # noqa: E402
from panjereh.analytics import duties, selectors  # noqa: E402
from panjereh.analytics.mandates import available_years  # noqa: E402
from panjereh.catalog import seed as catalog_seed  # noqa: E402
from panjereh.catalog import selectors as catalog_selectors  # noqa: E402
from panjereh.core.config import Settings  # noqa: E402
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from panjereh.delivery import loading  # noqa: E402
from panjereh.delivery import seed as delivery_seed  # noqa: E402
from panjereh.exchange import seed as exchange_seed  # noqa: E402
from panjereh.registries.services import published_services  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-duties-"))
    # The registries need not run: their OpenAPI documents are only fetched to describe the services.
    settings = Settings(home=home, registries_url="http://127.0.0.1:9")
    engine = make_engine(f"sqlite:///{home / 'bench.sqlite3'}")
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        agencies_seed.seed_agencies(session, settings, lambda _n: None)
        catalog_seed.seed_catalog(session, settings, lambda _n: None)
        exchange_seed.seed_exchange(session, settings, lambda _n: None, published=published_services())
        loading.sync_definitions(session)
        delivery_seed.seed_demo_definitions(session)
    with unit_of_work(factory, writes=False) as session:
        codes = [stats.agency_code for stats in catalog_selectors.agency_inventory_stats(session)]
        smart = selectors.national_smart(session)
    print(f"{len(codes)} agencies with cards; {smart.smart} smart cards of {smart.total}")

    def timed(run: Callable[[Session], object]) -> float:
        with unit_of_work(factory, writes=False) as session:
            started = time.perf_counter()
            run(session)
            return (time.perf_counter() - started) * 1000

    years = available_years()
    pairs = {
        "to-do lists / scorecards (every agency)": (
            lambda s: [duties.todo(s, code, 1402) for code in codes],
            lambda s: [selectors.scorecard(s, code, years) for code in codes],
        ),
        "mandate report 1402 (live smart) / 1403": (
            lambda s: selectors.mandate_report(s, 1402),
            lambda s: selectors.mandate_report(s, 1403),
        ),
    }
    for label, (new, old) in pairs.items():
        new_ms, old_ms = [], []
        for _ in range(args.rounds):
            new_ms.append(timed(new))
            old_ms.append(timed(old))
        a, b = statistics.median(new_ms), statistics.median(old_ms)
        print(f"{label:<44} {a:8.1f} ms / {b:8.1f} ms  ratio {a / b:5.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
