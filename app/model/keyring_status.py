"""Whether the OS keyring can hold the per-workstation secret (set-up shows this before creating)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyringStatus:
    trusted: bool
    backend: str
    reason: str
