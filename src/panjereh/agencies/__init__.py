"""Agencies: the hierarchy (ministry → organization → subsidiary), their systems and connection status."""
