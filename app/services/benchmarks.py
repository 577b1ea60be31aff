"""Benchmark definitions (signed documents), conformance of runs, evaluation plans (issue 17).

    import_document(session, path) -> BenchmarkDocument     admin; FILE + FILE.p7s from a trusted authority
    definitions(session, all_versions=False) -> list[BenchmarkDefinition]
    definition(session, ref, version=None) -> BenchmarkDefinition     by id or name
    documents(session) -> list[StoredBenchmarkDocument]
    conformance(session, run_id) -> Conformance | None     None: the run maps to no defined benchmark
    plan(session, submission_id) -> PlanView               planned / imported / conforming / missing
    set_plan(session, submission_id, refs, note)           lead; refs "id" or "id@version"
    propose_plan(session, submission_id) -> list[(id, version)]   from the active rule set
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.foundation.files import shown_name
from app.ingest import benchmark_def
from app.model import benchmark_defs, benchmarks
from app.model import conformance as conf
from app.model.accounts import Permission
from app.model.benchmark_defs import BenchmarkDefinition, PlanEntry, StoredBenchmarkDocument
from app.model.errors import NotFound, ValidationError
from app.model.results import EvalRun
from app.services import benchmark_catalog
from app.services import results as results_service
from app.services.session import Session
from app.services.signed_import import read_signed, signature_path
from storage import benchmarks_repo as repo
from storage import submissions_repo
from storage.db import Connection

WHAT = "benchmark definition document"
_CHECKED: dict[tuple[object, ...], conf.Conformance] = {}


# -- definitions ------------------------------------------------------------------------------------

def ensure_builtin(conn: Connection, now: str, actor: str) -> None:
    """Store the shipped public catalog once (its definitions then sit beside imported ones)."""
    doc = benchmark_catalog.builtin_document()
    if repo.find_document(conn, doc.document_id, doc.version) is not None:
        return
    pk = repo.insert_document(conn, doc.document_id, doc.version, doc.title, doc.marking, doc.sha256,
                              benchmarks.catalog_bytes(), None, "builtin", "", actor, now)
    for d in doc.definitions:
        if repo.find_definition(conn, d.benchmark_id, d.version) is None:
            repo.insert_definition(conn, d.benchmark_id, d.version, d.name, d.marking, pk)


def import_document(session: Session, path: Path) -> benchmark_def.BenchmarkDocument:
    """Admin: import a signed benchmark definition document from media in one transaction."""
    session.require(Permission.IMPORT_TRUSTED)
    path = Path(path)
    data, signer = read_signed(session, path, benchmark_def.MAX_BYTES, WHAT)
    doc = benchmark_def.parse(data, str(path))
    signature = signature_path(path).read_bytes()
    with session.transaction() as conn:
        ensure_builtin(conn, session.now(), session.account.username)
        if repo.find_document(conn, doc.document_id, doc.version) is not None:
            raise ValidationError(str(path), f"document {doc.document_id} v{doc.version} is already on this "
                                  "workstation; a changed document needs a new version number")
        existing = benchmark_catalog.all_definitions(conn)
        for i, d in enumerate(doc.definitions):
            where = f"{path}: benchmarks[{i}]"
            if repo.find_definition(conn, d.benchmark_id, d.version) is not None:
                raise ValidationError(where, f"{d.benchmark_id} v{d.version} is already defined on this workstation; "
                                      "a changed definition needs a new version number")
            clash = next((e for e in existing if e.name.lower() == d.name.lower() and e.benchmark_id != d.benchmark_id),
                         None)
            if clash is not None:
                raise ValidationError(where, f"name {d.name!r} already belongs to benchmark {clash.benchmark_id}")
            newer = [e.version for e in existing if e.benchmark_id == d.benchmark_id and e.version > d.version]
            if newer:
                raise ValidationError(where, f"{d.benchmark_id} v{d.version} is older than the installed "
                                      f"v{max(newer)}")
        pk = repo.insert_document(conn, doc.document_id, doc.version, doc.title, doc.marking, doc.sha256, data,
                                  signature, "imported", signer.describe(), session.account.username, session.now())
        for d in doc.definitions:
            repo.insert_definition(conn, d.benchmark_id, d.version, d.name, d.marking, pk)
        session.audit(conn, "benchmarks.import", "benchmark_document", f"{doc.document_id} v{doc.version}",
                      {"sha256": doc.sha256, "signer": signer.subject, "signer_fingerprint": signer.fingerprint,
                       "file": shown_name(path.name),
                       "definitions": [f"{d.benchmark_id} v{d.version}" for d in doc.definitions]})
    return doc


def definitions(session: Session, all_versions: bool = False) -> list[BenchmarkDefinition]:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    return benchmark_catalog.all_definitions(conn) if all_versions else benchmark_catalog.latest_definitions(conn)


def definition(session: Session, ref: str, version: int | None = None) -> BenchmarkDefinition:
    session.require(Permission.VIEW_CONTENT)
    found = benchmark_defs.find(benchmark_catalog.all_definitions(session.db.conn), ref, version)
    if found is None:
        known = ", ".join(d.benchmark_id for d in benchmark_catalog.latest_definitions(session.db.conn))
        raise NotFound(f"No benchmark definition {ref!r}" + (f" v{version}" if version else "") + f". Known: {known}")
    return found


def documents(session: Session) -> list[StoredBenchmarkDocument]:
    session.require(Permission.VIEW_CONTENT)
    return repo.documents(session.db.conn)


def origin_of(session: Session, d: BenchmarkDefinition) -> str:
    """Where a definition came from: "builtin" or who signed the imported document."""
    for stored, _doc in benchmark_catalog.stored_documents(session.db.conn):
        if stored.sha256 == d.document_sha256:
            return stored.signer if stored.origin == "imported" else "builtin (shipped public catalog)"
    return "builtin (shipped public catalog)"


# -- conformance ------------------------------------------------------------------------------------

def _definition_for_run(conn: Connection, run: EvalRun) -> BenchmarkDefinition | None:
    if not run.benchmark:
        return None
    defs = benchmark_catalog.all_definitions(conn)
    planned = {e.benchmark_id: e.benchmark_version for e in repo.plan(conn, run.submission_id or 0)}
    candidates = [d for d in defs if d.name == run.benchmark]
    if not candidates:
        return None
    pinned = [d for d in candidates if planned.get(d.benchmark_id) == d.version]
    return pinned[0] if pinned else max(candidates, key=lambda d: d.version)


def check_run(conn: Connection, run: EvalRun, definition: BenchmarkDefinition | None = None) -> conf.Conformance | None:
    """No role check: for services that already checked (coverage inputs, plan, report). Against
    `definition` when given, else the version the submission's plan pins, else the latest."""
    d = definition or _definition_for_run(conn, run)
    if d is None or run.id is None:
        return None
    sub = submissions_repo.get(conn, run.submission_id or 0)
    # Stored runs never change (a move changes the submission, part of the key): check each once.
    key = (run.id, run.file_sha256, run.imported_at, run.submission_id, d.benchmark_id, d.version,
           d.document_sha256, sub.model_name, sub.version)
    cached = _CHECKED.get(key)
    if cached is None:
        view = repo.sample_facts(conn, run.id, d.protocol.token_budget, d.protocol.time_budget_seconds)
        cached = conf.check(d, run, view, sub.model_name, sub.version)
        if len(_CHECKED) > 10_000:
            _CHECKED.clear()
        _CHECKED[key] = cached
    return cached


