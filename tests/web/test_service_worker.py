"""The service worker's shell version is the digest of every file it may serve from its shell cache (all of
/static and /vendor, and the offline page's templates), written in as /sw.js is served: a change to any of
them is a new shell without anyone bumping a number."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import panjereh.web.pwa as pwa
from panjereh.core.config import Settings


@pytest.fixture
def fresh_versions() -> Iterator[None]:
    """The version is computed once per process: a test that changes files computes it again."""
    pwa.shell_version.cache_clear()
    yield
    pwa.shell_version.cache_clear()


def test_the_served_worker_names_its_shell_by_the_digest_of_what_it_serves(
    client: TestClient, settings: Settings
) -> None:
    served = client.get("/sw.js")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in served.headers["cache-control"] and served.headers["service-worker-allowed"] == "/"
    assert pwa.SHELL_VERSION_MARK not in served.text
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', served.text)
    assert version and version.group(1) == pwa.shell_version(settings.assets_dir)


def test_every_url_of_the_shell_is_served(client: TestClient) -> None:
    # The worker installs only if every one answers: a URL that is not served would fail its install.
    script = client.get("/sw.js").text
    listed = re.search(r"const SHELL_URLS = \[(.*?)\];", script, re.S)
    assert listed is not None
    urls = re.findall(r'"([^"]+)"', listed.group(1))
    assert "/offline" in urls and "/static/js/pwa.js" in urls and len(urls) >= 8
    answers = {url: client.get(url).status_code for url in urls}
    assert answers == dict.fromkeys(urls, 200)


def test_the_digest_covers_every_file_the_worker_serves_from_its_cache(settings: Settings) -> None:
    # shellFile (sw.js) keeps whatever /static or /vendor file a page asks for, not only SHELL_URLS.
    files = pwa.shell_files(settings.assets_dir)
    for name in (
        "/static/js/sw.js",
        "/static/js/dashboard.js",
        "/static/js/verify-scan.js",
        "/static/js/oidc-form-post.js",
        "/vendor/chart.js/chart.umd.js",
        "/vendor/htmx/htmx.min.js",
        "/vendor/vazirmatn/Vazirmatn-font-face.css",
        "template:offline.html",
        "template:base.html",
    ):
        assert name in files and files[name].is_file(), name
    assert all(path.is_file() for path in files.values())
    assert list(files) == sorted(files)  # one order for every process


def _copy_of_what_the_worker_serves(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Our static folder, two vendor folders (the whole node_modules is ~400 MB; the others are then
    simply absent) and the shell's templates, copied under tmp_path and put in place of the real ones."""
    static = tmp_path / "static"
    shutil.copytree(pwa.STATIC_DIR, static, ignore=shutil.ignore_patterns("build"))
    assets = tmp_path / "assets"
    for name in ("htmx", "chart.js"):
        shutil.copytree(settings.assets_dir / pwa.VENDOR_FOLDERS[name], assets / pwa.VENDOR_FOLDERS[name])
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in pwa.SHELL_TEMPLATES:
        shutil.copyfile(pwa.TEMPLATE_DIR / name, templates / name)
    monkeypatch.setattr(pwa, "STATIC_DIR", static)
    monkeypatch.setattr(pwa, "TEMPLATE_DIR", templates)
    return assets


def _changed(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\n/* a new release */\n")
    pwa.shell_version.cache_clear()


@pytest.mark.usefixtures("fresh_versions")
def test_a_change_to_any_file_the_worker_serves_is_a_new_version(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = _copy_of_what_the_worker_serves(tmp_path, settings, monkeypatch)
    versions = [pwa.shell_version(assets)]
    for changed in (
        tmp_path / "static" / "js" / "dashboard.js",  # no shell URL: cached when the dashboard asks for it
        assets / pwa.VENDOR_FOLDERS["chart.js"] / "chart.umd.js",
        tmp_path / "templates" / "base.html",
        tmp_path / "static" / "js" / "sw.js",
    ):
        _changed(changed)
        versions.append(pwa.shell_version(assets))
    assert len(set(versions)) == len(versions), versions
    (assets / pwa.VENDOR_FOLDERS["htmx"] / "htmx.js").unlink()  # a file gone is a change too
    pwa.shell_version.cache_clear()
    assert pwa.shell_version(assets) not in versions


@pytest.mark.usefixtures("fresh_versions")
def test_every_process_computes_the_same_version_wherever_it_is_installed(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Contents and the names the files are served by, never modification times or absolute paths.
    assets = _copy_of_what_the_worker_serves(tmp_path / "one", settings, monkeypatch)
    first = pwa.shell_version(assets)
    moved = tmp_path / "two"
    shutil.copytree(tmp_path / "one", moved, copy_function=shutil.copyfile)  # new times, another place
    monkeypatch.setattr(pwa, "STATIC_DIR", moved / "static")
    monkeypatch.setattr(pwa, "TEMPLATE_DIR", moved / "templates")
    assert pwa.shell_version(moved / "assets") == first
