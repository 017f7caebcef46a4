"""The exchange: data services, grants, the gateway, the tamper-evident message log and the citizen's ledger."""
