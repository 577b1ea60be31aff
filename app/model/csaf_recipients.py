"""Who received which revision of a CSAF advisory, under which TLP, marking and embargo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class RecipientRow:
    id: int
    vuln_id: str
    tracking_id: str
    version: int
    recipient: str
    partner_id: int | None
    tlp: str
    marking: str
    embargo_until: date | None
    media_marking: str
    destination: str
    file: str
    sha256: str
    manifest_sha256: str
    override_reason: str
    override_by: str
    decision_id: int
    exported_by: str
    exported_at: str

    def signed_part(self) -> dict[str, object]:
        """What the export's signed decision states about this row."""
        return {"vuln": self.vuln_id, "tracking_id": self.tracking_id, "version": self.version, "file": self.file,
                "sha256": self.sha256, "tlp": self.tlp, "marking": self.marking,
                "embargo_until": self.embargo_until.isoformat() if self.embargo_until else None}
