"""The check registry (open-forms style): each check is a small plugin with a stable id."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec

from panjereh.conformance.checks.registry import registry

# Plugin modules and the domain each needs; importing a module registers its checks. A plugin whose
# domain is not installed in this build (a branch not merged yet) is left out rather than failing.
PLUGINS = {
    "panjereh.conformance.checks.system": "panjereh.core",
    "panjereh.conformance.checks.oidc": "panjereh.oidc.clients",
    "panjereh.conformance.checks.catalog": "panjereh.catalog.selectors",
}
for _module, _needs in PLUGINS.items():
    if find_spec(_needs.rsplit(".", 1)[0]) is not None and find_spec(_needs) is not None:
        import_module(_module)

__all__ = ["registry"]
