"""Evaluation runs, metrics, per-sample results, compressed transcripts and full-text search.

All writes take the caller's connection inside its transaction (one per imported file), so a
failure or a cancel rolls everything back. Reads page samples by run with filters backed by
indexes on (run_id, ...) and FTS5 over input/target/answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.model.errors import NotFound, StorageError
from app.model.results import (
    LM_EVAL_TRANSCRIPT_KEYS,
    CitingApproval,
    Direction,
    EvalRun,
    Harness,
    MetricValue,
    PriorImport,
    RunStatus,
    SampleFilter,
    SampleResult,
    SampleRow,
)
from storage import transcript_codec as codec
from storage.db import Connection
from storage.rows import column_names, fetch_all, fetch_one, mapper
from storage.sample_prep import finite as _finite
from storage.sample_prep import raw_transcript, sample_row
from storage.sample_prep import scores_json as _scores_json  # noqa: F401  (kept for its unit test)

# Parts of an Inspect sample that make up its transcript (same list as app.ingest.inspect_log).
TRANSCRIPT_KEYS = ("messages", "events", "events_data", "output", "metadata", "store", "attachments", "error",
                   "limit", "scores")
# Columns named like the fields of the app.model types they fill (storage/rows.py maps them by name).
_RUN_COLS = (
    "id, submission_id, file_sha256, original_name, file_size, media_label, harness, harness_version, "
    "task, task_version, model, created, status, epochs, total_samples, completed_samples, errored_samples, "
    "sample_count, incomplete, error_message, eval_id, eval_run_id AS run_id, dataset, notes, imported_by, "
    "imported_at"
)
_RUN: dict[str, Callable[[Any], Any]] = {
    "file_size": int, "harness": Harness, "status": RunStatus.parse, "epochs": int, "errored_samples": int,
    "sample_count": int, "incomplete": bool, "notes": lambda s: tuple(json.loads(s)),
}
_RUN_SUPPLIED = ("metrics", "benchmark")  # from eval_metrics and the benchmark mapping
_METRIC_COLS = "scorer, metric, value, stderr, direction, filter, reducer"
_SAMPLE_COLS = (
    "s.id, s.run_id, s.sample_id, s.epoch, s.score, s.scores, s.input AS input_text, s.target, s.answer, "
    "s.error, s.total_time, s.working_time, s.input_tokens, s.output_tokens, s.total_tokens, "
    "EXISTS (SELECT 1 FROM eval_transcripts t WHERE t.sample_pk = s.id) AS has_transcript"
)
# id, run_id and epoch are INTEGER NOT NULL: they come back as int without a conversion.
_SAMPLE: dict[str, Callable[[Any], Any]] = {"scores": json.loads, "has_transcript": bool}
SAMPLE_SORTS: dict[str, str | tuple[str, ...]] = {
    "order": "s.id",
    # Natural order for the usual ids ("ctf-2" before "ctf-10", 9 before 10): the text without its
    # trailing digits, then the length, then the text. Plain SQL, so a million rows still sort in C.
    "sample_id": ("rtrim(s.sample_id, '0123456789')", "length(s.sample_id)", "s.sample_id"),
    "epoch": "s.epoch",
    "score": "s.score",
    "time": "s.total_time",
    "tokens": "s.total_tokens",
}


# -- runs -------------------------------------------------------------------------------------------

def find_by_sha(conn: Connection, sha256: str) -> list[PriorImport]:
    """Runs already imported from a file with this SHA-256."""
    return fetch_all(conn, PriorImport, "SELECT id AS run_id, submission_id, task, model FROM eval_runs "
                     "WHERE file_sha256 = ? ORDER BY id", (sha256,), complete=True)


def size_known(conn: Connection, size: int) -> bool:
    """Was a file of exactly this many bytes imported? (Only then can it be a duplicate: a cheap test
    before a file's SHA-256 is computed.)"""
    return conn.execute("SELECT 1 FROM eval_runs WHERE file_size = ? LIMIT 1", (size,)).fetchone() is not None


def insert_run(conn: Connection, run: EvalRun, submission_id: int, fmt: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO eval_runs (submission_id, file_sha256, original_name, file_size, format, media_label, "
        "harness, harness_version, task, task_version, model, created, status, epochs, total_samples, "
        "completed_samples, errored_samples, sample_count, incomplete, error_message, eval_id, eval_run_id, "
        "dataset, notes, imported_by, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (submission_id, run.file_sha256, run.original_name, run.file_size, fmt, run.media_label,
         run.harness.value, run.harness_version, run.task, run.task_version, run.model, run.created,
         run.status.value, run.epochs, run.total_samples, run.completed_samples, run.errored_samples,
         0, int(run.incomplete), run.error_message, run.eval_id, run.run_id, run.dataset,
         json.dumps(list(run.notes)), actor, now),
    )
    run_id = int(cur.lastrowid or 0)
    conn.executemany(
        "INSERT INTO eval_metrics (run_id, seq, scorer, metric, filter, reducer, value, stderr, direction) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [(run_id, i, m.scorer, m.metric, m.filter, m.reducer, _finite(m.value), _finite(m.stderr),
          m.direction.value) for i, m in enumerate(run.metrics)],
    )
    return run_id


