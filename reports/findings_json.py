"""The report's content as plain JSON (machine-readable companion of the PDF), markings included."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from typing import Any

from app.model.markings import Marking
from app.model.report import ReportInput

FORMAT = "frontier-review/findings@1"


def _plain(value: Any) -> Any:
    if isinstance(value, Marking):
        return value.banner()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def document(r: ReportInput) -> dict[str, Any]:
    body = _plain(r)
    body["profile"] = r.profile.describe()  # the layout chosen, not its logo bytes
    for finding, source in zip(body["findings"], r.findings, strict=True):
        # each evidence reference also as the sentence the PDF prints
        for entry, citation in zip(finding["evidence"], source.evidence, strict=True):
            entry["citation"] = citation.describe()
    return {"format": FORMAT, "overall_marking": r.overall_marking().banner(), **body}


def to_json(r: ReportInput) -> bytes:
    return (json.dumps(document(r), indent=2, ensure_ascii=False) + "\n").encode()
