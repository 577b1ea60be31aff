"""`import PATH... --submission ID`, `results list --submission ID`, `results show RUN_ID`,
`results samples RUN_ID`, `results transcript SAMPLE`, `results map TASK BENCHMARK`,
`results move RUN_ID --submission ID --reason R`, `results delete RUN_ID --reason R`,
`results stats RUN_ID [--compare RUN]`, `results conformance RUN_ID` (exit 1 when it does not conform)."""

from __future__ import annotations

import argparse
import sys

from app.commands.banners import banner_lines, run_marking, sample_marking, submission_marking
from app.commands.common import print_table, signed_in
from app.model.errors import FrontierError
from app.model.results import EvalRun, SampleFilter
from app.services import parse_process, results
from app.services.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import", help="import evaluation logs (Inspect .eval/.json, lm-eval results, CSV)")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--submission", type=int, help="submission id the runs belong to (default: propose "
                     "one from the log's model id and ask)")
    imp.add_argument("--media-label", default="", help="label of the removable media the files came from")
    imp.add_argument("--yes", action="store_true", help="accept the proposed submission without asking")
    imp.add_argument("--any-model", action="store_true",
                     help="also import logs whose model id does not match the submission's model (each is "
                          "warned about; without this flag such a file is skipped and the exit code is 1)")
    imp.set_defaults(func=_import)

    p = sub.add_parser("results", help="benchmark results")
    s = p.add_subparsers(dest="results_command", required=True)
    ls = s.add_parser("list", help="evaluation runs of a submission")
    ls.add_argument("--submission", type=int, required=True)
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="one evaluation run with all its metrics")
    sh.add_argument("run_id", type=int)
    sh.set_defaults(func=_show)
    sm = s.add_parser("samples", help="per-sample results of a run")
    sm.add_argument("run_id", type=int)
    sm.add_argument("--search", default="", help="full-text search over inputs, targets and answers")
    sm.add_argument("--epoch", type=int)
    sm.add_argument("--errors", action="store_true", help="only samples that errored")
    sm.add_argument("--failed", action="store_true", help="only samples scored below 1")
    sm.add_argument("--limit", type=int, default=50)
    sm.add_argument("--offset", type=int, default=0)
    sm.set_defaults(func=_samples)
    tr = s.add_parser("transcript", help="transcript of one sample (plain text)")
    tr.add_argument("sample_pk", type=int, help="sample row id (first column of 'results samples')")
    tr.set_defaults(func=_transcript)
    mp = s.add_parser("map", help="map a task name to a canonical benchmark")
    mp.add_argument("task")
    mp.add_argument("benchmark")
    mp.set_defaults(func=_map)
    mv = s.add_parser("move", help="attach a run to another submission")
    mv.add_argument("run_id", type=int)
    mv.add_argument("--submission", type=int, required=True)
    mv.add_argument("--reason", required=True)
    mv.set_defaults(func=_move)
    cp = s.add_parser("compare", help="one benchmark across submissions/versions: headline values and the "
                                       "samples whose scores differ")
    cp.add_argument("benchmark", help="benchmark or task name, e.g. InterCode-CTF")
    cp.add_argument("--run", type=int, action="append", help="limit to these run ids (repeatable)")
    cp.add_argument("--samples", type=int, default=20, help="how many differing samples to list (default 20)")
    cp.set_defaults(func=_compare)
    rm = s.add_parser("delete", help="delete a run and everything stored for it")
    rm.add_argument("run_id", type=int)
    rm.add_argument("--reason", required=True)
    rm.set_defaults(func=_delete)
    st = s.add_parser("stats", help="confidence interval of a run's mean score (and a paired comparison)")
    st.add_argument("run_id", type=int)
    st.add_argument("--compare", type=int, metavar="RUN", help="paired comparison: RUN_ID minus RUN")
    st.set_defaults(func=_stats)
    cf = s.add_parser("conformance", help="check a run against its benchmark definition")
    cf.add_argument("run_id", type=int)
    cf.set_defaults(func=_conformance)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _headline(r: EvalRun) -> tuple[str, str, str]:
    h = r.headline
    if h is None:
        return "-", "-", "-"
    return h.label + h.direction.arrow, _fmt(h.value), _fmt(h.stderr)


