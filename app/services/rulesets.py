"""Coverage rule sets: the shipped reference set, signed rule set versions imported by an
administrator, which one is active, and the parsed rule set of a stored version (cached by content
and by the benchmark definitions it was checked against). Determinations live in
app.services.coverage.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from app.foundation.files import shown_name
from app.ingest import rule_set
from app.model import coverage as cov
from app.model.accounts import Permission
from app.model.assessment_record import StoredDocument
from app.model.benchmark_defs import BenchmarkDefinition
from app.model.errors import ValidationError
from app.services import benchmark_catalog
from app.services.session import Session
from app.services.signed_import import read_signed
from storage import assessment_repo as repo
from storage.db import Connection

BUILTIN_RULESET = "reference_ruleset.json"
_CACHE: dict[str, cov.RuleSet] = {}


def builtin_ruleset_bytes() -> bytes:
    return resources.files("app.templates").joinpath(BUILTIN_RULESET).read_bytes()


def definitions(conn: Connection) -> list[BenchmarkDefinition]:
    """The benchmark definitions rule sets are checked against."""
    return benchmark_catalog.all_definitions(conn)


def parse_stored(doc: StoredDocument, conn: Connection) -> cov.RuleSet:
    """The parsed rule set of a stored version."""
    defs = definitions(conn)
    key = doc.sha256 + "|" + ",".join(f"{d.benchmark_id}:{d.version}" for d in defs)
    cached = _CACHE.get(key)
    if cached is None:
        # Stored rule sets had their metric names checked on import (against the results then present).
        cached = rule_set.parse(doc.content, f"rule set {doc.doc_id} v{doc.version}", check_metrics=False,
                                definitions=defs)
        _CACHE[key] = cached
    return cached


def _all_metric_names(conn: Connection) -> set[str]:
    return repo.metric_names(conn)


def ensure_builtin_ruleset(conn: Connection, now: str, actor: str) -> StoredDocument:
    """Store the shipped reference set once; it is active only while nothing else was imported."""
    data = builtin_ruleset_bytes()
    rs = rule_set.parse(data, BUILTIN_RULESET, definitions=definitions(conn))
    stored = repo.find_ruleset(conn, rs.ruleset_id, rs.version)
    if stored is None:
        pk = repo.insert_ruleset(conn, rs.ruleset_id, rs.version, rs.label.value, rs.title, rs.sha256, data,
                                 "builtin", "", actor, now, active=repo.active_ruleset(conn) is None)
        stored = repo.get_ruleset(conn, pk)
    return stored


def active_ruleset(session: Session) -> cov.RuleSet:
    """The imported rule set marked active, else the shipped reference indicators."""
    stored = repo.active_ruleset(session.db.conn)
    if stored is not None:
        return parse_stored(stored, session.db.conn)
    data = builtin_ruleset_bytes()
    return rule_set.parse(data, BUILTIN_RULESET, definitions=definitions(session.db.conn))


def list_rulesets(session: Session) -> list[StoredDocument]:
    session.require(Permission.VIEW_CONTENT)
    return repo.rulesets(session.db.conn)


def import_ruleset(session: Session, path: Path, activate: bool = True) -> StoredDocument:
    """Admin: import a signed rule set version from media (FILE + FILE.p7s) and make it active."""
    session.require(Permission.IMPORT_TRUSTED)
    data, signer = read_signed(session, Path(path), rule_set.MAX_BYTES, "coverage rule set")
    rs = rule_set.parse(data, str(path), extra_metrics=_all_metric_names(session.db.conn),
                        definitions=definitions(session.db.conn))
    with session.transaction() as conn:
        ensure_builtin_ruleset(conn, session.now(), session.account.username)
        if repo.find_ruleset(conn, rs.ruleset_id, rs.version) is not None:
            raise ValidationError(str(path), f"rule set {rs.ruleset_id} v{rs.version} is already on this workstation; "
                                  "a changed rule set needs a new version number")
        newer = [d for d in repo.rulesets(conn) if d.doc_id == rs.ruleset_id and d.version > rs.version]
        if newer:
            raise ValidationError(str(path), f"version {rs.version} is older than the installed v{newer[-1].version}")
        pk = repo.insert_ruleset(conn, rs.ruleset_id, rs.version, rs.label.value, rs.title, rs.sha256, data,
                                 "imported", signer.describe(), session.account.username, session.now(), activate)
        session.audit(conn, "coverage.ruleset_import", "ruleset", f"{rs.ruleset_id} v{rs.version}",
                      {"sha256": rs.sha256, "label": rs.label.value, "signer": signer.subject,
                       "signer_fingerprint": signer.fingerprint, "file": shown_name(Path(path).name),
                       "active": activate})
        return repo.get_ruleset(conn, pk)


def activate_ruleset(session: Session, ruleset_pk: int) -> None:
    session.require(Permission.IMPORT_TRUSTED)
    with session.transaction() as conn:
        doc = repo.get_ruleset(conn, ruleset_pk)
        repo.activate_ruleset(conn, ruleset_pk)
        session.audit(conn, "coverage.ruleset_activate", "ruleset", f"{doc.doc_id} v{doc.version}",
                      {"sha256": doc.sha256})
