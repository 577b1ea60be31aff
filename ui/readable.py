"""Audit details and change records as people read them: one "field: value" per line, status codes
as their labels ("Not started → Satisfied"), UTC timestamps in the workstation's local time.

Everything here is presentation; the stored records keep their codes and UTC times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.model.checklist import Status
from ui.errors import sanitize

_LABEL_KEYS = {"status", "from", "to", "old_status", "new_status", "suggested", "decided"}


def local_time(ts: str) -> str:
    """'2026-11-26T23:11:59+00:00' -> '2026-11-27 00:11:59 CET' (this machine's zone)."""
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S") + " UTC"  # stored times are UTC
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def label(key: str, value: Any) -> str:
    """A value shown with its label when it is a known code."""
    if isinstance(value, str) and key.rsplit(".", 1)[-1] in _LABEL_KEYS:
        try:
            return Status(value).label
        except ValueError:
            return value
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        if len(value) == 2 and not any(isinstance(v, dict | list) for v in value):
            return f"{label(key, value[0])} → {label(key, value[1])}"  # an [old, new] change pair
        return ", ".join(label(key, v) for v in value) or "(none)"
    return str(value)


def details_lines(details: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested details flattened to 'field: value' lines (sub-fields as 'changes.status: …')."""
    lines: list[str] = []
    for key in sorted(details):
        value = details[key]
        name = f"{prefix}{key}".replace("_", " ")
        if isinstance(value, dict) and value:
            lines.extend(details_lines(value, f"{prefix}{key}."))
        else:
            lines.append(f"{name}: {label(str(key), value)}")
    return lines


def details_text(details: dict[str, Any], limit: int = 400) -> str:
    """One line for a table cell."""
    return sanitize("; ".join(details_lines(details)), limit)


def change_text(changes: dict[str, Any]) -> str:
    """An answer's change record: 'status: Not started → Satisfied, justification: … → …'."""
    parts = []
    for key, pair in changes.items():
        old, new = (pair[0], pair[1]) if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        parts.append(f"{key.replace('_', ' ')}: {sanitize(label(key, old), 60)} → {sanitize(label(key, new), 60)}")
    return ", ".join(parts)
