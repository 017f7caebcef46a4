"""What `verify-log` reports: its findings and counts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the log: `kind` is changed, removed, reordered, seal or head; against the witness
    file also rewritten, truncated, witness (the file itself) or timestamp."""

    seq: int
    kind: str
    detail: str


@dataclass
class VerifyReport:
    """What verification found."""

    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    seals_checked: int = 0
    archive_files: int = 0
    archived_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    witness_lines: int = 0
    witnessed_seals: int = 0
    witnessed_through: int = 0  # the newest head the witness saw (entries after it: the unsealed window)
    unwitnessed_seals: int = 0  # seals in the database over heads newer than the newest witnessed
    timestamps_checked: int = 0
    stamped_through: int = 0  # the newest witness line a verified time-stamp covers

    @property
    def ok(self) -> bool:
        return not self.findings
