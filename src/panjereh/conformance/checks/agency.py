"""Checks of an agency's records on the platform: its OIDC clients and its service cards."""

from __future__ import annotations
