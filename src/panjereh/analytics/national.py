"""The national-scale generator: 35 M pseudonymous citizens and a month of 80 M visits, by COPY.

PostgreSQL only. One pass over the citizens writes two COPY streams at once (users on one connection,
their visits on another), so each pseudonym (an HMAC of a synthetic citizen id) is computed once.
Visits go straight into the month's own partition; the users' primary key and index are dropped for
the load and rebuilt after (a sorted build beats 35 M random B-tree inserts). Then the month is
rolled up, and the dashboard reads only rollups.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta

import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from panjereh.analytics import rollups
from panjereh.analytics.models import EVENTS, MonthActive
from panjereh.analytics.seed import AGENCY_WEIGHTS, CHANNEL_WEIGHTS
from panjereh.core.config import Settings
from panjereh.core.crypto import derive_key
from panjereh.core.jalali import from_jalali, jalali_month_bounds
from panjereh.core.logging import get_logger
from panjereh.core.seeding import Advance

log = get_logger(__name__)
NULL = "\\N"  # COPY's text format for NULL
TEHRAN_OFFSET = "+03:30"  # Iran has kept standard time all year since 1401 (no daylight saving)
SERVICES = {
    "justice": "no-criminal-record", "police": "driving-licence-status", "tax": "tax-clearance",
    "sso": "social-security-record", "deeds": "property-ownership", "cra": "my-sim-cards",
    "ihio": "health-insurance-coverage", "education": "student-enrollment",
    "energy": "utility-address-change",
    "welfare": "disability-record", "agriculture": "farmer-card",
}  # fmt: skip


@dataclass(frozen=True)
class NationalPlan:
    """How much to load: citizens (13 M of them before 1402), visits in one Jalali month."""

    users: int = 35_000_000
    users_before_1402: int = 13_000_000
    visits: int = 80_000_000
    month: tuple[int, int] = (1402, 9)
    seed: int = 1402

    @property
    def total(self) -> int:
        return self.users + self.visits

    def scaled(self, fraction: float) -> NationalPlan:
        return replace(
            self,
            users=int(self.users * fraction),
            users_before_1402=int(self.users_before_1402 * fraction),
            visits=int(self.visits * fraction),
        )


NATIONAL = NationalPlan()


def partition_name(month: tuple[int, int]) -> str:
    return f"analytics_partitions.visit_event_{month[0]}_{month[1]:02d}"


def ensure_partition(connection: psycopg.Connection, month: tuple[int, int]) -> str:
    """The month's partition of visit_event (created if missing)."""
    start, end = jalali_month_bounds(*month)
    name = partition_name(month)
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF visit_event "  # noqa: S608 — our own names and dates
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )
    return name


def _weighted_table(weights: dict[str, float], size: int, rng: random.Random) -> list[str]:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=size)


