"""Vulnerability register repository: records, filtered paging, change history, exchange state."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from app.model.errors import IntegrityError, NotFound
from app.model.markings import Marking
from app.model.vulnerabilities import (
    AffectedProduct,
    DiscoveryContext,
    ExchangeState,
    Filters,
    HistoryEntry,
    Note,
    Remediation,
    ReproStatus,
    Target,
    Tlp,
    Vulnerability,
    VulnStatus,
    format_id,
)
from storage import keyset
from storage.db import Connection
from storage.keyset import Key, Term
from storage.rows import build, column_names, fetch_all, fetch_one

_COLS = (
    "id, title, description, target, vendor, product, product_id, cwe, cve, cvss_vector, cvss_v3_vector, "
    "submission_id, run_id, sample_id, finding_id, repro_status, repro_evidence, discovered, vendor_notified, "
    "embargo_until, published, tlp, remediations, notes, more_products, status, marking, tracking_id, source, "
    "revision, created_by, created_at, updated_at"
)
# Each sort order of the register as its key, the id (unique) last as tie-breaker; migration 0041
# gives each one its index. "id" is (year, seq), unique on its own.
SORT_KEYS = {
    "id": Key((Term("year"), Term("seq"), Term("id"))),
    "title": Key((Term("title COLLATE NOCASE"), Term("id"))),
    "severity": Key((Term("severity_rank"), Term("score", "low"), Term("id"))),
    "score": Key((Term("score", "low"), Term("id"))),
    "status": Key((Term("status"), Term("id"))),
    "embargo": Key((Term("embargo_until", "last"), Term("id"))),  # no embargo after every date, both ways
    "vendor": Key((Term("vendor COLLATE NOCASE"), Term("product COLLATE NOCASE"), Term("id"))),
    "cve": Key((Term("cve"), Term("id"))),
    "tlp": Key((Term("tlp"), Term("id"))),
    "updated": Key((Term("updated_at"), Term("id"))),
}


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


_CONTEXT = ("submission_id", "run_id", "sample_id", "finding_id")  # columns of Vulnerability.context
_VULN: dict[str, Callable[[Any], Any]] = {
    "target": Target, "repro_status": ReproStatus, "discovered": _d, "vendor_notified": _d,
    "embargo_until": _d, "published": _d, "tlp": Tlp,
    "remediations": lambda s: tuple(Remediation.from_dict(x) for x in json.loads(s)),
    "notes": lambda s: tuple(Note.from_dict(x) for x in json.loads(s)),
    "more_products": lambda s: tuple(AffectedProduct.from_dict(x) for x in json.loads(s)),
    "status": VulnStatus, "marking": Marking.parse, "revision": int,
}
_VULN_FIELDS = frozenset(f.name for f in dataclasses.fields(Vulnerability)) - {"context"} | set(_CONTEXT)
_EXCHANGE: dict[str, Callable[[Any], Any]] = {
    "baseline": lambda s: json.loads(s) if s else None, "version": int, "history": json.loads,
}


def _vuln(names: Sequence[str], r: Sequence[Any]) -> Vulnerability:
    """A Vulnerability from one row by column name; the context columns fill its DiscoveryContext.
    Every field must have its column (most have defaults, so a missing one would go unnoticed)."""
    missing = _VULN_FIELDS - set(names)
    if missing:
        raise TypeError(f"Vulnerability has no column for field(s) {', '.join(sorted(missing))}")
    values = dict(zip(names, r, strict=True))
    context = DiscoveryContext(*(values.pop(n) for n in _CONTEXT))
    return build(Vulnerability, (*values, "context"), (*values.values(), context), _VULN)


def _one(conn: Connection, sql: str, params: Iterable[Any]) -> Vulnerability | None:
    cur = conn.execute(sql, tuple(params))
    r = cur.fetchone()
    return None if r is None else _vuln(column_names(cur), r)


def _all(conn: Connection, sql: str, params: Iterable[Any]) -> list[Vulnerability]:
    cur = conn.execute(sql, tuple(params))
    names = column_names(cur)
    return [_vuln(names, r) for r in cur]


def _values(v: Vulnerability) -> dict[str, Any]:
    sev = v.severity
    return {
        "title": v.title, "description": v.description, "target": v.target.value, "vendor": v.vendor,
        "product": v.product, "product_id": v.product_id, "cwe": v.cwe, "cve": v.cve,
        "cvss_vector": v.cvss_vector, "cvss_v3_vector": v.cvss_v3_vector, "score": v.score,
        "severity": sev.value if sev else "", "severity_rank": sev.rank if sev else -1,
        "submission_id": v.context.submission_id, "run_id": v.context.run_id,
        "sample_id": v.context.sample_id, "finding_id": v.context.finding_id,
        "repro_status": v.repro_status.value, "repro_evidence": v.repro_evidence,
        "discovered": _iso(v.discovered), "vendor_notified": _iso(v.vendor_notified),
        "embargo_until": _iso(v.embargo_until), "published": _iso(v.published), "tlp": v.tlp.value,
        "remediations": json.dumps([x.as_dict() for x in v.remediations], ensure_ascii=False),
        "notes": json.dumps([x.as_dict() for x in v.notes], ensure_ascii=False),
        "more_products": json.dumps([x.as_dict() for x in v.more_products], ensure_ascii=False),
        "status": v.status.value, "marking": v.marking.banner(), "marking_level": int(v.marking.level),
        "tracking_id": v.tracking_id, "source": v.source,
    }


DERIVED = ("score", "severity", "severity_rank", "marking_level")  # kept for SQL filters and sorting


def derived(v: Vulnerability) -> dict[str, Any]:
    """What the record's sort and filter columns should hold, computed from the record."""
    vals = _values(v)
    return {k: vals[k] for k in DERIVED}


