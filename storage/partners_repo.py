"""Partner register, partner certificates, dissemination log and receipts (schema 24).

Rows are mapped by column name to app.model dataclasses. Nothing here decides whether a row may be
trusted: app.services.partners checks each partner row against its administrator's signed decision.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from app.model.dissemination import (
    CertificatePurpose,
    DisseminationEntry,
    DisseminationKind,
    Filters,
    PartnerCertificate,
    Receipt,
)
from app.model.errors import NotFound
from app.model.markings import Level, Marking
from app.model.partners import Contact, Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from storage.db import Connection


def _dicts(cur: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _one(cur: Any) -> dict[str, Any] | None:
    rows = _dicts(cur)
    return rows[0] if rows else None


# -- partners ----------------------------------------------------------------------------------


def _partner(r: dict[str, Any]) -> Partner:
    contacts = tuple(Contact(str(c.get("name", "")), str(c.get("email", "")), str(c.get("phone", "")),
                             str(c.get("role", ""))) for c in json.loads(r["contacts"]) if isinstance(c, dict))
    return Partner(name=r["name"], kind=PartnerKind(r["kind"]), codes=tuple(json.loads(r["codes"])),
                   max_level=Level(int(r["max_level"])), tlp=Tlp(r["tlp"]), accesses=tuple(json.loads(r["accesses"])),
                   developer=r["developer"], contacts=contacts, active=bool(r["active"]), id=int(r["id"]))


def _partner_values(p: Partner) -> dict[str, Any]:
    return {"name": p.name.strip(), "kind": p.kind.value, "codes": json.dumps(list(p.codes)),
            "max_level": int(p.max_level), "tlp": p.tlp.value, "accesses": json.dumps(list(p.accesses)),
            "developer": p.developer.strip(),
            "contacts": json.dumps([{"name": c.name, "email": c.email, "phone": c.phone, "role": c.role}
                                    for c in p.contacts]),
            "active": int(p.active)}


def insert_partner(conn: Connection, partner: Partner, actor: str, now: str) -> int:
    values = _partner_values(partner)
    values.update(created_at=now, created_by=actor, updated_at=now, updated_by=actor)
    cols = ", ".join(values)
    cur = conn.execute(f"INSERT INTO partners ({cols}) VALUES ({', '.join('?' for _ in values)})",
                       tuple(values.values()))
    return int(cur.lastrowid or 0)


def update_partner(conn: Connection, partner_id: int, partner: Partner, actor: str, now: str) -> None:
    values = _partner_values(partner)
    values.update(updated_at=now, updated_by=actor)
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE partners SET {sets} WHERE id = ?", (*values.values(), partner_id))


def get_partner(conn: Connection, partner_id: int) -> Partner:
    r = _one(conn.execute("SELECT * FROM partners WHERE id = ?", (partner_id,)))
    if r is None:
        raise NotFound(f"No partner with id {partner_id}.")
    return _partner(r)


def partner_by_name(conn: Connection, name: str) -> Partner | None:
    r = _one(conn.execute("SELECT * FROM partners WHERE name = ? COLLATE NOCASE", (name.strip(),)))
    return _partner(r) if r else None


def partners_for_developer(conn: Connection, developer: str) -> list[Partner]:
    rows = _dicts(conn.execute("SELECT * FROM partners WHERE kind = ? AND developer = ? COLLATE NOCASE AND active = 1 "
                               "ORDER BY id", (PartnerKind.DEVELOPER.value, developer.strip())))
    return [_partner(r) for r in rows]


def all_partners(conn: Connection) -> list[Partner]:
    return [_partner(r) for r in _dicts(conn.execute("SELECT * FROM partners ORDER BY name COLLATE NOCASE"))]


def partner_changed(conn: Connection, partner_id: int) -> tuple[str, str]:
    """(updated_at, updated_by) of the partner row."""
    r = _one(conn.execute("SELECT updated_at, updated_by FROM partners WHERE id = ?", (partner_id,)))
    if r is None:
        raise NotFound(f"No partner with id {partner_id}.")
    return r["updated_at"], r["updated_by"]


# -- certificates ------------------------------------------------------------------------------


def _certificate(r: dict[str, Any]) -> PartnerCertificate:
    return PartnerCertificate(int(r["id"]), int(r["partner_id"]), CertificatePurpose(r["purpose"]), bytes(r["der"]),
                              r["fingerprint"], r["subject"], datetime.fromisoformat(r["not_after"]), r["added_at"],
                              r["added_by"])


def insert_certificate(conn: Connection, partner_id: int, purpose: CertificatePurpose, der: bytes, fingerprint: str,
                       subject: str, not_after: datetime, actor: str, now: str) -> int:
    cur = conn.execute(
        "INSERT INTO partner_certificates (partner_id, purpose, der, fingerprint, subject, not_after, added_at, "
        "added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (partner_id, purpose.value, der, fingerprint, subject, not_after.isoformat(), now, actor))
    return int(cur.lastrowid or 0)


def certificates(conn: Connection, partner_id: int,
                 purpose: CertificatePurpose | None = None) -> list[PartnerCertificate]:
    sql = "SELECT * FROM partner_certificates WHERE partner_id = ?"
    params: list[Any] = [partner_id]
    if purpose is not None:
        sql += " AND purpose = ?"
        params.append(purpose.value)
    return [_certificate(r) for r in _dicts(conn.execute(sql + " ORDER BY id", params))]


# -- dissemination log -------------------------------------------------------------------------

_ENTRY_SELECT = (
    "SELECT l.*, p.name AS partner_name, "
    "(SELECT min(n.id) FROM dissemination_log n WHERE n.supersedes = l.id AND n.kind != 'recall') AS superseded_by, "
    "(SELECT min(n.id) FROM dissemination_log n WHERE n.supersedes = l.id AND n.kind = 'recall') AS recalled_by "
    "FROM dissemination_log l JOIN partners p ON p.id = l.partner_id"
)


def _receipt(r: dict[str, Any]) -> Receipt:
    return Receipt(int(r["id"]), int(r["entry_id"]), int(r["partner_id"]), r["manifest_sha256"], r["received_at"],
                   r["note"], r["signer_fingerprint"], r["file_name"], r["imported_at"], r["imported_by"])


def _entry(r: dict[str, Any], receipt: Receipt | None) -> DisseminationEntry:
    return DisseminationEntry(
        id=int(r["id"]), kind=DisseminationKind(r["kind"]), object_type=r["object_type"], object_id=r["object_id"],
        revision=r["revision"], partner_id=int(r["partner_id"]), partner_name=r["partner_name"],
        marking=Marking.parse(r["marking"]), tlp=Tlp(r["tlp"]) if r["tlp"] else None,
        embargo_until=date.fromisoformat(r["embargo_until"]) if r["embargo_until"] else None,
        manifest_sha256=r["manifest_sha256"], media_label=r["media_label"], approved_by=r["approved_by"],
        supersedes=int(r["supersedes"]) if r["supersedes"] is not None else None, reason=r["reason"],
        created_at=r["created_at"], created_by=r["created_by"], receipt=receipt,
        superseded_by=int(r["superseded_by"]) if r["superseded_by"] is not None else None,
        recalled_by=int(r["recalled_by"]) if r["recalled_by"] is not None else None)


def insert_entry(conn: Connection, *, kind: DisseminationKind, object_type: str, object_id: str, revision: str,
                 partner_id: int, marking: str, tlp: str | None, embargo_until: str | None, manifest_sha256: str,
                 media_label: str, approved_by: str, supersedes: int | None, reason: str, actor: str,
                 now: str) -> int:
    cur = conn.execute(
        "INSERT INTO dissemination_log (kind, object_type, object_id, revision, partner_id, marking, tlp, "
        "embargo_until, manifest_sha256, media_label, approved_by, supersedes, reason, created_at, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind.value, object_type, object_id, revision, partner_id, marking, tlp, embargo_until, manifest_sha256,
         media_label, approved_by, supersedes, reason, now, actor))
    return int(cur.lastrowid or 0)


def _with_receipts(conn: Connection, rows: list[dict[str, Any]]) -> list[DisseminationEntry]:
    ids = [int(r["id"]) for r in rows]
    receipts: dict[int, Receipt] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for rr in _dicts(conn.execute(f"SELECT * FROM receipts WHERE entry_id IN ({', '.join('?' for _ in chunk)})",
                                      chunk)):
            receipts[int(rr["entry_id"])] = _receipt(rr)
    return [_entry(r, receipts.get(int(r["id"]))) for r in rows]


def get_entry(conn: Connection, entry_id: int) -> DisseminationEntry:
    rows = _dicts(conn.execute(f"{_ENTRY_SELECT} WHERE l.id = ?", (entry_id,)))
    if not rows:
        raise NotFound(f"No dissemination log entry {entry_id}.")
    return _with_receipts(conn, rows)[0]


def entries(conn: Connection, filters: Filters) -> list[DisseminationEntry]:
    where: list[str] = []
    params: list[Any] = []
    if filters.partner_id is not None:
        where.append("l.partner_id = ?")
        params.append(filters.partner_id)
    if filters.kind is not None:
        where.append("l.kind = ?")
        params.append(DisseminationKind(filters.kind).value)
    if filters.object_type:
        where.append("l.object_type = ?")
        params.append(filters.object_type)
    if filters.object_id:
        where.append("l.object_id = ?")
        params.append(filters.object_id)
    if filters.since is not None:
        where.append("substr(l.created_at, 1, 10) >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        where.append("substr(l.created_at, 1, 10) <= ?")
        params.append(filters.until.isoformat())
    if filters.unacknowledged:
        where.append("NOT EXISTS (SELECT 1 FROM receipts r WHERE r.entry_id = l.id)")
    sql = _ENTRY_SELECT + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY l.id"
    return _with_receipts(conn, _dicts(conn.execute(sql, params)))


def entries_by_manifest(conn: Connection, manifest_sha256: str) -> list[DisseminationEntry]:
    return _with_receipts(conn, _dicts(conn.execute(f"{_ENTRY_SELECT} WHERE l.manifest_sha256 = ? ORDER BY l.id",
                                                    (manifest_sha256,))))


def supersession_chain(conn: Connection, entry_id: int) -> list[int]:
    """The entry and every entry it (transitively) superseded, newest first."""
    chain: list[int] = []
    current: int | None = entry_id
    while current is not None and current not in chain and len(chain) < 10_000:
        chain.append(current)
        r = _one(conn.execute("SELECT supersedes FROM dissemination_log WHERE id = ?", (current,)))
        current = int(r["supersedes"]) if r and r["supersedes"] is not None else None
    return chain


# -- receipts ----------------------------------------------------------------------------------


def insert_receipt(conn: Connection, *, entry_id: int, partner_id: int, manifest_sha256: str, received_at: str,
                   note: str, content: bytes, signature: bytes, signer_fingerprint: str, file_name: str, actor: str,
                   now: str) -> int:
    cur = conn.execute(
        "INSERT INTO receipts (entry_id, partner_id, manifest_sha256, received_at, note, content, signature, "
        "signer_fingerprint, file_name, imported_at, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, partner_id, manifest_sha256, received_at, note, content, signature, signer_fingerprint, file_name,
         now, actor))
    return int(cur.lastrowid or 0)


def receipt_with_content(conn: Connection, manifest_sha256: str, content: bytes) -> Receipt | None:
    """A receipt already imported with exactly these signed bytes (one receipt acknowledges one delivery)."""
    r = _one(conn.execute("SELECT * FROM receipts WHERE manifest_sha256 = ? AND content = ?",
                          (manifest_sha256, content)))
    return _receipt(r) if r else None


def receipt_for(conn: Connection, entry_id: int) -> Receipt | None:
    r = _one(conn.execute("SELECT * FROM receipts WHERE entry_id = ?", (entry_id,)))
    return _receipt(r) if r else None


def receipt_blobs_for(conn: Connection, entry_ids: list[int]) -> dict[int, tuple[bytes, bytes, str]]:
    """entry id -> (receipt.json bytes, signature, file name) of the given entries' receipts."""
    found: dict[int, tuple[bytes, bytes, str]] = {}
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        for r in _dicts(conn.execute("SELECT entry_id, content, signature, file_name FROM receipts WHERE entry_id IN "
                                     f"({', '.join('?' for _ in chunk)})", chunk)):
            found[int(r["entry_id"])] = (bytes(r["content"]), bytes(r["signature"]), r["file_name"])
    return found


def receipt_blobs(conn: Connection, receipt_id: int) -> tuple[bytes, bytes]:
    r = _one(conn.execute("SELECT content, signature FROM receipts WHERE id = ?", (receipt_id,)))
    if r is None:
        raise NotFound(f"No receipt {receipt_id}.")
    return bytes(r["content"]), bytes(r["signature"])
