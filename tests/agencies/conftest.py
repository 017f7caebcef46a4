"""Agency tests use the catalog's fixtures: the demo agencies, the flagship cards, the whole inventory."""

from tests.catalog.conftest import agencies, demo_catalog, flagship, make_card

__all__ = ["agencies", "demo_catalog", "flagship", "make_card"]
