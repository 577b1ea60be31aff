"""Evidence blob store inside the encrypted database, addressed by SHA-256, in 1 MiB chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from app.model.errors import NotFound, ValidationError
from storage.db import Connection

CHUNK = 1 << 20


def put_stream(conn: Connection, stream: BinaryIO, max_bytes: int, now: str, name: str = "file") -> tuple[str, int]:
    """Store a stream; returns (sha256, size). Call inside a transaction: a failure rolls back."""
    digest = hashlib.sha256()
    temp_key = f"pending-{id(stream)}-{now}"
    conn.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (?, 0, ?)", (temp_key, now))
    size = 0
    seq = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ValidationError(name, f"is larger than the {max_bytes // (1 << 20)} MB limit for evidence files")
        digest.update(chunk)
        conn.execute("INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)", (temp_key, seq, chunk))
        seq += 1
    sha = digest.hexdigest()
    if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha,)).fetchone():
        conn.execute("DELETE FROM blob_chunks WHERE sha256 = ?", (temp_key,))
        conn.execute("DELETE FROM blobs WHERE sha256 = ?", (temp_key,))
    else:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("UPDATE blobs SET sha256 = ?, size = ? WHERE sha256 = ?", (sha, size, temp_key))
        conn.execute("UPDATE blob_chunks SET sha256 = ? WHERE sha256 = ?", (sha, temp_key))
    return sha, size


def put_bytes(conn: Connection, data: bytes, now: str) -> str:
    import io

    sha, _ = put_stream(conn, io.BytesIO(data), max(len(data), 1), now)
    return sha


def iter_chunks(conn: Connection, sha256: str) -> Iterator[bytes]:
    if not conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone():
        raise NotFound(f"Evidence blob {sha256[:12]}… is not in this workstation.")
    seq = 0
    while True:
        row = conn.execute("SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = ?", (sha256, seq)).fetchone()
        if row is None:
            return
        yield bytes(row[0])
        seq += 1


def read(conn: Connection, sha256: str) -> bytes:
    data = b"".join(iter_chunks(conn, sha256))
    if hashlib.sha256(data).hexdigest() != sha256:
        from app.model.errors import IntegrityError

        raise IntegrityError(f"Evidence blob {sha256[:12]}… does not match its SHA-256: it was modified.")
    return data
