"""What left the workstation, to whom, and whether the partner acknowledged it (issue 16, points 4-5).

A `DisseminationEntry` is one package, release, CSAF advisory revision or recall notice handed to
one partner on one medium. A `Receipt` is the partner's signed acknowledgment of the entry's
manifest hash. Both are plain records; app.services.dissemination and app.services.receipts keep
and check them.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from app.model.errors import ValidationError
from app.model.markings import Marking
from app.model.vulnerabilities import Tlp

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_RECEIPT_BYTES = 64 * 1024
MAX_NOTE = 2000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a JSON escape can make one; it is not text


class DisseminationKind(enum.StrEnum):
    PACKAGE = "package"  # a signed report package
    RELEASE = "release"  # a releasable version built for one partner
    CSAF = "csaf"  # a CSAF advisory revision
    RECALL = "recall"  # a recall notice for an earlier entry

    @property
    def label(self) -> str:
        return {"package": "Report package", "release": "Release", "csaf": "CSAF advisory revision",
                "recall": "Recall notice"}[self.value]


class CertificatePurpose(enum.StrEnum):
    ENCRYPTION = "encryption"  # packages are sealed to it
    RECEIPT = "receipt"  # the partner signs its receipts with it


@dataclass(frozen=True)
class PartnerCertificate:
    id: int
    partner_id: int
    purpose: CertificatePurpose
    der: bytes
    fingerprint: str
    subject: str
    not_after: datetime
    added_at: str
    added_by: str

    def expired(self, now: datetime) -> bool:
        return self.not_after < now


@dataclass(frozen=True)
class Receipt:
    id: int
    entry_id: int
    partner_id: int
    manifest_sha256: str
    received_at: str
    note: str
    signer_fingerprint: str
    file_name: str
    imported_at: str
    imported_by: str


@dataclass(frozen=True)
class DisseminationEntry:
    id: int
    kind: DisseminationKind
    object_type: str
    object_id: str
    revision: str
    partner_id: int
    partner_name: str
    marking: Marking
    tlp: Tlp | None
    embargo_until: date | None
    manifest_sha256: str
    media_label: str
    approved_by: str
    supersedes: int | None
    reason: str
    created_at: str
    created_by: str
    receipt: Receipt | None = None
    superseded_by: int | None = None
    recalled_by: int | None = None  # the recall notice entry that recalled this one
    receipt_problem: str = ""  # a stored receipt that no longer verifies (it does not count)
    # Why the entry is not backed by its recorder's signed decision (an inserted or edited row);
    # "" when it holds. Shown wherever the log is read; recall refuses such an entry.
    record_problem: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.receipt is not None

    @property
    def sent_on(self) -> date:
        return datetime.fromisoformat(self.created_at).date()

    def unacknowledged_days(self, today: date) -> int | None:
        """Days since it left without a receipt (None once acknowledged)."""
        return None if self.receipt is not None else max(0, (today - self.sent_on).days)

    def overdue(self, today: date, threshold_days: int) -> bool:
        days = self.unacknowledged_days(today)
        return days is not None and days > threshold_days

    @property
    def what(self) -> str:
        rev = f" rev {self.revision}" if self.revision else ""
        return f"{self.object_type} {self.object_id}{rev}"


@dataclass(frozen=True)
class Filters:
    partner_id: int | None = None
    kind: DisseminationKind | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None  # sent on or after
    until: date | None = None  # sent on or before
    unacknowledged: bool = False


@dataclass(frozen=True)
class ReceiptStatement:
    """The content of a partner's receipt.json: what they acknowledge having received."""

    manifest_sha256: str
    received_at: str
    partner: str
    note: str

    @staticmethod
    def parse(data: bytes, source: str) -> ReceiptStatement:
        """Parse receipt.json; ValidationError naming `source` and the problem."""
        if len(data) > MAX_RECEIPT_BYTES:
            raise ValidationError(source, f"a receipt is a small JSON file; this one is {len(data)} bytes")
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(source, f"not readable JSON ({exc})") from None
        except RecursionError:  # 64 KB of "[" nests deeper than the parser recurses
            raise ValidationError(source, "not readable JSON (nested too deeply)") from None
        if not isinstance(value, dict):
            raise ValidationError(source, "a receipt is a JSON object with manifest_sha256, received_at, partner, "
                                          "note")
        for key in ("manifest_sha256", "received_at", "partner"):
            if not isinstance(value.get(key), str) or not value[key].strip():
                raise ValidationError(source, f"the receipt lacks {key!r} (text)")
        note = value.get("note", "")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise ValidationError(source, f"'note' must be text of at most {MAX_NOTE} characters")
        for key, text in (("partner", value["partner"]), ("note", note)):
            # "\ud800" is valid JSON but not text: storing it failed with UnicodeEncodeError
            if _LONE_SURROGATE.search(text):
                raise ValidationError(source, f"{key!r} holds a lone surrogate escape (\\ud800-\\udfff), which "
                                              "is not text")
        digest = value["manifest_sha256"].strip().lower()
        if not SHA256_HEX.match(digest):
            raise ValidationError(source, "manifest_sha256 must be 64 hexadecimal digits (the SHA-256 of the "
                                          "package's signed manifest)")
        try:
            datetime.fromisoformat(value["received_at"].strip())
        except ValueError:
            raise ValidationError(source, f"received_at {value['received_at'][:40]!r} is not an ISO 8601 date or "
                                          "time") from None
        return ReceiptStatement(digest, value["received_at"].strip(), value["partner"].strip(), note)
