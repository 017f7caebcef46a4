"""The exchange: data services, grants, the gateway, the tamper-evident message log, the ledger."""
