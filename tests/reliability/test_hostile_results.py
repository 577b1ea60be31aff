"""Hostile benchmark-result files: Inspect .eval / .json, lm-eval results + samples, CSV.

Two levels: the readers (app.ingest.results.open_results_file, every sample consumed) may only
refuse with a FrontierError naming the file; and the import service stores a damaged file
completely or not at all (no run, no sample, no transcript left from a refused file).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ingest.results import open_results_file
from app.services import results
from tests.reliability.helpers import add_submission
from tests.reliability.hostile import HOSTILE, json_mutated, mutated, refuses_cleanly

FIX = Path(__file__).parents[1] / "fixtures"
EVAL = FIX / "inspect" / "intercode_ok.eval"  # Zstandard members (Inspect's default)
EVAL_DEFLATE = FIX / "inspect" / "intercode_deflate.eval"  # DEFLATE members, which zipfile can rewrite
JSON_LOG = FIX / "inspect" / "wmdp_cyber_ok.json"
LM_DIR = next((FIX / "lm_eval").iterdir())
LM_RESULTS = next(LM_DIR.glob("results_*.json"))
CSV_GOOD = (
    b"task,model,metric,value,stderr,sample_id,epoch,score,answer\n"
    b"cybench,acme/falcon-2,accuracy,0.5,0.1,,,,\n"
    b"cybench,acme/falcon-2,,,,s1,1,C,flag{x}\n"
    b"cybench,acme/falcon-2,,,,s2,1,I,nope\n"
)


def read_all(path: Path) -> int:
    log = open_results_file(str(path))
    try:
        return sum(sum(1 for _ in run.samples()) for run in log.runs)
    finally:
        log.close()


def check_file(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        refuses_cleanly(lambda: read_all(path), name)


# -- Inspect .eval (ZIP) --------------------------------------------------------------------------

EVAL_MEMBERS = {i.filename: zipfile.ZipFile(EVAL_DEFLATE).read(i.filename)
                for i in zipfile.ZipFile(EVAL_DEFLATE).infolist()}
JSON_MEMBERS = sorted(n for n in EVAL_MEMBERS if n.endswith(".json"))


@HOSTILE
@given(st.one_of(mutated(EVAL.read_bytes()), mutated(EVAL_DEFLATE.read_bytes())))
def test_inspect_eval_bytes(data: bytes) -> None:
    check_file(data, "intercode.eval")


@st.composite
def eval_with_hostile_member(draw: st.DrawFn) -> bytes:
    """A well-formed ZIP whose JSON members say hostile things (CRCs all valid)."""
    target = draw(st.sampled_from(JSON_MEMBERS))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in EVAL_MEMBERS.items():
            if name == target:
                content = draw(st.one_of(json_mutated(json.loads(content)), mutated(content, 2)))
            z.writestr(name, content)
    return buf.getvalue()


@HOSTILE
@given(eval_with_hostile_member())
def test_inspect_eval_members(data: bytes) -> None:
    check_file(data, "intercode.eval")


# -- Inspect .json --------------------------------------------------------------------------------

JSON_BASE = json.loads(JSON_LOG.read_bytes())


@HOSTILE
@given(st.one_of(json_mutated(JSON_BASE), mutated(JSON_LOG.read_bytes())))
def test_inspect_json(data: bytes) -> None:
    check_file(data, "wmdp.json")


# -- lm-eval: results file plus the samples files found beside it ---------------------------------


@st.composite
def lm_eval_folder(draw: st.DrawFn) -> tuple[str, bytes]:
    files = sorted(p.name for p in LM_DIR.iterdir())
    name = draw(st.sampled_from(files))
    raw = (LM_DIR / name).read_bytes()
    if name.endswith(".json"):
        return name, draw(st.one_of(json_mutated(json.loads(raw)), mutated(raw)))
    lines = raw.splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    bad = draw(st.one_of(json_mutated(json.loads(lines[i])), mutated(lines[i], 2)))
    return name, b"\n".join([*lines[:i], bad, *lines[i + 1:]]) + b"\n"


@HOSTILE
@given(lm_eval_folder())
def test_lm_eval(case: tuple[str, bytes]) -> None:
    name, data = case
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / LM_DIR.name
        shutil.copytree(LM_DIR, folder)
        (folder / name).write_bytes(data)
        refuses_cleanly(lambda: read_all(folder / LM_RESULTS.name), folder.name)


# -- CSV ------------------------------------------------------------------------------------------

COLUMNS = ["task", "model", "task_version", "metric", "value", "stderr", "scorer", "direction", "sample_id",
           "epoch", "score", "answer", "target", "input", "status", "created", "total_samples", "bogus"]


@st.composite
def csv_documents(draw: st.DrawFn) -> bytes:
    cols = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8))
    cell = st.one_of(st.sampled_from(["", "NA", "nan", "1e999", "-0", "C", "I", "higher", "2026-13-45", "x" * 300]),
                     st.text(max_size=20))
    rows = draw(st.lists(st.lists(cell, min_size=len(cols), max_size=len(cols)), max_size=12))
    out = io.StringIO()
    import csv

    w = csv.writer(out)
    w.writerow(cols)
    w.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@HOSTILE
@given(st.one_of(csv_documents(), mutated(CSV_GOOD)))
def test_csv(data: bytes) -> None:
    check_file(data, "other_tool.csv")


# -- the service: a refused file leaves nothing ---------------------------------------------------


@pytest.fixture
def reviewer_and_submission(workstation):  # type: ignore[no-untyped-def]
    s = workstation.session("reviewer")
    return s, add_submission(s).id


def _rows(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    q = session.db.query_one
    return (q("SELECT count(*) FROM eval_runs")[0], q("SELECT count(*) FROM eval_samples")[0],
            q("SELECT count(*) FROM eval_transcripts")[0])


@HOSTILE
@given(data=st.one_of(eval_with_hostile_member(), mutated(EVAL.read_bytes()), json_mutated(JSON_BASE)))
def test_import_service_stores_all_or_nothing(reviewer_and_submission, data: bytes) -> None:
    session, sid = reviewer_and_submission
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "hostile.eval"
        path.write_bytes(data)
        before = _rows(session)
        outcome = results.import_files(session, [path], sid)[0]
        after = _rows(session)
        if outcome.status == "failed":
            assert after == before, "a refused file left rows behind"
            assert "hostile.eval" in outcome.message
        elif outcome.status == "imported":
            assert after[0] > before[0] and after[1] - before[1] == outcome.samples
        else:
            assert outcome.status == "duplicate" and after == before
