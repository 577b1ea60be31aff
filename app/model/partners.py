"""Trusted partners and what each may receive (issue 16).

A partner is an organisation outside this workstation that receives releases, packages and
advisories: the developer that submitted a model, a US agency, an allied agency, a lab, a CERT.
`withholding` is the one releasability rule: given a portion's marking (and, for vulnerability
content, its TLP and embargo), it names every reason the portion may not go to the partner. An
empty answer means releasable. Releases, CSAF sharing and packages all ask it; nothing else decides.

The rule is deliberately conservative (withhold when in doubt), following the register's usual
practice: classified information goes abroad only when marked REL TO the partner (or an
organisation it belongs to); originator-controlled, proprietary, FGI and compartmented content
stays home unless the partner is its owner or holds the access.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from app.model.errors import ValidationError
from app.model.markings import Level, Marking, vocabulary
from app.model.vulnerabilities import Tlp

MAX_NAME = 200

# Organisations in REL TO lists whose membership is fixed and public (others match by code only).
ORGANISATION_MEMBERS: dict[str, frozenset[str]] = {
    "FVEY": frozenset({"AUS", "CAN", "GBR", "NZL", "USA"}),
    "ACGU": frozenset({"AUS", "CAN", "GBR", "USA"}),
}

# TLP 2.0 from least to most restricted: a partner accepting AMBER may receive CLEAR, GREEN, AMBER.
TLP_ORDER: tuple[Tlp, ...] = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)

# Controls that keep a portion from every partner: originator or State Department control, or a
# dissemination list this workstation does not hold.
_NEVER_RELEASED = {
    "ORCON": "ORCON: release needs the originator's consent",
    "ORCON-USGOV": "ORCON-USGOV: release needs the originator's consent",
    "IMCON": "IMCON: release needs the originator's consent",
    "RISK SENSITIVE": "RISK SENSITIVE: not for release outside the originating agency",
    "EXDIS": "EXDIS: exclusive distribution",
    "NODIS": "NODIS: no distribution beyond the addressees",
    "LIMDIS": "LIMDIS: limited distribution",
    "DL ONLY": "DL ONLY: only to the dissemination list attached to the original",
    "DISPLAY ONLY": "DISPLAY ONLY: may be shown, not handed over",
}
# Controls that keep a portion from anyone outside the US federal government.
_GOVERNMENT_ONLY = {
    "FED ONLY": "FED ONLY: federal employees only",
    "FEDCON": "FEDCON: federal employees and their contractors only",
    "NOCON": "NOCON: not for contractors",
    "FOUO": "FOUO: official use only",
    "LES": "LES: law enforcement sensitive",
    "LES NOFORN": "LES NOFORN: law enforcement sensitive",
    "SBU": "SBU: sensitive but unclassified, official use",
    "SBU NOFORN": "SBU NOFORN: sensitive but unclassified, official use",
    "SSI": "SSI: sensitive security information",
}
_NOFORN = {"NOFORN", "SBU NOFORN", "LES NOFORN"}


class PartnerKind(enum.StrEnum):
    DEVELOPER = "developer"  # submitted models for review; receives its own model's findings
    AGENCY = "agency"  # a US government agency
    ALLIED = "allied agency"  # a foreign government agency
    LAB = "lab"  # a research or testing laboratory
    CERT = "cert"  # a computer emergency response team / vulnerability coordinator

    @property
    def government(self) -> bool:
        return self in (PartnerKind.AGENCY, PartnerKind.ALLIED)


@dataclass(frozen=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""
    role: str = ""


@dataclass(frozen=True)
class Partner:
    """An organisation that may receive what leaves the workstation."""

    name: str
    kind: PartnerKind
    codes: tuple[str, ...]  # country / organisation codes it is, e.g. ("USA",) or ("GBR", "FVEY", "NATO")
    max_level: Level = Level.UNCLASSIFIED  # highest classification it may receive
    tlp: Tlp = Tlp.GREEN  # most restricted TLP it may receive
    accesses: tuple[str, ...] = ()  # SCI systems / compartments, SAP and AEA markings it is read into
    developer: str = ""  # for a developer: its name as submissions record it
    contacts: tuple[Contact, ...] = field(default_factory=tuple)
    active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise ValidationError("name", f"give the partner's name (1-{MAX_NAME} characters)")
        object.__setattr__(self, "kind", PartnerKind(self.kind))
        object.__setattr__(self, "max_level", Level(self.max_level))
        object.__setattr__(self, "tlp", Tlp(self.tlp))
        v = vocabulary()
        codes = tuple(dict.fromkeys(c.strip().upper() for c in self.codes if c.strip()))
        if not codes:
            raise ValidationError("codes", "give the partner's country code (e.g. USA, GBR) and any organisation "
                                           "codes it belongs to (e.g. FVEY, NATO)")
        for code in codes:
            if code not in v.countries and code not in v.organisations:
                raise ValidationError("codes", f"unknown country or organisation code {code!r} (known organisations: "
                                               f"{', '.join(sorted(v.organisations))}; countries are ISO 3166 "
                                               "trigraphs such as USA, GBR, CAN)")
        object.__setattr__(self, "codes", codes)
        if self.kind == PartnerKind.DEVELOPER and not self.developer.strip():
            object.__setattr__(self, "developer", self.name)

    @property
    def foreign(self) -> bool:
        """Not a US organisation: classified content needs an explicit release (REL TO) to it."""
        return "USA" not in self.codes

    def named_in(self, rel_to: tuple[str, ...]) -> bool:
        """True when a REL TO list releases to this partner: it names one of the partner's codes, or a
        fixed-membership organisation (FVEY, ACGU) one of its countries belongs to."""
        mine = set(self.codes)
        return any(code in mine or mine & ORGANISATION_MEMBERS.get(code, frozenset()) for code in rel_to)


def tlp_allows(ceiling: Tlp, tlp: Tlp) -> bool:
    return TLP_ORDER.index(Tlp(tlp)) <= TLP_ORDER.index(Tlp(ceiling))


def withholding(partner: Partner, marking: Marking, *, tlp: Tlp | None = None, embargo_until: date | None = None,
                today: date | None = None, own: bool = False) -> tuple[str, ...]:
    """Every reason why a portion marked `marking` may not go to `partner`; () means releasable.

    `own`: the portion is about the partner's own submission (a developer receiving its own model's
    findings): proprietary content and an embargo then do not hold it back; markings still do.
    """
    reasons: list[str] = []
    if marking.level > partner.max_level:
        reasons.append(f"marked {marking.level.banner_word}, above the {partner.max_level.banner_word} "
                       f"{partner.name} may receive")
    # A compartment needs its own access (SI does not read anyone into SI-G); higher AEA access covers lower.
    access = set(partner.accesses)
    aea_access = access.union(*(vocabulary().aea_supersedes.get(a, ()) for a in access))
    for token in (*marking.sci, *marking.sap):
        if token not in access:
            reasons.append(f"{token}: needs an access {partner.name} does not hold")
    for token in marking.aea:
        if token not in aea_access:
            reasons.append(f"{token}: needs an access {partner.name} does not hold")
    for code in marking.fgi:
        if code not in partner.codes:
            reasons.append(f"foreign government information from {code}: release to a third party needs its consent")
    for c in marking.controls:
        if c in _NEVER_RELEASED:
            reasons.append(_NEVER_RELEASED[c])
        elif c in _GOVERNMENT_ONLY and not partner.kind.government and not own:
            reasons.append(_GOVERNMENT_ONLY[c])
        elif c == "PROPIN" and not own:
            reasons.append("PROPIN: proprietary information of another party")
    if partner.foreign:
        if _NOFORN & set(marking.controls):
            reasons.append("NOFORN: not releasable to foreign nationals")
        elif marking.rel_to:
            if not partner.named_in(marking.rel_to):
                reasons.append(f"REL TO {', '.join(marking.rel_to)} does not include {', '.join(partner.codes)}")
        elif marking.level.classified:
            reasons.append("classified and not marked REL TO the partner (no foreign release decision)")
    if tlp is not None and not tlp_allows(partner.tlp, tlp):
        reasons.append(f"TLP:{Tlp(tlp).value} is more restricted than the TLP:{partner.tlp.value} "
                       f"{partner.name} accepts")
    if embargo_until is not None and not own:
        if today is None:
            raise ValueError("withholding: an embargo date needs today's date")
        if embargo_until > today:
            reasons.append(f"under embargo until {embargo_until.isoformat()}")
    return tuple(reasons)


def releasable(partner: Partner, marking: Marking, *, tlp: Tlp | None = None, embargo_until: date | None = None,
               today: date | None = None, own: bool = False) -> bool:
    return not withholding(partner, marking, tlp=tlp, embargo_until=embargo_until, today=today, own=own)
