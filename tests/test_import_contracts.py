"""The import contracts name every package: a package added, removed or renamed breaks a test here
until the contracts say where it sits, so none drops out of them unnoticed."""

from __future__ import annotations

import pkgutil
import tomllib
from typing import Any

import panjereh
from panjereh.core.config import REPO_ROOT

REGISTRIES = "panjereh.registries"
CORE = "panjereh.core"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _contract(name_starts: str) -> dict[str, Any]:
    return next(c for c in _contracts() if c["name"].startswith(name_starts))


def _packages() -> set[str]:
    return {f"panjereh.{module.name}" for module in pkgutil.iter_modules(panjereh.__path__)}


def _layers() -> list[list[str]]:
    layers = _contract("Layers:")["layers"]
    return [[name.strip() for name in layer.split("|")] for layer in layers]


def _domains() -> set[str]:
    """The packages between the pages and the platform beneath them (the job platform, core): the domains."""
    layers = _layers()
    web = layers.index(["panjereh.web"])
    platform = layers.index(["panjereh.jobs"])
    return {name for layer in layers[web + 1 : platform] for name in layer}


def test_every_layer_is_required() -> None:
    names = [name for layer in _layers() for name in layer]
    assert not [name for name in names if name.startswith("(")], "an optional layer drops out when renamed"


def test_the_layers_name_every_package_but_the_registries() -> None:
    names = [name for layer in _layers() for name in layer]
    assert len(names) == len(set(names))
    assert set(names) == _packages() - {REGISTRIES}


def test_every_domain_is_used_from_outside_only_through_its_public_modules() -> None:
    contract = _contract("A domain is used from outside only through its public modules")
    assert set(contract["protected_modules"]) == _domains()
    edges = {name for layer in _layers()[: _layers().index(["panjereh.web"]) + 1] for name in layer}
    assert set(contract["allowed_importers"]) == edges


def test_every_domain_with_tables_may_use_them_and_no_other_package_may() -> None:
    contract = _contract("Tables and signing keys")
    assert "panjereh.*.models" in contract["protected_modules"]
    with_tables = {
        name for name in _domains() if (REPO_ROOT / "src" / name.replace(".", "/") / "models.py").exists()
    }
    own = {line.split(".** -> ")[0] for line in contract["ignore_imports"] if line.endswith(".models")}
    assert own >= with_tables
    assert set(contract["allowed_importers"]) == {
        "panjereh.metadata",
        "panjereh.migrations",
        "panjereh.seeding",
    }


def test_every_platform_package_is_forbidden_the_simulated_registries() -> None:
    contract = _contract("The platform never imports the simulated registries")
    assert contract["forbidden_modules"] == [REGISTRIES]
    assert set(contract["source_modules"]) == _packages() - {REGISTRIES}


def test_the_simulated_registries_import_only_core() -> None:
    contract = _contract("The simulated registries import only core")
    assert contract["source_modules"] == [REGISTRIES]
    assert set(contract["forbidden_modules"]) == _packages() - {REGISTRIES, CORE}


def test_no_cycle_anywhere_below_the_root() -> None:
    contract = _contract("No import cycles")
    assert contract["type"] == "acyclic_siblings" and contract["ancestors"] == ["panjereh"]
