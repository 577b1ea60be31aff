"""What writing a package to media produced: the folder, its files' digests and its markings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.model.markings import Marking


@dataclass(frozen=True)
class PackageResult:
    path: Path
    files: dict[str, str]  # name -> sha256 (manifest entries)
    marking: Marking
    media: Marking


@dataclass(frozen=True)
class SealedResult:
    path: Path  # the NAME.sealed folder
    sealed_file: str  # NAME.p7m
    sha256: str  # of NAME.p7m, as written
    recipients: list[str]  # "subject (SHA-256 fingerprint)" per certificate
    marking: Marking
    media: Marking
