"""The connection standard's verdicts and triggers (public: the pages and reports compare with them)."""

from __future__ import annotations

import enum


class CheckStatus(enum.StrEnum):
    """What one check found: fail counts against the standard; warn and not_applicable do not."""

    PASS = "pass"  # noqa: S105 — a check result, not a password
    WARN = "warn"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    SKIPPED = "skipped"  # not run because an earlier check made it meaningless (the system is unreachable)


class RunVerdict(enum.StrEnum):
    """The whole run, as the status machine reads it."""

    PASSING = "passing"
    FAILING = "failing"  # reachable, but at least one check failed
    UNREACHABLE = (
        "unreachable"  # at least one system could not be reached (or answered 5xx to its health check)
    )
    NO_SYSTEMS = "no_systems"  # nothing to check: the status is left as it is


class RunTrigger(enum.StrEnum):
    """Why a run happened."""

    SCHEDULE = "schedule"
    MANUAL = "manual"
    DEMO = "demo"
