"""Register entries that hold by signature, not by the database's word.

Every change made to a vulnerability entry through the application (create, edit, CSAF import,
CSAF export's exchange record, a reviewed re-signing) ends with a decision signed by the person
who made it, over the SHA-256 of the entry's whole record (the history snapshot's fields) and of
its CSAF exchange record, with its marking in clear. `standing` checks an entry against the newest
such decision: the signature, the signer's certified key and their signed role (one that manages
the register), and the hashes. An entry written or edited in the database around the application
fails it, and the entry's own history, when it still holds the signed revision, names the fields
that changed.

Wherever another person relies on an entry it must hold: CSAF export and sharing, the report's
vulnerability annex, and a partner's update merged into it. The register, the editor, the printed
register and `vuln show` / `vuln list` show an entry that does not hold, with why. A person who
manages the register signs such an entry again after reviewing it (`sign_reviewed`, audited).
Until then it is shown, printed and edited at the highest marking its editors signed
(`shown_markings`), never at a marking lowered in its row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from app.model.accounts import Permission
from app.model.decision_record import StoredDecision
from app.model.errors import IntegrityError
from app.model.markings import Marking
from app.model.vulnerabilities import ExchangeState, Vulnerability
from app.services import decisions, record_signatures
from app.services.record_signatures import Standing
from app.services.record_signatures import digest as _digest
from app.services.session import Session
from storage import vulns_repo as repo
from storage.db import Connection

KIND = "vulnerability.record"
OBJECT = "vulnerability"
REVIEW_HINT = ("a person who manages the register must review it (Vulnerabilities, Edit…) and sign it "
               "(`frontier-review vuln sign ID`)")


def _content(v: Vulnerability, state: ExchangeState) -> dict[str, Any]:
    # the marking in clear as well: shown_markings reads it from every signature it can verify
    return {"vulnerability": v.id, "revision": v.revision, "record_sha256": _digest(repo.snapshot(v)),
            "exchange_sha256": _digest(asdict(state)), "marking": v.marking.banner()}


def sign(session: Session, conn: Connection, vid: str) -> None:
    """Sign the entry as it now stands in `conn` (call it last in the transaction that changed it)."""
    v = repo.get(conn, vid)
    record_signatures.sign(session, conn, KIND, OBJECT, vid, _content(v, repo.exchange_state(conn, vid)))


def _changed_fields(conn: Connection, v: Vulnerability, signed: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ from the signed revision's snapshot, with their signed values, if the
    history still holds that snapshot (its digest is the signed one, so its values are the signed ones)."""
    for h in reversed(repo.history(conn, v.id)):
        if h.revision == signed.get("revision") and _digest(h.snapshot) == signed.get("record_sha256"):
            now = json.loads(json.dumps(repo.snapshot(v), default=str, ensure_ascii=False))
            return {k: h.snapshot.get(k) for k in sorted(set(now) | set(h.snapshot)) if now.get(k) != h.snapshot.get(k)}
    return {}


def _standing(conn: Connection, reg: decisions.Registry, v: Vulnerability, d: StoredDecision | None,
              stored: dict[str, Any] | None) -> Standing:
    refused = record_signatures.signer_problem(conn, reg, v.id, d, Permission.MANAGE_VULNS, "manage the register")
    if refused is not None or d is None:
        return refused or Standing(v.id, None)
    signed = decisions.content_of(d)
    rev = signed.get("revision")
    now = _content(v, repo.exchange_state(conn, v.id))
    # the digests decide ("marking" is in clear for signed_marking; the record digest covers it too)
    record_same = signed.get("record_sha256") == now["record_sha256"] and rev == v.revision
    if record_same and signed.get("exchange_sha256") == now["exchange_sha256"]:
        wrong = [k for k, x in repo.derived(v).items() if stored is None or stored.get(k) != x]
        if wrong:  # they follow from the record; a filter such as "High and above" reads them
            return Standing(v.id, f"its sort and filter columns ({', '.join(wrong)}) were changed in the database, "
                                  "so filters and sorting misplace it", d.actor, d.ts, rev, tuple(wrong))
        return Standing(v.id, None, d.actor, d.ts, rev)
    changed = {} if record_same else _changed_fields(conn, v, signed)
    what = ("its CSAF exchange record (tracking id, versions) was changed" if record_same else
            "it was changed" + (f" ({', '.join(changed)})" if changed else ""))
    return Standing(v.id, f"{what} in the database after {d.actor} signed revision {rev} on {d.ts[:10]}",
                    d.actor, d.ts, rev if isinstance(rev, int) else None, tuple(changed),
                    tuple((k, _as_text(x)) for k, x in changed.items()))