def _first_seen_day(
    index: int, plan: NationalPlan, start_1401: date, start_1402: date, days_1401: int, days_to_end: int
) -> date:
    if index < plan.users_before_1402:
        return start_1401 + timedelta(days=index * days_1401 // max(plan.users_before_1402, 1))
    later = plan.users - plan.users_before_1402
    return start_1402 + timedelta(days=(index - plan.users_before_1402) * days_to_end // max(later, 1))


def load(url: str, secret_key: str, plan: NationalPlan, advance: Advance) -> dict[str, float]:
    """Generate and COPY the users and the month's visits; returns timings and counts."""
    rng = random.Random(plan.seed)
    key = derive_key(secret_key, "synthetic-visitors")
    month_start, month_end = jalali_month_bounds(*plan.month)
    start_1401, start_1402 = from_jalali(1401, 1, 1), from_jalali(1402, 1, 1)
    days_1401, days_to_end = (start_1402 - start_1401).days, (month_end - start_1402).days
    month_days = [
        (month_start + timedelta(days=d)).isoformat() for d in range((month_end - month_start).days)
    ]
    clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{TEHRAN_OFFSET}" for s in range(86400)]
    codes = _weighted_table({code or NULL: w for code, w in AGENCY_WEIGHTS.items()}, 4096, rng)
    channels = _weighted_table(CHANNEL_WEIGHTS, 4096, rng)
    combos = [f"{code}\t{SERVICES.get(code, NULL)}\t{ch}" for code, ch in zip(codes, channels, strict=True)]
    # Visits per citizen this month: ~78% come at least once; the count is 1 + geometric, mean fitted
    # so that the total is plan.visits.
    mean_visits = plan.visits / max(plan.users, 1)
    active_share = min(0.78, mean_visits)
    extra_mean = max(mean_visits / active_share - 1.0, 0.0)
    p = 1.0 / (1.0 + extra_mean)
    counts = [
        0
        if rng.random() > active_share
        else 1 + int(math.log(1.0 - rng.random()) / math.log(1.0 - p))
        if p < 1
        else 1
        for _ in range(1 << 16)
    ]
    timings: dict[str, float] = {}
    started = time.perf_counter()
    written_visits = 0
    with (
        psycopg.connect(url, autocommit=False) as users_conn,
        psycopg.connect(url, autocommit=False) as visits_conn,
    ):
        for conn in (users_conn, visits_conn):
            conn.execute("SET synchronous_commit = off")
        partition = ensure_partition(visits_conn, plan.month)
        visits_conn.commit()
        users_conn.execute("ALTER TABLE analytics_user DROP CONSTRAINT IF EXISTS pk_analytics_user")
        users_conn.execute("DROP INDEX IF EXISTS ix_analytics_user_first_seen_on")
        users_cur, visits_cur = users_conn.cursor(), visits_conn.cursor()
        with (
            users_cur.copy("COPY analytics_user (visitor, first_seen_on) FROM STDIN") as users_copy,
            visits_cur.copy(
                f"COPY {partition} (day, occurred_at, visitor, agency_code, service, channel) FROM STDIN"
            ) as visits_copy,
        ):
            user_buf: list[str] = []
            visit_buf: list[str] = []
            month_first = month_start
            randbits = rng.getrandbits
            n_days = len(month_days)
            pending_users = 0
            pending_visits = 0
            for index in range(plan.users):
                visitor = hmac.new(key, b"synthetic-citizen-%d" % index, hashlib.sha256).hexdigest()[:32]
                seen = _first_seen_day(index, plan, start_1401, start_1402, days_1401, days_to_end)
                user_buf.append(f"{visitor}\t{seen.isoformat()}\n")
                pending_users += 1
                if written_visits < plan.visits:
                    count = counts[randbits(16)]
                    if count:
                        first_day = max((seen - month_first).days, 0)
                        span = n_days - first_day
                        for _ in range(count):
                            day = month_days[first_day + randbits(16) % span]
                            at = clock[randbits(17) % 86400]
                            visit_buf.append(f"{day}\t{day} {at}\t{visitor}\t{combos[randbits(12)]}\n")
                        written_visits += count
                        pending_visits += count
                if len(visit_buf) >= 50_000:
                    visits_copy.write("".join(visit_buf))
                    visit_buf.clear()
                    users_copy.write("".join(user_buf))
                    user_buf.clear()
                    advance(pending_users + pending_visits)
                    pending_users = pending_visits = 0
            users_copy.write("".join(user_buf))
            visits_copy.write("".join(visit_buf))
            advance(pending_users + pending_visits)
        timings["copy_seconds"] = time.perf_counter() - started
        visits_conn.commit()
        rebuilt = time.perf_counter()
        users_conn.execute("SET maintenance_work_mem = '1GB'")
        users_conn.execute(
            "ALTER TABLE analytics_user ADD CONSTRAINT pk_analytics_user PRIMARY KEY (visitor)"
        )
        users_conn.execute("CREATE INDEX ix_analytics_user_first_seen_on ON analytics_user (first_seen_on)")
        users_conn.commit()
        timings["index_seconds"] = time.perf_counter() - rebuilt
    timings["users"] = plan.users
    timings["visits"] = written_visits
    return timings


def rollup_national(session: Session, plan: NationalPlan) -> float:
    """Roll up the loaded month and every first sign-in before it; returns seconds."""
    started = time.perf_counter()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.set_config("work_mem", "512MB", True)))
        session.execute(select(func.set_config("max_parallel_workers_per_gather", "2", True)))
    _, month_end = jalali_month_bounds(*plan.month)
    rollups.rollup_users(session, from_jalali(1401, 1, 1), month_end)
    rollups.rollup_month(session, *plan.month, replace_model=True)
    return time.perf_counter() - started


def seed_national(
    session: Session, settings: Settings, advance: Advance, plan: NationalPlan = NATIONAL
) -> None:
    """`panjereh seed --scale national`: load the month unless it is already there."""
    if session.get_bind().dialect.name != "postgresql":
        raise RuntimeError("the national scale needs PostgreSQL: set PANJEREH_DATABASE_URL=postgresql://…")
    done = session.get(MonthActive, plan.month)
    if done is not None and done.source == EVENTS and done.visits >= plan.visits:
        advance(plan.total)
        return
    url = settings.resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
    session.commit()  # the loader uses its own connections; nothing of ours may hold locks meanwhile
    timings = load(url, settings.secret_key, plan, advance)
    timings["rollup_seconds"] = rollup_national(session, plan)
    log.info("analytics.national_loaded", **timings)
