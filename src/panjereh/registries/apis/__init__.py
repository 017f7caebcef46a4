"""The routes of each simulated registry, one module per kind of registry."""
