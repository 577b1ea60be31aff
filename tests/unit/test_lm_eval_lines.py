"""sample_from_line (rewritten for speed, issue 19 point 3) gives the values the straightforward
version below gave, on the fixtures' lines and on generated lines with every odd shape: missing or
mistyped keys, int/bool/str/nested targets, NaN and tied log-likelihoods, list arguments."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import lm_eval
from app.model.results import LM_EVAL_TRANSCRIPT_KEYS, SampleResult, Score

FIX = Path(__file__).parents[1] / "fixtures" / "lm_eval"


# -- the version before the rewrite (commit fb410f2), kept as the reference -----------------------------

def _ref_answer(line: dict[str, Any]) -> str:
    resps = line.get("filtered_resps")
    if isinstance(resps, list) and resps:
        first = resps[0]
        if isinstance(first, str):
            return first
        try:
            lls = [float(r[0]) for r in resps]
        except (TypeError, ValueError, IndexError, KeyError):
            return str(first)
        best = max(range(len(lls)), key=lambda i: lls[i])
        args = line.get("arguments")
        if isinstance(args, dict):
            arg = args.get(f"gen_args_{best}")
            if isinstance(arg, dict) and isinstance(arg.get("arg_1"), str):
                return str(arg["arg_1"]).strip()
        return str(best)
    return ""


def _ref_input(line: dict[str, Any]) -> str:
    args = line.get("arguments")
    if isinstance(args, dict):
        first = args.get("gen_args_0")
        if isinstance(first, dict):
            return str(first.get("arg_0", ""))
    if isinstance(args, list) and args and isinstance(args[0], list) and args[0]:
        return str(args[0][0])
    return ""


def _reference(line: dict[str, Any], raw: bytes | None) -> SampleResult:
    scores = {}
    metric_names = line.get("metrics")
    for name in metric_names if isinstance(metric_names, list) else []:
        if isinstance(name, str) and name in line:
            scores[name] = Score.of(line[name])
    target = line.get("target")
    args = line.get("arguments")
    if isinstance(target, str | int) and str(target).isdigit() and isinstance(args, dict):
        arg = args.get(f"gen_args_{target}")
        if isinstance(arg, dict) and isinstance(arg.get("arg_1"), str) and len(args) > 1:
            target = str(arg["arg_1"]).strip()
    return SampleResult(
        sample_id=str(line["doc_id"]), epoch=1, scores=scores, input_text=_ref_input(line),
        target=target if isinstance(target, str) else lm_eval.jsonread_dumps(target), answer=_ref_answer(line),
        transcript=None if raw is not None else {k: line[k] for k in LM_EVAL_TRANSCRIPT_KEYS if k in line},
        transcript_json=raw)


def _same(a: SampleResult, b: SampleResult) -> bool:
    # NaN score values compare unequal to themselves: compare their JSON (NaN written as NaN)
    return json.dumps(_plain(a)) == json.dumps(_plain(b))


def _plain(s: SampleResult) -> dict[str, Any]:
    return {"id": s.sample_id, "epoch": s.epoch, "input": s.input_text, "target": s.target, "answer": s.answer,
            "scores": {k: [repr(v.value), repr(v.numeric), v.answer, v.explanation] for k, v in s.scores.items()},
            "transcript": s.transcript, "raw": s.transcript_json.decode() if s.transcript_json else None}


def test_fixture_lines_give_the_same_samples():
    files = list(FIX.glob("*/samples_*.jsonl"))
    assert files
    for path in files:
        for n, line in enumerate(path.read_bytes().splitlines(), 1):
            obj = json.loads(line)
            for raw in (line, None):
                got = lm_eval.sample_from_line(obj, str(path), f"line {n}", raw)
                assert _same(got, _reference(obj, raw)), (path.name, n)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True),
                     st.sampled_from(["0", "1", "3", "A", " B ", "", "-0.5", "nan", "inf", "True"]))
_ll = st.one_of(st.floats(allow_nan=True), st.sampled_from(["-0.2", "-2.5", "nan", "-inf", "x", "1e999"]),
                st.integers(-5, 5), st.none())
_resp = st.one_of(st.lists(_ll, min_size=0, max_size=2), st.tuples(_ll, st.booleans()).map(list),
                  st.dictionaries(st.sampled_from(["0", "a"]), _ll, max_size=1), st.text(max_size=3), _ll)
_arg = st.one_of(st.fixed_dictionaries({}, optional={"arg_0": _scalars | st.text(max_size=5),
                                                     "arg_1": _scalars | st.text(max_size=5)}), _scalars)
_arguments = st.one_of(
    st.dictionaries(st.sampled_from([f"gen_args_{i}" for i in range(5)] + ["other"]), _arg, max_size=5),
    st.lists(st.lists(_scalars | st.text(max_size=4), max_size=2), max_size=2), _scalars)
_lines = st.fixed_dictionaries(
    {"doc_id": st.one_of(st.integers(0, 10**6), st.text(max_size=4))},
    optional={"target": st.one_of(_scalars, st.lists(_scalars, max_size=2)),
              "arguments": _arguments,
              "filtered_resps": st.one_of(st.lists(_resp, max_size=5), st.lists(st.text(max_size=3), max_size=2),
                                          _scalars),
              "metrics": st.one_of(st.lists(st.sampled_from(["acc", "f1", "exact_match", "missing", 3]), max_size=3),
                                   _scalars),
              "acc": _scalars, "f1": _scalars, "exact_match": _scalars, "doc": st.just({"q": "?"})})


@settings(max_examples=600, deadline=None, derandomize=True)
@given(_lines, st.booleans())
def test_generated_lines_give_the_same_samples(line, with_raw):
    raw = json.dumps(line).encode() if with_raw else None
    assert _same(lm_eval.sample_from_line(line, "f.jsonl", "line 1", raw), _reference(line, raw))


def test_tied_and_nan_log_likelihoods_pick_the_same_choice():
    args = {f"gen_args_{i}": {"arg_0": "q", "arg_1": f" {c}"} for i, c in enumerate("ABCD")}
    for lls, want in (([-1.0, -0.5, -0.5, -2.0], "B"), ([math.nan, -0.1, 0.0, 1.0], "A"),
                      ([-1.0, math.nan, -0.2, -0.3], "C"), ([0.0, -0.0], "A"), ([-0.0, 0.0], "A")):
        line = {"doc_id": 1, "arguments": args, "filtered_resps": [[x, False] for x in lls]}
        got = lm_eval.sample_from_line(line, "f", "line 1")
        assert got.answer == want == _reference(line, None).answer, lls


def test_a_single_continuation_is_not_taken_for_multiple_choice():
    # generate_until lines have one gen_args: the target "0" is the text, not a choice index
    line = {"doc_id": 1, "target": "0", "arguments": {"gen_args_0": {"arg_0": "2-2=", "arg_1": {"until": ["\n"]}}},
            "filtered_resps": ["0"]}
    line_mc = {**line, "arguments": {"gen_args_0": {"arg_0": "q", "arg_1": " A"}}}
    for case in (line, line_mc):
        got = lm_eval.sample_from_line(case, "f", "line 1")
        assert got.target == "0" == _reference(case, None).target
