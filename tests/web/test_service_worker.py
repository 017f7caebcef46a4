"""The service worker's shell version is the digest of the shell's files, written in as /sw.js is served:
a change to a style, a script or the offline page is a new shell without anyone bumping a number."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import panjereh.web.pwa as pwa
from panjereh.core.config import Settings


def test_the_served_worker_names_its_shell_by_the_digest_of_the_shell_files(
    client: TestClient, settings: Settings
) -> None:
    served = client.get("/sw.js")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/javascript")
    assert "no-cache" in served.headers["cache-control"] and served.headers["service-worker-allowed"] == "/"
    assert pwa.SHELL_VERSION_MARK not in served.text
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', served.text)
    assert version and version.group(1) == pwa.shell_version(settings.assets_dir)


def test_every_file_of_the_shell_exists(settings: Settings) -> None:
    # The list is read from sw.js's SHELL_URLS: a URL that resolves to nothing would cache a 404 as the shell.
    files = pwa.shell_files(settings.assets_dir)
    assert len(files) >= 8 and all(path.is_file() for path in files), [p for p in files if not p.is_file()]
    assert pwa.TEMPLATE_DIR / "offline.html" in files and pwa.STATIC_DIR / "js" / "pwa.js" in files


def test_a_changed_shell_file_is_a_new_version(tmp_path: Path, settings: Settings) -> None:
    assets = tmp_path / "assets"  # the shell's npm files only (the whole node_modules is ~400 MB)
    for path in pwa.shell_files(settings.assets_dir):
        if path.is_relative_to(settings.assets_dir):
            copy = assets / path.relative_to(settings.assets_dir)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
    before = pwa.shell_version(assets)
    htmx = assets / pwa.VENDOR_FOLDERS["htmx"] / "htmx.min.js"
    htmx.write_bytes(htmx.read_bytes() + b"\n// a new release\n")
    pwa.shell_version.cache_clear()
    assert pwa.shell_version(assets) != before
    assert pwa.shell_version(settings.assets_dir) == pwa.shell_version(settings.assets_dir)


def test_a_worker_without_a_shell_list_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "sw.js"
    broken.write_text('const VERSION = "%SHELL_VERSION%";\n', encoding="utf-8")
    monkeypatch.setattr(pwa, "SERVICE_WORKER", broken)
    with pytest.raises(RuntimeError, match="SHELL_URLS"):
        pwa.shell_files(tmp_path)
