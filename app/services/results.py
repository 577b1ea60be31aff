"""Benchmark results: import evaluation logs, explore runs/samples/transcripts, compare models.

API for the UI and the CLI (every call checks the role; errors are FrontierError subclasses whose
text names the file or object):

Import (Permission.IMPORT_RESULTS)
    import_files(session, paths, submission_id, media_label="", progress=None, cancel=None)
        -> list[ImportOutcome]            one per path, in order; status imported|duplicate|failed|cancelled
        Each file is read streaming and stored in ONE transaction with ONE audit event
        ("results.import"); a failed or cancelled file leaves nothing behind (rolled back) and the
        batch goes on with the next file (failure) or stops (cancel). Files already finished stay.
        Re-importing content already stored (same file SHA-256) is reported as "duplicate" and
        not stored again. progress(done, total, text) gets byte counts over the whole batch plus a
        text such as "intercode.eval: 1,200 of 3,000 samples"; cancel() is polled between batches
        of samples. Safe to call from a worker thread: each file's transaction runs on the
        session's one writer connection under its write gate (app/services/runtime.py), so reads
        on the GUI thread's read-only connection go on (they see the last commit) and other writes
        wait until the file is committed. Memory stays bounded (batches of <= 500 samples / 16 MiB).
    propose_submission(session, model_id) -> list[tuple[Submission, str]]
        Submissions whose model name (plus version, developer) appear in a log's model id, best
        first (newest first among equals), with the reason; the UI shows them for confirmation.
    model_mismatch(session, runs, submission_id) -> str | None    the log's model id(s) when none
        points at the submission: the dialog asks, the CLI skips the file unless --any-model.
    prior_imports(session, path) -> list[PriorImport]   runs already stored from this file
        (same SHA-256): asked before the model question, which a duplicate does not need. The
        file is hashed only when a file of its size was imported before (a duplicate, nearly always).
    preview_file(session, path) -> list[EvalRun]      header(s) only (task, model, status...),
        for the import dialog before the reviewer picks a submission.
    import_size(session, path) -> int     bytes an import reads (an lm-eval results file's samples
        files beside it included): what progress(done, total, ...) counts.
    map_task(session, task, benchmark) / unmap_task(session, task)
        Map an unknown task name to a canonical benchmark (catalog name or a new one); audited.
    move_run(session, run_id, submission_id, reason) / delete_run(session, run_id, reason)
        Correct a run attached to the wrong submission, or remove a run (e.g. imported by
        mistake) with everything stored for it; both need a reason and are audited.

Read (Permission.VIEW_CONTENT)
    list_runs(session, submission_id) -> list[EvalRun]    with metrics and resolved .benchmark
    get_run(session, run_id) -> EvalRun
    count_samples(session, run_id, SampleFilter()) -> int
    page_samples(session, run_id, SampleFilter(), offset, limit, sort="order", descending=False, after=None)
        -> list[SampleRow]     sort: order|sample_id|epoch|score|time|tokens; filter by epoch,
        score range, errors only / without errors, sample id, full-text search (FTS5 over input,
        target and answer; the reviewer's words are quoted, so no query syntax is injected).
        after = the last row of the previous page: in log order the next page is an index seek
        (no OFFSET walk); log order without a filter seeks by id for any offset.
    get_sample(session, sample_pk) -> SampleRow
    plain(text) -> str    untrusted text with control / bidi-override characters replaced
    get_transcript(session, sample_pk) -> dict | None   attachment:// references resolved
    transcript_text(transcript) -> str    plain-text rendering (messages, tool calls, tool
        results, scores, error) for a read-only viewer: show with setPlainText, never as HTML.
    benchmark_choices(session) -> list[str]   catalog names plus names used in mappings
    unmapped_tasks(session) -> list[str]
    compare(session, benchmark, run_ids=None, max_samples=100_000) -> Comparison
        One benchmark (canonical name, or a raw task name) across all runs (or run_ids), each
        run's headline value and stderr, the metric direction, and per-sample scores for sample
        ids (and epochs) present in at least two runs.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any, Protocol

from app.foundation.files import shown_name
from app.foundation.text import untrusted_text
from app.ingest import jsonread
from app.ingest.inspect_log import content_text, resolve
from app.ingest.logfile import DEFAULT_LIMITS, Limits, ParsedLog, check_regular_file, sha256_file
from app.ingest.results import import_bytes, open_results_file, sniff
from app.model import benchmarks
from app.model.accounts import Permission
from app.model.errors import Cancelled, FrontierError, IngestError, NotFound, StorageError, ValidationError
from app.model.results import (
    Comparison,
    Direction,
    EvalRun,
    ImportOutcome,
    PriorImport,
    SampleDelta,
    SampleFilter,
    SampleResult,
    SampleRow,
)
from app.model.submissions import Submission
from app.services import benchmark_catalog, parse_process
from app.services.session import Session
from storage import results_repo as repo
from storage import submissions_repo
from storage import transcript_codec as codec
from storage.db import Connection, DatabaseError

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]
BATCH = 500  # samples per insert batch ...
BATCH_BYTES = 16 << 20  # ... or fewer when they are large, so memory stays bounded by bytes too
# Formats whose transcripts are compressed with a dictionary trained on the run's first ones: lm-eval
# lines are small and alike (ratio 9 instead of 4, 1.5x the speed). Inspect logs are not: .eval
# members are stored as inspect-ai compressed them (no CPU); see docs/PERFORMANCE.md.
DICTIONARY_FORMATS = frozenset({"lm-eval"})


# -- import -----------------------------------------------------------------------------------------

def import_files(session: Session, paths: Sequence[str | os.PathLike[str]], submission_id: int,
                 media_label: str = "", progress: Progress | None = None, cancel: Cancel | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> list[ImportOutcome]:
    session.require(Permission.IMPORT_RESULTS)
    if len(media_label) > 200:
        raise ValidationError("media_label", "must be at most 200 characters")
    submissions_repo.get(session.db.conn, submission_id)  # NotFound names the id
    names = [os.fspath(p) for p in paths]
    sizes = []
    for p in names:
        try:
            sizes.append(os.stat(p).st_size)
        except OSError:
            sizes.append(0)
    kinds = [_kind(p) for p in names]  # each file's first bytes read once
    # what a progress bar measures: an lm-eval results file's samples files are read beside it
    reads = [max(import_bytes(p, limits, k), n) if k else n for p, k, n in zip(names, kinds, sizes, strict=True)]
    total = sum(reads)
    # Parser processes started ahead (and started up) take the first .eval whatever its size; each later
    # one goes to them if others are started up by then, else by the size rule (a small log is read
    # sooner here than by processes that must start for it).
    warm = parse_process.ready() >= parse_process.PARSER_PROCESSES
    first_warm = next((i for i, (k, n) in enumerate(zip(kinds, sizes, strict=True))
                       if warm and _for_parsers(k, n, True)), None)
    if "inspect-eval" not in kinds:  # processes started ahead have nothing here: their memory goes
        parse_process.stop_idle()    # back before this import needs its own
    # numpy (about 13 MB) only for what this process may parse itself: parser processes read an .eval
    jsonread.use_numpy(max((n for i, (k, n) in enumerate(zip(kinds, sizes, strict=True))
                            if i != first_warm and not _for_parsers(k, n, False)), default=0))
    done_before = 0
    outcomes: list[ImportOutcome] = []
    for index, path in enumerate(names):
        if cancel is not None and cancel():
            outcomes.extend(ImportOutcome(p, None, "cancelled", "not started") for p in names[index:])
            break
        try:
            to_parsers = _for_parsers(kinds[index], sizes[index],
                                      parse_process.ready() >= parse_process.PARSER_PROCESSES)
            outcomes.append(_import_one(session, path, submission_id, media_label, limits, progress, cancel,
                                        done_before, total, index, len(names), reads[index], kinds[index],
                                        to_parsers))
        except Cancelled:
            outcomes.append(ImportOutcome(path, None, "cancelled", "Import cancelled; nothing was stored "
                                          "from this file."))
            outcomes.extend(ImportOutcome(p, None, "cancelled", "not started") for p in names[index + 1:])
            break
        except FrontierError as exc:
            message = shown_name(str(exc))  # the message names the file: it may not be UTF-8
            outcomes.append(ImportOutcome(path, None, "failed", message))
            _audit_rejection(session, path, message)
        done_before += reads[index]
        if progress is not None:
            progress(done_before, total, f"{os.path.basename(path)}: {outcomes[-1].status}")
    return outcomes


def _audit_rejection(session: Session, path: str, message: str) -> None:
    with session.transaction() as conn:
        session.audit(conn, "results.import_rejected", "file", shown_name(os.path.basename(path)),
                      {"path": shown_name(path), "problem": message[:500]})


def _import_one(session: Session, path: str, submission_id: int, media_label: str,
                limits: Limits, progress: Progress | None, cancel: Cancel | None, done_before: int,
                total: int, index: int, count: int, share: int, kind: str | None,
                to_parsers: bool) -> ImportOutcome:
    name = shown_name(os.path.basename(path))  # stored as the run's original name, and audited
    st = check_regular_file(path)
    if progress is not None:
        progress(done_before, total, f"{name}: reading")
    # A large .eval (any, when they were started ahead) is read by parser processes, taken first; the
    # file's SHA-256 is computed on a thread of its own from the start, while this thread reads the
    # log's header and the samples are read and stored (hashlib releases the GIL). The duplicate check
    # runs as soon as the hash is known, after the batch being stored then: a file already imported is
    # rolled back after a fraction of a second, and nothing of it is kept.
    parsers = _start_parsers(path, limits) if to_parsers else None
    hasher = _FileHash(path, cancel)

    def hashing(beside: str, n: int, whole: int) -> None:  # an lm-eval samples file, before anything is stored
        if progress is not None:
            progress(done_before, total, f"{name}: checking {os.path.basename(beside)} (SHA-256), "
                     f"{min(99, n * 100 // max(whole, 1))} %")

    try:
        log = open_results_file(path, limits, cancel, hashing, kind, keep_samples=parsers is None)
    except BaseException:
        if parsers is not None:
            parsers.close()
        hasher.close()
        raise
    train = log.format in DICTIONARY_FORMATS
    entries = log.runs[0].sample_entries if parsers is not None and len(log.runs) == 1 else None
    if parsers is not None and entries is None:  # not a one-run .eval after all: read here
        parsers.close()
        parsers = None
    if parsers is not None and entries is not None:
        parsers.start(entries())  # each its share of the members, found from the marks this process's read left
        log.close()  # the parser processes read the samples: this process needs only the run's header
    early: _Batches | None = parsers
    bytes_done = log.bytes_done if parsers is None else parsers.bytes_done
    if early is None and log.runs:
        early = _prefetched_batches(log.runs[0].samples(), BATCH, train=train)
    try:
        ticker = _Ticker(progress, bytes_done, done_before, total, share, f"{name} ({index + 1}/{count})",
                         log.bytes_total)
        run_ids: list[int] = []
        stored = 0
        with session.transaction() as conn:
            duplicate = _DuplicateCheck(conn, hasher)
            pending = f"pending {os.urandom(16).hex()}"  # the run's SHA-256 until it is known (unique)
            for i, parsed in enumerate(log.runs):
                run = replace(parsed.run, file_sha256=pending, original_name=name, file_size=st.st_size,
                              media_label=media_label)
                run_id = repo.insert_run(conn, run, submission_id, log.format, session.account.username,
                                         session.now())
                run_ids.append(run_id)
                repo.defer_fts(conn, run_id)
                batches = early if i == 0 and early is not None else \
                    _prefetched_batches(parsed.samples(), BATCH, train=train)
                n, errored = _store_samples(conn, run_id, batches, parsed.sample_estimate, ticker, cancel,
                                            session.now(), session.runtime.flush_wal, duplicate.check)
                repo.resume_fts(conn, run_id)
                repo.finish_run(conn, run_id, n, errored)
                stored += n
            sha, size = duplicate.check(wait=True)
            repo.set_file_hash(conn, run_ids, sha, size)
            _check_unchanged(path, st)
            session.audit(conn, "results.import", "eval_run", ",".join(map(str, run_ids)), {
                "file": name, "path": shown_name(path), "sha256": sha, "size": size, "format": log.format,
                "submission_id": submission_id, "media_label": media_label,
                "tasks": [p.run.task for p in log.runs], "samples": stored,
                "extra_files": [{"path": shown_name(p), "sha256": h} for p, h in log.extra_files],
            })
    except _Duplicate as dup:  # rolled back: nothing of this file is kept
        ids = ", ".join(str(r.run_id) for r in dup.existing)
        subs = ", ".join(sorted({str(r.submission_id) for r in dup.existing}))
        return ImportOutcome(path, dup.existing[0].run_id, "duplicate",
                             f"{name}: already imported (same SHA-256) as run {ids} of submission {subs}; "
                             "not stored again.", 0, dup.existing[0].task, dup.existing[0].model)
    except DatabaseError as exc:
        raise StorageError(f"{name}: the database refused the import ({exc}); nothing was stored.") from None
    except StorageError as exc:  # e.g. the data disk is full: the transaction was rolled back
        raise StorageError(f"{name}: {exc} The import was rolled back; nothing was stored.") from None
    finally:
        if early is not None:
            early.close()  # stops and joins the reader before its file is closed
        log.close()
        hasher.close()
    first = log.runs[0].run
    return ImportOutcome(path, run_ids[0], "imported", f"{name}: {len(run_ids)} run(s), {stored:,} samples imported.",
                         stored, first.task, first.model)


class _FileHash:
    """The file's SHA-256 and size, computed on a thread of its own (hashlib leaves the GIL, so it runs
    beside the import instead of before it: 0.2 s of a 250 MB log's 3 s). `close` stops and joins it."""

    def __init__(self, path: str, cancel: Cancel | None) -> None:
        self._cancel, self._stop = cancel, threading.Event()
        self._result: tuple[str, int] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), name="results-sha256", daemon=True)
        self._thread.start()

    def _run(self, path: str) -> None:
        try:
            self._result = sha256_file(path, self._stopped, self._closing)
        except _HashStopped:
            pass
        except BaseException as exc:  # re-raised by result(), in the importing thread
            self._error = exc

    def _stopped(self) -> bool:
        return self._stop.is_set() or (self._cancel is not None and self._cancel())

    def _closing(self, _hashed: int) -> None:
        # asked every 8 MiB (cancel only every 64): a log refused at once is not held up by the hash
        # still reading 64 MiB from slow media (2 s at 30 MB/s) before `close` returns
        if self._stop.is_set():
            raise _HashStopped

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> tuple[str, int]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._result is None or self._stopped():
            raise Cancelled("Import")
        return self._result

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class _HashStopped(Exception):
    pass


