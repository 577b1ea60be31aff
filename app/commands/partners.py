"""`partner add|list|show|update|deactivate|reactivate|cert-add`: the partner register (issue 16)."""

from __future__ import annotations

import argparse

from app.commands.common import print_table, signed_in
from app.model.dissemination import CertificatePurpose
from app.model.errors import ValidationError
from app.model.markings import Level
from app.model.partners import Contact, Partner, PartnerKind
from app.model.vulnerabilities import Tlp
from app.services import partners

_LEVELS = {level.name.replace("_", " "): level for level in Level}


def _level(text: str) -> Level:
    key = text.strip().upper().replace("_", " ")
    if key not in _LEVELS:
        raise ValidationError("--max-level", f"one of {', '.join(_LEVELS)}")
    return _LEVELS[key]


def _contact(text: str) -> Contact:
    """NAME[;EMAIL[;PHONE[;ROLE]]]"""
    parts = [p.strip() for p in text.split(";")]
    if not parts[0]:
        raise ValidationError("--contact", "give NAME;EMAIL;PHONE;ROLE (only NAME is required)")
    return Contact(*[*parts, "", "", ""][:4])


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.replace(";", ",").split(",") if c.strip())


def _fields(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--name", required=required)
    p.add_argument("--kind", required=required, choices=[k.value for k in PartnerKind])
    p.add_argument("--codes", required=required, help="country and organisation codes for REL TO, e.g. 'GBR,FVEY'")
    p.add_argument("--max-level", help=f"highest classification it may receive ({', '.join(_LEVELS)}; "
                                       "default UNCLASSIFIED)")
    p.add_argument("--tlp", choices=[t.value for t in Tlp], help="most restricted TLP it accepts (default GREEN)")
    p.add_argument("--access", action="append", dest="accesses", metavar="TOKEN",
                   help="SCI / SAP / AEA access it holds (repeatable)")
    p.add_argument("--developer", help="for a developer: its name as submissions record it")
    p.add_argument("--contact", action="append", dest="contacts", metavar="NAME;EMAIL;PHONE;ROLE",
                   help="point of contact (repeatable; on update, replaces the list)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("partner", help="partner register: who may receive packages, releases and advisories")
    s = p.add_subparsers(dest="partner_command", required=True)
    a = s.add_parser("add", help="register a partner (administrator; signed and audited)")
    _fields(a, True)
    a.set_defaults(func=_add)
    ls = s.add_parser("list", help="list partners (a row not backed by an administrator's signature is flagged)")
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="a partner with its contacts and certificates")
    sh.add_argument("partner", help="id or name")
    sh.set_defaults(func=_show)
    up = s.add_parser("update", help="change a partner's fields (administrator; signed and audited)")
    up.add_argument("partner", help="id or name")
    _fields(up, False)
    up.set_defaults(func=_update)
    de = s.add_parser("deactivate", help="share nothing more with a partner (administrator)")
    de.add_argument("partner", help="id or name")
    de.set_defaults(func=_deactivate)
    re_ = s.add_parser("reactivate", help="share with a deactivated partner again (administrator)")
    re_.add_argument("partner", help="id or name")
    re_.set_defaults(func=_reactivate)
    ca = s.add_parser("cert-add", help="register a partner certificate (PEM or DER) for encryption or receipts")
    ca.add_argument("partner", help="id or name")
    ca.add_argument("file")
    ca.add_argument("--purpose", required=True, choices=[c.value for c in CertificatePurpose])
    ca.set_defaults(func=_cert_add)


def _partner_from(args: argparse.Namespace, base: Partner | None) -> Partner:
    def pick(value: object, default: object) -> object:
        return default if value is None else value

    return Partner(
        name=str(pick(args.name, base.name if base else "")),
        kind=PartnerKind(args.kind) if args.kind else (base.kind if base else PartnerKind.LAB),
        codes=_codes(args.codes) if args.codes is not None else (base.codes if base else ()),
        max_level=_level(args.max_level) if args.max_level else (base.max_level if base else Level.UNCLASSIFIED),
        tlp=Tlp(args.tlp) if args.tlp else (base.tlp if base else Tlp.GREEN),
        accesses=tuple(args.accesses) if args.accesses is not None else (base.accesses if base else ()),
        developer=str(pick(args.developer, base.developer if base else "")),
        contacts=tuple(_contact(c) for c in args.contacts) if args.contacts is not None else
        (base.contacts if base else ()),
    )


def _describe(p: Partner) -> str:
    return (f"{p.id}  {p.name}  ({p.kind.value}; {', '.join(p.codes)}; up to {p.max_level.banner_word}; "
            f"TLP:{p.tlp.value}{'' if p.active else '; deactivated'})")


def _add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        print(_describe(partners.add(session, _partner_from(args, None))))
    return 0


def _update(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        before = partners.find_row(session, args.partner)
        assert before.id is not None
        after = partners.update(session, before.id, _partner_from(args, before))
        print(_describe(after))
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with signed_in(args) as session:
        p = partners.find_row(session, args.partner)
        assert p.id is not None
        print(_describe((partners.reactivate if active else partners.deactivate)(session, p.id)))
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def _reactivate(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def _list(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        rows = partners.list_all(session)
        print_table(["ID", "NAME", "KIND", "CODES", "UP TO", "TLP", "ACTIVE", "SIGNED"],
                    [[p.id, p.name, p.kind.value, ", ".join(p.codes), p.max_level.banner_word, p.tlp.value,
                      "yes" if p.active else "no",
                      "yes" if p.id is not None and partners.problem(session, p.id) is None else "NO"]
                     for p in rows])
    return 0


def _show(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        p = partners.find_row(session, args.partner)
        assert p.id is not None
        print(_describe(p))
        why = partners.problem(session, p.id)
        print(f"  signed: {'yes' if why is None else 'NO: ' + why}")
        if p.developer:
            print(f"  developer: {p.developer}")
        if p.accesses:
            print(f"  accesses: {', '.join(p.accesses)}")
        for c in p.contacts:
            print(f"  contact: {'; '.join(x for x in (c.name, c.email, c.phone, c.role) if x)}")
        now = session.clock()
        for rec in partners.certificate_records(session, p.id):
            state = "EXPIRED" if rec.expired(now) else f"valid until {rec.not_after:%Y-%m-%d}"
            print(f"  certificate ({rec.purpose.value}): {rec.subject}; SHA-256 {rec.fingerprint}; {state}")
    return 0


def _cert_add(args: argparse.Namespace) -> int:
    with signed_in(args) as session:
        p = partners.find_row(session, args.partner)
        assert p.id is not None
        rec = partners.add_certificate(session, p.id, args.file, args.purpose)
        print(f"{p.name}: {rec.purpose.value} certificate {rec.subject}, SHA-256 {rec.fingerprint}, valid until "
              f"{rec.not_after:%Y-%m-%d}")
    return 0

