"""The review workflow from the command line, the same actions the desktop offers:

    review status SUBMISSION        stage, next step and who takes it, my actions and why not
    review queue                    My work and (leads) Awaiting my decision
    review assign|unassign|team     a lead splits the review among reviewers
    review comment|thread           discussion on an item (SUB/ITEM), finding, vulnerability, determination
    review summary ASSESSMENT       what a lead approves (counts, overrides, risks, findings)
    review approve-item ASSESSMENT ITEM
    review approve-determination DETERMINATION   (lead, second person)
    review approve-risk ASSESSMENT ITEM          (lead, second person)
    review suggestion ASSESSMENT ITEM --accept | --override STATUS --reason TEXT
    finding add|list|edit|delete    findings of a submission
    settings show|set               workstation settings (administrator)
"""

from __future__ import annotations

import argparse

from app.commands.common import print_table, signed_in
from app.commands.printables import add_export_pdf
from app.model.checklist import Status
from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.printable import DocumentKind


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="lifecycle, next steps, assignment, discussion, a lead's decisions")
    s = p.add_subparsers(dest="review_command", required=True)
    st = s.add_parser("status", help="stage, next step and who takes it; your actions now and why not")
    st.add_argument("submission", type=int)
    st.set_defaults(func=_status)
    s.add_parser("queue", help="My work and, for leads, Awaiting my decision").set_defaults(func=_queue)
    a = s.add_parser("assign", help="assign a reviewer to a submission or one checklist section (lead)")
    a.add_argument("submission", type=int)
    a.add_argument("username")
    a.add_argument("--section", default="", help="checklist section id, e.g. CAP (default: the whole checklist)")
    a.set_defaults(func=_assign)
    u = s.add_parser("unassign", help="remove an assignment (lead)")
    u.add_argument("assignment", type=int)
    u.set_defaults(func=_unassign)
    t = s.add_parser("team", help="assignments of a submission")
    t.add_argument("submission", type=int)
    t.set_defaults(func=_team)
    c = s.add_parser("comment", help="add to a discussion (kept in the record, audited)")
    c.add_argument("target", choices=("item", "finding", "vulnerability", "determination"))
    c.add_argument("ref", help="item: SUBMISSION/ITEM (e.g. 12/CAP-02); finding id; vulnerability id; "
                               "determination: the submission id")
    c.add_argument("text")
    c.add_argument("--marking", default="", help="marking of the comment (never lower than what it discusses)")
    c.set_defaults(func=_comment)
    th = s.add_parser("thread", help="show a discussion")
    th.add_argument("target", choices=("item", "finding", "vulnerability", "determination"))
    th.add_argument("ref")
    th.set_defaults(func=_thread)
    sm = s.add_parser("summary", help="what a lead approves: counts by status, overrides, risks, findings")
    sm.add_argument("assessment", type=int)
    sm.set_defaults(func=_summary)
    ai = s.add_parser("approve-item", help="approve one answer of a submitted assessment (lead)")
    ai.add_argument("assessment", type=int)
    ai.add_argument("item")
    ai.set_defaults(func=_approve_item)
    ad = s.add_parser("approve-determination", help="approve a recorded coverage determination (lead, not its "
                                                    "recorder)")
    ad.add_argument("determination", type=int)
    ad.set_defaults(func=_approve_determination)
    ar = s.add_parser("approve-risk", help="approve a 'Risk accepted' answer (lead, not its writer)")
    ar.add_argument("assessment", type=int)
    ar.add_argument("item")
    ar.set_defaults(func=_approve_risk)
    sg = s.add_parser("suggestion", help="show, accept or override the rule set's suggestion for an item")
    sg.add_argument("assessment", type=int)
    sg.add_argument("item")
    how = sg.add_mutually_exclusive_group()
    how.add_argument("--accept", action="store_true")
    how.add_argument("--override", choices=[x.value for x in Status], metavar="STATUS")
    sg.add_argument("--reason", default="", help="why the answer departs from the suggestion (with --override)")
    sg.set_defaults(func=_suggestion)

    f = sub.add_parser("finding", help="findings of a submission")
    fs = f.add_subparsers(dest="finding_command", required=True)
    fa = fs.add_parser("add", help="record a finding")
    fa.add_argument("submission", type=int)
    _finding_fields(fa, required=True)
    fa.set_defaults(func=_finding_add)
    fl = fs.add_parser("list", help="findings of a submission")
    fl.add_argument("submission", type=int)
    fl.set_defaults(func=_finding_list)
    fe = fs.add_parser("edit", help="change a finding (only the fields given)")
    fe.add_argument("id", type=int)
    _finding_fields(fe, required=False)
    fe.set_defaults(func=_finding_edit)
    add_export_pdf(fs, DocumentKind.FINDINGS)
    fd = fs.add_parser("delete", help="delete a finding (reason recorded)")
    fd.add_argument("id", type=int)
    fd.add_argument("--reason", required=True)
    fd.set_defaults(func=_finding_delete)

    g = sub.add_parser("settings", help="workstation settings")
    gs = g.add_subparsers(dest="settings_command", required=True)
    gs.add_parser("show", help="every setting and its value").set_defaults(func=_settings_show)
    gset = gs.add_parser("set", help="change one setting (administrator; audited)")
    gset.add_argument("key")
    gset.add_argument("value")
    gset.set_defaults(func=_settings_set)


