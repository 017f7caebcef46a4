"""Citizen identity: registration against the registries, SMS codes, sessions, assurance levels."""
