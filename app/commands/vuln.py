"""`vuln add|update|list|show|sign|export-csaf|import-csaf`: the clearinghouse vulnerability register."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from app.commands.banners import banner_lines
from app.commands.common import print_table, sign_again, signed_in
from app.commands.printables import add_export_pdf
from app.model.csaf_publisher import Publisher
from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking
from app.model.printable import DocumentKind
from app.model.submissions import parse_date
from app.model.vulnerabilities import (
    EXCHANGED_FIELDS,
    LIST_FIELDS,
    NO_REMEDIATION,
    AffectedProduct,
    CvssSeverity,
    DiscoveryContext,
    Remediation,
    RemediationCategory,
    ReproStatus,
    Target,
    Tlp,
    Vulnerability,
    VulnStatus,
)
from app.services import csaf_exchange, csaf_merge, csaf_sharing, egress, submissions, vuln_signatures
from app.services import vulnerabilities as vs
from app.services.csaf_merge import ActionKind, ImportPreview


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("vuln", help="vulnerability register (AI cybersecurity clearinghouse)")
    s = p.add_subparsers(dest="vuln_command", required=True)

    a = s.add_parser("add", help="record a vulnerability")
    a.add_argument("--title", required=True)
    a.add_argument("--description", default="")
    a.add_argument("--target", default=Target.SOFTWARE.value, choices=[t.value for t in Target])
    a.add_argument("--vendor", default="")
    a.add_argument("--product", default="")
    a.add_argument("--product-id", default="", help="CPE (cpe:2.3:...) or package URL (pkg:...)")
    a.add_argument("--add-product", action="append", default=[], metavar="VENDOR|PRODUCT|CPE-OR-PURL",
                   help="a further affected product (repeatable), e.g. 'Northwind AI|Aurora 4.2|cpe:2.3:a:...'; "
                        "the id may be left out")
    a.add_argument("--cwe", default="", help="CWE-NNN")
    a.add_argument("--cve", default="", help="CVE-YYYY-NNNN")
    a.add_argument("--cvss", default="", help="CVSS v4.0 vector, e.g. CVSS:4.0/AV:N/AC:L/...")
    a.add_argument("--cvss3", default="", help="optional CVSS v3.1 vector")
    a.add_argument("--submission", type=int, help="submission id (embargo defaults to its planned release)")
    a.add_argument("--run", default="", help="evaluation run id")
    a.add_argument("--sample", default="", help="sample id within the run")
    a.add_argument("--finding", default="", help="finding id")
    a.add_argument("--repro", default=ReproStatus.NOT_ATTEMPTED.value, choices=[r.value for r in ReproStatus])
    a.add_argument("--evidence", default="")
    a.add_argument("--discovered", help="YYYY-MM-DD (default today)")
    a.add_argument("--vendor-notified", help="YYYY-MM-DD")
    a.add_argument("--embargo-until", help="YYYY-MM-DD (default: the submission's planned release)")
    a.add_argument("--published", help="YYYY-MM-DD")
    a.add_argument("--tlp", default=Tlp.AMBER.value, choices=[t.value for t in Tlp])
    a.add_argument("--remediation", default="", help="details of the first remediation entry")
    a.add_argument("--remediation-category", default=RemediationCategory.NONE_AVAILABLE.value,
                   choices=[c.value for c in RemediationCategory])
    a.add_argument("--add-remediation", action="append", default=[], metavar="CATEGORY:DETAILS",
                   help="a further remediation entry (repeatable), e.g. vendor_fix:Upgrade to 2.4.2")
    a.add_argument("--status", default=VulnStatus.NEW.value, choices=[v.value for v in VulnStatus])
    a.add_argument("--marking", help="default: the marking of the submission it was found in (else UNCLASSIFIED)")
    a.add_argument("--lower-reason", default="", help="why the marking may be lower than the submission's "
                                                      "(required to lower it; audited)")
    a.set_defaults(func=_add)

    up = s.add_parser("update", help="change fields of a register entry (history kept)")
    up.add_argument("id")
    up.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="fields",
                    help="e.g. --set status=vendor notified --set vendor_notified=2026-11-20; fields: "
                         + ", ".join(("status", *_SCALAR_FIELDS)))
    up.add_argument("--add-remediation", action="append", default=[], metavar="CATEGORY:DETAILS",
                    help="add a remediation entry (repeatable), e.g. vendor_fix:Upgrade to 2.4.2")
    up.add_argument("--remove-remediation", action="append", default=[], type=int, metavar="N",
                    help="remove remediation entry N (1 = the first, as `vuln show` numbers them)")
    up.add_argument("--add-product", action="append", default=[], metavar="VENDOR|PRODUCT|CPE-OR-PURL",
                    help="add a further affected product (repeatable); the first is set with --set vendor=... "
                         "product=... product_id=...")
    up.add_argument("--remove-product", action="append", default=[], type=int, metavar="N",
                    help="remove affected product N (2 or more: `vuln show` numbers them, 1 is the first)")
    up.set_defaults(func=_update)

    ls = s.add_parser("list", help="list the register")
    ls.add_argument("--severity", action="append", default=[], choices=[v.value for v in CvssSeverity])
    ls.add_argument("--status", action="append", default=[], choices=[v.value for v in VulnStatus])
    ls.add_argument("--embargo-within", type=int, metavar="DAYS", help="embargo ends within DAYS days")
    ls.add_argument("--search", default="")
    ls.add_argument("--submission", type=int)
    ls.add_argument("--sort", default="id", choices=["id", "severity", "embargo", "status", "title", "updated"])
    ls.add_argument("--desc", action="store_true")
    ls.set_defaults(func=_list)

    sh = s.add_parser("show", help="show one vulnerability with its change history")
    sh.add_argument("id")
    sh.set_defaults(func=_show)

    sg = s.add_parser("sign", help="sign an entry that does not hold its signature, as it now stands, after "
                                   "reviewing it (`vuln show` says what is wrong; audited)")
    sg.add_argument("id")
    sg.add_argument("--revision", type=int, required=True,
                    help="the revision you reviewed (`vuln show` prints it); refused if the entry changed since")
    sg.set_defaults(func=_sign)

    add_export_pdf(s, DocumentKind.VULNERABILITIES)
    ex = s.add_parser("export-csaf", help="write CSAF advisories (2.1 with CVSS v4, else 2.0) for a partner")
    ex.add_argument("ids", nargs="+")
    ex.add_argument("--recipient", required=True, metavar="PARTNER",
                    help="the partner (name or id in the partner register) the advisories are for; entries under "
                         "embargo, above its TLP or not releasable to it by marking are refused")
    ex.add_argument("--override-reason", default="",
                    help="lead only: share despite embargo or TLP, for this reason (signed, audited; markings are "
                         "never overridden)")
    ex.add_argument("--out", required=True, help="destination folder (removable media)")
    ex.add_argument("--media-marking", required=True,
                    help="classification label of the media; entries marked above it are refused")
    ex.add_argument("--package", action="store_true",
                    help="write a signed-manifest package (SHA256SUMS + .p7s + ca.pem) like report exports")
    ex.add_argument("--publisher-name", help="CSAF publisher name (default from the workstation name)")
    ex.add_argument("--publisher-namespace", help="CSAF publisher namespace URI")
    ex.set_defaults(func=_export)

    im = s.add_parser("import-csaf", help="import partner CSAF advisories (shows the diff first)")
    im.add_argument("files", nargs="+")
    # Required, as every other command that takes a media label: it is what the person says the media
    # is labelled, and it marks every advisory that states no marking of its own (walk 2, s31 #10).
    im.add_argument("--media-label", "--marking", dest="media_label", required=True, metavar="LABEL",
                    help="how the media the files came on is labelled (e.g. CUI): it marks an advisory that states "
                         "no marking; one marked above it is kept at its own marking and flagged")
    im.add_argument("--apply", action="store_true", help="apply the changes shown (default: preview only)")
    im.add_argument("--take-incoming", action="store_true",
                    help="resolve every conflict with the incoming values (otherwise conflicts keep local)")
    im.set_defaults(func=_import)


_SCALAR_FIELDS = tuple(f for f in EXCHANGED_FIELDS if f not in LIST_FIELDS)


def _remediation(text: str) -> Remediation:
    category, sep, details = text.partition(":")
    known = [c.value for c in RemediationCategory]
    if not sep or category.strip() not in known:
        raise ValidationError("--add-remediation", f"{text!r} is not CATEGORY:DETAILS with a category among "
                                                   f"{', '.join(known)}")
    return Remediation(RemediationCategory(category.strip()), details.strip())


def _product(text: str) -> AffectedProduct:
    """VENDOR|PRODUCT|CPE-OR-PURL (the id last, so a '|' inside it stays); checked by the model."""
    parts = [p.strip() for p in text.split("|", 2)]
    if len(parts) < 2:
        raise ValidationError("--add-product", f"{text!r} is not VENDOR|PRODUCT|CPE-OR-PURL (leave a part empty: "
                                               "'|Aurora 4.2|' or 'Northwind AI|Aurora 4.2|')")
    return AffectedProduct(*parts)


def _date(name: str, text: str | None):  # type: ignore[no-untyped-def]
    return parse_date(name, text) if text else None


def _add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        if args.marking:
            marking = Marking.parse(args.marking)
        else:  # starts at the marking of what it is about
            marking = submissions.get(session, args.submission).marking if args.submission else UNCLASSIFIED
        v = Vulnerability(
            title=args.title, description=args.description, target=Target(args.target), vendor=args.vendor,
            product=args.product, product_id=args.product_id, cwe=args.cwe, cve=args.cve, cvss_vector=args.cvss,
            cvss_v3_vector=args.cvss3,
            context=DiscoveryContext(args.submission, args.run, args.sample, args.finding),
            repro_status=ReproStatus(args.repro), repro_evidence=args.evidence,
            discovered=_date("discovered", args.discovered), vendor_notified=_date("vendor_notified",
                                                                                    args.vendor_notified),
            embargo_until=_date("embargo_until", args.embargo_until), published=_date("published", args.published),
            tlp=Tlp(args.tlp),
            remediations=(Remediation(RemediationCategory(args.remediation_category),
                                      args.remediation or NO_REMEDIATION),
                          *(_remediation(t) for t in args.add_remediation)),
            more_products=tuple(_product(t) for t in args.add_product),
            status=VulnStatus(args.status), marking=marking,
        )
        stored = vs.create(session, v, lower_reason=args.lower_reason)
        sev = stored.severity
        print(f"{stored.id}  {stored.marking.portion()} {stored.title}  "
              f"{sev.value if sev else 'not scored'} {stored.score if stored.score is not None else ''}".rstrip())
        if stored.embargo_until:
            print(f"embargo until {stored.embargo_until.isoformat()}")
        return 0


def _update(args: argparse.Namespace) -> int:
    values: dict[str, str] = {}
    for text in args.fields:
        name, sep, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in ("status", *_SCALAR_FIELDS):
            raise ValidationError("--set", f"{text!r} is not FIELD=VALUE with a known field")
        values[name] = value.strip()
    added = [_remediation(t) for t in args.add_remediation]
    new_products = [_product(t) for t in args.add_product]
    if not (values or added or args.remove_remediation or new_products or args.remove_product):
        raise ValidationError("--set", "give at least one FIELD=VALUE, --add-remediation, --remove-remediation, "
                                       "--add-product or --remove-product")
    with signed_in(args) as session:
        v = vs.get(session, args.id)
        status = values.pop("status", None)
        try:
            changed = v.with_exchanged(values)
            if status is not None:
                changed = dataclasses.replace(changed, status=VulnStatus(status))
        except ValueError as exc:
            raise ValidationError("--set", str(exc)) from None
        gone = set(args.remove_remediation)
        if any(not 1 <= n <= len(v.remediations) for n in gone):
            raise ValidationError("--remove-remediation", f"{v.id} has remediation entries 1 to {len(v.remediations)}")
        kept = [r for n, r in enumerate(v.remediations, 1) if n not in gone]
        changed = dataclasses.replace(changed, remediations=(*kept, *added))
        gone = set(args.remove_product)
        if any(not 2 <= n <= len(v.more_products) + 1 for n in gone):
            what = (f"further affected products 2 to {len(v.more_products) + 1}" if v.more_products
                    else "no further affected product")
            raise ValidationError("--remove-product", f"{v.id} has {what} (the first is changed with --set)")
        products = [p for n, p in enumerate(v.more_products, 2) if n not in gone]
        changed = dataclasses.replace(changed, more_products=(*products, *new_products))
        stored = vs.update(session, changed)
        print(f"{stored.id} updated: {stored.status.value}, {stored.marking.banner()}")
        return 0


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        f = vs.filters(session, [CvssSeverity(x) for x in args.severity], [VulnStatus(x) for x in args.status],
                       args.embargo_within, args.search, args.submission)
        rows = vs.list_all(session, f, args.sort, args.desc)
        held = vuln_signatures.standings(session, rows)
        shown = vuln_signatures.shown_markings(session, [v for v in rows if not held[v.id].holds])
        rows = [dataclasses.replace(v, marking=shown[v.id]) if v.id in shown else v for v in rows]  # never lowered
        with banner_lines(v.marking for v in rows):
            print_table(
                ["ID", "MARK", "SEVERITY", "SCORE", "STATUS", "TLP", "EMBARGO", "CVE", "SIGNED", "TITLE"],
                [[v.id, v.marking.portion(), v.severity.value if v.severity else "-", v.score, v.status.value,
                  v.tlp.value, v.embargo_until or "", v.cve, "holds" if held[v.id].holds else "DOES NOT HOLD",
                  v.title] for v in rows],
            )
        bad = [s for s in held.values() if not s.holds]
        if bad:
            print(f"{len(bad)} entr{'y does not hold its' if len(bad) == 1 else 'ies do not hold their'} signature "
                  f"(`vuln show ID` says why)", file=sys.stderr)
        return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        v = vs.get(session, args.id)
        held = vuln_signatures.standing(session, v)
        v = dataclasses.replace(v, marking=vuln_signatures.shown_markings(session, [v])[v.id])  # never lowered
        print(v.marking.banner())  # banner line before and after the marked content
        print(f"{v.id}  {v.marking.banner()}  revision {v.revision}")
        print(f"  signature: {held.describe()}")
        for line in held.signed_lines():
            print(f"    as signed, {line}")
        for name in ("title", "target", "vendor", "product", "product_id", "cwe", "cve", "cvss_vector",
                     "cvss_v3_vector", "repro_status", "discovered", "vendor_notified", "embargo_until",
                     "published", "tlp", "status", "tracking_id", "source"):
            value = getattr(v, name)
            if value not in (None, ""):
                print(f"  {name}: {getattr(value, 'value', value)}")
        for n, p in enumerate(v.products, 1):
            print(f"  affected product {n}: {p.label}")
        for n, r in enumerate(v.remediations, 1):
            extra = "".join(f"; {k} {x}" for k, x in (("products", ", ".join(r.product_ids)),
                                                     ("date", r.issued or ""), ("url", r.url)) if x)
            print(f"  remediation {n}: {r.category.value}: {r.details}{extra}")
        for note in v.notes:
            print(f"  note ({note.category.value}) {note.title}: {note.text}".replace(" :", ":"))
        if v.score is not None:
            print(f"  score: {v.score} ({v.severity.value if v.severity else ''})")
        shared = csaf_sharing.recipients(session, v.id)
        if shared:
            print("recipients:")
        for shared_with in shared:
            row = shared_with.row
            line = (f"  v{row.version} {row.tracking_id} to {row.recipient} on {row.exported_at[:10]} by "
                    f"{row.exported_by}: TLP:{row.tlp}, {row.marking}, media {row.media_marking}, {row.file}")
            if row.override_reason:
                line += f"; override by {row.override_by}: {row.override_reason}"
            print(line + (f"  [DOES NOT HOLD: {shared_with.problem}]" if shared_with.problem else ""))
        print("history:")
        for h in vs.history(session, v.id):
            print(f"  r{h.revision} {h.ts} {h.actor} {h.action}: {', '.join(h.changes)}")
        print(v.marking.banner())
        return 0


def _sign(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        v = vs.get(session, args.id)
        return sign_again(v.id, vuln_signatures.standing(session, v),
                          lambda: vuln_signatures.sign_reviewed(session, v.id, args.revision),
                          session.account.username)


def _export(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        publisher = None
        if args.publisher_name or args.publisher_namespace:
            default = csaf_exchange.default_publisher(session)
            publisher = Publisher(args.publisher_name or default.name, args.publisher_namespace or default.namespace)
        media = Marking.parse(args.media_marking)
        if args.package:
            result = csaf_exchange.export_csaf_package(session, args.ids, Path(args.out), media.banner(),
                                                       args._passphrase, publisher=publisher,
                                                       recipient=args.recipient,
                                                       override_reason=args.override_reason)
            print(f"package {result.folder}")
        else:
            result = csaf_exchange.export_csaf(session, args.ids, Path(args.out), publisher, media,
                                               recipient=args.recipient, override_reason=args.override_reason)
        print(f"for {result.recipient}" + (f" (lead override for {', '.join(result.overridden)}: "
                                           f"{' '.join(args.override_reason.split())})" if result.overridden else ""))
        for vid, what in result.versions.items():
            print(f"{vid}: {what}")
        for path in result.files:
            print(f"wrote {path}")
        return 0


def print_preview(preview: ImportPreview) -> None:
    for i, a in enumerate(preview.actions):
        print(f"[{i}] {a.kind.value.upper():9} {a.file} {a.json_path}  {a.title}")
        print(f"      {a.message}")
        for c in a.changes:
            taken = c.field in a.taken
            flag = "CONFLICT" if c.conflict else ("merged" if taken and c.merged != c.incoming
                                                  else "incoming" if taken else "keep local")
            print(f"      {c.field} [{flag}]")
            for side, value in (("local", c.local), ("incoming", c.incoming)) + (
                    (("result", c.merged),) if flag == "merged" else ()):
                text = csaf_merge.shown(value)[:400].replace("\n", "\n                  ")
                print(f"        {side + ':':9} {text}")
        for w in a.warnings:
            print(f"      warning: {w}")
    print("summary: " + ", ".join(f"{n} {k}" for k, n in preview.summary.items()))


def _import(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        media = egress.media_label(args.media_label)
        preview = csaf_merge.preview_import(session, [Path(f) for f in args.files], media)
        print_preview(preview)
        if not args.apply:
            print("preview only: nothing was changed (add --apply to apply)")
            return 1 if preview.of(ActionKind.INVALID) else 0
        resolutions = {}
        if args.take_incoming:
            resolutions = {i: dict.fromkeys(a.conflicts, "incoming") for i, a in enumerate(preview.actions)
                           if a.kind is ActionKind.CONFLICT}
        result = csaf_merge.apply_import(session, preview, resolutions)
        print(f"created {len(result.created)}, updated {len(result.updated)}, unchanged {len(result.unchanged)}, "
              f"conflicts kept local {len(result.kept_local)}, skipped {len(result.skipped)}")
        for vid in result.created:
            print(f"created {vid}")
        for vid in result.kept_local:
            print(f"kept local (unresolved conflict): {vid}")
        return 1 if preview.of(ActionKind.INVALID) else 0
