"""The `panjereh` command line: run, migrate and seed the platform, and each domain's own commands."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Engine

from panjereh import migrations, seeding
from panjereh.analytics import cli as analytics_cli
from panjereh.catalog import cli as catalog_cli
from panjereh.conformance import cli as conformance_cli
from panjereh.conformance import demo as conformance_demo
from panjereh.core.config import Settings, get_settings
from panjereh.core.db import make_engine, make_sessionmaker, settings_sessionmaker, unit_of_work
from panjereh.delivery import cli as delivery_cli
from panjereh.delivery import proactive
from panjereh.documents import cli as documents_cli
from panjereh.exchange import cli as exchange_cli
from panjereh.exchange.client import PlatformClient
from panjereh.jobs.periodic import ensure_periodic
from panjereh.oidc import cli as oidc_cli
from panjereh.staff import cli as staff_cli
from panjereh.worker import make_worker

app = typer.Typer(help="Panjereh — the national window of smart government services.", no_args_is_help=True)
registries_app = typer.Typer(help="The simulated agency registries (for the demo and the tests).")
app.add_typer(registries_app, name="registries")
app.add_typer(exchange_cli.app, name="exchange")
app.add_typer(analytics_cli.report_app, name="report")
app.add_typer(analytics_cli.analytics_app, name="analytics")
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(oidc_cli.app, name="oidc")
app.add_typer(documents_cli.app, name="documents")
app.add_typer(delivery_cli.app, name="definitions")
app.add_typer(conformance_cli.app, name="agencies")
app.add_typer(staff_cli.app, name="staff")

console = Console(stderr=True)


def main() -> None:
    """Entry point of the `panjereh` script."""
    app()


@app.callback()
def read_settings(ctx: typer.Context) -> None:
    """Read the settings once, for every command (domain commands find them in `ctx.obj`)."""
    ctx.obj = _settings()


def _migrated_engine(settings: Settings, revision: str = "head") -> Engine:
    """An engine on the settings' database, its schema brought to `revision` first."""
    engine = make_engine(settings.resolved_database_url)
    migrations.upgrade(engine, revision)
    return engine


@app.command()
def migrate(
    ctx: typer.Context, revision: str = typer.Argument("head", help="Target revision (default: the newest).")
) -> None:
    """Bring the database schema up to date."""
    engine = _migrated_engine(ctx.obj, revision)
    console.print(f"[green]schema at {migrations.current_revision(engine)}[/green]")


