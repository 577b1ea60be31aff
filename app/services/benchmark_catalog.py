"""The benchmark definitions on this workstation: the shipped public catalog plus every signed
document imported (parsed once per document hash). No role check here: callers check.

Kept apart from app.services.benchmarks so that the results service can resolve task names
without importing the import / conformance / plan use cases (which themselves use results).
"""

from __future__ import annotations

from collections.abc import Callable

from app.ingest import benchmark_def
from app.model import benchmarks
from app.model.benchmark_defs import BenchmarkDefinition, StoredBenchmarkDocument, latest
from storage import benchmarks_repo as repo
from storage import results_repo
from storage.db import Connection

_PARSED: dict[str, benchmark_def.BenchmarkDocument] = {}


def builtin_document() -> benchmark_def.BenchmarkDocument:
    data = benchmarks.catalog_bytes()
    return _parsed(data, benchmarks.CATALOG_FILE)


def _parsed(data: bytes, where: str) -> benchmark_def.BenchmarkDocument:
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    doc = _PARSED.get(sha)
    if doc is None:
        doc = benchmark_def.parse(data, where)
        _PARSED[sha] = doc
    return doc


def stored_documents(conn: Connection) -> list[tuple[StoredBenchmarkDocument, benchmark_def.BenchmarkDocument]]:
    return [(d, _parsed(d.content, f"benchmark document {d.document_id} v{d.version}")) for d in repo.documents(conn)]


_MERGED: dict[tuple[str, ...], list[BenchmarkDefinition]] = {}


def all_definitions(conn: Connection) -> list[BenchmarkDefinition]:
    """Every stored definition (all versions); the shipped catalog's where it is not stored yet.
    Called on every results read (task resolution): only the documents' hashes are read each time;
    a document's content is read and parsed once per hash."""
    hashes = repo.document_hashes(conn)
    key = tuple(sha for _pk, sha in hashes)
    merged = _MERGED.get(key)
    if merged is not None:
        return list(merged)
    docs = [_PARSED.get(sha) for _pk, sha in hashes]
    if any(d is None for d in docs):
        docs = [doc for _stored, doc in stored_documents(conn)]
    out: dict[tuple[str, int], BenchmarkDefinition] = {}
    for doc in docs:
        assert doc is not None
        for d in doc.definitions:
            out.setdefault((d.benchmark_id, d.version), d)
    for d in builtin_document().definitions:
        out.setdefault((d.benchmark_id, d.version), d)
    merged = sorted(out.values(), key=lambda d: (d.name.lower(), d.version))
    if len(_MERGED) > 64:
        _MERGED.clear()
    _MERGED[key] = merged
    return list(merged)


def latest_definitions(conn: Connection) -> list[BenchmarkDefinition]:
    return sorted(latest(all_definitions(conn)).values(), key=lambda d: d.name.lower())


def task_resolver(conn: Connection) -> Callable[[str], str]:
    """task name -> benchmark name: an explicit mapping first, else the latest definition whose task
    patterns match (classified definitions extend the public catalog without a code release)."""
    explicit = results_repo.mappings(conn)
    defs = latest_definitions(conn)

    def resolve(task: str) -> str:
        if task in explicit:
            return explicit[task]
        hit = next((d for d in defs if d.matches_task(task)), None)
        return hit.name if hit else ""

    return resolve