def _finding_fields(p: argparse.ArgumentParser, required: bool) -> None:
    from app.model.findings import Severity

    p.add_argument("--title", required=required)
    p.add_argument("--severity", choices=[x.value for x in Severity], required=required)
    p.add_argument("--description", required=required)
    p.add_argument("--recommendation")
    p.add_argument("--impact")
    p.add_argument("--items", help="linked checklist items, comma-separated (e.g. CAP-02,SAF-01)")
    p.add_argument("--evidence", help="evidence references, comma-separated (run:12, sample:12:ctf-3, blob:SHA256)")
    p.add_argument("--marking", help="default for a new finding: the submission's marking")
    p.add_argument("--lower-reason", default="", help="why the marking may be lower than the submission's or the "
                                                      "finding's (required to lower it; audited)")


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (text or "").split(",") if x.strip())


def _status(args: argparse.Namespace) -> int:
    from app.services import review_overview

    with signed_in(args) as session:
        print(review_overview.describe(session, args.submission))
    return 0


def _queue(args: argparse.Namespace) -> int:
    from app.services import assignments

    with signed_in(args) as session:
        for title, rows in (("My work", assignments.my_work(session)),
                            ("Awaiting my decision", assignments.awaiting_decision(session))):
            print(f"{title} ({len(rows)})")
            if rows:
                print_table(["id", "submission", "stage", "release", "mine", "next step"],
                            [(r.submission.id, r.submission.display_name, r.stage.label,
                              r.submission.planned_release.isoformat(), r.detail,
                              r.next_step + (f" ({r.who})" if r.who else "")) for r in rows])
            print()
    return 0


def _assign(args: argparse.Namespace) -> int:
    from app.services import assignments

    with signed_in(args) as session:
        a = assignments.assign(session, args.submission, args.username, args.section)
        print(f"Assignment {a.id}: {a.username} on {a.scope} of submission {a.submission_id}")
    return 0


def _unassign(args: argparse.Namespace) -> int:
    from app.services import assignments

    with signed_in(args) as session:
        a = assignments.unassign(session, args.assignment)
        print(f"Removed: {a.username} from {a.scope} of submission {a.submission_id}")
    return 0


def _team(args: argparse.Namespace) -> int:
    from app.services import assignments

    with signed_in(args) as session:
        print_table(["id", "user", "scope", "assigned by", "at"],
                    [(a.id, a.username, a.scope, a.assigned_by, a.assigned_at[:19])
                     for a in assignments.for_submission(session, args.submission)])
    return 0


def _comment(args: argparse.Namespace) -> int:
    from app.services import discussion

    with signed_in(args) as session:
        c = discussion.add(session, args.target, args.ref, args.text,
                           Marking.parse(args.marking) if args.marking else UNCLASSIFIED)
        print(f"Comment {c.id} added to {args.target} {args.ref} ({c.marking.banner()})")
    return 0


def _thread(args: argparse.Namespace) -> int:
    from app.model.markings import rollup
    from app.services import discussion

    with signed_in(args) as session:
        comments = discussion.thread(session, args.target, args.ref)
        # The output quotes every comment: its banner is the highest of their markings.
        print(rollup([c.marking for c in comments]).banner())
        for c in comments:
            print(f"{c.marking.portion()} {c.author} {c.created_at[:19]}: {c.body}")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from app.services import assessment_review

    with signed_in(args) as session:
        print(assessment_review.approval_summary(session, args.assessment))
    return 0


def _approve_item(args: argparse.Namespace) -> int:
    from app.services import assessment_review

    with signed_in(args) as session:
        assessment_review.approve_item(session, args.assessment, args.item)
        print(f"{args.item} approved")
    return 0


def _approve_determination(args: argparse.Namespace) -> int:
    from app.services import coverage

    with signed_in(args) as session:
        det = coverage.approve_determination(session, args.determination)
        print(f"Coverage determination {det.id} ({det.outcome}) approved by {det.approved_by}")
    return 0


