"""`report build|list|sign|countersign|export|verify|profile import|list|use|narrative show|set|comment|return`,
`pki setup|issue|ca|roots|trust|identity|import-p12|token`
and top-level `verify FILE|DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.commands.common import data_dir, print_table, read_secret, signed_in
from app.model.errors import ValidationError
from app.services import pki as pki_service
from app.services import reports as report_service
from app.services import workstation
from app.services.session import Session
from reports import pki


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="signed, marked findings reports")
    s = p.add_subparsers(dest="report_command", required=True)

    b = s.add_parser("build", help="build a new version of a submission's findings report")
    b.add_argument("submission", type=int, help="submission id")
    b.set_defaults(func=_build)

    ls = s.add_parser("list", help="list reports (optionally of one submission)")
    ls.add_argument("--submission", type=int)
    ls.set_defaults(func=_list)

    sg = s.add_parser("sign", help="sign a built report as the reviewer (asks the passphrase; token PIN if any)")
    sg.add_argument("report", type=int, help="report id")
    sg.set_defaults(func=_sign, countersign=False)

    cs = s.add_parser("countersign", help="countersign a signed report as lead reviewer")
    cs.add_argument("report", type=int, help="report id")
    cs.set_defaults(func=_sign, countersign=True)

    ex = s.add_parser("export", help="write the countersigned report package to removable media")
    ex.add_argument("report", type=int, help="report id")
    ex.add_argument("dest", help="folder on the media (the package folder is created inside it)")
    ex.add_argument("--media", required=True, metavar="LABEL",
                    help="classification label of the media, e.g. 'SECRET//NOFORN'")
    ex.add_argument("--release", action="store_true",
                    help="release the findings and close the review: required while the review is open, because "
                         "this export is the release (a later export of a released report is a copy)")
    ex.set_defaults(func=_export)

    v = s.add_parser("verify", help="verify the signatures of a stored report; exit 1 when not valid")
    v.add_argument("report", type=int, help="report id")
    v.set_defaults(func=_verify_stored)

    pr = s.add_parser("profile", help="report profiles: an agency's signed layout (FILE.p7s beside FILE)")
    prs = pr.add_subparsers(dest="profile_command", required=True)
    pi = prs.add_parser("import", help="import a signed report profile and use it for new reports (admin)")
    pi.add_argument("file")
    pi.set_defaults(func=_profile_import)
    pl = prs.add_parser("list", help="imported report profiles and the one in use")
    pl.set_defaults(func=_profile_list)
    pu = prs.add_parser("use", help="use an imported profile (its id from 'list') or 'default' (admin)")
    pu.add_argument("profile", help="profile id number, or 'default'")
    pu.set_defaults(func=_profile_use)

    nr = s.add_parser("narrative", help="the report's bottom line, key judgments and recommendations")
    nrs = nr.add_subparsers(dest="narrative_command", required=True)
    ns = nrs.add_parser("show", help="print a submission's narrative and the lead's comments")
    ns.add_argument("submission", type=int)
    ns.set_defaults(func=_narrative_show)
    nw = nrs.add_parser("set", help="write the narrative (structured text: paragraphs, '- ' bullets, *emphasis*)")
    nw.add_argument("submission", type=int)
    nw.add_argument("--bottom-line", metavar="FILE", help="text file with the bottom line")
    nw.add_argument("--bottom-line-marking", default="UNCLASSIFIED")
    nw.add_argument("--recommendations", metavar="FILE", help="text file with the recommendations")
    nw.add_argument("--recommendations-marking", default="UNCLASSIFIED")
    nw.add_argument("--judgment", nargs=3, action="append", metavar=("CONFIDENCE", "MARKING", "TEXT"),
                    help="a key judgment (low|moderate|high); repeat in order; replaces the stored ones")
    nw.set_defaults(func=_narrative_set)
    for name, ret in (("comment", False), ("return", True)):
        nc = nrs.add_parser(name, help=f"{'return a part for changes' if ret else 'comment on a part'} (lead)")
        nc.add_argument("submission", type=int)
        nc.add_argument("part", choices=["bottom_line", "judgments", "recommendations"])
        nc.add_argument("comment")
        nc.set_defaults(func=_narrative_comment, return_part=ret)

    k = sub.add_parser("pki", help="workstation CA, signing certificates and trusted roots")
    ks = k.add_subparsers(dest="pki_command", required=True)
    st = ks.add_parser("setup", help="create the workstation CA and missing signing certificates (administrator)")
    st.set_defaults(func=_pki_setup)
    iss = ks.add_parser("issue", help="certify an account's own key (administrator): a pending request made at "
                                      "first sign-in, or a fresh certificate for its current key")
    iss.add_argument("username")
    iss.add_argument("--key", help="the key fingerprint the person reads from `pki identity`, when their request "
                                   "carries no enrolment proof (e.g. after a recovery)")
    iss.set_defaults(func=_pki_issue)
    ca = ks.add_parser("ca", help="show the workstation CA (fingerprint to give to receivers); --pem prints it")
    ca.add_argument("--pem", action="store_true")
    ca.set_defaults(func=_pki_ca)
    roots = ks.add_parser("roots", help="list trusted root certificates")
    roots.set_defaults(func=_pki_roots)
    trust = ks.add_parser("trust", help="trust another CA certificate (administrator; audited)")
    trust.add_argument("file", help="CA certificate, PEM or DER")
    trust.set_defaults(func=_pki_trust)
    me = ks.add_parser("identity", help="show your signing certificate")
    me.set_defaults(func=_pki_identity)
    p12 = ks.add_parser("import-p12", help="use an agency PKCS#12 identity for your signatures")
    p12.add_argument("file")
    p12.set_defaults(func=_pki_p12)
    tok = ks.add_parser("token", help="sign with a PKCS#11 token (smart card) from now on")
    tok.add_argument("module", help="path of the PKCS#11 module, e.g. /usr/lib/opensc-pkcs11.so")
    tok.add_argument("--token", required=True, help="token label")
    tok.add_argument("--key", required=True, help="label of the signing key and its certificate on the token")
    tok.set_defaults(func=_pki_token)

    top = sub.add_parser("verify", help="verify a signed report PDF or an export package folder")
    top.add_argument("path", help="report PDF or package folder")
    top.add_argument("--ca", action="append", default=[], metavar="FILE",
                     help="trust this CA certificate (PEM/DER) instead of signing in to the workstation")
    top.set_defaults(func=_verify_path)


def _pin_if_token(session: Session) -> str | None:
    info = pki_service.identity_info(session)
    if info is not None and info.source == "pkcs11":
        return read_secret(f"PIN for token {info.token_label}: ")
    return None


def _build(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        r = report_service.build(session, args.submission)
    print(f"report {r.id} built: {r.control_number} v{r.version}, marked {r.marking}, SHA-256 {r.sha256}")
    return 0


def _narrative_show(args: argparse.Namespace) -> int:
    from app.services import narrative

    with signed_in(args) as session:
        view = narrative.get(session, args.submission)
    n = view.narrative
    print(f"Bottom line {n.bottom_line_marking.portion()}:\n{n.bottom_line or '(not written)'}\n")
    for i, j in enumerate(n.judgments, start=1):
        print(f"KJ-{i} {j.marking.portion()} ({j.confidence.label}): {j.text}")
    print(f"\nRecommendations {n.recommendations_marking.portion()}:\n{n.recommendations or '(not written)'}")
    for c in view.comments:
        state = "open" if c.open_return else "answered" if c.action == "return" else ""
        print(f"{c.created_at[:16]} {c.author} {c.action} {c.part}: {c.comment}" + (f" [{state}]" if state else ""))
    if view.locked:
        print("Locked: the assessment is approved.")
    return 0


def _narrative_set(args: argparse.Namespace) -> int:
    import dataclasses

    from app.model.markings import Marking
    from app.model.narrative import Confidence, KeyJudgment
    from app.services import narrative

    def text(path: str | None) -> str | None:
        return Path(path).read_text(encoding="utf-8") if path else None

    with signed_in(args) as session:
        current = narrative.get(session, args.submission).narrative
        changes: dict[str, object] = {}
        bottom, recs = text(args.bottom_line), text(args.recommendations)
        if bottom is not None:
            changes.update(bottom_line=bottom.strip(), bottom_line_marking=Marking.parse(args.bottom_line_marking))
        if recs is not None:
            changes.update(recommendations=recs.strip(),
                           recommendations_marking=Marking.parse(args.recommendations_marking))
        if args.judgment:
            try:
                changes["judgments"] = tuple(KeyJudgment(t.strip(), Confidence(c.lower()), Marking.parse(m))
                                             for c, m, t in args.judgment)
            except ValueError:
                raise ValidationError("judgment", "confidence must be low, moderate or high") from None
        view = narrative.save(session, args.submission, dataclasses.replace(current, **changes))  # type: ignore[arg-type]
    print(f"Narrative of submission {args.submission} saved ({len(view.narrative.judgments)} key judgments)")
    return 0


def _narrative_comment(args: argparse.Namespace) -> int:
    from app.services import narrative

    with signed_in(args) as session:
        narrative.comment(session, args.submission, args.part, args.comment, args.return_part)
    print(f"{'Returned' if args.return_part else 'Commented on'} {args.part} of submission {args.submission}")
    return 0


def _profile_import(args: argparse.Namespace) -> int:
    from app.services import report_profiles

    with signed_in(args) as session:
        doc = report_profiles.import_profile(session, Path(args.file))
    print(f"Imported report profile {doc.profile_id} v{doc.version} (sha256 {doc.sha256}), now in use; "
          f"signed by {doc.signer}")
    return 0


def _profile_list(args: argparse.Namespace) -> int:
    from app.services import report_profiles

    with signed_in(args) as session:
        rows = report_profiles.list_profiles(session)
    print_table(["ID", "PROFILE", "VERSION", "NAME", "IN USE", "SHA256", "SIGNER"],
                [[d.pk, d.profile_id, d.version, d.name, "yes" if d.active else "", d.sha256[:16], d.signer]
                 for d in rows])
    if not any(d.active for d in rows):
        print("In use: the built-in default profile")
    return 0


def _profile_use(args: argparse.Namespace) -> int:
    from app.services import report_profiles

    choice = str(args.profile).strip().lower()
    if choice != "default" and not choice.isdigit():
        raise ValidationError("profile", "give the profile's id number from 'report profile list', or 'default'")
    with signed_in(args) as session:
        profile = report_profiles.use(session, None if choice == "default" else int(choice))
    print(f"New reports use the profile {profile.name} ({profile.label})")
    return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = (report_service.for_submission(session, args.submission) if args.submission
                else report_service.recent(session))
    print_table(["ID", "SUBMISSION", "VERSION", "CONTROL NUMBER", "STATE", "MARKING", "BUILT"],
                [[r.id, r.submission_id, r.version, r.control_number, r.state, r.marking, r.built_at[:19]]
                 for r in rows])
    return 0


def _sign(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        pin = _pin_if_token(session)
        action = report_service.countersign if args.countersign else report_service.sign
        r = action(session, args.report, args._passphrase, pin)
    print(f"report {r.id} ({r.control_number}) is now {r.state}; SHA-256 {r.sha256}")
    return 0


def _export(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        # The media label first: media labelled lower is refused before anything else is asked.
        report_service.clear_export(session, args.report, Path(args.dest), args.media)
        report = report_service.get(session, args.report)
        closes = report_service.export_closes_review(session, args.report)
        if closes and not args.release:
            print(f"Exporting report {report.id} ({report.control_number}) releases the countersigned findings and "
                  f"closes the review of submission {report.submission_id} (stage released · closed, review clock "
                  "stopped). Nothing was written.\nRe-run with --release to release them.", file=sys.stderr)
            return 3
        pin = _pin_if_token(session)
        out = report_service.export(session, args.report, Path(args.dest), args.media, args._passphrase, pin)
    print(f"package written: {out.package.path} (content {out.package.marking.banner()}, "
          f"media {out.package.media.banner()})")
    for name, sha in sorted(out.package.files.items()):
        print(f"  {sha}  {name}")
    if closes:
        print(f"report {report.control_number} released; the review of submission {report.submission_id} is now "
              "closed (review clock stopped)")
    else:
        print(f"report {report.control_number} exported as a further copy; the review of submission "
              f"{report.submission_id} is unchanged")
    return 0


def _verify_stored(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        result = report_service.verify(session, args.report)
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


def _verify_path(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if args.ca:
        roots = []
        for f in args.ca:
            try:
                data = Path(f).read_bytes()
            except OSError as exc:
                raise ValidationError(f, f"cannot be read ({exc.strerror})") from None
            # A PEM file may hold several CAs (a package's ca.pem carries a smart card's CA too).
            roots += pki.certs_from_pem(data, f) if b"-----BEGIN" in data else [pki.cert_from_bytes(data, f)]
        for c in roots:
            print(f"trusting CA {pki.common_name(c)} (SHA-256 {pki.fingerprint(c)}) as given on the command line")
        result = report_service.verify_path(path, roots)
    else:
        if not workstation.is_initialized(data_dir(args)):
            raise ValidationError("--ca", "no workstation here: name the CA certificate to trust with --ca FILE")
        with signed_in(args) as session:
            result = report_service.verify_path(path, pki_service.trusted_roots(session), session)
    print("\n".join(result.lines()))
    return 0 if result.ok else 1


def _pki_setup(args: argparse.Namespace) -> int:
    from app.model.accounts import Permission

    with signed_in(args) as session:
        session.require(Permission.MANAGE_USERS)
        pki_service.ensure_ready(session)
        cert = pki_service.workstation_ca(session)
    print(f"workstation CA: {cert.subject.rfc4514_string()}\nSHA-256 fingerprint {pki.fingerprint(cert)}")
    return 0


def _pki_issue(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        info = pki_service.reissue_certificate(session, args.username, args._passphrase, args.key)
    print(f"issued to {info.username}: {info.subject}, valid until {info.not_after[:10]} "
          f"(fingerprint {info.fingerprint})")
    return 0


def _pki_ca(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        cert = pki_service.workstation_ca(session)
    if args.pem:
        print(pki.cert_to_pem(cert).decode(), end="")
    else:
        print(f"{cert.subject.rfc4514_string()}\nSHA-256 fingerprint {pki.fingerprint(cert)}\n"
              f"valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


def _pki_roots(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = pki_service.list_trusted_roots(session)
    print_table(["FINGERPRINT", "ORIGIN", "SUBJECT", "ADDED"],
                [[r.fingerprint, r.origin, r.subject, f"{r.added_at[:10]} by {r.added_by}"] for r in rows])
    return 0


def _pki_trust(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        root = pki_service.import_trusted_root(session, Path(args.file), args._passphrase)
    print(f"trusted: {root.subject}\nSHA-256 fingerprint {root.fingerprint}")
    return 0


def _pki_identity(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        info = pki_service.identity_info(session)
        key = session.personal.fingerprint if session.personal is not None else ""
        me = session.account.username
        waiting = [r for r in pki_service.pending_requests(session) if r.username == me] if info is None else []
    if key:
        print(f"your personal key: SHA-256 {key}")
    if info is None:
        # Normal after a first sign-in: not a failure (exit 0), and the next step is an administrator's.
        print("no signing certificate for this account yet: an administrator issues it.")
        if waiting and waiting[0].enrolment_proof:
            print(f"Next: your request is waiting; an administrator runs `frontier-review pki issue {me}` "
                  "(or Accounts ▸ Issue waiting certificates…).")
        else:
            print(f"Next: read the key fingerprint above to an administrator, who runs "
                  f"`frontier-review pki issue {me} --key FINGERPRINT` (or Accounts ▸ Issue waiting certificates…).")
        return 0
    print(f"{info.subject} ({info.source}), issued by {info.issuer}\nSHA-256 fingerprint {info.fingerprint}\n"
          f"valid until {info.not_after[:10]}")
    return 0


def _pki_p12(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise ValidationError(args.file, f"cannot be read ({exc.strerror})") from None
        password = read_secret(f"Password of {Path(args.file).name}: ")
        info = pki_service.import_pkcs12(session, data, password, args._passphrase, args.file)
    print(f"signing identity imported: {info.subject}, issued by {info.issuer} (fingerprint {info.fingerprint})")
    return 0


def _pki_token(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        pin = read_secret(f"PIN for token {args.token}: ")
        info = pki_service.register_token(session, args._passphrase, args.module, args.token, args.key, pin)
    print(f"signing with token {info.token_label}: {info.subject} (fingerprint {info.fingerprint})")
    return 0
