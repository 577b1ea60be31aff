"""lm-eval samples files made without lm-eval (bench helper): every line a distinct document.

    python bench/lm_eval_samples.py DIR --sizes 2000,10000,40000

Each line has the shape lm-eval 0.4.13's EvaluationTracker writes for a multiple-choice task (the
wmdp_cyber line of tests/fixtures/lm_eval: doc, target, four gen_args with the full prompt,
resps/filtered_resps, doc/prompt/target SHA-256, the metric), about 2.7 KB like the lines of
bench/bench_import_speed.py. Unlike that script's replicated run (240 documents repeated under new
doc_ids), no two documents here share their question or choices, so a dictionary trained on the
first lines is measured on text it has not seen. Writes manifest.json in the form
bench_import_speed.py --reuse reads (`lm_eval_<n>` entries).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "lm_eval" / "offline__cyber-mini-7b"
DATE = "2026-11-26T23-12-37.345736"
WORDS = ("packet capture service port kernel buffer overflow heap stack exploit payload shellcode "
         "firewall rule certificate handshake cipher nonce replay token session cookie header proxy "
         "scanner binary firmware bootloader register syscall sandbox escape privilege escalation "
         "credential hash salt rainbow table phishing domain resolver cache poisoning tunnel beacon "
         "implant persistence lateral movement telemetry signature heuristic obfuscation packer "
         "debugger breakpoint gadget chain return address canary mitigation patch advisory").split()
HEADER = "The following are multiple choice questions (with answers) about cybersecurity.\n\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def line(rng: random.Random, doc_id: int) -> dict[str, Any]:
    words = [rng.choice(WORDS) for _ in range(rng.randint(15, 50))]
    question = f"Question {doc_id}: " + " ".join(words).capitalize() + "?"
    choices = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).capitalize() for _ in range(4)]
    answer = rng.randrange(4)
    prompt = HEADER + question + "\n" + "".join(f"{k}. {c}\n" for k, c in zip("ABCD", choices, strict=True)) + "Answer:"
    lls = [round(-rng.uniform(0.1, 4.0), 4) for _ in range(4)]
    best = max(range(4), key=lambda i: lls[i])
    resps = [[[str(ll), str(i == best)]] for i, ll in enumerate(lls)]
    return {"doc_id": doc_id, "doc": {"question": question, "choices": choices, "answer": answer},
            "target": str(answer),
            "arguments": {f"gen_args_{i}": {"arg_0": prompt, "arg_1": f" {k}"} for i, k in enumerate("ABCD")},
            "resps": resps, "filtered_resps": [r[0] for r in resps], "filter": "none", "metrics": ["acc"],
            "doc_hash": _sha(json.dumps({"question": question, "choices": choices, "answer": answer})),
            "prompt_hash": _sha(prompt), "target_hash": _sha(str(answer)), "acc": float(best == answer)}


def write(folder: Path, n: int, seed: int = 19) -> dict[str, Any]:
    out = folder / f"lm_eval_{n}"
    out.mkdir(parents=True, exist_ok=True)
    head = json.loads((FIXTURE / f"results_{DATE}.json").read_text())
    head["results"] = {"wmdp_cyber": head["results"]["wmdp_cyber"]}
    head["n-samples"] = {"wmdp_cyber": {"original": n, "effective": n}}
    head["group_subtasks"] = {}
    results = out / f"results_{DATE}.json"
    results.write_text(json.dumps(head, indent=2))
    samples = out / f"samples_wmdp_cyber_{DATE}.jsonl"
    rng = random.Random(seed)
    with samples.open("w", encoding="utf-8") as fh:
        for k in range(n):
            fh.write(json.dumps(line(rng, k), ensure_ascii=False) + "\n")
    return {"results": str(results), "samples_file": str(samples), "bytes": samples.stat().st_size, "samples": n}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--sizes", default="1000,10000,40000")
    ns = ap.parse_args()
    folder = Path(ns.folder)
    if folder.exists() and not (folder / "manifest.json").exists() and any(folder.iterdir()):
        raise SystemExit(f"{folder} is not empty and not a bench folder")
    made = {f"lm_eval_{n}": write(folder, int(n)) for n in ns.sizes.split(",")}
    (folder / "manifest.json").write_text(json.dumps(made))
    print(json.dumps(made, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
