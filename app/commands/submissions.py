"""`submission add|list|show|attach`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.banners import banner_lines
from app.commands.common import print_table, sign_again, signed_in
from app.model.markings import Marking, rollup
from app.model.submissions import (
    AccessMethod,
    ComputeEstimate,
    Contact,
    Modality,
    Submission,
    parse_date,
    parse_flop,
)
from app.services import submission_signatures, submissions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submission", help="model submission registry")
    s = p.add_subparsers(dest="submission_command", required=True)
    a = s.add_parser("add", help="register a model submission")
    a.add_argument("--developer", required=True)
    a.add_argument("--model", required=True)
    a.add_argument("--version", required=True)
    a.add_argument("--received", help="YYYY-MM-DD (default today)")
    a.add_argument("--release", required=True, help="planned public release date YYYY-MM-DD")
    a.add_argument("--modality", default="text", choices=[m.value for m in Modality])
    a.add_argument("--access", default=AccessMethod.WEIGHTS_ON_MEDIA.value, choices=[m.value for m in AccessMethod])
    a.add_argument("--flop", default="", help="declared training compute, e.g. 3e25")
    a.add_argument("--flop-estimate", default=ComputeEstimate.DEVELOPER_DECLARED.value,
                   choices=[m.value for m in ComputeEstimate])
    a.add_argument("--marking", default="UNCLASSIFIED")
    a.add_argument("--contact", action="append", default=[], help="point of contact 'Name <email>'")
    a.add_argument("--notes", default="")
    a.set_defaults(func=_add)
    ls = s.add_parser("list", help="list submissions")
    ls.add_argument("--search", default="")
    ls.add_argument("--open", action="store_true", help="open reviews only")
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="show one submission")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=_show)
    ed = s.add_parser("edit", help="change a submission (only the fields given; audited)")
    ed.add_argument("id", type=int)
    ed.add_argument("--developer")
    ed.add_argument("--model")
    ed.add_argument("--version")
    ed.add_argument("--received", help="YYYY-MM-DD")
    ed.add_argument("--release", help="planned public release date YYYY-MM-DD")
    ed.add_argument("--flop", help="declared training compute, e.g. 3e25 ('' clears it)")
    ed.add_argument("--marking")
    ed.add_argument("--notes")
    state = ed.add_mutually_exclusive_group()
    state.add_argument("--withdrawn", action="store_true", help="the developer withdrew the submission")
    state.add_argument("--active", action="store_true", help="undo a withdrawal (the stage follows the work)")
    ed.set_defaults(func=_edit)
    sg = s.add_parser("sign", help="sign a submission that does not hold its signature, as it now stands, after "
                                   "reviewing it (`submission show` says what is wrong; audited)")
    sg.add_argument("id", type=int)
    sg.set_defaults(func=_sign)
    at = s.add_parser("attach", help="attach an artifact (stored encrypted with its SHA-256)")
    at.add_argument("id", type=int)
    at.add_argument("path")
    at.add_argument("--kind", default="model card")
    at.add_argument("--marking", help="the artifact's marking (default: the submission's; a lower one needs "
                                      "--lower-reason)")
    at.add_argument("--lower-reason", default="", help="why the artifact is marked lower than the submission "
                                                       "(audited)")
    at.set_defaults(func=_attach)


def _edit(args: argparse.Namespace) -> int:
    import dataclasses

    from app.model.submissions import SubmissionStatus

    with signed_in(args) as session:
        s = submissions.get(session, args.id)
        changes: dict[str, object] = {}
        for name, attr in (("developer", "developer"), ("model", "model_name"), ("version", "version"),
                           ("notes", "notes")):
            if getattr(args, name) is not None:
                changes[attr] = getattr(args, name)
        if args.received:
            changes["received"] = parse_date("received", args.received)
        if args.release:
            changes["planned_release"] = parse_date("planned_release", args.release)
        if args.flop is not None:
            changes["training_flop"] = parse_flop(args.flop)
        if args.marking:
            changes["marking"] = Marking.parse(args.marking)
        if args.withdrawn:
            changes["status"] = SubmissionStatus.WITHDRAWN
        elif args.active and s.status is SubmissionStatus.WITHDRAWN:
            changes["status"] = SubmissionStatus.RECEIVED
        saved = submissions.update(session, dataclasses.replace(s, **changes))  # type: ignore[arg-type]
        print(f"Submission {saved.id} saved: {saved.display_name}"
              + (" (withdrawn)" if saved.status is SubmissionStatus.WITHDRAWN else ""))
    return 0


def _contact(text: str) -> Contact:
    if "<" in text and text.endswith(">"):
        name, email = text[:-1].split("<", 1)
        return Contact(name=name.strip(), email=email.strip())
    return Contact(name=text.strip())


def _add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        received = parse_date("received", args.received) if args.received else session.today()
        s = Submission(
            developer=args.developer, model_name=args.model, version=args.version, received=received,
            planned_release=parse_date("planned_release", args.release), modality=Modality(args.modality),
            access_method=AccessMethod(args.access), training_flop=parse_flop(args.flop),
            compute_estimate=ComputeEstimate(args.flop_estimate), marking=Marking.parse(args.marking),
            notes=args.notes, notes_marking=Marking.parse(args.marking),
            contacts=tuple(_contact(c) for c in args.contact),
        )
        created = submissions.create(session, s)
        print(f"Submission {created.id} registered: {created.display_name}")
        for flag in created.window_flags:
            print(f"warning: {flag}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        today = session.today()
        from app.services import workflow

        rows = submissions.page(session, 0, 10_000, search=args.search)
        # The stage is computed from the work; "open" means not yet released or withdrawn.
        stages = workflow.stages(session, [int(s.id or 0) for s in rows])
        rows = [s for s in rows if not args.open or stages[int(s.id or 0)].is_open]
        held = submission_signatures.standings(session, rows)
        # a row that does not hold is shown at the marking its editors signed, never at a lowered one
        marks = {int(s.id or 0): s.marking for s in rows} | submission_signatures.shown_markings(
            session, [s for s in rows if not held[int(s.id or 0)].holds])
        with banner_lines(marks.values()):
            print_table(
                ["id", "developer", "model", "version", "stage", "release", "days left", "window", "marking",
                 "signed"],
                [(s.id, s.developer, s.model_name, s.version, stages[int(s.id or 0)].label, s.planned_release,
                  s.days_remaining(today),
                  s.window_state(today, stage=stages[int(s.id or 0)]).value,
                  marks[int(s.id or 0)].banner(), "holds" if held[int(s.id or 0)].holds else "DOES NOT HOLD")
                 for s in rows],
            )
        bad = sum(not h.holds for h in held.values())
        if bad:
            print(f"{bad} submission{' does not hold its' if bad == 1 else 's do not hold their'} signature "
                  "(`submission show ID` says why)", file=sys.stderr)
    return 0


def _sign(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        before = submission_signatures.standing(session, args.id)
        return sign_again(f"submission {args.id}", before,
                          lambda: submission_signatures.sign_reviewed(session, args.id, before.problem),
                          session.account.username)


def _show(args: argparse.Namespace) -> int:
    from app.services import review_overview

    with signed_in(args) as session:
        s = submissions.get(session, args.id)
        today = session.today()
        overview = review_overview.overview(session, int(s.id or 0))
        arts = submissions.artifacts(session, args.id)
        shown = submission_signatures.shown_marking(session, int(s.id or 0))  # never a lowered row's
        overall = rollup([shown, s.notes_marking, *(a.marking for a in arts)]).banner()
        print(overall)  # banner line before and after the marked content
        for label, value in [
            ("id", s.id), ("developer", s.developer), ("model", s.model_name), ("version", s.version),
            ("modality", s.modality.value), ("access", s.access_method.value),
            ("training FLOP", f"{s.training_flop:.3g} ({s.compute_estimate.value})" if s.training_flop else "-"),
            ("received", s.received), ("planned release", s.planned_release),
            ("window", f"{s.window_days} days, {s.days_remaining(today)} left, "
                       f"{s.window_state(today, stage=overview.stage).value}"),
            ("stage", overview.next_line),
            ("notes", f"{s.notes_marking.portion()} {s.notes}" if s.notes else "-"),
            ("signature", submission_signatures.standing(session, int(s.id or 0)).describe()),
        ]:
            print(f"{label:>16}: {value}")
        for c in s.contacts:
            print(f"{'contact':>16}: {c.name} {c.email}".rstrip())
        for art in arts:
            print(f"{'artifact':>16}: {art.marking.portion()} {art.filename} ({art.kind}, {art.size} bytes, "
                  f"sha256 {art.sha256})")
        for flag in s.window_flags:
            print(f"warning: {flag}")
        print(overall)
    return 0


def _attach(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        requested = Marking.parse(args.marking) if args.marking else None
        art = submissions.attach_artifact(session, args.id, Path(args.path), args.kind, requested, args.lower_reason)
        print(f"Attached {art.filename} ({art.marking.banner()}): sha256 {art.sha256}, {art.size} bytes")
    return 0
