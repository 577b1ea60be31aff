"""Assessment repository: templates, rule sets, assessments, answers and their history, evidence
links, suggestion decisions, review comments, findings and coverage determinations.

Plain SQL over one connection; the services decide what is allowed and wrap writes in a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from app.model.assessment_record import AssessmentRow, Comment, EvidenceLink, HistoryEntry, StoredDocument, Transition
from app.model.checklist import Answer, State, Status
from app.model.determination import Determination
from app.model.errors import NotFound
from app.model.findings import EvidenceRef, Finding, Severity
from app.model.markings import Marking
from storage.db import Connection
from storage.rows import build, column_names, fetch_all, fetch_one

# -- templates and rule sets -------------------------------------------------------------------


_T_COLS = ("id AS pk, template_id AS doc_id, version, title, sha256, content, origin, signer, imported_by, "
           "imported_at")
_R_COLS = ("id AS pk, ruleset_id AS doc_id, version, title, sha256, content, origin, signer, imported_by, "
           "imported_at, label, active")
_DOC: dict[str, Callable[[Any], Any]] = {"content": bytes, "active": bool}


def insert_template(conn: Connection, template_id: str, version: int, title: str, sha256: str, content: bytes,
                    origin: str, signer: str, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO checklist_templates (template_id, version, title, sha256, content, origin, signer, "
        "imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (template_id, version, title, sha256, content, origin, signer, actor, now))
    return int(cur.lastrowid or 0)


def find_template(conn: Connection, template_id: str, version: int) -> StoredDocument | None:
    return fetch_one(conn, StoredDocument, f"SELECT {_T_COLS} FROM checklist_templates WHERE template_id = ? "
                     "AND version = ?", (template_id, version), _DOC)


def get_template(conn: Connection, pk: int) -> StoredDocument:
    r = fetch_one(conn, StoredDocument, f"SELECT {_T_COLS} FROM checklist_templates WHERE id = ?", (pk,), _DOC)
    if r is None:
        raise NotFound(f"Checklist template #{pk} is not on this workstation.")
    return r


def templates(conn: Connection) -> list[StoredDocument]:
    return fetch_all(conn, StoredDocument, f"SELECT {_T_COLS} FROM checklist_templates ORDER BY template_id, version",
                     convert=_DOC)


def latest_template(conn: Connection, template_id: str) -> StoredDocument | None:
    return fetch_one(conn, StoredDocument, f"SELECT {_T_COLS} FROM checklist_templates WHERE template_id = ? "
                     "ORDER BY version DESC LIMIT 1", (template_id,), _DOC)


def insert_ruleset(conn: Connection, ruleset_id: str, version: int, label: str, title: str, sha256: str,
                   content: bytes, origin: str, signer: str, actor: str, now: str, active: bool) -> int:
    if active:
        conn.execute("UPDATE coverage_rulesets SET active = 0")
    cur = conn.execute(
        "INSERT INTO coverage_rulesets (ruleset_id, version, label, title, sha256, content, origin, signer, active, "
        "imported_by, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ruleset_id, version, label, title, sha256, content, origin, signer, int(active), actor, now))
    return int(cur.lastrowid or 0)


def find_ruleset(conn: Connection, ruleset_id: str, version: int) -> StoredDocument | None:
    return fetch_one(conn, StoredDocument, f"SELECT {_R_COLS} FROM coverage_rulesets WHERE ruleset_id = ? "
                     "AND version = ?", (ruleset_id, version), _DOC)


def get_ruleset(conn: Connection, pk: int) -> StoredDocument:
    r = fetch_one(conn, StoredDocument, f"SELECT {_R_COLS} FROM coverage_rulesets WHERE id = ?", (pk,), _DOC)
    if r is None:
        raise NotFound(f"Rule set #{pk} is not on this workstation.")
    return r


def active_ruleset(conn: Connection) -> StoredDocument | None:
    return fetch_one(conn, StoredDocument, f"SELECT {_R_COLS} FROM coverage_rulesets WHERE active = 1 "
                     "ORDER BY id DESC LIMIT 1", convert=_DOC)


def rulesets(conn: Connection) -> list[StoredDocument]:
    return fetch_all(conn, StoredDocument, f"SELECT {_R_COLS} FROM coverage_rulesets ORDER BY id", convert=_DOC)


def metric_names(conn: Connection) -> set[str]:
    """Metric names present in imported results (accepted in rule sets besides the catalog's)."""
    return {r[0] for r in conn.execute("SELECT DISTINCT metric FROM eval_metrics")}


def activate_ruleset(conn: Connection, pk: int) -> None:
    conn.execute("UPDATE coverage_rulesets SET active = (id = ?)", (pk,))


# -- assessments -------------------------------------------------------------------------------


_A_COLS = ("id, submission_id, template_pk, state, created_by, created_at, updated_at, submitted_by, submitted_at, "
           "approved_by, approved_at")


_ASSESSMENT: dict[str, Callable[[Any], Any]] = {"state": State}


def insert_assessment(conn: Connection, submission_id: int, template_pk: int, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO assessments (submission_id, template_pk, state, created_by, created_at, updated_at) "
        "VALUES (?, ?, 'draft', ?, ?, ?)", (submission_id, template_pk, actor, now, now))
    return int(cur.lastrowid or 0)


def get_assessment(conn: Connection, assessment_id: int) -> AssessmentRow:
    r = fetch_one(conn, AssessmentRow, f"SELECT {_A_COLS} FROM assessments WHERE id = ?", (assessment_id,),
                  _ASSESSMENT)
    if r is None:
        raise NotFound(f"Assessment {assessment_id} does not exist.")
    return r


def assessment_for_submission(conn: Connection, submission_id: int) -> AssessmentRow | None:
    return fetch_one(conn, AssessmentRow, f"SELECT {_A_COLS} FROM assessments WHERE submission_id = ?",
                     (submission_id,), _ASSESSMENT)


def list_assessments(conn: Connection) -> list[AssessmentRow]:
    return fetch_all(conn, AssessmentRow, f"SELECT {_A_COLS} FROM assessments ORDER BY id", convert=_ASSESSMENT)


def set_state(conn: Connection, assessment_id: int, state: State, now: str, **who: str | None) -> None:
    """Update the state; `who` may set submitted_by/at, approved_by/at (None clears)."""
    cols = ["state = ?", "updated_at = ?"]
    params: list[Any] = [state.value, now]
    for key, value in who.items():
        if key not in ("submitted_by", "submitted_at", "approved_by", "approved_at"):
            raise ValueError(key)
        cols.append(f"{key} = ?")
        params.append(value)
    conn.execute(f"UPDATE assessments SET {', '.join(cols)} WHERE id = ?", (*params, assessment_id))


def set_template(conn: Connection, assessment_id: int, template_pk: int, now: str) -> None:
    conn.execute("UPDATE assessments SET template_pk = ?, updated_at = ? WHERE id = ?",
                 (template_pk, now, assessment_id))


def touch(conn: Connection, assessment_id: int, now: str) -> None:
    conn.execute("UPDATE assessments SET updated_at = ? WHERE id = ?", (now, assessment_id))


def add_transition(conn: Connection, assessment_id: int, action: str, from_state: State, to_state: State,
                   actor: str, now: str, comment: str = "") -> int:
    cur = conn.execute(
        "INSERT INTO assessment_transitions (assessment_id, action, from_state, to_state, actor, at, comment) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (assessment_id, action, from_state.value, to_state.value, actor, now, comment))
    return int(cur.lastrowid or 0)


def transitions(conn: Connection, assessment_id: int) -> list[Transition]:
    return fetch_all(conn, Transition, "SELECT id, action, from_state, to_state, actor, at, comment "
                     "FROM assessment_transitions WHERE assessment_id = ? ORDER BY id", (assessment_id,))


# -- answers and history -----------------------------------------------------------------------

_ANS_COLS = ("item_id, status, justification, marking, risk_expiry, risk_approved_by, risk_approved_at, updated_by, "
             "updated_at")


def _answer(r: Any) -> Answer:
    return Answer(r[0], Status(r[1]), r[2], Marking.parse(r[3]), date.fromisoformat(r[4]) if r[4] else None,
                  r[5], r[6], r[7], r[8])


def answers(conn: Connection, assessment_id: int) -> dict[str, Answer]:
    rows = conn.execute(f"SELECT {_ANS_COLS} FROM answers WHERE assessment_id = ?", (assessment_id,))
    return {r[0]: _answer(r) for r in rows}


def get_answer(conn: Connection, assessment_id: int, item_id: str) -> Answer | None:
    r = conn.execute(f"SELECT {_ANS_COLS} FROM answers WHERE assessment_id = ? AND item_id = ?",
                     (assessment_id, item_id)).fetchone()
    return _answer(r) if r else None


def put_answer(conn: Connection, assessment_id: int, a: Answer) -> None:
    conn.execute(
        "INSERT INTO answers (assessment_id, item_id, status, justification, marking, risk_expiry, risk_approved_by, "
        "risk_approved_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (assessment_id, item_id) DO UPDATE SET status = excluded.status, "
        "justification = excluded.justification, marking = excluded.marking, risk_expiry = excluded.risk_expiry, "
        "risk_approved_by = excluded.risk_approved_by, risk_approved_at = excluded.risk_approved_at, "
        "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (assessment_id, a.item_id, a.status.value, a.justification, a.marking.banner(),
         a.risk_expiry.isoformat() if a.risk_expiry else None, a.risk_approved_by, a.risk_approved_at,
         a.updated_by, a.updated_at))


def delete_answer(conn: Connection, assessment_id: int, item_id: str) -> None:
    conn.execute("DELETE FROM answers WHERE assessment_id = ? AND item_id = ?", (assessment_id, item_id))


def add_history(conn: Connection, assessment_id: int, a: Answer, changes: dict[str, list[str]], reason: str,
                actor: str, now: str) -> None:
    conn.execute(
        "INSERT INTO answer_history (assessment_id, item_id, changed_by, changed_at, status, justification, marking, "
        "risk_expiry, risk_approved_by, changes, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (assessment_id, a.item_id, actor, now, a.status.value, a.justification, a.marking.banner(),
         a.risk_expiry.isoformat() if a.risk_expiry else None, a.risk_approved_by, json.dumps(changes), reason))


