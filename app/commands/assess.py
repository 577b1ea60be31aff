"""`assess start|status|answer|answers import|evidence|submit|approve|return|reopen|export|coverage` and
the admin imports `assess template import FILE`, `assess ruleset import FILE` (FILE.p7s must sit beside FILE)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from app.commands.common import print_table, signed_in
from app.commands.printables import add_export_pdf
from app.model.checklist import Status, risk_expired
from app.model.errors import NotFound, ValidationError
from app.model.markings import Marking, rollup
from app.model.printable import DocumentKind
from app.services import (
    assessment,
    assessment_evidence,
    assessment_export,
    assessment_review,
    assessment_templates,
    coverage,
    rulesets,
)
from app.services.session import Session

_LOWER_REASON = "why the marking may be lower than the submission's (required to lower it; audited)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assess", help="assessment checklist, coverage determination, two-person approval")
    s = p.add_subparsers(dest="assess_command", required=True)

    st = s.add_parser("start", help="start the assessment of a submission")
    st.add_argument("submission", type=int, help="submission id")
    st.set_defaults(func=_start)

    status = s.add_parser("status", help="state, progress per section, open items, flags")
    status.add_argument("id", type=int, help="assessment id (or submission id with --submission)")
    status.add_argument("--submission", action="store_true", help="ID is the submission's id")
    status.set_defaults(func=_status)

    ans = s.add_parser("answer", help="answer one item")
    ans.add_argument("id", type=int)
    ans.add_argument("item", help="item id, e.g. CAP-02")
    ans.add_argument("--status", choices=[x.value for x in Status], help="new status (default: keep)")
    ans.add_argument("--justification")
    ans.add_argument("--marking", help="portion marking (default: the answer's own, or the submission's for a "
                                       "first answer)")
    ans.add_argument("--lower-reason", default="", help="why the marking may be lower than the submission's "
                                                        "(required to lower it; audited)")
    ans.add_argument("--expiry", help="risk acceptance expiry YYYY-MM-DD")
    ans.add_argument("--reason", default="", help="why this change was made (kept in the history)")
    ans.set_defaults(func=_answer)

    sb = s.add_parser("submit", help="submit for a lead's approval")
    sb.add_argument("id", type=int)
    sb.add_argument("--comment", default="")
    sb.set_defaults(func=_submit)

    ap = s.add_parser("approve", help="approve (lead; not the account that submitted)")
    ap.add_argument("id", type=int)
    ap.add_argument("--comment", default="")
    ap.set_defaults(func=_approve)

    rt = s.add_parser("return", help="return for changes with comments (lead)")
    rt.add_argument("id", type=int)
    rt.add_argument("--comment", default="")
    rt.add_argument("--item-comment", action="append", default=[], metavar="ITEM=TEXT")
    rt.set_defaults(func=_return)

    ro = s.add_parser("reopen", help="reopen an approved assessment (lead, recorded)")
    ro.add_argument("id", type=int)
    ro.add_argument("--reason", required=True)
    ro.set_defaults(func=_reopen)

    ex = s.add_parser("export", help="export the assessment")
    ex.add_argument("id", type=int)
    ex.add_argument("--json", action="store_true", required=True, help="JSON (the only format)")
    ex.add_argument("--output", help="write to this file instead of standard output")
    ex.add_argument("--media-label", metavar="LABEL", help="classification label of the media --output writes to "
                                                         "(required with --output; content above it is refused)")
    ex.set_defaults(func=_export)
    add_export_pdf(s, DocumentKind.CHECKLIST)

    cv = s.add_parser("coverage", help="evaluate the active rule set for a submission")
    cv.add_argument("submission", type=int)
    cv.add_argument("--record", metavar="RATIONALE", help="record the determination with this rationale")
    cv.add_argument("--keep", metavar="REASON", help="lead: record why the flagged determination stands")
    cv.add_argument("--marking", help="marking of the recorded determination (default: computed from the "
                                      "submission and the rule set)")
    cv.add_argument("--lower-reason", default="", help="why the marking may be lower than the computed one "
                                                       "(required to lower it; audited)")
    cv.set_defaults(func=_coverage)

    an = s.add_parser("answers", help="checklist answers in batches")
    ans_ = an.add_subparsers(dest="answers_command", required=True)
    ai = ans_.add_parser("import", help="import answers from a file in the shape `assess export --json` writes "
                                        "(one transaction: all or nothing)")
    ai.add_argument("file")
    ai.add_argument("--assessment", type=int, help="assessment id (default: the one named in the file)")
    ai.set_defaults(func=_answers_import)

    ev = s.add_parser("evidence", help="evidence linked to checklist items")
    evs = ev.add_subparsers(dest="evidence_command", required=True)
    el = evs.add_parser("list", help="evidence of an assessment (optionally one item)")
    el.add_argument("id", type=int)
    el.add_argument("--item")
    el.set_defaults(func=_evidence_list)
    er = evs.add_parser("add-run", help="link an imported run (or one sample of it) to an item")
    er.add_argument("id", type=int)
    er.add_argument("item")
    er.add_argument("run", type=int)
    er.add_argument("--sample", help="sample id within the run")
    er.add_argument("--note", default="")
    er.add_argument("--marking", help="default: the submission's marking (evidence is about it)")
    er.add_argument("--lower-reason", default="", help=_LOWER_REASON)
    er.set_defaults(func=_evidence_run)
    ef = evs.add_parser("add-file", help="attach a file (stored encrypted with its SHA-256) to an item")
    ef.add_argument("id", type=int)
    ef.add_argument("item")
    ef.add_argument("path")
    ef.add_argument("--marking", help="default: the submission's marking (evidence is about it)")
    ef.add_argument("--lower-reason", default="", help=_LOWER_REASON)
    ef.set_defaults(func=_evidence_file)
    eo = evs.add_parser("add-note", help="add a written observation to an item")
    eo.add_argument("id", type=int)
    eo.add_argument("item")
    eo.add_argument("text")
    eo.add_argument("--marking", help="default: the submission's marking (evidence is about it)")
    eo.add_argument("--lower-reason", default="", help=_LOWER_REASON)
    eo.set_defaults(func=_evidence_note)
    ex_ = evs.add_parser("remove", help="remove a piece of evidence (reason recorded)")
    ex_.add_argument("evidence", type=int)
    ex_.add_argument("--reason", required=True)
    ex_.set_defaults(func=_evidence_remove)

    tp = s.add_parser("template", help="checklist templates")
    tps = tp.add_subparsers(dest="template_command", required=True)
    ti = tps.add_parser("import", help="import a signed template version (admin)")
    ti.add_argument("file")
    ti.set_defaults(func=_template_import)
    tl = tps.add_parser("list", help="installed templates")
    tl.set_defaults(func=_template_list)

    rs = s.add_parser("ruleset", help="coverage rule sets")
    rss = rs.add_subparsers(dest="ruleset_command", required=True)
    ri = rss.add_parser("import", help="import a signed rule set version and make it active (admin)")
    ri.add_argument("file")
    ri.set_defaults(func=_ruleset_import)
    rl = rss.add_parser("list", help="installed rule sets")
    rl.set_defaults(func=_ruleset_list)


def _with_session(args: argparse.Namespace, body: Callable[[Session], int]) -> int:
    with signed_in(args) as session:
        return body(session)


def _start(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        view = assessment.start(s, args.submission)
        print(f"Assessment {view.id} started for submission {view.submission_id} ({view.template.label}, "
              f"{len(view.template.item_ids)} items)")
        return 0
    return _with_session(args, body)


def _status(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        if args.submission:
            found = assessment.for_submission(s, args.id)
            if found is None:
                raise NotFound(f"Submission {args.id} has no assessment yet (assess start {args.id}).")
            view = found
        else:
            view = assessment.get(s, args.id)
        # The assessment of a submission is marked at least as the submission (its answers may be higher).
        banner = rollup([view.marking, view.submission_marking]).banner()
        print(banner)
        print(f"Assessment {view.id} of submission {view.submission_id}: {view.state.value}")
        print(f"Template {view.template.label} (sha256 {view.template.sha256[:16]}…)")
        if view.newer_template:
            print(f"note: template version {view.newer_template[1]} is installed; migrate to carry answers forward")
        print(f"Progress {view.progress} ({view.progress.percent} %)")
        if view.submitted_by:
            print(f"Submitted by {view.submitted_by} at {view.submitted_at}")
        if view.approved_by:
            print(f"Approved by {view.approved_by} at {view.approved_at}")
        print_table(["section", "title", "done", "total"],
                    [(sec.id, sec.title, view.sections[sec.id].done, view.sections[sec.id].total)
                     for sec in view.template.sections])
        open_items = [(i.id, view.answer(i.id).status.value, view.answer(i.id).missing or "")
                      for i in view.template.items() if not view.answer(i.id).complete]
        if open_items:
            print(f"\n{len(open_items)} open item(s):")
            print_table(["item", "status", "missing"], open_items)
        pending = sorted(a.item_id for a in view.answers.values() if a.risk_pending)
        if pending:
            print("risk acceptance awaiting a lead's approval: " + ", ".join(pending))
        expired = sorted(a.item_id for a in view.answers.values() if risk_expired(a, s.today()))
        if expired:
            print("warning: risk acceptance expired: " + ", ".join(expired))
        for problem in assessment_review.verify_history(s, view.id):
            print(f"warning: {problem}")
        det = coverage.current_determination(s, view.submission_id)
        if det is None:
            print("note: no coverage determination recorded yet (required before approval)")
        elif not det.approved_by:
            print(f"note: coverage determination {det.id} ({det.outcome}) awaits a lead's approval "
                  "(required before approval)")
        for flag in coverage.reevaluation_flags(s, view.submission_id):
            print(f"warning: coverage {flag}")
        print(banner)  # the banner line after the marked content, as before it
        return 0
    return _with_session(args, body)


def _answer(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        expiry = None
        if args.expiry:
            try:
                expiry = date.fromisoformat(args.expiry)
            except ValueError:
                raise ValidationError("expiry", f"{args.expiry!r} is not a date (YYYY-MM-DD)") from None
        a = assessment.answer(s, args.id, args.item, status=Status(args.status) if args.status else None,
                              justification=args.justification,
                              marking=Marking.parse(args.marking) if args.marking else None,
                              risk_expiry=expiry, reason=args.reason, lower_reason=args.lower_reason)
        print(f"{a.item_id}: {a.status.label}" + (f" (incomplete: {a.missing})" if a.missing else ""))
        return 0
    return _with_session(args, body)


def _submit(args: argparse.Namespace) -> int:
    return _with_session(args, lambda s: _say(f"Assessment {assessment_review.submit(s, args.id, args.comment).id} "
                                              "submitted for approval"))


def _approve(args: argparse.Namespace) -> int:
    return _with_session(args, lambda s: _say(f"Assessment {assessment_review.approve(s, args.id, args.comment).id} "
                                              "approved and locked"))


def _return(args: argparse.Namespace) -> int:
    items = {}
    for text in args.item_comment:
        item, sep, comment = text.partition("=")
        if not sep:
            raise ValidationError("--item-comment", f"{text!r} is not ITEM=TEXT")
        items[item.strip()] = comment
    return _with_session(args, lambda s: _say(
        f"Assessment {assessment_review.return_for_changes(s, args.id, args.comment, items).id} returned for changes"))


def _reopen(args: argparse.Namespace) -> int:
    return _with_session(args, lambda s: _say(f"Assessment {assessment_review.reopen(s, args.id, args.reason).id} "
                                              "reopened (recorded)"))


def _say(text: str) -> int:
    print(text)
    return 0


def _export(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        if args.output:
            out = Path(args.output)
            marking = assessment_export.export_to_file(s, args.id, out, args.media_label)
            print(f"Wrote {out} (content {marking.banner()}, media {args.media_label}); MARKING.txt beside it",
                  file=sys.stderr)
        else:
            text = assessment_export.export_json(s, args.id)
            # Marked content on a terminal gets its banner line before and after; on standard error, so
            # standard output stays JSON for the tools it is piped to (the JSON carries its "marking").
            banner = Marking.parse(json.loads(text)["marking"]).banner()
            print(banner, file=sys.stderr, flush=True)
            print(text, flush=True)
            print(banner, file=sys.stderr)
        return 0
    return _with_session(args, body)


def _coverage(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        view = coverage.evaluate(s, args.submission)
        # Thresholds and the submission's results: banner lines before and after.
        banner = coverage.determination_floor(s, args.submission).banner()
        print(banner)
        print(f"Rule set {view.ruleset.display}")
        print_table(["rule", "kind", "threshold", "outcome", "inputs", "explanation"],
                    [(r.rule_id, r.kind.value, r.threshold, r.outcome.value, "; ".join(r.inputs) or "-",
                      r.explanation) for r in view.evaluation.results])
        print(f"Engine outcome: {view.evaluation.overall.value}")
        for why in view.excluded:
            print(f"not used: {why}")
        if view.determination:
            d = view.determination
            print(f"Recorded: {d.outcome} by {d.recorded_by} at {d.recorded_at}"
                  + (f", approved by {d.approved_by}" if d.approved_by else ", awaiting a lead's approval"))
        for flag in view.flags:
            print(f"warning: {flag}")
        if view.kept:
            print(view.kept)
        if args.keep:
            print(coverage.keep_determination(s, args.submission, args.keep).kept)
        print(banner)
        if args.record:
            det = coverage.record_determination(s, args.submission, args.record,
                                                marking=Marking.parse(args.marking) if args.marking else None,
                                                lower_reason=args.lower_reason)
            print(f"Determination {det.id} recorded: {det.marking.portion()} {det.outcome}")
        elif args.marking or args.lower_reason:
            raise ValidationError("--marking", "goes with --record (the marking of the recorded determination)")
        return 0
    return _with_session(args, body)


def _template_import(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        doc = assessment_templates.import_template(s, Path(args.file))
        print(f"Imported template {doc.doc_id} v{doc.version} (sha256 {doc.sha256}), signed by {doc.signer}")
        return 0
    return _with_session(args, body)


def _template_list(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        print_table(["pk", "template", "version", "origin", "sha256", "signer"],
                    [(d.pk, d.doc_id, d.version, d.origin, d.sha256[:16], d.signer or "-")
                     for d in assessment_templates.list_templates(s)])
        return 0
    return _with_session(args, body)


def _ruleset_import(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        doc = rulesets.import_ruleset(s, Path(args.file))
        print(f"Imported rule set {doc.doc_id} v{doc.version} ({doc.label}), now active; signed by {doc.signer}")
        return 0
    return _with_session(args, body)


def _ruleset_list(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        print_table(["pk", "rule set", "version", "label", "active", "origin", "sha256"],
                    [(d.pk, d.doc_id, d.version, d.label, "yes" if d.active else "", d.origin, d.sha256[:16])
                     for d in rulesets.list_rulesets(s)])
        return 0
    return _with_session(args, body)


def _answers_import(args: argparse.Namespace) -> int:
    from app.services import answers_import

    def body(s: Session) -> int:
        result = answers_import.import_answers(s, Path(args.file), args.assessment)
        print(f"Assessment {result.assessment_id}: {len(result.changed)} answer(s) changed, {result.unchanged} "
              "unchanged")
        return 0
    return _with_session(args, body)


def _evidence_list(args: argparse.Namespace) -> int:
    from app.model.markings import rollup

    def body(s: Session) -> int:
        links = assessment_evidence.evidence(s, args.id, args.item)
        print(rollup([e.marking for e in links]).banner())
        print_table(["id", "item", "kind", "evidence", "marking", "added by"],
                    [(e.id, e.item_id, e.kind, e.describe, e.marking.banner(), e.added_by) for e in links])
        return 0
    return _with_session(args, body)


def _marking(args: argparse.Namespace) -> Marking | None:
    """The --marking given, or None: the record then starts at the marking of what it is about."""
    return Marking.parse(args.marking) if args.marking else None


def _evidence_run(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        eid = assessment_evidence.add_run_evidence(s, args.id, args.item, args.run, args.note, _marking(args),
                                                   args.sample, lower_reason=args.lower_reason)
        return _say(f"Evidence {eid} linked")
    return _with_session(args, body)


def _evidence_file(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        eid = assessment_evidence.add_file_evidence(s, args.id, args.item, Path(args.path), _marking(args),
                                                    args.lower_reason)
        return _say(f"Evidence {eid} attached")
    return _with_session(args, body)


def _evidence_note(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        eid = assessment_evidence.add_observation(s, args.id, args.item, args.text, _marking(args), args.lower_reason)
        return _say(f"Evidence {eid} added")
    return _with_session(args, body)


def _evidence_remove(args: argparse.Namespace) -> int:
    def body(s: Session) -> int:
        assessment_evidence.remove_evidence(s, args.evidence, args.reason)
        print(f"Evidence {args.evidence} removed (reason recorded)")
        return 0
    return _with_session(args, body)
