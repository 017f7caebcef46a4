"""Panjereh: the national single window for smart government services."""
