"""What rewriting a workstation's database at another SQLCipher page size did."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepageResult:
    old_page_size: int
    new_page_size: int
    tables: int  # tables whose row counts were compared, old against new
    rows: int  # rows in them
    old_bytes: int
    new_bytes: int
    audit_seq: int  # the audit chain, verified against the key header's head, ends here
