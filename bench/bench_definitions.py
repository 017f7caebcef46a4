"""Definitions store benchmark: how long `panjereh seed` spends importing the definitions.

Seeds the demo agencies, catalog (1,245 cards) and exchange directory into a fresh SQLite database, then
times, each in its own transaction: the shipped definitions alone (what the seed imported before the
demo's smart services), the shipped set plus the demo's smart services (the seed now), and the same
again (idempotent: nothing new). Prints seconds and definitions per second.

    .venv/bin/python bench/bench_definitions.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panjereh import migrations  # noqa: E402
from panjereh.agencies import seed as agencies_seed  # noqa: E402
from panjereh.catalog import seed as catalog_seed  # noqa: E402
from panjereh.core.config import Settings  # noqa: E402
from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from panjereh.delivery import loading  # noqa: E402
from panjereh.delivery import seed as delivery_seed  # noqa: E402
from panjereh.exchange import seed as exchange_seed  # noqa: E402
from panjereh.registries.services import published_services  # noqa: E402


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-definitions-"))
    # The registries need not run: their OpenAPI documents are only fetched to describe the services.
    settings = Settings(home=home, registries_url="http://127.0.0.1:9")
    engine = make_engine(f"sqlite:///{home / 'bench.sqlite3'}")
    migrations.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        agencies_seed.seed_agencies(session, settings, lambda _n: None)
        catalog_seed.seed_catalog(session, settings, lambda _n: None)
        exchange_seed.seed_exchange(session, settings, lambda _n: None, published=published_services())

    def timed(label: str, run: object) -> None:
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            count = run(session)  # type: ignore[operator]
        seconds = time.perf_counter() - started
        print(f"{label:<48} {count:>4} definitions  {seconds:6.2f} s  {count / seconds:7.1f}/s")

    timed("shipped definitions only (the seed before)", lambda s: len(loading.sync_definitions(s)))

    def everything(session: object) -> int:
        shipped = len(loading.sync_definitions(session))  # type: ignore[arg-type]
        result = delivery_seed.seed_demo_definitions(session)  # type: ignore[arg-type]
        return shipped + len(result.published) + len(result.unchanged)

    timed("shipped + the demo's smart services (now)", everything)
    timed("the same again (idempotent)", everything)
    engine.dispose()


if __name__ == "__main__":
    main()