def history(conn: Connection, assessment_id: int, item_id: str | None = None) -> list[HistoryEntry]:
    sql = ("SELECT id, item_id, changed_by, changed_at, status, justification, marking, risk_expiry, "
           "risk_approved_by, changes, reason FROM answer_history WHERE assessment_id = ?")
    params: list[Any] = [assessment_id]
    if item_id is not None:
        sql += " AND item_id = ?"
        params.append(item_id)
    return fetch_all(conn, HistoryEntry, sql + " ORDER BY id", params, {"changes": json.loads})


def history_digest(conn: Connection, assessment_id: int, upto: int | None = None) -> tuple[int, str]:
    """(rows, running SHA-256) over the answer history in insertion order, optionally only the first
    `upto` rows. Sealed into the audit chain at each workflow transition, so a later edit of the
    history (e.g. after dropping the append-only triggers) is detectable."""
    import hashlib

    digest = hashlib.sha256(f"answer-history:{assessment_id}".encode()).hexdigest()
    sql = ("SELECT id, item_id, changed_by, changed_at, status, justification, marking, risk_expiry, "
           "risk_approved_by, changes, reason FROM answer_history WHERE assessment_id = ? ORDER BY id")
    params: list[Any] = [assessment_id]
    if upto is not None:
        sql += " LIMIT ?"
        params.append(upto)
    n = 0
    for r in conn.execute(sql, params):
        row = json.dumps(list(r), ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.sha256((digest + row).encode()).hexdigest()
        n += 1
    return n, digest


# -- evidence ----------------------------------------------------------------------------------


_EV_COLS = "id, item_id, kind, run_id, sample_id, sha256, filename, size, text, marking, added_by, added_at"


def add_evidence(conn: Connection, assessment_id: int, item_id: str, kind: str, marking: Marking, actor: str,
                 now: str, run_id: int | None = None, sample_id: str | None = None, sha256: str | None = None,
                 filename: str = "", size: int | None = None, text: str = "") -> int:
    cur = conn.execute(
        "INSERT INTO evidence_links (assessment_id, item_id, kind, run_id, sample_id, sha256, filename, size, text, "
        "marking, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (assessment_id, item_id, kind, run_id, sample_id, sha256, filename, size, text, marking.banner(), actor, now))
    return int(cur.lastrowid or 0)


_EVIDENCE: dict[str, Callable[[Any], Any]] = {"marking": Marking.parse}


def evidence(conn: Connection, assessment_id: int, item_id: str | None = None) -> list[EvidenceLink]:
    sql = f"SELECT {_EV_COLS} FROM evidence_links WHERE assessment_id = ? AND removed_at IS NULL"
    params: list[Any] = [assessment_id]
    if item_id is not None:
        sql += " AND item_id = ?"
        params.append(item_id)
    return fetch_all(conn, EvidenceLink, sql + " ORDER BY id", params, _EVIDENCE)


def get_evidence(conn: Connection, evidence_id: int) -> tuple[int, EvidenceLink]:
    cur = conn.execute(f"SELECT assessment_id, {_EV_COLS} FROM evidence_links WHERE id = ? AND removed_at IS NULL",
                       (evidence_id,))
    r = cur.fetchone()
    if r is None:
        raise NotFound(f"Evidence link {evidence_id} does not exist.")
    return int(r[0]), build(EvidenceLink, column_names(cur)[1:], r[1:], _EVIDENCE)


def remove_evidence(conn: Connection, evidence_id: int, actor: str, now: str) -> None:
    conn.execute("UPDATE evidence_links SET removed_by = ?, removed_at = ? WHERE id = ?", (actor, now, evidence_id))


def evidence_counts(conn: Connection, assessment_id: int) -> dict[str, int]:
    rows = conn.execute("SELECT item_id, count(*) FROM evidence_links WHERE assessment_id = ? AND removed_at IS NULL "
                        "GROUP BY item_id", (assessment_id,))
    return {r[0]: int(r[1]) for r in rows}


# -- suggestion decisions and review comments --------------------------------------------------


def add_suggestion_decision(conn: Connection, assessment_id: int, item_id: str, decision: str,
                            suggested_status: str, ruleset_sha256: str, rule_ids: list[str], run_ids: list[int],
                            suggestion: str, reason: str, actor: str, now: str) -> None:
    conn.execute(
        "INSERT INTO suggestion_decisions (assessment_id, item_id, decision, suggested_status, ruleset_sha256, "
        "rule_ids, run_ids, suggestion, reason, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (assessment_id, item_id, decision, suggested_status, ruleset_sha256, json.dumps(rule_ids),
         json.dumps(run_ids), suggestion, reason, actor, now))


def suggestion_decisions(conn: Connection, assessment_id: int, item_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT decision, suggested_status, ruleset_sha256, rule_ids, run_ids, suggestion, reason, decided_by, "
        "decided_at FROM suggestion_decisions WHERE assessment_id = ? AND item_id = ? ORDER BY id",
        (assessment_id, item_id))
    keys = ("decision", "suggested_status", "ruleset_sha256", "rule_ids", "run_ids", "suggestion", "reason",
            "decided_by", "decided_at")
    out = []
    for r in rows:
        d = dict(zip(keys, r, strict=True))
        d["rule_ids"], d["run_ids"] = json.loads(d["rule_ids"]), json.loads(d["run_ids"])
        out.append(d)
    return out


def add_comment(conn: Connection, assessment_id: int, transition_id: int | None, item_id: str | None, comment: str,
                actor: str, now: str) -> None:
    conn.execute("INSERT INTO review_comments (assessment_id, transition_id, item_id, comment, author, created_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (assessment_id, transition_id, item_id, comment, actor, now))


def comments(conn: Connection, assessment_id: int) -> list[Comment]:
    return fetch_all(conn, Comment, "SELECT id, transition_id, item_id, comment, author, created_at "
                     "FROM review_comments WHERE assessment_id = ? ORDER BY id", (assessment_id,))


# -- findings ----------------------------------------------------------------------------------

_F_COLS = ("id, submission_id, number, title, description, severity, recommendation, item_ids, evidence, marking, "
           "created_by, created_at, updated_at, impact")


def findings_digest(conn: Connection, submission_id: int) -> str:
    """SHA-256 over every finding row of the submission (deleted ones too), in id order: what a
    lead's signed approval covers besides the answers."""
    import hashlib

    rows = conn.execute(f"SELECT {_F_COLS}, deleted FROM findings WHERE submission_id = ? ORDER BY id",
                        (submission_id,)).fetchall()
    text = json.dumps([list(r) for r in rows], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"findings:{submission_id}:{text}".encode()).hexdigest()


def _finding(r: Any) -> Finding:
    return Finding(int(r[1]), r[3], r[4], Severity(r[5]), r[6], tuple(json.loads(r[7])),
                   tuple(EvidenceRef.parse(e) for e in json.loads(r[8])), Marking.parse(r[9]), int(r[0]), int(r[2]),
                   r[10], r[11], r[12], r[13])


def insert_finding(conn: Connection, f: Finding, actor: str, now: str) -> int:
    number = int(conn.execute("SELECT coalesce(max(number), 0) + 1 FROM findings WHERE submission_id = ?",
                              (f.submission_id,)).fetchone()[0])
    cur = conn.execute(
        "INSERT INTO findings (submission_id, number, title, description, severity, recommendation, item_ids, "
        "evidence, marking, created_by, created_at, updated_at, impact) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (f.submission_id, number, f.title, f.description, f.severity.value, f.recommendation, json.dumps(f.item_ids),
         json.dumps([str(e) for e in f.evidence]), f.marking.banner(), actor, now, now, f.impact))
    return int(cur.lastrowid or 0)


def update_finding(conn: Connection, f: Finding, now: str) -> None:
    conn.execute(
        "UPDATE findings SET title = ?, description = ?, severity = ?, recommendation = ?, item_ids = ?, evidence = ?, "
        "marking = ?, updated_at = ?, impact = ? WHERE id = ?",
        (f.title, f.description, f.severity.value, f.recommendation, json.dumps(f.item_ids),
         json.dumps([str(e) for e in f.evidence]), f.marking.banner(), now, f.impact, f.id))


def delete_finding(conn: Connection, finding_id: int, now: str) -> None:
    conn.execute("UPDATE findings SET deleted = 1, updated_at = ? WHERE id = ?", (now, finding_id))


def get_finding(conn: Connection, finding_id: int) -> Finding:
    r = conn.execute(f"SELECT {_F_COLS} FROM findings WHERE id = ? AND deleted = 0", (finding_id,)).fetchone()
    if r is None:
        raise NotFound(f"Finding {finding_id} does not exist.")
    return _finding(r)


def findings(conn: Connection, submission_id: int) -> list[Finding]:
    rows = conn.execute(f"SELECT {_F_COLS} FROM findings WHERE submission_id = ? AND deleted = 0 ORDER BY number",
                        (submission_id,))
    return [_finding(r) for r in rows]


# -- coverage determinations -------------------------------------------------------------------


_D_COLS = ("id, submission_id, ruleset_pk, ruleset_id, ruleset_version, ruleset_sha256, inputs, inputs_fingerprint, "
           "evaluation, outcome, rationale, marking, recorded_by, recorded_at, approved_by, approved_at, superseded_at")


_DETERMINATION: dict[str, Callable[[Any], Any]] = {"inputs": json.loads, "evaluation": json.loads,
                                                   "marking": Marking.parse}


def insert_determination(conn: Connection, submission_id: int, ruleset_pk: int, ruleset_id: str,
                         ruleset_version: int, ruleset_sha256: str, inputs: dict[str, Any], inputs_fingerprint: str,
                         evaluation: dict[str, Any], outcome: str, rationale: str, marking: Marking, actor: str,
                         now: str) -> int:
    conn.execute("UPDATE coverage_determinations SET superseded_at = ? WHERE submission_id = ? "
                 "AND superseded_at IS NULL", (now, submission_id))
    cur = conn.execute(
        "INSERT INTO coverage_determinations (submission_id, ruleset_pk, ruleset_id, ruleset_version, ruleset_sha256, "
        "inputs, inputs_fingerprint, evaluation, outcome, rationale, marking, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (submission_id, ruleset_pk, ruleset_id, ruleset_version, ruleset_sha256, json.dumps(inputs),
         inputs_fingerprint, json.dumps(evaluation), outcome, rationale, marking.banner(), actor, now))
    return int(cur.lastrowid or 0)


def current_determination(conn: Connection, submission_id: int) -> Determination | None:
    return fetch_one(conn, Determination, f"SELECT {_D_COLS} FROM coverage_determinations WHERE submission_id = ? "
                     "AND superseded_at IS NULL ORDER BY id DESC LIMIT 1", (submission_id,), _DETERMINATION)


def get_determination(conn: Connection, determination_id: int) -> Determination:
    r = fetch_one(conn, Determination, f"SELECT {_D_COLS} FROM coverage_determinations WHERE id = ?",
                  (determination_id,), _DETERMINATION)
    if r is None:
        raise NotFound(f"Coverage determination {determination_id} does not exist.")
    return r


def determinations(conn: Connection, submission_id: int) -> list[Determination]:
    return fetch_all(conn, Determination, f"SELECT {_D_COLS} FROM coverage_determinations WHERE submission_id = ? "
                     "ORDER BY id", (submission_id,), _DETERMINATION)


def approve_determination(conn: Connection, determination_id: int, actor: str, now: str) -> None:
    conn.execute("UPDATE coverage_determinations SET approved_by = ?, approved_at = ? WHERE id = ?",
                 (actor, now, determination_id))