def set_file_hash(conn: Connection, run_ids: Sequence[int], sha256: str, size: int) -> None:
    """The source file's SHA-256 and size on the runs imported from it (known once it is read whole)."""
    conn.executemany("UPDATE eval_runs SET file_sha256 = ?, file_size = ? WHERE id = ?",
                     [(sha256, size, run_id) for run_id in run_ids])


def defer_fts(conn: Connection, run_id: int) -> None:
    """Leave the FTS5 rows of this run's samples to `index_fts` (same transaction)."""
    conn.execute("INSERT INTO eval_fts_deferred (run_id) VALUES (?)", (run_id,))


def next_sample_id(conn: Connection) -> int:
    """The id the next stored sample gets (ids are assigned by `insert_prepared` under the write lock)."""
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM eval_samples").fetchone()[0])


def index_fts(conn: Connection, run_id: int, from_id: int) -> int:
    """Index the run's samples stored from id `from_id` on, in one statement; returns the id to index
    from next time. (FTS5 gathers the terms in memory and writes a segment per megabyte of them
    whatever the statements, so indexing batch by batch costs what one statement per run did.)"""
    conn.execute("INSERT INTO eval_samples_fts (rowid, input, target, answer) "
                 "SELECT id, input, target, answer FROM eval_samples WHERE id >= ? AND +run_id = ? ORDER BY id",
                 (from_id, run_id))  # +run_id: walk the new ids, never the run_id index
    return next_sample_id(conn)


def resume_fts(conn: Connection, run_id: int) -> None:
    """The run's samples are indexed (`index_fts`): let the per-row trigger take over again."""
    conn.execute("DELETE FROM eval_fts_deferred WHERE run_id = ?", (run_id,))


def finish_run(conn: Connection, run_id: int, sample_count: int, errored: int) -> None:
    conn.execute("UPDATE eval_runs SET sample_count = ?, errored_samples = ? WHERE id = ?",
                 (sample_count, errored, run_id))


def _metrics(conn: Connection, run_ids: Sequence[int]) -> dict[int, list[MetricValue]]:
    out: dict[int, list[MetricValue]] = {rid: [] for rid in run_ids}
    if not run_ids:
        return out
    marks = ",".join("?" * len(run_ids))
    # The run id groups the metrics and is no field of MetricValue: it comes first, the rest by name.
    cur = conn.execute(f"SELECT run_id, {_METRIC_COLS} FROM eval_metrics WHERE run_id IN ({marks}) "
                       "ORDER BY run_id, seq", tuple(run_ids))
    to_metric = mapper(MetricValue, column_names(cur)[1:], {"direction": Direction}, complete=True)
    for run_id, *rest in cur:
        out[run_id].append(to_metric(rest))
    return out


def _load_runs(conn: Connection, where: str, params: Sequence[Any], resolve_benchmark: Any) -> list[EvalRun]:
    cur = conn.execute(f"SELECT {_RUN_COLS} FROM eval_runs WHERE {where} ORDER BY id", tuple(params))
    names = column_names(cur)
    to_run = mapper(EvalRun, names, _RUN, supplied=_RUN_SUPPLIED, complete=True)
    id_at, task_at = names.index("id"), names.index("task")
    rows = cur.fetchall()
    metrics = _metrics(conn, [r[id_at] for r in rows])
    return [to_run(r, metrics=tuple(metrics[r[id_at]]), benchmark=resolve_benchmark(r[task_at])) for r in rows]


def runs_for_submission(conn: Connection, submission_id: int, resolve_benchmark: Any) -> list[EvalRun]:
    return _load_runs(conn, "submission_id = ?", (submission_id,), resolve_benchmark)