def _import(args: argparse.Namespace) -> int:
    if any(str(p).lower().endswith(".eval") for p in args.paths):
        parse_process.warm()  # the .eval parser processes start while the passphrase is read and derived
    with signed_in(args) as session:
        sid = args.submission
        if sid is None:
            previews = results.preview_file(session, args.paths[0])
            model = previews[0].model if previews else ""
            proposals = results.propose_submission(session, model)
            if not proposals:
                print(f"error: no submission matches model id {model!r}; pass --submission ID", file=sys.stderr)
                return 2
            sub, why = proposals[0]
            print(f"Proposed submission {sub.id} ({sub.display_name}): {why}")
            if not args.yes:
                print("Re-run with --yes to accept, or pass --submission ID.", file=sys.stderr)
                return 3
            sid = sub.id

        def progress(done: int, total: int, text: str) -> None:
            if sys.stderr.isatty():
                pct = 100 * done // total if total else 100
                print(f"\r{pct:3d}% {text[:100]:<100}", end="", file=sys.stderr, flush=True)

        skipped = _check_models(session, args.paths, sid, args.any_model)
        paths = [p for p in args.paths if p not in skipped]
        outcomes = results.import_files(session, paths, sid, args.media_label, progress=progress) if paths else []
        if sys.stderr.isatty() and paths:
            print(file=sys.stderr)
        failed = len(skipped)
        for o in outcomes:
            if o.status == "imported":
                print(f"imported  run {o.run_id}: {o.message}")
            elif o.status == "duplicate":
                print(f"duplicate {o.message}")
            else:
                failed += 1
                print(f"{o.status:<9} {o.message}", file=sys.stderr)
        return 1 if failed else 0


