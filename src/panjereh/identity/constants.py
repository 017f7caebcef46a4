"""Assurance levels (public: the services and OIDC clients that ask for a level compare with them)."""

from __future__ import annotations

# Assurance levels carried as `acr` (our names; meanings in docs/security.md).
LEVEL_SMS = 1  # registry-matched mobile + SMS code: one factor (NIST AAL1, eIDAS low)
LEVEL_TWO_FACTOR = 2  # SMS code + TOTP: two factors (NIST AAL2-like, eIDAS substantial-like)
ACR_PREFIX = "urn:panjereh:loa:"
ACR_VALUES = {LEVEL_SMS: f"{ACR_PREFIX}1", LEVEL_TWO_FACTOR: f"{ACR_PREFIX}2"}
HIGHEST_LEVEL = LEVEL_TWO_FACTOR  # what a login here can reach; a service asking more cannot be used online


def acr_for(level: int) -> str:
    return ACR_VALUES[level]


def level_of_acr(acr: str) -> int | None:
    """The level an `acr` value names (`urn:panjereh:loa:2`, or a bare `2`), or None if unknown."""
    tail = acr.removeprefix(ACR_PREFIX)
    return int(tail) if tail in ("1", "2") else None