class _Duplicate(Exception):
    def __init__(self, existing: list[PriorImport]) -> None:
        super().__init__("duplicate")
        self.existing = existing


class _DuplicateCheck:
    """Refuses the file (raises _Duplicate, which rolls the import back) once its SHA-256 is known and
    matches a run already stored. `check` is asked after each stored batch and waits only when told."""

    def __init__(self, conn: Connection, hasher: _FileHash) -> None:
        self.conn, self.hasher = conn, hasher
        self.known: tuple[str, int] | None = None

    def check(self, wait: bool = False) -> tuple[str, int]:
        if self.known is None and (wait or self.hasher.done()):
            self.known = self.hasher.result()
            existing = repo.find_by_sha(self.conn, self.known[0])
            if existing:
                raise _Duplicate(existing)
        return self.known or ("", 0)


class _Ticker:
    """Rate-limited progress: bytes over the whole batch, sample counts in the text. The log's own
    progress (`bytes_done` of `log_total`: an lm-eval results file's includes the samples files read
    beside it) is scaled to the file's `size`, its share of the batch."""

    def __init__(self, progress: Progress | None, bytes_done: Callable[[], int], before: int, total: int,
                 size: int, label: str, log_total: int = 0) -> None:
        self.progress, self.bytes_done, self.before, self.total, self.size, self.label = (
            progress, bytes_done, before, total, size, label)
        self.log_total = max(log_total, size)
        self.last = 0.0

    def __call__(self, n: int, estimate: int | None) -> None:
        now = time.monotonic()
        if self.progress is None or now - self.last < 0.1:
            return
        self.last = now
        of = f" of {estimate:,}" if estimate else ""
        share = self.size * min(self.bytes_done(), self.log_total) // max(self.log_total, 1)
        self.progress(self.before + share, self.total, f"{self.label}: {n:,}{of} samples")