def conformance(session: Session, run_id: int) -> conf.Conformance | None:
    run = results_service.get_run(session, run_id)
    return check_run(session.db.conn, run)


# -- evaluation plans -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanItem:
    benchmark_id: str
    version: int
    name: str
    origin: str  # "proposed" (from the active rule set, not yet set by a lead) | "lead"
    runs: tuple[int, ...]  # imported runs of this benchmark
    conforming_runs: tuple[int, ...]

    @property
    def state(self) -> str:
        if self.conforming_runs:
            return "conforming"
        if self.runs:
            return "imported, not conforming"
        return "missing"


@dataclass(frozen=True)
class PlanView:
    submission_id: int
    items: tuple[PlanItem, ...]
    stored: bool  # False: proposed from the active rule set, no lead has set it yet

    @property
    def counts(self) -> dict[str, int]:
        return {"planned": len(self.items), "imported": sum(1 for i in self.items if i.runs),
                "conforming": sum(1 for i in self.items if i.conforming_runs),
                "missing": sum(1 for i in self.items if not i.runs)}

    @property
    def progress_text(self) -> str:
        c = self.counts
        return (f"{c['planned']} planned, {c['imported']} imported, {c['conforming']} conforming, "
                f"{c['missing']} missing" + ("" if self.stored else " (proposed from the active rule set)"))