def _check_models(session: Session, paths: list[str], submission_id: int, any_model: bool) -> set[str]:
    """Warn about each log whose model id does not match the submission (the import dialog's check,
    results.model_mismatch); return the files to skip (none with --any-model). A file already
    imported is left to the import, which reports it as a duplicate; an unreadable one too."""
    from app.services import submissions

    target = submissions.get(session, submission_id).display_name
    skipped: set[str] = set()
    for path in paths:
        try:
            models = results.model_mismatch(session, results.preview_file(session, path), submission_id)
            if models is None or results.prior_imports(session, path):
                continue
        except FrontierError:
            continue  # the import names the problem
        where = f"warning: {path}: the log's model is {models}, but submission {submission_id}'s model is {target}"
        if any_model:
            print(f"{where}; imported anyway (--any-model)", file=sys.stderr)
        else:
            print(f"{where}; not imported (check the file, or pass --any-model to import it anyway)", file=sys.stderr)
            skipped.add(path)
    return skipped


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = []
        for r in results.list_runs(session, args.submission):
            metric, value, stderr = _headline(r)
            status = r.status.value + (" (incomplete)" if r.incomplete else "")
            rows.append((r.id, r.benchmark or f"[{r.task}]", r.model, metric, value, stderr, r.sample_count,
                         r.errored_samples or "", status, r.original_name))
        with banner_lines(submission_marking(session, args.submission)):
            print_table(["run", "benchmark", "model", "metric", "value", "stderr", "n", "errors", "status", "file"],
                        rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        r = results.get_run(session, args.run_id)
        with banner_lines(submission_marking(session, r.submission_id)):
            _print_run(r)
    return 0


def _print_run(r: EvalRun) -> None:
    """The run's fields and metrics (between the banner lines)."""
    for label, value in [
        ("run", r.id), ("submission", r.submission_id), ("benchmark", r.benchmark or "(unmapped)"),
        ("task", f"{r.task} v{r.task_version}" if r.task_version else r.task), ("model", r.model),
        ("harness", f"{r.harness.value} {r.harness_version}".strip()), ("created", r.created or "-"),
        ("status", r.status.value + (" (incomplete)" if r.incomplete else "")
         + (f", {r.errored_samples} errored sample(s)" if r.errored_samples else "")), ("epochs", r.epochs),
        ("samples", f"{r.sample_count} stored, {r.completed_samples} completed of {r.total_samples}"),
        ("errored samples", r.errored_samples), ("file", f"{r.original_name} ({r.file_size:,} bytes)"),
        ("sha256", r.file_sha256), ("media", r.media_label or "-"),
        ("imported", f"{r.imported_at} by {r.imported_by}"),
    ]:
        print(f"{label:>16}: {value}")
    if r.error_message:
        print(f"{'error':>16}: {r.error_message}")
    for note in r.notes:
        print(f"{'note':>16}: {note}")
    print()
    print_table(["scorer", "metric", "filter", "value", "stderr", "better", "reducer"],
                [(m.scorer, m.metric, m.filter, _fmt(m.value), _fmt(m.stderr), m.direction.value, m.reducer)
                 for m in r.metrics])


def _samples(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        flt = SampleFilter(epoch=args.epoch, errors_only=args.errors, search=args.search,
                           max_score=0.999 if args.failed else None)
        total = results.count_samples(session, args.run_id, flt)
        rows = results.page_samples(session, args.run_id, flt, args.offset, args.limit)
        with banner_lines(run_marking(session, args.run_id)):
            print_table(["row", "sample", "epoch", "score", "answer", "error"],
                        [(s.id, s.sample_id, s.epoch, _fmt(s.score),
                          results.plain(s.answer[:60]).replace("\n", " "), results.plain(s.error[:40])) for s in rows])
            print(f"{len(rows)} of {total} matching samples")
    return 0


def _transcript(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        text = results.transcript_text(results.get_transcript(session, args.sample_pk))
        with banner_lines(sample_marking(session, args.sample_pk)):
            print(text)
    return 0


def _map(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        results.map_task(session, args.task, args.benchmark)
        print(f"Task {args.task!r} now counts as benchmark {args.benchmark!r}.")
    return 0


def _move(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        run = results.move_run(session, args.run_id, args.submission, args.reason)
        print(f"Run {run.id} now belongs to submission {run.submission_id}.")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        n = results.delete_run(session, args.run_id, args.reason)
        print(f"Run {args.run_id} deleted with {n:,} samples.")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from app.services import statistics

    with signed_in(args) as session:
        run = results.get_run(session, args.run_id)
        st = statistics.run_statistics(session, args.run_id)
        print(f"run {run.id} ({run.benchmark or run.task}, {run.model}): mean per-sample score {st.text}")
        if args.compare is not None:
            other = results.get_run(session, args.compare)
            print(f"run {other.id} ({other.benchmark or other.task}, {other.model}): mean per-sample score "
                  f"{statistics.run_statistics(session, args.compare).text}")
            # B = the run asked about, A = the baseline it is compared with
            paired = statistics.compare_runs(session, args.compare, args.run_id)
            print(f"B = run {run.id}, A = run {other.id}: {paired.text}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from app.services import benchmarks

    with signed_in(args) as session:
        c = benchmarks.conformance(session, args.run_id)
        if c is None:
            run = results.get_run(session, args.run_id)
            print(f"run {args.run_id} ({run.task}) is not mapped to a defined benchmark: nothing to check against")
            return 1
        print(c.summary)
        print_table(["check", "severity", "expected", "found"],
                    [(d.check, d.severity, d.expected, d.found) for d in c.deviations])
        print("checks run: " + ", ".join(c.checks))
        return 0 if c.conforming else 1


def _compare(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        c = results.compare(session, args.benchmark, args.run)
        print(f"{c.benchmark}: {c.metric} ({c.direction.value} is better)")
        print_table(["run", "submission", "model", "task", c.metric, "stderr"],
                    [(r.id, r.submission_id, r.model, r.task, _fmt(c.values.get(r.id or 0)),
                      _fmt(c.stderrs.get(r.id or 0))) for r in c.runs])
        differing = [d for d in c.samples if len({v for v in d.scores.values()}) > 1]
        print(f"\n{len(differing)} of {len(c.samples)} shared samples score differently"
              + (f"; the first {min(args.samples, len(differing))}:" if differing else "."))
        if differing:
            ids = [r.id or 0 for r in c.runs]
            print_table(["sample", "epoch", *(f"run {i}" for i in ids)],
                        [(d.sample_id, d.epoch, *(_fmt(d.scores.get(i)) for i in ids))
                         for d in differing[:args.samples]])
        return 0
