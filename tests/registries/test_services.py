"""The registries' catalog (services.yaml), the personas table in the docs, and the server entry point."""

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from panjereh.registries.personas import PERSONAS
from panjereh.registries.services import SERVICES_YAML, load_services

AGENCY_FILES = "/agency-files"
DOC = Path(__file__).resolve().parents[2] / "docs" / "protocols" / "registries.md"


def test_catalog_codes_and_agencies() -> None:
    everything = load_services()
    # The agencies' own files (one app under /agency-files) follow the dedicated registries.
    files = [r for r in everything if r.prefix == AGENCY_FILES]
    catalog = [r for r in everything if r.prefix != AGENCY_FILES]
    assert everything[: len(catalog)] == tuple(catalog) and len(files) >= 25
    for r in files:
        assert r.code == f"{r.agency_code}-files"
        assert [(s.code, s.path) for s in r.services] == [
            (f"{r.code}.person", f"/{r.agency_code}/persons/{{national_code}}")
        ]
    assert [r.agency_code for r in catalog] == [
        "nocr",
        "cra",
        "post",
        "tax",
        "police",
        "judiciary",
        "ihio",
        "education",
        "welfare",
        "deeds",
        "deeds",  # the companies registry is the deeds organisation's too
        "sso",
    ]
    services = [s.code for r in catalog for s in r.services]
    assert len(services) == len(set(services))
    for r in catalog:
        assert r.prefix == f"/{r.code}"
        assert all(s.code.startswith(f"{r.code}.") and s.method in {"GET", "POST"} for s in r.services)
        assert r.name_fa and r.agency_fa and all(s.title_fa and s.title_en for s in r.services)


def test_yaml_is_plain_data() -> None:
    data = yaml.safe_load(SERVICES_YAML.read_text(encoding="utf-8"))
    assert data["version"] == 1 and len([r for r in data["registries"] if r["prefix"] != AGENCY_FILES]) == 12


def test_docs_list_every_persona_and_service() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `?(\d{10})`? .*$", text, re.MULTILINE)}
    for persona in PERSONAS:
        assert persona.national_code in rows, persona.key
        assert persona.mobile in rows[persona.national_code], persona.key
    for registry in load_services():
        for service in registry.services:
            assert f"{registry.prefix}{service.path}" in text, service.code


def test_python_dash_m_serves() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "panjereh.registries", "--port", str(port), "--size", "200", "--token", "t0k"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/civil-registry/persons/0499370899",
                    headers={"Authorization": "Bearer t0k"},
                    timeout=60,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["first_name"] == "علی"
    finally:
        process.terminate()
        process.wait(timeout=10)