def runs_for_tasks(conn: Connection, tasks: Sequence[str], resolve_benchmark: Any) -> list[EvalRun]:
    if not tasks:
        return []
    return _load_runs(conn, f"task IN ({','.join('?' * len(tasks))})", tasks, resolve_benchmark)


def all_tasks(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT task FROM eval_runs ORDER BY task")]


def get_run(conn: Connection, run_id: int, resolve_benchmark: Any) -> EvalRun:
    runs = _load_runs(conn, "id = ?", (run_id,), resolve_benchmark)
    if not runs:
        raise NotFound(f"No evaluation run with id {run_id}.")
    return runs[0]


# -- samples ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreparedSamples:
    """A batch of samples turned into rows and compressed transcripts, ready to insert.

    Preparing is pure CPU work (text clipping, JSON of the scores, zstd, which releases the GIL), so
    the importer does it on its reader thread while the writer inserts the previous batch.
    `dictionary` is the one the `zstd-dict-json` transcripts of the batch were compressed with.
    """

    rows: list[tuple[Any, ...]]  # eval_samples columns after (id, run_id)
    transcripts: list[tuple[int, str, int, bytes]]  # (index in rows, codec, raw size, compressed)
    errored: int
    dictionary: codec.Dictionary | None = None


def prepare_samples(samples: Sequence[SampleResult], dictionary: codec.Dictionary | None = None) -> PreparedSamples:
    """Rows and transcripts; transcripts not already compressed are compressed with `dictionary`
    when one is given (lm-eval lines), plainly otherwise."""
    zc = codec.compressor(dictionary)
    fresh = codec.CODEC if dictionary is None else codec.DICT_CODEC
    rows = []
    transcripts = []
    errored = 0
    for i, s in enumerate(samples):
        rows.append(sample_row(s))
        raw = raw_transcript(s)
        if raw is not None:
            if s.transcript_zstd is not None:  # an .eval member's own frame, stored as it is
                transcripts.append((i, codec.CODEC, len(raw), s.transcript_zstd))
            else:
                transcripts.append((i, fresh, len(raw), zc.compress(raw)))
        errored += int(bool(s.error))
    return PreparedSamples(rows, transcripts, errored, dictionary)


def insert_prepared(conn: Connection, run_id: int, batch: PreparedSamples, now: str | None = None) -> tuple[int, int]:
    """Insert a prepared batch; returns (count, errored).

    Row ids are assigned here (the caller holds the write lock: BEGIN IMMEDIATE), so samples and
    transcripts go in with one executemany each. The batch's dictionary is stored first (once per
    database: deduplicated by its SHA-256; `now` is its creation time).
    """
    if not batch.rows:
        return 0, 0
    dict_id = None if batch.dictionary is None else codec.store_dictionary(conn, batch.dictionary, now)
    first = next_sample_id(conn)
    _insert_many(conn, "INSERT INTO eval_samples (id, run_id, sample_id, epoch, score, has_error, total_time, "
                 "working_time, input_tokens, output_tokens, total_tokens, scores, error, target, answer, input) "
                 "VALUES ", 16, [(first + i, run_id, *row) for i, row in enumerate(batch.rows)])
    _insert_many(conn, "INSERT INTO eval_transcripts (sample_pk, codec, raw_size, data, dict_id) VALUES ", 5,
                 [(first + i, name, size, data, dict_id if name == codec.DICT_CODEC else None)
                  for i, name, size, data in batch.transcripts])
    return len(batch.rows), batch.errored


_ROWS_PER_INSERT = 250  # rows of one multi-row INSERT (16 columns: 4,000 parameters, SQLite allows 32,766)


def _insert_many(conn: Connection, head: str, width: int, rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT `rows` with a few multi-row statements instead of executemany's statement per row.

    Why: the driver gives up the GIL while SQLite runs a statement and must take it back after each
    one; with a statement per row the importer's writer thread waited for the GIL after every row
    while its reader thread parsed, and the two threads took turns instead of using both cores.
    """
    one = "(" + ",".join("?" * width) + ")"
    for i in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[i:i + _ROWS_PER_INSERT]
        conn.execute(head + ",".join([one] * len(chunk)), [v for row in chunk for v in row])


def insert_samples(conn: Connection, run_id: int, samples: Sequence[SampleResult]) -> tuple[int, int]:
    """Insert a batch; returns (count, errored). Transcripts are stored zstd-compressed."""
    return insert_prepared(conn, run_id, prepare_samples(samples))


_FTS_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Reviewer's words -> a safe FTS5 query: each word quoted (no operators injected), ANDed;
    a trailing '*' on a word keeps prefix search."""
    terms = []
    for raw in text.split():
        prefix = raw.endswith("*")
        words = _FTS_WORD.findall(raw)
        for i, w in enumerate(words):
            terms.append(f'"{w}"' + ("*" if prefix and i == len(words) - 1 else ""))
    return " ".join(terms)


def _where(run_id: int, f: SampleFilter) -> tuple[str, list[Any]]:
    clauses = ["s.run_id = ?"]
    params: list[Any] = [run_id]
    if f.epoch is not None:
        clauses.append("s.epoch = ?")
        params.append(f.epoch)
    if f.min_score is not None:
        clauses.append("s.score >= ?")
        params.append(f.min_score)
    if f.max_score is not None:
        clauses.append("s.score <= ?")
        params.append(f.max_score)
    if f.errors_only:
        clauses.append("s.has_error = 1")
    if f.no_errors:
        clauses.append("s.has_error = 0")
    if f.sample_id is not None:
        clauses.append("s.sample_id = ?")
        params.append(f.sample_id)
    if f.search.strip():
        q = fts_query(f.search)
        if q:
            clauses.append("s.id IN (SELECT rowid FROM eval_samples_fts WHERE eval_samples_fts MATCH ?)")
            params.append(q)
    return " AND ".join(clauses), params


def count_samples(conn: Connection, run_id: int, f: SampleFilter) -> int:
    if f == SampleFilter():
        # unfiltered: the count stored when the run was imported (no scan of a million rows)
        r = conn.execute("SELECT sample_count FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
        if r is not None:
            return int(r[0])
    where, params = _where(run_id, f)
    return int(conn.execute(f"SELECT count(*) FROM eval_samples s WHERE {where}", params).fetchone()[0])


def page_samples(conn: Connection, run_id: int, f: SampleFilter, offset: int, limit: int,
                 sort: str = "order", descending: bool = False, after: SampleRow | None = None) -> list[SampleRow]:
    """One page of samples. In log order without OFFSET: `after` (the last row of the page before,
    same filter and sort) continues from its id; an unfiltered run, whose ids are one contiguous
    range, is entered at id = first + offset. Either way an index seek, so a page deep in a
    million-row run costs what the first one does. Other sorts page by OFFSET on their (run_id,
    column, id) index: a keyset there walks every tie of the column (600,000 equal scores)."""
    where, params = _where(run_id, f)
    terms = SAMPLE_SORTS.get(sort, "s.id")
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{t} {direction}" for t in ((terms,) if isinstance(terms, str) else terms))
    if terms == "s.id" and after is not None:
        where, params, offset = f"{where} AND s.id {'<' if descending else '>'} ?", [*params, after.id], 0
    elif terms == "s.id" and f == SampleFilter() and offset:
        start = _contiguous_start(conn, run_id, offset, descending)
        if start is not None:
            where, params, offset = f"{where} AND s.id {'<=' if descending else '>='} ?", [*params, start], 0
    order = f"{order}, s.id {direction}"
    if offset:
        # Deep by OFFSET: the skipped rows are counted on ids alone and only the page's rows are read
        # whole. Read whole, every skipped row was (its text, its transcript check) and, where no index
        # gives the order (a score filter sorted by time, or in log order), sorted whole: 0.4-0.5 s for
        # a page near the end of the 13,333 incorrect samples of a 40,000-sample run, now 5-45 ms.
        where, params = (f"s.id IN (SELECT s.id FROM eval_samples s WHERE {where} ORDER BY {order} "
                         "LIMIT ? OFFSET ?)", [*params, limit, offset])
        cur = conn.execute(f"SELECT {_SAMPLE_COLS} FROM eval_samples s WHERE {where} ORDER BY {order}", params)
    else:
        cur = conn.execute(f"SELECT {_SAMPLE_COLS} FROM eval_samples s WHERE {where} ORDER BY {order} LIMIT ?",
                           (*params, limit))
    to_row = mapper(SampleRow, column_names(cur), _SAMPLE)
    return [to_row(r) for r in cur.fetchall()]


def _contiguous_start(conn: Connection, run_id: int, offset: int, descending: bool) -> int | None:
    """The id at `offset` in log order when the run's ids form one range (an import assigns them
    in one block); None otherwise. min() and max() are each one seek in (run_id, id)."""
    lo = conn.execute("SELECT min(id) FROM eval_samples WHERE run_id = ?", (run_id,)).fetchone()[0]
    hi = conn.execute("SELECT max(id) FROM eval_samples WHERE run_id = ?", (run_id,)).fetchone()[0]
    n = conn.execute("SELECT sample_count FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
    if lo is None or n is None or int(hi) - int(lo) + 1 != int(n[0]):
        return None
    return int(hi) - offset if descending else int(lo) + offset


def get_sample(conn: Connection, sample_pk: int) -> SampleRow:
    r = fetch_one(conn, SampleRow, f"SELECT {_SAMPLE_COLS} FROM eval_samples s WHERE s.id = ?", (sample_pk,), _SAMPLE)
    if r is None:
        raise NotFound(f"No sample with id {sample_pk}.")
    return r


def get_transcript(conn: Connection, sample_pk: int) -> dict[str, Any] | None:
    r = conn.execute("SELECT codec, raw_size, data, dict_id FROM eval_transcripts WHERE sample_pk = ?",
                     (sample_pk,)).fetchone()
    if r is None:
        return None
    name, raw_size, blob, dict_id = r  # the four columns named right above
    data = codec.decompress(conn, sample_pk, name, int(raw_size), blob, dict_id)
    try:
        value = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise StorageError(f"The stored transcript of sample {sample_pk} is damaged ({exc}).") from None
    if not isinstance(value, dict):
        return {"value": value}
    if "id" in value and "epoch" in value:  # a whole Inspect sample stored as read: keep the transcript part
        return {k: value[k] for k in TRANSCRIPT_KEYS if value.get(k) is not None}
    if "doc_id" in value:  # a whole lm-eval samples line stored as read: the same
        return {k: value[k] for k in LM_EVAL_TRANSCRIPT_KEYS if k in value}
    return value


def sample_scores(conn: Connection, run_id: int) -> dict[tuple[str, int], float | None]:
    return {(sample_id, epoch): score for sample_id, epoch, score in conn.execute(
        "SELECT sample_id, epoch, score FROM eval_samples WHERE run_id = ? ORDER BY id", (run_id,))}


# -- benchmark mapping -------------------------------------------------------------------------------

def mappings(conn: Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT task, benchmark FROM benchmark_map").fetchall())  # task -> benchmark


def set_mapping(conn: Connection, task: str, benchmark: str, actor: str, now: str) -> None:
    conn.execute(
        "INSERT INTO benchmark_map (task, benchmark, mapped_by, mapped_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (task) DO UPDATE SET benchmark = excluded.benchmark, mapped_by = excluded.mapped_by, "
        "mapped_at = excluded.mapped_at", (task, benchmark, actor, now),
    )


def delete_mapping(conn: Connection, task: str) -> None:
    conn.execute("DELETE FROM benchmark_map WHERE task = ?", (task,))


# -- corrections --------------------------------------------------------------------------------------

def citing_approvals(conn: Connection, run_id: int) -> list[CitingApproval]:
    """Every approved assessment citing the run (or one of its samples) as evidence, by checklist
    item: while that approval stands the run is kept where it is."""
    return fetch_all(
        conn, CitingApproval,
        "SELECT DISTINCT e.assessment_id, e.item_id FROM evidence_links e JOIN assessments a ON a.id = e.assessment_id "
        "WHERE e.run_id = ? AND e.removed_at IS NULL AND a.state = 'approved' ORDER BY 1, 2", (run_id,),
        {"item_id": str}, complete=True)


def move_run(conn: Connection, run_id: int, submission_id: int) -> None:
    conn.execute("UPDATE eval_runs SET submission_id = ? WHERE id = ?", (submission_id, run_id))


def delete_run(conn: Connection, run_id: int) -> int:
    """Delete a run with its metrics, samples, transcripts and FTS rows; returns samples removed."""
    n = int(conn.execute("SELECT count(*) FROM eval_samples WHERE run_id = ?", (run_id,)).fetchone()[0])
    conn.execute("DELETE FROM eval_transcripts WHERE sample_pk IN (SELECT id FROM eval_samples WHERE run_id = ?)",
                 (run_id,))
    conn.execute("DELETE FROM eval_samples WHERE run_id = ?", (run_id,))  # FTS rows go via trigger
    conn.execute("DELETE FROM eval_metrics WHERE run_id = ?", (run_id,))
    conn.execute("DELETE FROM eval_runs WHERE id = ?", (run_id,))
    return n