class _Batches(Protocol):
    """Prepared batches from the reader thread (_Prefetch) or a parser process; `close` stops either."""

    def __iter__(self) -> Iterator[repo.PreparedSamples]: ...

    def close(self) -> None: ...


def _kind(path: str) -> str | None:
    """What `sniff` says of the file; None when it cannot say (_import_one then names the problem)."""
    try:
        return sniff(path)
    except FrontierError:
        return None


def _for_parsers(kind: str | None, size: int, warm: bool) -> bool:
    """A .eval for parser processes: any of at least parse_process.WARM_MIN_BYTES when they were started
    ahead (`warm`), else one large enough to pay for their start (PROCESS_MIN_BYTES)."""
    least = parse_process.WARM_MIN_BYTES if warm else parse_process.PROCESS_MIN_BYTES
    return kind == "inspect-eval" and size >= least


def _start_parsers(path: str, limits: Limits) -> parse_process.ParserProcess | None:
    """Parser processes for a large .eval; None when none can be started (then the reader thread reads it)."""
    try:
        return parse_process.ParserProcess(path, limits, BATCH, BATCH_BYTES)
    except OSError:
        return None


def _store_samples(conn: Connection, run_id: int, batches: _Batches, estimate: int | None,
                   tick: _Ticker, cancel: Cancel | None, now: str | None = None,
                   flush: Callable[[], None] | None = None,
                   between: Callable[[], object] | None = None) -> tuple[int, int]:
    n = errored = 0
    next_fts = repo.next_sample_id(conn)
    with contextlib.closing(batches):
        for batch in batches:
            c, e = repo.insert_prepared(conn, run_id, batch, now)
            # indexed batch by batch, while the reader prepares the next one (not all at the end)
            next_fts = repo.index_fts(conn, run_id, next_fts)
            if flush is not None:
                flush()  # the WAL goes to disk beside the import, not all in its COMMIT's fsync
            n, errored = n + c, errored + e
            if cancel is not None and cancel():
                raise Cancelled("Import")
            if between is not None:
                between()  # the duplicate check, once the file's hash is known
            tick(n, estimate)
    return n, errored