def propose_plan(session: Session, submission_id: int) -> list[tuple[str, int]]:
    """Every benchmark a capability rule of the active rule set uses, at the version it names (else latest)."""
    from app.services import rulesets

    session.require(Permission.VIEW_CONTENT)
    ruleset = rulesets.active_ruleset(session)
    defs = benchmark_catalog.all_definitions(session.db.conn)
    out: dict[str, int] = {}
    for rule in ruleset.capability_rules:
        d = benchmark_defs.find(defs, rule.benchmark, rule.benchmark_version)
        if d is not None:
            out[d.benchmark_id] = d.version
    return sorted(out.items())


def plan(session: Session, submission_id: int) -> PlanView:
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    submissions_repo.get(conn, submission_id)
    stored = repo.plan(conn, submission_id)
    proposed = [] if stored else propose_plan(session, submission_id)
    return _plan_view(session, submission_id, stored, proposed, benchmark_catalog.all_definitions(conn))


def plan_progress(session: Session, submission_ids: Sequence[int]) -> dict[int, PlanView]:
    """The plan of many submissions at once (the dashboard): the definitions and the rule set's proposal
    are read once, each run's conformance is checked once (cached), and a submission whose plan is
    empty reads no runs."""
    session.require(Permission.VIEW_CONTENT)
    conn = session.db.conn
    defs = benchmark_catalog.all_definitions(conn)
    planned = repo.planned_submissions(conn)
    proposal: list[tuple[str, int]] | None = None
    out: dict[int, PlanView] = {}
    for sid in submission_ids:
        stored = repo.plan(conn, sid) if sid in planned else []
        if not stored and proposal is None:
            proposal = propose_plan(session, sid)
        out[sid] = _plan_view(session, sid, stored, [] if stored else proposal or [], defs)
    return out


def _plan_view(session: Session, submission_id: int, stored: Sequence[PlanEntry],
               proposed: Sequence[tuple[str, int]], defs: Sequence[BenchmarkDefinition]) -> PlanView:
    conn = session.db.conn
    entries = ([(e.benchmark_id, e.benchmark_version, e.origin) for e in stored] if stored
               else [(b, v, "proposed") for b, v in proposed])
    if not entries:
        return PlanView(submission_id, (), bool(stored))
    runs = results_service.list_runs(session, submission_id)
    items = []
    for bid, version, origin in entries:
        d = benchmark_defs.find(defs, bid, version)
        name = d.name if d else bid
        mine = [r for r in runs if r.benchmark == name and r.id is not None]
        good = []
        for r in mine:
            c = check_run(conn, r, d)
            if c is not None and c.conforming:
                good.append(r.id or 0)
        items.append(PlanItem(bid, version, name, origin, tuple(r.id or 0 for r in mine), tuple(good)))
    return PlanView(submission_id, tuple(items), bool(stored))


def parse_ref(ref: str) -> tuple[str, int | None]:
    """"cybench" or "cybench@2"."""
    name, _, ver = ref.partition("@")
    if ver and not ver.isdigit():
        raise ValidationError("benchmark", f"{ref!r}: the version after '@' must be a whole number")
    return name.strip(), int(ver) if ver else None


def set_plan(session: Session, submission_id: int, refs: Sequence[str], note: str = "") -> PlanView:
    """A lead sets which benchmarks (id and version) the review must run; audited."""
    session.require(Permission.APPROVE)
    defs = benchmark_catalog.all_definitions(session.db.conn)
    entries: list[tuple[str, int, str]] = []
    for ref in refs:
        name, version = parse_ref(ref)
        d = benchmark_defs.find(defs, name, version)
        if d is None:
            known = ", ".join(sorted({x.benchmark_id for x in defs}))
            raise ValidationError("benchmark", f"no benchmark definition {ref!r}; known: {known}")
        if any(e[0] == d.benchmark_id for e in entries):
            raise ValidationError("benchmark", f"{d.benchmark_id} is listed twice")
        entries.append((d.benchmark_id, d.version, note.strip()))
    with session.transaction() as conn:
        submissions_repo.get(conn, submission_id)
        before = [f"{e.benchmark_id} v{e.benchmark_version}" for e in repo.plan(conn, submission_id)]
        repo.replace_plan(conn, submission_id, entries, "lead", session.account.username, session.now())
        session.audit(conn, "plan.set", "submission", submission_id,
                      {"before": before, "after": [f"{b} v{v}" for b, v, _ in entries], "note": note.strip()})
    return plan(session, submission_id)
