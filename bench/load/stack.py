"""The whole topology on this machine, every piece of it the load test's own: a PostgreSQL cluster
(initdb in a temporary folder, on its own port), a Redis server with AOF on its own port, the simulated
registries, N web processes (`panjereh serve`, one port each), M job workers, and nginx from the Debian
packages with deploy/nginx/panjereh.conf in front. The machine's own PostgreSQL and Redis are never
touched (other work shares them)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from bench.load import nginx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PANJEREH = str(BIN / "panjereh")
POPULATION_SIZE = 20_000
PG_USER = "postgres"  # initdb refuses to run as root: the cluster is run as this system user
EXCHANGE_CLIENT = "tax-load"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float = 90, ok: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2, verify=False).status_code in ok:  # noqa: S501 — our own certificate
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _as_pg_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command


@dataclass
class Stack:
    """Every process of the topology; `start()` brings them up, `stop()` ends each one it started."""

    workdir: Path
    webs: int = 2
    workers: int = 1
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    registry_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def __post_init__(self) -> None:
        for name in ("postgres", "redis", "registries", "http", "https"):
            self.ports[name] = free_port()
        for index in range(1, self.webs + 1):
            self.ports[f"web-{index}"] = free_port()
        self.home = self.workdir / "home"
        self.logs = self.workdir / "logs"
        for folder in (self.home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)

    # -- addresses ---------------------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports['postgres']}/panjereh"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    @property
    def registries_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['registries']}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PANJEREH_ENV": "production",
            "PANJEREH_HOME": str(self.home),
            "PANJEREH_DATABASE_URL": self.database_url,
            "PANJEREH_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
            "PANJEREH_SECRET_KEY": self.secret,
            "PANJEREH_REGISTRY_TOKEN": self.registry_token,
            "PANJEREH_METRICS_TOKEN": self.metrics_token,
            "PANJEREH_REGISTRIES_URL": self.registries_url,
            "PANJEREH_PUBLIC_URL": self.url,
            "PANJEREH_TRUSTED_PROXIES": "127.0.0.1",
            "PANJEREH_LOG_LEVEL": "WARNING",
        }

    # -- processes ---------------------------------------------------------------------------------------
    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 — our own commands
            command, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def _run(self, command: list[str], **kwargs: object) -> None:
        subprocess.run(command, env=self.env(), check=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603

    def start_postgres(self) -> None:
        data = self.workdir / "pg"
        if not data.exists():
            data.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.workdir, PG_USER)
                shutil.chown(data, PG_USER)
            self._run(
                _as_pg_user(["initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
                stdout=subprocess.DEVNULL,
            )
        options = (
            f"-p {self.ports['postgres']} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=400 -c shared_buffers=256MB -c wal_level=replica"
        )
        self._run(
            _as_pg_user(
                [
                    "pg_ctl",
                    "-D",
                    str(data),
                    "-l",
                    str(self.workdir / "postgres.log"),
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )

    def restart_postgres(self) -> None:
        """A fast restart of the run's own cluster (connections are cut, as in a failover)."""
        self._run(
            _as_pg_user(["pg_ctl", "-D", str(self.workdir / "pg"), "-m", "fast", "-w", "restart"]),
            stdout=subprocess.DEVNULL,
        )

    def stop_postgres(self) -> None:
        data = self.workdir / "pg"
        if data.exists():
            subprocess.run(  # noqa: S603
                _as_pg_user(["pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"]),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def start_redis(self) -> None:
        folder = self.workdir / "redis"
        folder.mkdir(exist_ok=True)
        command = [
            "redis-server",
            "--port",
            str(self.ports["redis"]),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
        ]
        self._spawn("redis", command)
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.ports["redis"]), "ping"],  # noqa: S607
                capture_output=True,
                check=False,
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis did not start")
            time.sleep(0.1)

    def restart_redis(self) -> None:
        self.stop("redis")
        self.start_redis()

    def start_registries(self) -> None:
        self._spawn(
            "registries",
            [
                PANJEREH,
                "registries",
                "serve",
                "--port",
                str(self.ports["registries"]),
                "--size",
                str(POPULATION_SIZE),
            ],
        )
        wait_for(f"{self.registries_url}/healthz")

    def start_web(self, index: int) -> None:
        name = f"web-{index}"
        self._spawn(name, [PANJEREH, "serve", "--host", "127.0.0.1", "--port", str(self.ports[name])])

    def start_worker(self, index: int) -> None:
        self._spawn(f"worker-{index}", [PANJEREH, "worker"])

    def start_nginx(self) -> None:
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        nginx.self_signed(prefix / "tls")
        upstreams = [f"127.0.0.1:{self.ports[f'web-{i}']}" for i in range(1, self.webs + 1)]
        site = prefix / "site.conf"
        site.write_text(
            nginx.site(
                upstreams,
                http_port=self.ports["http"],
                https_port=self.ports["https"],
                tls_dir=prefix / "tls",
            ),
            encoding="utf-8",
        )
        main = prefix / "nginx.conf"
        main.write_text(nginx.main_conf(prefix, site), encoding="utf-8")
        self._spawn("nginx", ["nginx", "-p", str(prefix), "-c", str(main), "-g", "daemon off;"])

    def kill(self, name: str) -> None:
        """kill -9: the process has no chance to finish anything."""
        process = self.processes.pop(name, None)
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_workers(self) -> None:
        for name in [n for n in self.processes if n.startswith("worker-")]:
            self.stop(name)

    # -- data --------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Schema, the demo's data, the citizens the load logs in as, an agency's exchange client."""
        self._run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.ports["postgres"]), "-U", "postgres", "panjereh"]
        )
        self._run([PANJEREH, "migrate"], stdout=subprocess.DEVNULL)
        self._run([PANJEREH, "seed"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._write_citizens()
        self._exchange_client()

    def _write_citizens(self) -> None:
        from panjereh.registries.population import generate_population

        cutoff = date(2026 - 19, 1, 1)  # adults, with margin: registration refuses minors
        people = [
            {"national_code": p.national_code, "mobile": p.mobile}
            for p in generate_population(size=POPULATION_SIZE).people
            if p.alive and p.birth_date < cutoff and p.persona is None
        ]
        (self.workdir / "citizens.json").write_text(json.dumps(people), encoding="utf-8")

    def _exchange_client(self) -> None:
        """An agency (tax) allowed to ask the civil registry through the gateway, as bench_exchange does."""
        from joserfc.jwk import ECKey

        from panjereh.agencies import selectors as agency_selectors
        from panjereh.core.db import make_engine, make_sessionmaker, unit_of_work
        from panjereh.exchange import selectors, service

        key = ECKey.generate_key("P-256", parameters={"kid": "load-1"})
        engine = make_engine(self.database_url)
        with unit_of_work(make_sessionmaker(engine)) as session:
            client = service.register_client(
                session,
                agency_selectors.get_agency_by_code(session, "tax"),
                client_id=EXCHANGE_CLIENT,
                name="load test",
                rate_per_second=100_000,
            )
            service.add_client_key(session, client, key.as_dict(private=False))
            grant = service.request_grant(
                session,
                client_agency=client.agency,
                service=selectors.get_service_by_code(session, "civil-registry.person"),
                purposes=["load"],
                legal_basis="load test",
            )
            service.approve_grant(session, grant, provider_agency_code="nocr")
        engine.dispose()
        (self.workdir / "exchange-client.json").write_text(
            json.dumps({"client_id": EXCHANGE_CLIENT, "key": key.as_dict(private=True)}), encoding="utf-8"
        )

    # -- the whole -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self.start_postgres()
        self.start_redis()
        self.prepare()
        self.start_registries()
        for index in range(1, self.webs + 1):
            self.start_web(index)
        for index in range(1, self.workers + 1):
            self.start_worker(index)
        for index in range(1, self.webs + 1):
            wait_for(f"http://127.0.0.1:{self.ports[f'web-{index}']}/readyz")
        self.start_nginx()
        wait_for(f"{self.url}/healthz")

    def shutdown(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self.stop_postgres()

    def run_id(self) -> str:
        return uuid.uuid4().hex[:8]
