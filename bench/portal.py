"""The portal under uvicorn in a process of its own, and the CPU time a process has used: for benchmarks
that drive the portal over real HTTP and count the server's CPU-seconds per request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_portal(
    home: Path, secret_key: str, port: int, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """uvicorn with one worker, production settings, the database under `home`; `extra`: more PANJEREH_*
    settings. Set PJ_BENCH_PROFILE=/path to run it under cProfile (dumped when it stops)."""
    env = dict(
        os.environ,
        PANJEREH_ENV="production",
        PANJEREH_HOME=str(home),
        PANJEREH_SECRET_KEY=secret_key,
        PANJEREH_REGISTRY_TOKEN="bench-registry-" + "y" * 24,
        PANJEREH_PORT=str(port),
        PANJEREH_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PANJEREH_LOG_LEVEL="WARNING",
    )
    env.pop("PANJEREH_DATABASE_URL", None)
    env.update(extra or {})
    profile = os.environ.get("PJ_BENCH_PROFILE")
    command = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else [])]
    command += ["-m", "uvicorn", "--factory", "panjereh.app:create_app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)  # noqa: S603
    deadline = time.monotonic() + 90  # importing the application on a loaded 2-core machine is slow
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("uvicorn did not start")