def _as_text(value: Any) -> str:
    return "(empty)" if value in (None, "", [], {}) else value if isinstance(value, str) else decisions.canonical(value)


def standings(session: Session, vulns: Iterable[Vulnerability]) -> dict[str, Standing]:
    """Each entry's standing, by id: one registry of keys and one query for the lot."""
    return _standings(session, vulns, session.db.conn)


def standing(session: Session, v: Vulnerability) -> Standing:
    return _standings(session, [v], session.db.conn)[v.id]


def standing_in(session: Session, conn: Connection, v: Vulnerability) -> Standing:
    """`standing` inside a writer's transaction."""
    return _standings(session, [v], conn)[v.id]


def _standings(session: Session, vulns: Iterable[Vulnerability], c: Connection) -> dict[str, Standing]:
    items = list(vulns)
    if not items:
        return {}
    reg = decisions.Registry.load(c, session.db_id)
    ids = [v.id for v in items]
    latest = record_signatures.newest(c, OBJECT, ids, KIND)
    stored = repo.stored_derived(c, ids)
    return {v.id: _standing(c, reg, v, latest.get(v.id), stored.get(v.id)) for v in items}


def shown_markings(session: Session, vulns: Iterable[Vulnerability]) -> dict[str, Marking]:
    """The marking to show each entry under: its own, raised to what its editors signed where the row
    says less (record_signatures.signed_marking). Entries that hold are shown as they are."""
    items = list(vulns)
    held = _standings(session, items, session.db.conn)
    return _shown(session, session.db.conn, [v for v in items if not held[v.id].holds]) | {
        v.id: v.marking for v in items if held[v.id].holds}


def _shown(session: Session, conn: Connection, vulns: Iterable[Vulnerability]) -> dict[str, Marking]:
    out: dict[str, Marking] = {}
    reg: decisions.Registry | None = None
    for v in vulns:
        reg = reg or decisions.Registry.load(conn, session.db_id)
        out[v.id] = record_signatures.signed_marking(conn, reg, OBJECT, v.id, KIND, Permission.MANAGE_VULNS,
                                                     v.marking)
    return out


def signed_marking_in(session: Session, conn: Connection, v: Vulnerability) -> Marking:
    """The entry's marking, never below one its editors signed: where an edit of it starts."""
    return _shown(session, conn, [v])[v.id]


def require_holding(session: Session, conn: Connection, vulns: Sequence[Vulnerability], use: str) -> None:
    """IntegrityError naming every entry that does not hold, before it is `use`d (shared, reported...)."""
    bad = [s for s in _standings(session, vulns, conn).values() if not s.holds]
    if bad:
        lines = "; ".join(f"{s.object_id}: {s.problem}" for s in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        one = len(bad) == 1
        raise IntegrityError(f"{len(bad)} register entr{'y does not hold its' if one else 'ies do not hold their'} "
                             f"signature, so {'it' if one else 'they'} cannot be {use}: {lines}{more}. "
                             f"Before that, {REVIEW_HINT}.")


def sign_reviewed(session: Session, vid: str, expected_revision: int) -> Standing:
    """Sign an entry that does not hold, as it now stands, after the person reviewed it at
    `expected_revision` (refused if it changed since). Audited with what was wrong."""
    session.require(Permission.MANAGE_VULNS)
    with session.transaction() as conn:
        v = repo.get(conn, vid)
        if v.revision != expected_revision:
            raise IntegrityError(f"{vid} is at revision {v.revision}, not the revision {expected_revision} you "
                                 f"reviewed: review it again (`vuln show {vid}`).")
        before = _standings(session, [v], conn)[vid]
        if not record_signatures.sign_again(session, conn, before, lambda: sign(session, conn, vid),
                                            "vulnerability.sign", OBJECT, vid, {"revision": v.revision}):
            return before
        repo.record_event(conn, vid, session.account.username, session.now(), "sign as reviewed",
                          {"was": before.problem})
        return _standings(session, [v], conn)[vid]