def stored_derived(conn: Connection, vids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The sort and filter columns as stored, by id (one query per 500 ids)."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(vids), 500):
        chunk = list(vids[i:i + 500])
        cur = conn.execute(f"SELECT id, {', '.join(DERIVED)} FROM vulnerabilities WHERE id IN "
                           f"({', '.join('?' for _ in chunk)})", chunk)
        for r in cur:
            out[r[0]] = dict(zip(DERIVED, r[1:], strict=True))
    return out


def snapshot(v: Vulnerability) -> dict[str, Any]:
    """The whole record as JSON-able values (history snapshots, diffs)."""
    out = _values(v)
    out.pop("severity_rank")
    out.pop("marking_level")
    out["remediations"] = [x.as_dict() for x in v.remediations]
    out["notes"] = [x.as_dict() for x in v.notes]
    out["more_products"] = [x.as_dict() for x in v.more_products]
    out["id"] = v.id
    return out


def next_id(conn: Connection, year: int) -> tuple[str, int]:
    row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM vulnerabilities WHERE year = ?", (year,)).fetchone()
    seq = int(row[0]) + 1
    return format_id(year, seq), seq


def insert(conn: Connection, v: Vulnerability, actor: str, now: str, action: str = "create",
           tracking_key: str = "") -> str:
    """Insert under the next free id of the year of `now` (v.id is ignored); returns the id."""
    year = int(now[:4])
    vid, seq = next_id(conn, year)
    vals = _values(v)
    vals.update(id=vid, year=year, seq=seq, revision=1, created_by=actor, created_at=now, updated_by=actor,
                updated_at=now, tracking_key=tracking_key)
    cols = ", ".join(vals)
    conn.execute(f"INSERT INTO vulnerabilities ({cols}) VALUES ({', '.join('?' for _ in vals)})",
                 tuple(vals.values()))
    stored = get(conn, vid)
    _history(conn, stored, actor, now, action, {k: [None, val] for k, val in snapshot(stored).items()
                                                if val not in (None, "")})
    return vid


def update(conn: Connection, v: Vulnerability, actor: str, now: str, expected_revision: int,
           action: str = "update") -> tuple[Vulnerability, dict[str, list[Any]]]:
    """Update when nobody changed the record since `expected_revision`; returns (stored, changes)."""
    old = get(conn, v.id)
    if old.revision != expected_revision:
        raise IntegrityError(
            f"{v.id} was changed by {old_updater(conn, v.id)} since you opened it (revision "
            f"{expected_revision} -> {old.revision}); reopen it and apply your edit again."
        )
    before, after = snapshot(old), snapshot(v)
    changes = {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
    if not changes:
        return old, {}
    vals = _values(v)
    sets = ", ".join(f"{k} = ?" for k in vals)
    conn.execute(
        f"UPDATE vulnerabilities SET {sets}, revision = revision + 1, updated_by = ?, updated_at = ? "
        "WHERE id = ? AND revision = ?",
        (*vals.values(), actor, now, v.id, expected_revision),
    )
    stored = get(conn, v.id)
    _history(conn, stored, actor, now, action, changes)
    return stored, changes


def old_updater(conn: Connection, vid: str) -> str:
    row = conn.execute("SELECT updated_by FROM vulnerabilities WHERE id = ?", (vid,)).fetchone()
    return row[0] if row else "?"


def _history(conn: Connection, v: Vulnerability, actor: str, now: str, action: str,
             changes: dict[str, list[Any]]) -> None:
    conn.execute(
        "INSERT INTO vulnerability_history (vuln_id, revision, ts, actor, action, changes, snapshot)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (v.id, v.revision, now, actor, action, json.dumps(changes, default=str, ensure_ascii=False),
         json.dumps(snapshot(v), default=str, ensure_ascii=False)),
    )


def record_event(conn: Connection, vid: str, actor: str, now: str, action: str, details: dict[str, Any]) -> None:
    """A history line for an action that did not change fields (export, import seen unchanged)."""
    v = get(conn, vid)
    _history(conn, v, actor, now, action, {"_event": [None, details]})


def history(conn: Connection, vid: str) -> list[HistoryEntry]:
    return fetch_all(conn, HistoryEntry,
                     "SELECT vuln_id, revision, ts, actor, action, changes, snapshot FROM vulnerability_history "
                     "WHERE vuln_id = ? ORDER BY id", (vid,),
                     {"revision": int, "changes": json.loads, "snapshot": json.loads})


def get(conn: Connection, vid: str) -> Vulnerability:
    v = _one(conn, f"SELECT {_COLS} FROM vulnerabilities WHERE id = ?", (vid,))
    if v is None:
        raise NotFound(f"No vulnerability {vid} in the register.")
    return v


def find_by_cve(conn: Connection, cve: str) -> Vulnerability | None:
    if not cve:
        return None
    return _one(conn, f"SELECT {_COLS} FROM vulnerabilities WHERE cve = ?", (cve,))


def find_by_tracking(conn: Connection, tracking_id: str, tracking_key: str) -> Vulnerability | None:
    return _one(conn, f"SELECT {_COLS} FROM vulnerabilities WHERE tracking_id = ? AND tracking_key = ?",
                (tracking_id, tracking_key))


def exchange_state(conn: Connection, vid: str) -> ExchangeState:
    state = fetch_one(conn, ExchangeState,
                      "SELECT exchange_baseline AS baseline, exchange_version AS version, exchange_history AS history, "
                      "tracking_id, tracking_key FROM vulnerabilities WHERE id = ?", (vid,), _EXCHANGE)
    if state is None:
        raise NotFound(f"No vulnerability {vid} in the register.")
    return state


def set_exchange_state(conn: Connection, vid: str, state: ExchangeState) -> None:
    """Exchange bookkeeping only: does not bump the record revision (it is not a user edit)."""
    conn.execute(
        "UPDATE vulnerabilities SET exchange_baseline = ?, exchange_version = ?, exchange_history = ?, "
        "tracking_id = ?, tracking_key = ? WHERE id = ?",
        (json.dumps(state.baseline, sort_keys=True) if state.baseline is not None else None, state.version,
         json.dumps(state.history), state.tracking_id, state.tracking_key, vid),
    )


def _where(f: Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.severities:
        clauses.append(f"severity IN ({', '.join('?' for _ in f.severities)})")
        params += [s.value for s in f.severities]
    if f.statuses:
        clauses.append(f"status IN ({', '.join('?' for _ in f.statuses)})")
        params += [s.value for s in f.statuses]
    if f.open_only:
        clauses.append("status NOT IN ('closed', 'rejected', 'published')")
    if f.embargo_within_days is not None:
        today = f.today or date.today()
        clauses.append("embargo_until IS NOT NULL AND embargo_until >= ? AND embargo_until <= ?")
        params += [today.isoformat(), (today + timedelta(days=f.embargo_within_days)).isoformat()]
    if f.submission_id is not None:
        clauses.append("submission_id = ?")
        params.append(f.submission_id)
    if f.search:
        like = f"%{f.search}%"
        # further affected products (a JSON list) by their values, never their keys ("vendor" finds no key)
        clauses.append("(id LIKE ? OR title LIKE ? OR vendor LIKE ? OR product LIKE ? OR cve LIKE ? OR cwe LIKE ? "
                       "OR product_id LIKE ? OR (more_products <> '[]' AND EXISTS (SELECT 1 FROM "
                       "json_each(vulnerabilities.more_products) AS p, json_each(p.value) AS f WHERE f.value LIKE ?)))")
        params += [like] * 8
    return (" AND ".join(clauses) or "1 = 1"), params


def count(conn: Connection, f: Filters) -> int:
    where, params = _where(f)
    return int(conn.execute(f"SELECT count(*) FROM vulnerabilities WHERE {where}", params).fetchone()[0])


def page(conn: Connection, f: Filters, offset: int, limit: int, sort: str = "id",
         descending: bool = False, after_id: str | None = None) -> list[Vulnerability]:
    """`limit` rows from `offset` in this order. With `after_id` (the row just before `offset`) and
    from the first row, by key (storage/keyset.py): index seeks, whatever the depth. Else by OFFSET."""
    where, params = _where(f)
    key = SORT_KEYS.get(sort, SORT_KEYS["id"])

    def fetch(sql: str, args: tuple[Any, ...]) -> list[Vulnerability]:
        return _all(conn, sql, args)

    after = None if after_id is None else keyset.key_of(conn, "vulnerabilities", "id", key, after_id)
    if after is not None or offset == 0:
        return keyset.read(fetch, f"SELECT {_COLS} FROM vulnerabilities", where, params, key, descending, after,
                           limit)
    return fetch(f"SELECT {_COLS} FROM vulnerabilities WHERE {where} ORDER BY {key.order_by(descending)} "
                 "LIMIT ? OFFSET ?", (*params, limit, offset))


def for_submission(conn: Connection, submission_id: int) -> list[Vulnerability]:
    return _all(conn, f"SELECT {_COLS} FROM vulnerabilities WHERE submission_id = ? ORDER BY severity_rank DESC, "
                "score DESC, year, seq", (submission_id,))