_DONE = object()


class _Prefetch:
    """Batches of samples read and prepared by a helper thread while the caller stores the previous one.

    The helper starts at once: it reads, decompresses and parses (msgspec), then builds the rows;
    the caller only inserts (FTS5 indexing, SQLCipher encryption). With `train`, the helper first
    holds the run's first transcripts (at most codec.TRAIN_MAX_SAMPLES / TRAIN_MAX_BYTES), trains a
    zstd dictionary on them and compresses every transcript of the run with it (a run too small to
    train keeps the plain codec). Decompression, hashing, zstd and encryption release the GIL, so
    the two overlap on two cores. At most `depth` batches wait in the queue, each bounded by count
    and bytes (memory stays flat). Errors raised while reading are re-raised in the caller's thread
    when it reaches them; `close` (always called: the caller may stop early on cancel, a duplicate
    or a database error) tells the reader to stop and joins it.
    """

    def __init__(self, samples: Iterator[SampleResult], size: int, depth: int = 2, train: bool = False) -> None:
        self._q: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._read, args=(samples, size, train), name="results-reader",
                                        daemon=True)
        self._worker.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, samples: Iterator[SampleResult], size: int, train: bool) -> None:
        put = self._put
        try:
            batch: list[SampleResult] = []
            held = 0
            training = train
            dictionary: codec.Dictionary | None = None
            for sample in samples:
                batch.append(sample)
                held += len(sample.transcript_json or b"") + len(sample.input_text) + len(sample.answer)
                if training:
                    if len(batch) < codec.TRAIN_MAX_SAMPLES and held < codec.TRAIN_MAX_BYTES:
                        continue
                    training, dictionary = False, _train(batch)
                    if not all(put(b) for b in _prepared_in_batches(batch, size, dictionary)):
                        return
                    batch, held = [], 0
                elif len(batch) >= size or held >= BATCH_BYTES:
                    if not put(repo.prepare_samples(batch, dictionary)):
                        return
                    batch, held = [], 0
            if training:
                dictionary = _train(batch)
            if not all(put(b) for b in _prepared_in_batches(batch, size, dictionary)):
                return
            put(_DONE)
        except BaseException as exc:
            put(exc)

    def __iter__(self) -> Iterator[repo.PreparedSamples]:
        while True:
            item = self._q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        self._worker.join()


