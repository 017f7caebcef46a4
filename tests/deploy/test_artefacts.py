"""The deployment's artefacts (deploy/) checked as CI can: the Kubernetes manifests against the API's
schemas (kubernetes-validate), the Containerfile by hadolint, the compose file against the Compose
specification's schema (check-jsonschema's vendored copy), and each held to the platform's settings:
probes on routes the app serves, nginx's body limit and proxy headers matching PANJEREH_*."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import kubernetes_validate
import pytest
import yaml
from bench.load import nginx

from panjereh.app import create_app
from panjereh.core.config import BodyLimitSettings, Settings
from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
K8S_VERSION = "1.31"

# Debian installs nginx in /usr/sbin, which is not on an ordinary user's PATH.
NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def settings_for_test(**values: Any) -> Settings:
    token = secrets.token_urlsafe(32)
    return Settings(
        env="test",
        secret_key=token,
        registry_token=token,
        **{"public_url": "https://panjereh.test", **values},
    )


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                found.append((path.name, document))
    return found


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


@pytest.mark.parametrize(
    "document", [doc for _, doc in manifests()], ids=[f"{n}:{d['kind']}" for n, d in manifests()]
)
def test_each_manifest_is_valid_against_the_kubernetes_schema(document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_deployment() -> None:
    # The check above can fail: a Deployment with a misspelt field and no selector is refused.
    broken = of_kind("Deployment")["panjereh-web"]
    del broken["spec"]["selector"]
    broken["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_web_and_workers_have_probes_resources_budgets_and_autoscaling() -> None:
    deployments = of_kind("Deployment")
    budgets = {
        doc["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for doc in of_kind("PodDisruptionBudget").values()
    }
    scaled = {doc["spec"]["scaleTargetRef"]["name"] for doc in of_kind("HorizontalPodAutoscaler").values()}
    for name, component in (("panjereh-web", "web"), ("panjereh-worker", "worker")):
        deployment = deployments[name]
        assert (
            deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == component
        )
        assert component in budgets and name in scaled
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert {"configMapRef", "secretRef"} <= {key for ref in container["envFrom"] for key in ref}
        assert "livenessProbe" in container and "startupProbe" in container
    (web,) = deployments["panjereh-web"]["spec"]["template"]["spec"]["containers"]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_the_probed_paths_are_served_by_the_app(tmp_path: Path) -> None:
    app = create_app(settings_for_test(home=tmp_path))
    paths = {getattr(route, "path", None) for route in app.routes}
    probed = {
        probe["httpGet"]["path"]
        for doc in of_kind("Deployment").values()
        if doc["metadata"]["labels"]["app.kubernetes.io/component"] == "web"
        for container in doc["spec"]["template"]["spec"]["containers"]
        for key in ("startupProbe", "livenessProbe", "readinessProbe")
        for probe in [container[key]]
    }
    assert probed == {"/healthz", "/readyz"}
    assert probed <= paths


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "hadolint"), str(path)], capture_output=True, text=True, check=False)


def test_the_containerfile_passes_hadolint() -> None:
    result = hadolint(DEPLOY / "Containerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get install -y curl\nRUN cd /app\n", encoding="utf-8")
    result = hadolint(careless)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the `latest` tag


def test_the_image_builds_from_the_lockfile_as_a_non_root_user_with_a_health_check() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.MULTILINE)
    assert len(stages) >= 3 and "assets" in stages, stages
    assert "uv sync --frozen" in text and "uv.lock" in text
    assert "npm ci" in text and "jdm-editor/build.mjs" in text
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, flags=re.MULTILINE)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(DEPLOY / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_schema_check_can_fail(tmp_path: Path) -> None:
    broken = compose()
    broken["services"]["redis"]["restart"] = ["always"]  # a string in the specification
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_the_compose_topology_is_whole() -> None:
    services = compose()["services"]
    webs = [name for name, spec in services.items() if spec.get("command", [None])[0] == "serve"]
    assert len(webs) >= 2
    assert services["worker"]["command"][0] == "worker"
    assert {
        "nginx",
        "postgres-primary",
        "postgres-standby",
        "redis",
        "registries",
        "migrate",
    } <= services.keys()
    assert "--appendonly" in services["redis"]["command"]
    primary = " ".join(services["postgres-primary"]["command"])
    assert "wal_level=replica" in primary and "archive_mode=on" in primary
    standby_script = (DEPLOY / "postgres" / "standby-entrypoint.sh").read_text(encoding="utf-8")
    assert "pg_basebackup" in standby_script and "--write-recovery-conf" in standby_script
    # The web processes believe forwarded headers from nginx's address and no other.
    nginx_address = services["nginx"]["networks"]["platform"]["ipv4_address"]
    trusted = settings_for_test(
        trusted_proxies=services["web-1"]["environment"]["PANJEREH_TRUSTED_PROXIES"],
    )
    assert trusted.trusted_proxies == [nginx_address]


def nginx_conf() -> str:
    return (DEPLOY / "nginx" / "panjereh.conf").read_text(encoding="utf-8")


def test_nginx_body_limit_is_the_largest_of_the_apps_limits() -> None:
    limits = BodyLimitSettings()
    largest = max(limits.api, limits.form, limits.upload, limits.exchange)
    (size,) = re.findall(r"client_max_body_size (\d+)m;", nginx_conf())
    assert int(size) * 1024 * 1024 == largest


def test_nginx_sends_the_headers_the_app_reads_and_ends_tls() -> None:
    text = nginx_conf()
    for location in re.findall(r"location [^{]+\{(.*?)\n    \}", text, flags=re.DOTALL):
        if "proxy_pass" in location:
            assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in location
            assert "proxy_set_header X-Forwarded-Proto $scheme;" in location
    upstream = re.search(r"upstream panjereh_web \{(.*?)\n\}", text, flags=re.DOTALL)
    assert upstream and len(re.findall(r"^\s*server \S+", upstream.group(1), flags=re.MULTILINE)) >= 2
    assert "ssl_certificate " in text and "ssl_protocols TLSv1.2 TLSv1.3;" in text


@pytest.mark.skipif(NGINX is None, reason="nginx comes with `make system-packages`")
def test_nginx_accepts_the_configuration_as_the_load_test_runs_it(tmp_path: Path) -> None:
    nginx.self_signed(tmp_path / "tls")
    site = tmp_path / "site.conf"
    site.write_text(
        nginx.site(
            ["127.0.0.1:18001", "127.0.0.1:18002"],
            http_port=18080,
            https_port=18443,
            tls_dir=tmp_path / "tls",
        ),
        encoding="utf-8",
    )
    main = tmp_path / "nginx.conf"
    main.write_text(nginx.main_conf(tmp_path, site), encoding="utf-8")
    result = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def _probe(command: list[str], heartbeat: Path) -> int:
    """Run a probe's command as the orchestrator would, with the heartbeat file's setting in its env."""
    env = {"PATH": "/usr/bin:/bin", "PANJEREH_WORKER_HEARTBEAT_FILE": str(heartbeat)}
    return subprocess.run([sys.executable, *command[1:]], env=env, check=False).returncode


def test_the_workers_probes_read_the_heartbeat_the_worker_is_given(tmp_path: Path) -> None:
    (worker,) = of_kind("Deployment")["panjereh-worker"]["spec"]["template"]["spec"]["containers"]
    composed = compose()["services"]["worker"]
    assert {"name": "PANJEREH_WORKER_HEARTBEAT_FILE", "value": "/run/panjereh/worker.alive"} in worker["env"]
    assert "/run/panjereh" in {mount["mountPath"] for mount in worker["volumeMounts"]}
    # The compose worker adds its heartbeat to the platform's settings, not in their place.
    assert composed["environment"]["PANJEREH_WORKER_HEARTBEAT_FILE"]
    assert composed["environment"]["PANJEREH_DATABASE_URL"].startswith("postgresql://")
    heartbeat = tmp_path / "worker.alive"
    for command in (
        worker["livenessProbe"]["exec"]["command"],
        worker["startupProbe"]["exec"]["command"],
        composed["healthcheck"]["test"][1:],
    ):
        assert _probe(command, heartbeat) != 0  # no heartbeat yet: not live
        heartbeat.touch()
        assert _probe(command, heartbeat) == 0
        stale = time.time() - 31
        os.utime(heartbeat, (stale, stale))
        assert _probe(command, heartbeat) != 0  # a loop that stopped turning 31 s ago
        heartbeat.unlink()


@pytest.mark.skipif(NGINX is None, reason="nginx comes with `make system-packages`")
def test_nginx_logs_a_link_or_a_callback_without_its_secret(tmp_path: Path) -> None:
    """The deployment's access log, as nginx writes it: a share link's token, an e-mail verification
    link's query and the delivery callback's path secret are secrets, and stay out of the line (the
    upstream is down: nginx still logs its 502)."""
    nginx.self_signed(tmp_path / "tls")
    https_port = free_port()
    text = nginx.site(["127.0.0.1:9"], http_port=free_port(), https_port=https_port, tls_dir=tmp_path / "tls")
    log = tmp_path / "access.log"
    site = tmp_path / "site.conf"
    site.write_text(text.replace("access_log off;", f"access_log {log} panjereh;"), encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(nginx.main_conf(tmp_path, site).replace("access_log off;", ""), encoding="utf-8")
    process = subprocess.Popen(
        [str(NGINX), "-p", str(tmp_path), "-c", str(main), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        secret = secrets.token_urlsafe(32)
        base = f"https://127.0.0.1:{https_port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/shared/{secret}?lang=en", verify=False, timeout=30)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.get(f"{base}/api/v1/documents/shares/{secret}", verify=False, timeout=30)
        httpx.get(f"{base}/account/notices/email/verify?token={secret}", verify=False, timeout=30)
        httpx.post(
            f"{base}/api/v1/notify/kavenegar/delivery/{secret}",
            data={"status": "10"},
            verify=False,
            timeout=30,
        )
        httpx.get(f"{base}/services?q={secret}", verify=False, timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=10)
    lines = log.read_text(encoding="utf-8").splitlines()
    assert '"GET /shared/<token>?lang=en HTTP/1.1" 502' in lines[0]
    assert '"GET /api/v1/documents/shares/<token> HTTP/1.1"' in lines[1]
    assert '"GET /account/notices/email/verify?<token> HTTP/1.1"' in lines[2]
    assert '"POST /api/v1/notify/kavenegar/delivery/<token> HTTP/1.1"' in lines[3]
    assert secret not in "\n".join(lines[:4])
    assert f"/services?q={secret}" in lines[4]  # other paths are logged as sent
