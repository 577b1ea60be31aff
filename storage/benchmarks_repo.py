"""Benchmark definition documents, their definitions, evaluation plans, and the per-sample facts
conformance needs (read from what the results repository stored at import)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from app.model.benchmark_defs import PlanEntry, StoredBenchmarkDocument
from app.model.conformance import SampleView
from app.model.determination import DeterminationReview
from app.model.errors import NotFound
from storage.db import Connection
from storage.rows import fetch_all, fetch_one

# Columns named like the fields of the app.model types they fill (storage/rows.py maps them by name).
_D_COLS = ("id AS pk, document_id, version, title, marking, sha256, content, signature, origin, signer, "
           "imported_by, imported_at")
_DOC: dict[str, Callable[[Any], Any]] = {
    "pk": int, "version": int, "content": bytes, "signature": lambda b: bytes(b) if b is not None else None,
}
_PLAN_COLS = "submission_id, benchmark_id, benchmark_version, origin, note, set_by, set_at"
_PLAN: dict[str, Callable[[Any], Any]] = {"submission_id": int, "benchmark_version": int}
_REVIEW_COLS = "determination_id, flags_sha256, flags, reason, reviewed_by, reviewed_at"
_REVIEW: dict[str, Callable[[Any], Any]] = {"determination_id": int, "flags": json.loads}


def insert_document(conn: Connection, document_id: str, version: int, title: str, marking: str, sha256: str,
                    content: bytes, signature: bytes | None, origin: str, signer: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO benchmark_documents (document_id, version, title, marking, sha256, content, signature, origin, "
        "signer, imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (document_id, version, title, marking, sha256, content, signature, origin, signer, actor, now))
    return int(cur.lastrowid or 0)


def insert_definition(conn: Connection, benchmark_id: str, version: int, name: str, marking: str,
                      document_pk: int) -> None:
    conn.execute("INSERT INTO benchmark_definitions (benchmark_id, version, name, marking, document_pk) "
                 "VALUES (?, ?, ?, ?, ?)", (benchmark_id, version, name, marking, document_pk))


def document_hashes(conn: Connection) -> list[tuple[int, str]]:
    """(pk, sha256) of every stored document: cheap, without the content."""
    return [(int(pk), sha) for pk, sha in conn.execute("SELECT id, sha256 FROM benchmark_documents ORDER BY id")]


def documents(conn: Connection) -> list[StoredBenchmarkDocument]:
    return fetch_all(conn, StoredBenchmarkDocument, f"SELECT {_D_COLS} FROM benchmark_documents ORDER BY id",
                     (), _DOC, complete=True)


def find_document(conn: Connection, document_id: str, version: int) -> StoredBenchmarkDocument | None:
    return fetch_one(conn, StoredBenchmarkDocument,
                     f"SELECT {_D_COLS} FROM benchmark_documents WHERE document_id = ? AND version = ?",
                     (document_id, version), _DOC, complete=True)


def get_document(conn: Connection, pk: int) -> StoredBenchmarkDocument:
    r = fetch_one(conn, StoredBenchmarkDocument, f"SELECT {_D_COLS} FROM benchmark_documents WHERE id = ?", (pk,),
                  _DOC, complete=True)
    if r is None:
        raise NotFound(f"No benchmark definition document with id {pk}.")
    return r


def definition_index(conn: Connection) -> list[tuple[str, int, str, int]]:
    """(benchmark id, version, name, document pk) of every stored definition."""
    return [(bid, int(version), name, int(pk)) for bid, version, name, pk in conn.execute(
        "SELECT benchmark_id, version, name, document_pk FROM benchmark_definitions ORDER BY benchmark_id, version")]


def find_definition(conn: Connection, benchmark_id: str, version: int) -> int | None:
    """The document pk carrying (benchmark id, version), if stored."""
    r = conn.execute("SELECT document_pk FROM benchmark_definitions WHERE benchmark_id = ? AND version = ?",
                     (benchmark_id, version)).fetchone()
    return int(r[0]) if r else None  # one column


# -- per-sample facts for statistics and conformance ------------------------------------------------

def sample_mean_values(conn: Connection, run_id: int) -> tuple[list[float | None], int]:
    """The per-sample mean scores without their ids (for one run's interval), most epochs of a sample.
    One epoch per sample (the usual case): read from the covering (run_id, score) index, no table rows."""
    most = conn.execute("SELECT MAX(epoch) FROM eval_samples WHERE run_id = ?", (run_id,)).fetchone()[0]
    if most is None:
        return [], 0
    if int(most) <= 1:
        return [score for (score,) in conn.execute(
            "SELECT score FROM eval_samples WHERE run_id = ?", (run_id,))], 1
    means, epochs = sample_means(conn, run_id)
    return list(means.values()), epochs


def sample_means(conn: Connection, run_id: int) -> tuple[dict[str, float | None], int]:
    """({sample id: mean score over its scored epochs, None when none is scored}, most epochs of a sample),
    in sample id order. Read in table order and averaged here: grouped in SQL, the (run_id, sample_id,
    epoch) index fetched every row's page in sample-id order, which is not the log's (ctf-1, ctf-10, ...):
    0.69 s for a 40,000-sample run against 0.1 s, and growing out of cache with the run."""
    sums: dict[str, list[float]] = {}  # sample id -> [sum of scores, scored epochs, epochs]
    for sid, score in conn.execute("SELECT sample_id, score FROM eval_samples WHERE run_id = ? ORDER BY id",
                                   (run_id,)):
        acc = sums.get(sid)
        if acc is None:
            acc = sums[sid] = [0.0, 0, 0]
        acc[2] += 1
        if score is not None:
            acc[0] += score
            acc[1] += 1
    # in SQLite's order for the column: text by code point; a value of another type (a row edited
    # outside the app) after the text, rather than a TypeError here
    order = sorted(sums, key=lambda sid: (not isinstance(sid, str), str(sid)))
    means = {sid: (sums[sid][0] / sums[sid][1] if sums[sid][1] else None) for sid in order}
    return means, int(max((acc[2] for acc in sums.values()), default=0))


# Distinct epochs per sample, from the covering (run_id, sample_id, epoch) index: no table row read,
# and a count per sample instead of a set (a set per sample held 200 MB for a 1,000,000-sample run).
# A sample id is text as imported; one edited outside the app (a blob, a number, NULL) is read as text
# naming what it is, so conformance's sorting, digest and listing of ids never meet another type.
_SID = ("coalesce(CASE WHEN typeof(sample_id) = 'blob' THEN 'blob x' || hex(sample_id) "
        "ELSE CAST(sample_id AS TEXT) END, '(no id)')")
SAMPLE_EPOCHS_SQL = (f"SELECT {_SID}, COUNT(DISTINCT epoch) FROM eval_samples WHERE run_id = ? "
                     "GROUP BY sample_id")
# ORDER BY id: the table is then read in its own order (index eval_samples_run). Without it SQLite
# may walk any of the run_id-first indexes (migration 0042 added three); by total_tokens, each row's
# page was fetched and decrypted out of order: 50 s for a 1,000,000-sample run instead of 1 s.
SAMPLE_FACTS_SQL = (f"SELECT {_SID}, has_error, score, total_tokens, total_time FROM eval_samples "
                    "WHERE run_id = ? ORDER BY id")


def sample_facts(conn: Connection, run_id: int, token_budget: int | None = None,
                 time_budget: float | None = None) -> SampleView:
    """What conformance needs of a run's stored samples, without inputs or transcripts."""
    epochs: dict[str, int] = dict(conn.execute(SAMPLE_EPOCHS_SQL, (run_id,)))
    errored: dict[str, int] = {}
    over_tokens: dict[str, int] = {}
    over_time: dict[str, float] = {}
    unscored = 0
    for sid, has_error, score, tokens, seconds in conn.execute(SAMPLE_FACTS_SQL, (run_id,)):
        if has_error:
            errored[sid] = errored.get(sid, 0) + 1
        if score is None:
            unscored += 1
        if token_budget is not None and tokens is not None and tokens > token_budget:
            over_tokens[sid] = max(over_tokens.get(sid, 0), int(tokens))
        if time_budget is not None and seconds is not None and seconds > time_budget:
            over_time[sid] = max(over_time.get(sid, 0.0), float(seconds))
    return SampleView(epochs, errored, unscored, over_tokens, over_time)


# -- evaluation plans -------------------------------------------------------------------------------

def plan(conn: Connection, submission_id: int) -> list[PlanEntry]:
    return fetch_all(conn, PlanEntry, f"SELECT {_PLAN_COLS} FROM evaluation_plans WHERE submission_id = ? "
                     "ORDER BY benchmark_id", (submission_id,), _PLAN, complete=True)


def replace_plan(conn: Connection, submission_id: int, entries: list[tuple[str, int, str]], origin: str,
                 actor: str, now: str) -> None:
    """entries: (benchmark id, version, note)."""
    conn.execute("DELETE FROM evaluation_plans WHERE submission_id = ?", (submission_id,))
    conn.executemany(
        "INSERT INTO evaluation_plans (submission_id, benchmark_id, benchmark_version, origin, note, set_by, set_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", [(submission_id, b, v, origin, note, actor, now) for b, v, note in entries])


def planned_submissions(conn: Connection) -> set[int]:
    return {int(sid) for (sid,) in conn.execute("SELECT DISTINCT submission_id FROM evaluation_plans")}


# -- determination reviews (a lead keeps a flagged determination, saying why) -------------------------

def add_determination_review(conn: Connection, determination_id: int, flags_sha256: str, flags: list[str],
                             reason: str, actor: str, now: str) -> None:
    conn.execute("INSERT INTO determination_reviews (determination_id, flags_sha256, flags, reason, reviewed_by, "
                 "reviewed_at) VALUES (?, ?, ?, ?, ?, ?)",
                 (determination_id, flags_sha256, json.dumps(flags), reason, actor, now))


def determination_review(conn: Connection, determination_id: int, flags_sha256: str) -> DeterminationReview | None:
    return fetch_one(conn, DeterminationReview,
                     f"SELECT {_REVIEW_COLS} FROM determination_reviews WHERE determination_id = ? "
                     "AND flags_sha256 = ? ORDER BY id DESC LIMIT 1", (determination_id, flags_sha256), _REVIEW,
                     complete=True)
