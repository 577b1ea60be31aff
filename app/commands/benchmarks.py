"""`benchmark import FILE | list [--all] | show ID [--version N]`, `plan show ID | set ID BENCH[@V]...`."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands.common import print_table, signed_in
from app.services import benchmarks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmark", help="benchmark definitions (signed documents)")
    s = p.add_subparsers(dest="benchmark_command", required=True)
    imp = s.add_parser("import", help="import a signed benchmark definition document (FILE + FILE.p7s)")
    imp.add_argument("path", type=Path)
    imp.set_defaults(func=_import)
    ls = s.add_parser("list", help="benchmark definitions on this workstation")
    ls.add_argument("--all", action="store_true", help="every version, not only the latest")
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="one definition: tasks, samples, metrics, protocol")
    sh.add_argument("benchmark", help="benchmark id or name")
    sh.add_argument("--version", type=int)
    sh.set_defaults(func=_show)

    pl = sub.add_parser("plan", help="evaluation plan of a submission")
    ps = pl.add_subparsers(dest="plan_command", required=True)
    show = ps.add_parser("show", help="planned benchmarks and progress (imported, conforming, missing)")
    show.add_argument("submission_id", type=int)
    show.set_defaults(func=_plan_show)
    st = ps.add_parser("set", help="lead: set the planned benchmarks (id or id@version)")
    st.add_argument("submission_id", type=int)
    st.add_argument("benchmarks", nargs="*", metavar="BENCHMARK[@VERSION]")
    st.add_argument("--proposed", action="store_true", help="take the plan proposed from the active rule set")
    st.add_argument("--note", default="")
    st.set_defaults(func=_plan_set)


def _import(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        doc = benchmarks.import_document(session, args.path)
        print(f"Imported {doc.document_id} v{doc.version} ({doc.marking}): "
              + ", ".join(f"{d.benchmark_id} v{d.version}" for d in doc.definitions))
    return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        print_table(["id", "version", "name", "area", "marking", "tasks", "samples", "min epochs", "min n", "from"],
                    [(d.benchmark_id, d.version, d.name, d.capability_area, d.marking,
                      ", ".join((*d.inspect_tasks, *d.lm_eval_tasks)),
                      d.sample_count if d.sample_count is not None else ("hash" if d.sample_ids_sha256 else "-"),
                      d.protocol.min_epochs, d.protocol.min_samples, benchmarks.origin_of(session, d))
                     for d in benchmarks.definitions(session, all_versions=args.all)])
    return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        d = benchmarks.definition(session, args.benchmark, args.version)
        p = d.protocol
        for label, value in [
            ("benchmark", d.display), ("marking", d.marking), ("capability area", d.capability_area),
            ("description", d.description or "-"), ("inspect tasks", ", ".join(d.inspect_tasks) or "-"),
            ("lm-eval tasks", ", ".join(d.lm_eval_tasks) or "-"), ("task version", d.task_version or "any"),
            ("samples", f"{d.sample_count if d.sample_count is not None else 'not fixed'}"
             + (f" (ids sha256 {d.sample_ids_sha256})" if d.sample_ids_sha256 else "")),
            ("dataset", d.dataset_fingerprint or "not checked"),
            ("metrics", ", ".join(f"{m.name} ({m.direction.value} is more capable, {m.scale})" for m in d.metrics)),
            ("min epochs", p.min_epochs), ("min samples", p.min_samples), ("scorer", p.scorer or "not prescribed"),
            ("errored allowed", p.max_errored_samples), ("tools", p.tools or "-"),
            ("token budget", f"{p.token_budget:,} per sample" if p.token_budget else "-"),
            ("time budget", f"{p.time_budget_seconds:g} s per sample" if p.time_budget_seconds else "-"),
            ("model settings", "; ".join(f"{k}: {v}" for k, v in p.model_settings) or "-"),
            ("document sha256", d.document_sha256), ("from", benchmarks.origin_of(session, d)),
        ]:
            print(f"{label:>16}: {value}")
    return 0


def _print_plan(view: benchmarks.PlanView) -> None:
    print(f"Submission {view.submission_id}: {view.progress_text}")
    print_table(["benchmark", "version", "name", "set by", "runs", "conforming runs", "state"],
                [(i.benchmark_id, i.version, i.name, i.origin, ", ".join(map(str, i.runs)) or "-",
                  ", ".join(map(str, i.conforming_runs)) or "-", i.state) for i in view.items])


def _plan_show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        _print_plan(benchmarks.plan(session, args.submission_id))
    return 0


def _plan_set(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        refs = list(args.benchmarks)
        if args.proposed:
            refs += [f"{b}@{v}" for b, v in benchmarks.propose_plan(session, args.submission_id)]
        _print_plan(benchmarks.set_plan(session, args.submission_id, refs, args.note))
    return 0
