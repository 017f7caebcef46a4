"""The registries contract names every platform package: a new one cannot slip past it unnoticed."""

from __future__ import annotations

import pkgutil
import tomllib
from typing import Any

import panjereh
from panjereh.core.config import REPO_ROOT


def _contract(name_starts: str) -> dict[str, Any]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    contract: dict[str, Any] = next(c for c in contracts if c["name"].startswith(name_starts))
    return contract


def test_every_platform_package_is_forbidden_the_simulated_registries() -> None:
    contract = _contract("The platform never imports the simulated registries")
    packages = {f"panjereh.{module.name}" for module in pkgutil.iter_modules(panjereh.__path__)}
    assert contract["forbidden_modules"] == ["panjereh.registries"]
    assert set(contract["source_modules"]) == packages - {"panjereh.registries"}