def _prefetched_batches(samples: Iterator[SampleResult], size: int, depth: int = 2,
                        train: bool = False) -> _Prefetch:
    return _Prefetch(samples, size, depth, train)


def _train(samples: Sequence[SampleResult]) -> codec.Dictionary | None:
    return codec.train([s.transcript_json for s in samples if s.transcript_json is not None
                        and s.transcript_zstd is None])


def _prepared_in_batches(samples: list[SampleResult], size: int,
                         dictionary: codec.Dictionary | None) -> Iterator[repo.PreparedSamples]:
    for i in range(0, len(samples), size):
        yield repo.prepare_samples(samples[i:i + size], dictionary)


def _check_unchanged(path: str, before: os.stat_result) -> None:
    try:
        after = os.stat(path)
    except OSError:
        raise IngestError(path, "the file disappeared during the import (was the media removed?); nothing "
                          "was stored") from None
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise IngestError(path, "the file changed while it was being imported; nothing was stored")


def import_size(session: Session, path: str | os.PathLike[str]) -> int:
    """Bytes an import of this file reads (with an lm-eval results file's samples files beside it):
    the import's progress figures count these."""
    session.require(Permission.IMPORT_RESULTS)
    return import_bytes(os.fspath(path))


def preview_file(session: Session, path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> list[EvalRun]:
    session.require(Permission.IMPORT_RESULTS)
    log: ParsedLog = open_results_file(os.fspath(path), limits)
    try:
        return [replace(p.run, benchmark=_benchmark_resolver(session.db.conn)(p.run.task)) for p in log.runs]
    finally:
        log.close()


_NORM = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    return _NORM.sub("", text.lower())


def propose_submission(session: Session, model_id: str, limit: int = 5) -> list[tuple[Submission, str]]:
    """Submissions whose model name (and version) appear in the log's model id, best first."""
    session.require(Permission.VIEW_CONTENT)
    base = model_id.rsplit("/", 1)[-1]
    nid, nbase = _norm(model_id), _norm(base)
    if not nid:
        return []
    scored: list[tuple[int, int, Submission, str]] = []
    for s in submissions_repo.page(session.db.conn, 0, 10_000, sort="id", descending=True):
        name, version, dev = _norm(s.model_name), _norm(s.version), _norm(s.developer)
        if not name or name not in nid:
            continue
        score, reasons = 1, [f"model name '{s.model_name}'"]
        if version and (version in nbase or nbase.endswith(version)):
            score += 2
            reasons.append(f"version '{s.version}'")
        if dev and dev in nid:
            score += 1
            reasons.append(f"developer '{s.developer}'")
        if nbase == name + version or nbase == name:
            score += 1
        scored.append((score, s.id or 0, s, f"model id {model_id!r} matches " + ", ".join(reasons)))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    return [(s, why) for _, _, s, why in scored[:limit]]


def model_mismatch(session: Session, runs: Sequence[EvalRun], submission_id: int) -> str | None:
    """The model id(s) of a log's runs when none of them points at this submission (by the rule that
    proposes a submission from a model id), else None. The import dialog asks about such a file;
    `import --submission` skips it unless --any-model: one check for both."""
    session.require(Permission.VIEW_CONTENT)
    if not runs:
        return None
    for r in runs:
        if any(s.id == submission_id for s, _ in propose_submission(session, r.model, limit=10_000)):
            return None
    return ", ".join(sorted({r.model for r in runs}))


def prior_imports(session: Session, path: str | os.PathLike[str]) -> list[PriorImport]:
    """Runs already stored from this very file (same SHA-256): importing it again would only report
    it as a duplicate, so there is nothing to ask about it (e.g. its model id) first."""
    session.require(Permission.IMPORT_RESULTS)
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
    except OSError:
        return []  # the import names the problem
    if not repo.size_known(session.db.conn, size):
        return []  # no file of this size was imported: not a duplicate, and nothing is hashed
    sha, _ = sha256_file(name)
    return repo.find_by_sha(session.db.conn, sha)


# -- benchmark mapping ------------------------------------------------------------------------------

def _benchmark_resolver(conn: Connection) -> Callable[[str], str]:
    # explicit mappings, then the stored benchmark definitions (signed documents and the public catalog)
    return benchmark_catalog.task_resolver(conn)


def benchmark_choices(session: Session) -> list[str]:
    session.require(Permission.VIEW_CONTENT)
    names = [d.name for d in benchmark_catalog.latest_definitions(session.db.conn)]
    extra = sorted(set(repo.mappings(session.db.conn).values()) - set(names))
    return names + extra


def unmapped_tasks(session: Session) -> list[str]:
    session.require(Permission.VIEW_CONTENT)
    resolve_task = _benchmark_resolver(session.db.conn)
    return [t for t in repo.all_tasks(session.db.conn) if not resolve_task(t)]


def map_task(session: Session, task: str, benchmark: str) -> None:
    session.require(Permission.IMPORT_RESULTS)
    task, benchmark = task.strip(), benchmark.strip()
    if not task:
        raise ValidationError("task", "is required")
    if not benchmark or len(benchmark) > 200:
        raise ValidationError("benchmark", "must be 1-200 characters")
    with session.transaction() as conn:
        old = repo.mappings(conn).get(task, "")
        repo.set_mapping(conn, task, benchmark, session.account.username, session.now())
        session.audit(conn, "results.map_benchmark", "task", task, {"benchmark": benchmark, "previous": old})


def unmap_task(session: Session, task: str) -> None:
    session.require(Permission.IMPORT_RESULTS)
    with session.transaction() as conn:
        old = repo.mappings(conn).get(task)
        if old is None:
            raise NotFound(f"Task '{task}' has no explicit benchmark mapping.")
        repo.delete_mapping(conn, task)
        session.audit(conn, "results.unmap_benchmark", "task", task, {"previous": old})


# -- corrections ------------------------------------------------------------------------------------

def move_run(session: Session, run_id: int, submission_id: int, reason: str) -> EvalRun:
    session.require(Permission.IMPORT_RESULTS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to move a run to another submission")
    with session.transaction() as conn:
        run = repo.get_run(conn, run_id, _benchmark_resolver(conn))
        submissions_repo.get(conn, submission_id)
        if run.submission_id == submission_id:
            return run
        _refuse_if_cited(conn, run_id, "moved to another submission")
        repo.move_run(conn, run_id, submission_id)
        session.audit(conn, "results.move_run", "eval_run", run_id,
                      {"from_submission": run.submission_id, "to_submission": submission_id, "reason": reason,
                       "sha256": run.file_sha256})
        return repo.get_run(conn, run_id, _benchmark_resolver(conn))


def _refuse_if_cited(conn: Any, run_id: int, what: str) -> None:
    cited = repo.citing_approvals(conn, run_id)
    if cited:
        items = ", ".join(f"{c.item_id} (assessment {c.assessment_id})" for c in cited[:5])
        items += " ..." if len(cited) > 5 else ""
        raise ValidationError("run", f"run {run_id} is cited as evidence by an approved assessment ({items}) and "
                              f"cannot be {what}; the approval rests on it")


def delete_run(session: Session, run_id: int, reason: str) -> int:
    """Remove a run and all its samples/transcripts; returns the number of samples removed."""
    session.require(Permission.IMPORT_RESULTS)
    if not reason.strip():
        raise ValidationError("reason", "a reason is required to delete an evaluation run")
    with session.transaction() as conn:
        run = repo.get_run(conn, run_id, _benchmark_resolver(conn))
        _refuse_if_cited(conn, run_id, "deleted")
        removed = repo.delete_run(conn, run_id)
        session.audit(conn, "results.delete_run", "eval_run", run_id,
                      {"submission_id": run.submission_id, "file": run.original_name, "sha256": run.file_sha256,
                       "task": run.task, "model": run.model, "samples": removed, "reason": reason})
        return removed


# -- queries ----------------------------------------------------------------------------------------

def list_runs(session: Session, submission_id: int) -> list[EvalRun]:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return repo.runs_for_submission(conn, submission_id, _benchmark_resolver(conn))


def get_run(session: Session, run_id: int) -> EvalRun:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return repo.get_run(conn, run_id, _benchmark_resolver(conn))


def count_samples(session: Session, run_id: int, flt: SampleFilter | None = None) -> int:
    session.require(Permission.VIEW_CONTENT)
    return repo.count_samples(session.db.conn, run_id, flt or SampleFilter())


def page_samples(session: Session, run_id: int, flt: SampleFilter | None = None, offset: int = 0,
                 limit: int = 200, sort: str = "order", descending: bool = False,
                 after: SampleRow | None = None) -> list[SampleRow]:
    session.require(Permission.VIEW_CONTENT)
    if limit < 1 or limit > 10_000 or offset < 0:
        raise ValidationError("limit", "page size must be 1-10,000 and offset not negative")
    return repo.page_samples(session.db.conn, run_id, flt or SampleFilter(), offset, limit, sort, descending, after)


def get_sample(session: Session, sample_pk: int) -> SampleRow:
    session.require(Permission.VIEW_CONTENT)
    return repo.get_sample(session.db.conn, sample_pk)


def get_transcript(session: Session, sample_pk: int) -> dict[str, Any] | None:
    """The stored transcript with every attachment:// reference replaced by its text."""
    session.require(Permission.VIEW_CONTENT)
    t = repo.get_transcript(session.db.conn, sample_pk)
    if t is None:
        return None
    att = t.get("attachments") if isinstance(t.get("attachments"), dict) else {}
    resolved = resolve({k: v for k, v in t.items() if k != "attachments"}, att or {},
                       name=f"stored transcript of sample {sample_pk}")
    return resolved if isinstance(resolved, dict) else {}


def plain(text: str) -> str:
    """Untrusted text made safe to display (the one policy: app.foundation.text)."""
    return untrusted_text(text)


def transcript_text(transcript: dict[str, Any] | None) -> str:
    """A readable plain-text rendering of a transcript (messages, tool calls, results, scores)."""
    if not transcript:
        return "(no transcript stored for this sample)"
    import json

    lines: list[str] = []
    messages = transcript.get("messages")
    if isinstance(messages, list) and messages:
        for i, m in enumerate(messages, start=1):
            if not isinstance(m, dict):
                continue
            role = str(m.get("role", "?")).upper()
            head = f"[{i}] {role}"
            if m.get("function"):
                head += f" (tool result: {m.get('function')})"
            lines.append(head)
            text = content_text(m.get("content"))
            if text:
                lines.append(text)
            for call in m.get("tool_calls") or []:
                if isinstance(call, dict):
                    args = json.dumps(call.get("arguments"), ensure_ascii=False, indent=None, default=str)
                    lines.append(f"  -> tool call {call.get('function')}({args})")
            if isinstance(m.get("error"), dict):
                lines.append(f"  !! tool error: {m['error'].get('message', '')}")
            lines.append("")
    elif "doc" in transcript:  # lm-eval sample
        lines.append("DOCUMENT")
        lines.append(json.dumps(transcript.get("doc"), ensure_ascii=False, indent=2, default=str))
        lines.append("")
        lines.append("MODEL RESPONSES")
        lines.append(json.dumps(transcript.get("filtered_resps"), ensure_ascii=False, default=str))
    scores = transcript.get("scores")
    if isinstance(scores, dict) and scores:
        lines.append("SCORES")
        for name, sc in scores.items():
            if isinstance(sc, dict):
                lines.append(f"  {name}: {sc.get('value')!r}  answer: {sc.get('answer') or ''}")
                if sc.get("explanation"):
                    lines.append(f"    {sc.get('explanation')}")
    err = transcript.get("error")
    if isinstance(err, dict):
        lines.append("ERROR")
        lines.append(str(err.get("message", "")))
        if err.get("traceback"):
            lines.append(str(err.get("traceback")))
    events = transcript.get("events")
    if isinstance(events, list) and events:
        kinds: dict[str, int] = {}
        for e in events:
            if isinstance(e, dict):
                kinds[str(e.get("event"))] = kinds.get(str(e.get("event")), 0) + 1
        lines.append("")
        lines.append("EVENTS: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
    return plain("\n".join(lines))


def compare(session: Session, benchmark: str, run_ids: Sequence[int] | None = None,
            max_samples: int = 100_000) -> Comparison:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    resolve_task = _benchmark_resolver(conn)
    tasks = [t for t in repo.all_tasks(conn) if resolve_task(t) == benchmark or t == benchmark]
    runs = repo.runs_for_tasks(conn, tasks, resolve_task)
    if run_ids is not None:
        wanted = set(run_ids)
        runs = [r for r in runs if r.id in wanted]
    if not runs:
        raise NotFound(f"No evaluation runs of benchmark '{benchmark}'.")
    # headline metric: the one most runs share (by name), so values are comparable
    counts: dict[str, int] = {}
    for r in runs:
        h = r.headline
        if h:
            counts[h.metric] = counts.get(h.metric, 0) + 1
    metric = max(counts, key=lambda k: counts[k]) if counts else ""
    values: dict[int, float | None] = {}
    stderrs: dict[int, float | None] = {}
    direction = Direction.UNKNOWN
    for r in runs:
        m = next((x for x in r.metrics if x.metric == metric), None)
        assert r.id is not None
        values[r.id] = m.value if m else None
        stderrs[r.id] = m.stderr if m else None
        if m and direction is Direction.UNKNOWN:
            direction = m.direction
    if direction is Direction.UNKNOWN:
        b = benchmarks.by_name(benchmark)
        direction = b.direction if b else Direction.UNKNOWN
    # Per-sample deltas need at least two runs: a lone run (possibly a million samples) is not read.
    per_run = {r.id: repo.sample_scores(conn, r.id) for r in runs if r.id is not None} if len(runs) > 1 else {}
    seen: dict[tuple[str, int], int] = {}
    for scores in per_run.values():
        for key in scores:
            seen[key] = seen.get(key, 0) + 1
    shared = [k for k, n in seen.items() if n >= 2][:max_samples]
    deltas = tuple(SampleDelta(sid, ep, {rid: per_run[rid].get((sid, ep)) for rid in per_run})
                   for sid, ep in shared)
    return Comparison(benchmark, metric, direction, tuple(runs), values, stderrs, deltas)
