"""Values other domains compare with when they use the exchange."""

from __future__ import annotations

# A purpose starting with this marks a sandbox call (an authoring dry run against a test persona): it is
# carried and logged in the hash chain like any call, but it is kept out of the citizen's data-access
# ledger and the inquiry figures (exchange.messagelog).
SANDBOX_PURPOSE_PREFIX = "sandbox:"


def is_sandbox(purpose: str) -> bool:
    """Whether a call's purpose marks it as made in the sandbox."""
    return purpose.startswith(SANDBOX_PURPOSE_PREFIX)
