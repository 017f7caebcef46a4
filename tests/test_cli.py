"""Every command of `panjereh` explains itself, and migrate/seed work on a fresh embedded database."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from panjereh.cli import DOMAIN_COMMANDS, _registries_process, app
from panjereh.core.config import Settings
from tests.support.markers import seeds_whole_demo
from tests.support.servers import free_port

pytestmark = seeds_whole_demo

runner = CliRunner()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["serve"],
        ["migrate"],
        ["seed"],
        ["registries"],
        ["registries", "serve"],
        ["backup"],
        ["restore"],
        ["worker"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_migrate_then_seed_on_a_fresh_sqlite_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from panjereh.core.config import get_settings

    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        assert (tmp_path / "panjereh.sqlite3").exists()
        result = runner.invoke(app, ["seed"])
        assert result.exit_code == 0, result.output
        # Seeding twice adds nothing twice and does not fail.
        assert runner.invoke(app, ["seed"]).exit_code == 0
    finally:
        get_settings.cache_clear()


def test_demo_starts_the_registries_on_the_port_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`panjereh demo` with only PANJEREH_REGISTRIES_PORT set: the registries start there and answer."""
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_REGISTRIES_URL", raising=False)
    port = free_port()
    monkeypatch.setenv("PANJEREH_REGISTRIES_PORT", str(port))
    settings = Settings()
    with _registries_process(settings):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200


def test_demo_uses_running_registries_even_with_one_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registries already running with a registry faulted down (health 503, as after the demo's own pass)
    are used, not started a second time on a taken port."""
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    monkeypatch.delenv("PANJEREH_REGISTRIES_URL", raising=False)
    monkeypatch.setenv("PANJEREH_REGISTRIES_PORT", str(free_port()))
    settings = Settings()
    admin = {"Authorization": f"Bearer {settings.registry_token}"}
    with _registries_process(settings):
        httpx.put(
            f"{settings.registries_url}/_admin/faults/welfare", json={"down": True}, headers=admin, timeout=60
        )
        assert httpx.get(f"{settings.registries_url}/healthz", timeout=30).status_code == 503
        with _registries_process(settings):  # says "already running" instead of failing to start
            pass


def test_demo_does_not_start_registries_that_live_elsewhere() -> None:
    settings = Settings(registries_url="http://registries.invalid:8100")
    with pytest.raises(typer.Exit), _registries_process(settings):
        pass


def test_stopping_the_demo_stops_its_registries(tmp_path: Path) -> None:
    """`kill` on `panjereh demo` (SIGTERM, as a service manager stops it) leaves no registries behind."""
    port, registries_port = free_port(), free_port()
    env = {
        **os.environ,
        "PANJEREH_HOME": str(tmp_path),
        "PANJEREH_ENV": "development",
        "PANJEREH_PORT": str(port),
        "PANJEREH_REGISTRIES_PORT": str(registries_port),
        "PANJEREH_LOG_LEVEL": "WARNING",
    }
    for name in ("PANJEREH_DATABASE_URL", "PANJEREH_REGISTRIES_URL", "PANJEREH_SECRET_KEY"):
        env.pop(name, None)
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        demo = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "panjereh", "demo"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    registries = f"http://127.0.0.1:{registries_port}/healthz"
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert demo.poll() is None and time.monotonic() < deadline, "the demo never answered"
            time.sleep(0.5)
        # The demo waited for its registries before starting the portal; under a loaded machine one
        # health check may still take over a second, so wait rather than ask once.
        deadline = time.monotonic() + 30
        while not _listening(registries):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _listening(registries):
            assert time.monotonic() < deadline, "the registries outlived the demo"
            time.sleep(0.2)
    finally:
        if demo.poll() is None:  # a failed assertion above: stop it the way under test, then for sure
            demo.terminate()
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def _listening(url: str) -> bool:
    """Whether a server answers at all: the registries' health is 503 once the demo has taken Welfare's
    registry down (as the article found it)."""
    try:
        httpx.get(url, timeout=3)
    except httpx.HTTPError:
        return False
    return True


# What `panjereh.cli` must not import: each web process of `panjereh serve --workers N` imports it again
# before it answers the supervisor's health ping (with every domain loaded: ~3.8 s on a busy machine).
HEAVY_MODULES = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "httpx",
    "uvicorn",
    "rich",
    "cryptography",
    "opentelemetry",  # loaded only when PANJEREH_OPENTELEMETRY is on (core/otel.py)
    "panjereh.app",
    "panjereh.worker",
    "panjereh.seeding",
    "panjereh.migrations",
    "panjereh.metadata",
    "panjereh.web",
    "panjereh.jobs",
    *(
        f"panjereh.{domain}"
        for domain in (
            "agencies",
            "analytics",
            "catalog",
            "conformance",
            "delivery",
            "documents",
            "exchange",
            "identity",
            "notify",
            "oidc",
            "registries",
            "staff",
        )
    ),  # fmt: skip
)


@pytest.mark.parametrize("argv", [[], ["--help"]], ids=["import", "help"])
def test_the_cli_imports_no_domain_and_no_framework(argv: list[str]) -> None:
    """Importing the CLI (and listing its commands) loads settings and typer, and nothing heavy."""
    code = (
        "import sys; sys.argv = ['panjereh', *sys.argv[1:]]\n"
        "import panjereh.cli\n"
        "if len(sys.argv) > 1:\n"
        "    try:\n"
        "        panjereh.cli.main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(result.stdout.split())
    assert "panjereh.cli" in loaded and "typer" in loaded
    # Help is drawn by rich; nothing else heavy either way.
    forbidden = [module for module in HEAVY_MODULES if not (argv and module == "rich")]
    heavy = sorted(
        name
        for name in loaded
        if any(name == module or name.startswith(f"{module}.") for module in forbidden)
    )
    assert heavy == []


def test_a_domains_commands_load_when_run() -> None:
    result = runner.invoke(app, ["exchange", "--help"])
    assert result.exit_code == 0, result.output
    assert "verify-log" in result.output
    assert runner.invoke(app, ["no-such-domain"]).exit_code != 0


@pytest.mark.parametrize("name", sorted(DOMAIN_COMMANDS))
def test_each_lazy_domain_names_its_own_help(name: str) -> None:
    """The help line kept beside a lazily mounted domain is the domain's own (they cannot drift apart)."""
    module, attribute, help_text = DOMAIN_COMMANDS[name]
    typer_app = getattr(importlib.import_module(module), attribute)
    assert typer_app.info.help == help_text


def test_serve_help_names_every_setting() -> None:
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "250"}, terminal_width=250)
    assert result.exit_code == 0, result.output
    for name in (
        "PANJEREH_HOST", "PANJEREH_PORT", "PANJEREH_WEB_WORKERS", "PANJEREH_WORKER_STARTUP_TIMEOUT",
        "PANJEREH_GRACEFUL_TIMEOUT", "PANJEREH_INPROCESS_WORKER", "PANJEREH_TRUSTED_PROXIES",
    ):  # fmt: skip
        assert name in result.output


def test_serve_refuses_a_malformed_proxy_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    for name in ("PANJEREH_TRUSTED_PROXIES", "PANJEREH_PORT"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored after: serve writes the environment
        monkeypatch.delenv(name)
    from panjereh.core.config import get_settings

    try:
        result = runner.invoke(app, ["serve", "--trusted-proxies", "not-an-address", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "'not-an-address' is not an address or network" in " ".join(result.output.split())
