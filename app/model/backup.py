"""What a backup says about itself (backup.json) and what the audit log says about each backup."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from app.model.errors import IntegrityError

FORMAT = 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BackupMeta:
    format: int
    db_id: str
    workstation_name: str
    created_at: str
    created_by: str
    schema_version: int
    audit_seq: int
    audit_hash: str
    ca_fingerprint: str
    db_bytes: int
    app_version: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, where: str) -> BackupMeta:
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: 1 MiB of "[" (read unsigned)
            raise IntegrityError(f"{where}: not readable JSON") from None
        if not isinstance(data, dict):
            raise IntegrityError(f"{where}: expected a JSON object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            want = int if f.type in ("int", int) else str
            if not isinstance(value, want) or isinstance(value, bool):
                raise IntegrityError(f"{where}: field '{f.name}' is missing or not {want.__name__}")
            if isinstance(value, str) and _LONE_SURROGATE.search(value):
                # "\ud800" is valid JSON but no text: the name went into messages that are audited
                raise IntegrityError(f"{where}: field '{f.name}' holds a lone surrogate escape, which is not text")
            values[f.name] = value
        meta = cls(**values)
        if meta.format != FORMAT:
            raise IntegrityError(f"{where}: backup format {meta.format}; this version reads format {FORMAT}")
        return meta


@dataclass(frozen=True)
class BackupRecord:
    ts: str
    actor: str
    action: str  # backup.create | backup.verify | backup.failed | backup.restore
    folder: str
    ok: bool
    contents_checked: bool
