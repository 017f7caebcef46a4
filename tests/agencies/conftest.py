"""Agency tests use the catalog's fixtures: the demo agencies and the flagship cards."""

from tests.catalog.conftest import agencies, flagship

__all__ = ["agencies", "flagship"]
