"""A printers register row as stored (name, accreditation label, location, who registered it);
app.services.printers believes it only while a signed registration decision backs it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrinterRow:
    id: int
    name: str
    label: str
    location: str
    registered_by: str
    registered_at: str
