"""Markers the tests share."""

import pytest

# Seeding the whole demo (history, catalog, exchange) takes tens of seconds alone and minutes on a loaded
# runner: a test that does gets a longer timeout than the suite's 120 s.
seeds_whole_demo = pytest.mark.timeout(600)