def _approve_risk(args: argparse.Namespace) -> int:
    from app.services import assessment

    with signed_in(args) as session:
        a = assessment.approve_risk(session, args.assessment, args.item)
        print(f"Risk acceptance of {a.item_id} approved by {a.risk_approved_by} (expires {a.risk_expiry})")
    return 0


def _suggestion(args: argparse.Namespace) -> int:
    from app.services import assessment_suggestions

    with signed_in(args) as session:
        sug = assessment_suggestions.suggestion(session, args.assessment, args.item)
        if sug is None:
            print(f"{args.item}: no suggestion (the item is not bound to a rule, or no input is imported yet)")
            return 0
        print(Marking.parse(sug.marking).banner())
        print(f"Suggested: {Status(sug.status).label if sug.status else 'none yet (inputs missing)'}")
        print(sug.text)
        if args.accept or args.override:
            a = assessment_suggestions.decide_suggestion(session, args.assessment, args.item, bool(args.accept),
                                                         Status(args.override) if args.override else None, args.reason)
            print(f"{a.item_id}: {a.status.label} ({'accepted' if args.accept else 'overridden'})")
    return 0


def _finding_add(args: argparse.Namespace) -> int:
    from app.model.findings import EvidenceRef, Finding, Severity
    from app.services import findings, submissions

    with signed_in(args) as session:
        # A new finding starts at the marking of the submission it is about.
        marking = Marking.parse(args.marking) if args.marking else submissions.get(session, args.submission).marking
        f = findings.create(session, Finding(
            args.submission, args.title, args.description, Severity(args.severity), args.recommendation or "",
            _split(args.items), tuple(EvidenceRef.parse(e) for e in _split(args.evidence)),
            marking, impact=args.impact or ""), args.lower_reason)
        print(f"Finding {f.label} (id {f.id}) recorded: {f.title}")
    return 0


def _finding_list(args: argparse.Namespace) -> int:
    from app.model.markings import rollup
    from app.services import findings

    with signed_in(args) as session:
        rows = findings.list_findings(session, args.submission)
        print(rollup([f.marking for f in rows]).banner())
        print_table(["id", "label", "severity", "title", "items", "marking"],
                    [(f.id, f.label, f.severity.value, f"{f.marking.portion()} {f.title}", ",".join(f.item_ids),
                      f.marking.banner()) for f in rows])
    return 0


def _finding_edit(args: argparse.Namespace) -> int:
    import dataclasses

    from app.model.findings import EvidenceRef, Severity
    from app.services import findings

    with signed_in(args) as session:
        f = findings.get(session, args.id)
        changes: dict[str, object] = {}
        for name in ("title", "description", "recommendation", "impact"):
            if getattr(args, name) is not None:
                changes[name] = getattr(args, name)
        if args.severity:
            changes["severity"] = Severity(args.severity)
        if args.items is not None:
            changes["item_ids"] = _split(args.items)
        if args.evidence is not None:
            changes["evidence"] = tuple(EvidenceRef.parse(e) for e in _split(args.evidence))
        if args.marking:
            changes["marking"] = Marking.parse(args.marking)
        if not changes:
            raise ValidationError("finding edit", "give at least one field to change")
        saved = findings.update(session, dataclasses.replace(f, **changes), args.lower_reason)  # type: ignore[arg-type]
        print(f"Finding {saved.label} updated")
    return 0


def _finding_delete(args: argparse.Namespace) -> int:
    from app.services import findings

    with signed_in(args) as session:
        findings.delete(session, args.id, args.reason)
        print(f"Finding {args.id} deleted (reason recorded)")
    return 0


def _settings_show(args: argparse.Namespace) -> int:
    from app.model.settings import EDITABLE_SETTINGS

    with signed_in(args) as session:
        print_table(["setting", "value", "editable"],
                    [(k, v, "yes" if k in EDITABLE_SETTINGS else "no (fixed at setup)")
                     for k, v in session.settings.to_dict().items()])
    return 0


def _settings_set(args: argparse.Namespace) -> int:
    from app.model.settings import Settings
    from app.services import workstation

    with signed_in(args) as session:
        default = getattr(Settings(), args.key, None)
        value: object = args.value
        if isinstance(default, int):
            try:
                value = int(args.value)
            except ValueError:
                raise ValidationError(args.key, f"{args.value!r} is not a whole number") from None
        workstation.update_settings(session, {args.key: value})
        print(f"{args.key} = {getattr(session.settings, args.key)!s}")
    return 0
