"""Generate a large Inspect JSON log from a real fixture (same schema, many samples)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

FIXTURE = Path(__file__).parents[1] / "fixtures" / "inspect" / "wmdp_cyber_ok.json"


def write_big_inspect_log(path: Path, samples: int, tag: str = "") -> Path:
    """`samples` samples cloned from the fixture with fresh ids; streamed to disk, not built in memory."""
    base = json.loads(FIXTURE.read_text())
    templates = base.pop("samples")
    for t in templates:  # keep transcripts small so the file size tracks the sample count
        t["events"] = []
        t["attachments"] = {}
    base["results"]["total_samples"] = samples
    base["results"]["completed_samples"] = samples
    base["eval"]["run_id"] = f"generated-{tag}-{samples}"
    head = json.dumps(base)[:-1]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head + ', "samples": [')
        for i in range(samples):
            s = copy.copy(templates[i % len(templates)])
            s["id"] = f"gen-{tag}-{i}"
            s["uuid"] = str(uuid.UUID(int=i + 1))
            s["epoch"] = 1
            fh.write(("," if i else "") + json.dumps(s))
        fh.write("]}")
    return path