@app.command()
def seed(
    ctx: typer.Context, scale: str = typer.Option("demo", help="demo (1:1,000 of the nation) or national.")
) -> None:
    """Load demo data (idempotent: running it again adds nothing twice)."""
    # The data services the simulated registries publish, as data (the platform never reads their files).
    from panjereh.registries.services import published_services

    settings: Settings = ctx.obj
    factory = make_sessionmaker(_migrated_engine(settings))
    with _progress() as progress:
        for step in seeding.demo_steps(published_services(), scale):
            task = progress.add_task(step.name, total=step.total)

            def advance(count: int, task: TaskID = task) -> None:
                progress.advance(task, count)

            with unit_of_work(factory) as session:
                step.run(session, settings, advance)
            progress.update(task, completed=step.total)
    console.print("[green]demo data loaded[/green]")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, help="Address to listen on (PANJEREH_HOST)."),
    port: int = typer.Option(None, help="Port (PANJEREH_PORT)."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Serve the portal, API, OIDC provider and exchange gateway.

    Jobs (request processing, SMS and e-mail, periodic jobs) run in a worker: `panjereh worker` beside it,
    or the server's own with PANJEREH_INPROCESS_WORKER=true. Without either, nothing is sent: a login code
    waits in the queue until a worker starts.
    """
    import uvicorn

    from panjereh.app import SERVER_OPTIONS

    settings: Settings = ctx.obj
    uvicorn.run(
        "panjereh.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="warning",
        **SERVER_OPTIONS,
    )


@app.command()
def demo(ctx: typer.Context) -> None:
    """The embedded default in one command: migrate, seed, start the registries and the portal."""
    settings: Settings = ctx.obj
    console.print(f"[bold]Panjereh[/bold] on {settings.resolved_database_url}")
    migrate(ctx, "head")
    seed(ctx, "demo")
    # The portal runs the jobs itself: requests processed, login codes in the outbox at their commit.
    os.environ.setdefault("PANJEREH_INPROCESS_WORKER", "true")
    # The message log's heads are time-stamped by the registries' simulated TSA (RFC 3161).
    os.environ.setdefault("PANJEREH_EXCHANGE_TSA_URL", f"{settings.registries_url}/tsa/")
    get_settings.cache_clear()
    # `kill` (SIGTERM) must stop the registries too. Uvicorn shuts down on SIGTERM and then raises it
    # again; Python's default action would end the process before `_registries_process` cleans up.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _registries_process(settings):
        conformance_demo.start_demo_pass(settings)
        console.print(f"[bold green]Portal: {settings.base_url}[/bold green]  (Ctrl+C to stop)")
        bearer = f"Authorization: Bearer {settings.resolved_metrics_token}"
        console.print(f"Metrics: curl -H '{bearer}' {settings.base_url}/metrics")
        serve(ctx, settings.host, settings.port, 1)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@registries_app.command("serve")
def registries_serve(
    ctx: typer.Context,
    port: int = typer.Option(None, help="Port (PANJEREH_REGISTRIES_PORT, default 8100)."),
    seed_value: int = typer.Option(1402, "--seed", help="Seed of the synthetic population."),
    size: int = typer.Option(20_000, help="People in the synthetic population."),
) -> None:
    """Serve the simulated agency registries over HTTP (civil registry, Shahkar, Post, …)."""
    from panjereh.registries.server import serve as serve_registries

    settings: Settings = ctx.obj
    serve_registries(
        host="127.0.0.1",
        port=port or settings.registries_port,
        seed=seed_value,
        size=size,
        token=settings.registry_token,
    )


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: int = typer.Option(16, help="Jobs run at once."),
    lease_seconds: float = typer.Option(
        60.0, help="How long a claimed job is ours before others may resume it."
    ),
    poll_interval: float = typer.Option(0.5, help="Seconds between polls when idle."),
    proactive_feed: bool = typer.Option(True, help="Poll the civil registry's life events."),
) -> None:
    """Run jobs (requests, SMS and e-mail, periodic jobs) until stopped; safe to run many at once."""
    settings: Settings = ctx.obj
    # Each job in flight holds a connection while its registries are asked (see delivery.processing),
    # beside the claims, the message log's writer and the grants listener.
    factory = settings_sessionmaker(settings, pool_size=concurrency + 4)
    client = PlatformClient(settings, factory)
    runner = make_worker(
        settings,
        factory,
        client,
        concurrency=concurrency,
        lease_seconds=lease_seconds,
        poll_interval=poll_interval,
    )
    with unit_of_work(factory) as session:
        ensure_periodic(session, settings)
        if proactive_feed:
            proactive.ensure_poller(session)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: runner.stop())
    console.print(f"[green]worker {runner.worker_id} running[/green]")

    async def run() -> None:
        try:
            await runner.run_forever()
        finally:
            await client.aclose()

    asyncio.run(run())
    client.close()


def _settings() -> Settings:
    settings = get_settings()
    settings.ensure_home()
    return settings


@contextmanager
def _progress() -> Iterator[Progress]:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        yield progress


@contextmanager
def _registries_process(settings: Settings) -> Iterator[None]:
    """Run the simulated registries beside the portal, unless something already answers on their port."""
    health = f"{settings.registries_url}/healthz"
    if _answers(health, also=(503,)):  # 503: running, with a registry down by an injected fault
        console.print(f"registries already running at {settings.registries_url}")
        yield
        return
    port = _local_port(settings.registries_url)
    if port is None:
        # Registries elsewhere are not ours to start: starting them here would never make that URL answer.
        console.print(f"[red]the registries at {settings.registries_url} do not answer[/red]")
        raise typer.Exit(1)
    process = subprocess.Popen(  # noqa: S603 — our own module, fixed arguments
        [sys.executable, "-m", "panjereh", "registries", "serve", "--port", str(port)],
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 30
        while not _answers(health):
            if process.poll() is not None or time.monotonic() > deadline:
                console.print(
                    f"[red]the simulated registries did not start on port {port} "
                    f"({settings.registries_url})[/red]"
                )
                raise typer.Exit(1)
            time.sleep(0.2)
        console.print(f"registries at {settings.registries_url}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _local_port(url: str) -> int | None:
    """The port of a registries URL on this machine (where the demo can start them), else None."""
    parts = httpx.URL(url)
    if parts.host not in ("127.0.0.1", "localhost", "::1"):
        return None
    return parts.port or (443 if parts.scheme == "https" else 80)


def _answers(url: str, also: tuple[int, ...] = ()) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code in (200, *also)
    except httpx.HTTPError:
        return False
