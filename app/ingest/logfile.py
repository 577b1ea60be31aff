"""What every results reader returns, the limits they honour, and file-level checks.

A reader opens a file, parses the run header(s) eagerly and hands back `ParsedLog`, whose runs
yield their samples lazily (member by member, line by line), so the caller can store them in
batches without the whole log ever being in memory. `bytes_done()` reports progress.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.foundation import files
from app.model.errors import IngestError
from app.model.results import EvalRun, SampleResult

if TYPE_CHECKING:
    from app.ingest.safezip import SampleDirectory


@dataclass(frozen=True)
class Limits:
    """Hard caps applied before and while reading untrusted files."""

    max_member_bytes: int = 1 << 30  # one ZIP member (one Inspect sample) uncompressed
    max_json_value_bytes: int = 512 << 20  # one JSON value while streaming (.json sample, header)
    max_header_bytes: int = 256 << 20  # header.json / start.json / lm-eval results file
    max_line_bytes: int = 256 << 20  # one line of a JSONL / CSV file
    max_members: int = 5_000_000


DEFAULT_LIMITS = Limits()


@dataclass
class ParsedRun:
    run: EvalRun
    samples: Callable[[], Iterator[SampleResult]]
    sample_estimate: int | None = None
    # The samples from the start-th to before the stop-th, where the format can seek to them (.eval
    # members): parser processes each read their own share (app/services/parse_child.py).
    sample_range: Callable[[int, int], Iterator[SampleResult]] | None = None
    # Where an .eval's sample members lie in its directory (their number, a mark every 25, the rare
    # repeats): parser processes find their shares there themselves (app/ingest/safezip.SampleDirectory).
    sample_entries: Callable[[], SampleDirectory] | None = None


@dataclass
class ParsedLog:
    path: str
    format: str  # "inspect-eval" | "inspect-json" | "lm-eval" | "csv"
    runs: list[ParsedRun]
    bytes_total: int
    bytes_done: Callable[[], int]
    close: Callable[[], None] = lambda: None
    extra_files: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256) read alongside


def check_regular_file(path: str) -> os.stat_result:
    """The path must be a readable, non-empty regular file (not a directory, device or FIFO)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise IngestError(path, "file not found (was the media removed?)") from None
    except OSError as exc:
        raise IngestError(path, f"cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise IngestError(path, "is a directory, not a file; choose the log files inside it")
    if not stat.S_ISREG(st.st_mode):
        raise IngestError(path, "is not a regular file")
    if st.st_size == 0:
        raise IngestError(path, "is empty (0 bytes)")
    return st


def sha256_file(path: str, cancel: Callable[[], bool] | None = None,
                progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """SHA-256 and size of a file, streamed (app.foundation.files: `progress(bytes hashed)` every
    8 MiB); a read failure names the file."""
    try:
        return files.sha256_file(path, cancel, progress)
    except OSError as exc:
        raise IngestError(path, f"read failed ({exc.strerror or exc}); was the media removed?") from None


def read_head(path: str, n: int = 4096) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise IngestError(path, f"cannot be read: {exc.strerror or exc}") from None
