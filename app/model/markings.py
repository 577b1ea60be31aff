"""Classification markings: parse, write (banner and portion forms), roll up, compare.

DOMAIN.md section 7 and docs/MARKINGS.md: the overall marking is the roll-up of the portion
markings by the rules of the register; it is always computed, never typed. The tokens known
to the workstation live in marking_vocabulary.json (see app.model.marking_vocabulary).

Banner order: CLASSIFICATION//SCI//SAP//AEA//FGI//DISSEMINATION//NON-IC DISSEMINATION, and for
CUI: CUI//CATEGORIES//LIMITED DISSEMINATION. Within a category values are joined by '/'.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from app.model.errors import ValidationError
from app.model.marking_vocabulary import SAP_ID, Vocabulary, vocabulary


class Level(enum.IntEnum):
    UNCLASSIFIED = 0
    CUI = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4

    @property
    def banner_word(self) -> str:
        return vocabulary().level_banner[self.value]

    @property
    def portion_abbrev(self) -> str:
        return vocabulary().level_portion[self.value]

    @property
    def classified(self) -> bool:
        return self >= Level.CONFIDENTIAL


# Dissemination controls known to the workstation: banner form -> portion form.
CONTROLS: dict[str, str] = {c.banner: c.portion for c in vocabulary().controls.values()}

# Usual banner colours on screens (background, foreground).
BANNER_COLOURS: dict[Level, tuple[str, str]] = {
    Level.UNCLASSIFIED: ("#007a33", "#ffffff"),
    Level.CUI: ("#502b85", "#ffffff"),
    Level.CONFIDENTIAL: ("#0033a0", "#ffffff"),
    Level.SECRET: ("#c8102e", "#ffffff"),
    Level.TOP_SECRET: ("#ff8c00", "#000000"),
}
SCI_COLOURS = ("#fce83a", "#000000")


def _fail(token: str, text: str, why: str) -> ValidationError:
    where = f" in {text!r}" if text else ""
    return ValidationError("marking", f"{why} {token!r}{where}; known: {vocabulary().describe_known()}")


def _sci_key(token: str) -> tuple[str, str]:
    system, _, comp = token.partition("-")
    return system, comp


def _normal_sci(tokens: Iterable[str]) -> tuple[str, ...]:
    """Sorted by control system then compartment; a bare system is implied by its compartments."""
    found = set(tokens)
    with_comp = {_sci_key(t)[0] for t in found if "-" in t}
    return tuple(sorted((t for t in found if "-" in t or t not in with_comp), key=_sci_key))


def _normal_rel(codes: Iterable[str]) -> tuple[str, ...]:
    """USA first, then country trigraphs alphabetically, then organisation tetragraphs."""
    found = set(codes)
    orgs = vocabulary().organisations
    countries = sorted(c for c in found if c != "USA" and c not in orgs)
    return (("USA",) if "USA" in found else ()) + tuple(countries) + tuple(sorted(c for c in found if c in orgs))


CONCEALED_FGI = "FGI"  # foreign government information whose source country is concealed


def _released(rel_to: Iterable[str], code: str) -> bool:
    """Does a REL TO list release to `code`? Named in it; a country that is a member of a named
    fixed-membership organisation (FVEY, ACGU); or such an organisation all of whose members it
    releases to."""
    codes = set(rel_to)
    if code in codes:
        return True
    members = vocabulary().members
    if any(code in members.get(org, ()) for org in codes):
        return True
    return code in members and all(_released(codes, c) for c in members[code] if c != code)


def rel_intersection(lists: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """The codes every list releases to (FVEY expanded where the other lists name its countries):
    REL TO USA, FVEY and REL TO USA, GBR give USA, GBR. A country implied by a kept organisation is
    not repeated."""
    ls = [set(x) for x in lists]
    if not ls:
        return ()
    keep = {c for c in set().union(*ls) if all(_released(x, c) for x in ls)}
    members = vocabulary().members
    implied = {c for org in keep for c in members.get(org, ()) if c != "USA"}
    return _normal_rel(keep - implied)


def _normal_aea(tokens: Iterable[str]) -> tuple[str, ...]:
    found = set(tokens)
    sup = vocabulary().aea_supersedes
    dropped = set().union(*(sup[t] for t in found)) if found else set()
    return tuple(t for t in vocabulary().aea if t in found and t not in dropped)


def _normal_cui(cats: Iterable[str]) -> tuple[str, ...]:
    """Specified categories (SP-) first, then basic ones, each alphabetically (CUI marking handbook)."""
    return tuple(sorted(set(cats), key=lambda c: (not c.startswith("SP-"), c)))


def _control_order(name: str) -> tuple[int, int, str]:
    v = vocabulary()
    family = v.controls[name].family
    rank = v.dissemination_order.index(name) if name in v.dissemination_order else len(v.dissemination_order)
    return ({"ic": 0, "cui": 0, "non_ic": 1}[family], rank, name)


@dataclass(frozen=True)
class Marking:
    """One marking. Every field holds banner forms; the constructor validates and normalises."""

    level: Level = Level.UNCLASSIFIED
    controls: tuple[str, ...] = ()  # dissemination controls (IC, non-IC, CUI limited), not REL TO
    sci: tuple[str, ...] = ()  # SCI control systems and compartments, e.g. "SI-G", "TK"
    sap: tuple[str, ...] = ()  # special access programs, e.g. "SAR-BP"
    aea: tuple[str, ...] = ()  # atomic energy act information, e.g. "RD"
    fgi: tuple[str, ...] = ()  # foreign government information: source country codes
    rel_to: tuple[str, ...] = ()  # REL TO list, USA first
    cui: tuple[str, ...] = ()  # CUI categories, e.g. "SP-CTI"

    def __post_init__(self) -> None:
        v = vocabulary()
        level = Level(self.level)
        text = ""
        for c in self.controls:
            ctl = v.controls.get(c)
            if ctl is None:
                raise _fail(c, text, "unknown dissemination control")
            if c not in applicable_controls(level):
                raise ValidationError("marking", f"{c} does not go with {level.banner_word} "
                                                 f"(it applies to {ctl.applies} information)")
        for s in self.sci:
            system, comp = _sci_key(s)
            if system not in v.sci or (comp and comp not in v.sci[system]):
                raise _fail(s, text, "unknown SCI control system or compartment")
        for p in self.sap:
            if not SAP_ID.match(p):
                raise _fail(p, text, "malformed special access program")
        for a in self.aea:
            if a not in v.aea:
                raise _fail(a, text, "unknown atomic energy act marking")
        for code in (*(c for c in self.fgi if c != CONCEALED_FGI), *self.rel_to):
            if code not in v.countries and code not in v.organisations:
                raise _fail(code, text, "unknown country or organisation code")
        for cat in self.cui:
            if cat not in v.cui_categories:
                raise _fail(cat, text, "unknown CUI category")
        if (self.sci or self.sap or self.aea or self.fgi) and not level.classified:
            raise ValidationError("marking", f"SCI, SAP, AEA and FGI markings need a classification, "
                                             f"not {level.banner_word}")
        if self.cui and level != Level.CUI:
            raise ValidationError("marking", f"CUI categories go with CUI, not {level.banner_word}; in a "
                                             "classified document the CUI designation block names them")
        if self.rel_to:
            if level == Level.UNCLASSIFIED:
                raise ValidationError("marking", "REL TO needs a classification or CUI")
            if "NOFORN" in self.controls:
                raise ValidationError("marking", "NOFORN and REL TO contradict each other; NOFORN wins in a roll-up")
            if "USA" not in self.rel_to or len(set(self.rel_to)) < 2:
                raise ValidationError("marking", "REL TO names USA first and at least one other country or "
                                                 "organisation (REL TO USA alone is NOFORN)")
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "controls", tuple(sorted(set(self.controls), key=_control_order)))
        object.__setattr__(self, "sci", _normal_sci(self.sci))
        object.__setattr__(self, "sap", tuple(sorted(set(self.sap))))
        object.__setattr__(self, "aea", _normal_aea(self.aea))
        # A concealed source hides every other: the banner says FGI alone.
        fgi = (CONCEALED_FGI,) if CONCEALED_FGI in self.fgi else tuple(sorted(set(self.fgi)))
        object.__setattr__(self, "fgi", fgi)
        object.__setattr__(self, "rel_to", _normal_rel(self.rel_to))
        object.__setattr__(self, "cui", _normal_cui(self.cui))

    @property
    def is_sci(self) -> bool:
        return bool(self.sci)

    def _dissemination(self, portion: bool, short_rel: bool = False) -> tuple[list[str], list[str]]:
        v = vocabulary()
        ic: list[str] = []
        non_ic: list[str] = []
        rel = (["REL"] if short_rel else ["REL TO " + ", ".join(self.rel_to)]) if self.rel_to else []
        placed = False
        for c in self.controls:
            ctl = v.controls[c]
            word = ctl.portion if portion else ctl.banner
            if ctl.family == "non_ic":
                non_ic.append(word)
                continue
            if rel and not placed and _control_order(c)[1] > v.dissemination_order.index("REL TO"):
                ic += rel
                placed = True
            ic.append(word)
        if rel and not placed:
            ic += rel
        return ic, non_ic

    def _parts(self, portion: bool, short_rel: bool = False) -> list[str]:
        parts = [self.level.portion_abbrev if portion else self.level.banner_word]
        if self.fgi and portion:
            parts = ["", " ".join(self.fgi) + " " + self.level.portion_abbrev]
        if self.level == Level.CUI and self.cui:
            parts.append("/".join(self.cui))
        for group in (self.sci, self.sap):
            if group:
                parts.append("/".join(group))
        if self.aea:
            parts.append("/".join(self.aea))
        if self.fgi and not portion:
            parts.append("FGI" if self.fgi == (CONCEALED_FGI,) else "FGI " + " ".join(self.fgi))
        ic, non_ic = self._dissemination(portion, short_rel)
        parts += ["/".join(g) for g in (ic, non_ic) if g]
        return parts

    def banner(self) -> str:
        """Banner line, e.g. 'TOP SECRET//SI-G/TK//NOFORN' or 'SECRET//REL TO USA, GBR'."""
        return "//".join(self._parts(portion=False))

    def portion(self, within: Marking | None = None) -> str:
        """Portion mark, e.g. '(TS//SI-G/TK//NF)', '(S//REL TO USA, GBR)', '(//GBR S)', '(//FGI S)'.
        With `within` (the banner of the document) a REL TO list equal to the banner's is written in
        the register's short form, '(S//REL)'."""
        short = within is not None and bool(self.rel_to) and self.rel_to == within.rel_to
        return "(" + "//".join(self._parts(portion=True, short_rel=short)) + ")"

    def colours(self) -> tuple[str, str]:
        if self.is_sci and self.level >= Level.SECRET:
            return SCI_COLOURS
        return BANNER_COLOURS[self.level]

    def dominates(self, other: Marking) -> bool:
        """True when content marked `other` may be placed under this marking (media and portion rule)."""
        if self.level < other.level:
            return False
        v = vocabulary()
        systems = {_sci_key(s)[0] for s in self.sci}
        for s in other.sci:
            system, comp = _sci_key(s)
            if (comp and s not in self.sci) or (not comp and system not in systems):
                return False
        covered_aea = set(self.aea).union(*(v.aea_supersedes[a] for a in self.aea)) if self.aea else set()
        # Media labelled FGI with the source concealed may hold FGI of any source; one naming sources,
        # only those (never concealed-source FGI, whose source it cannot name).
        fgi_ok = CONCEALED_FGI in self.fgi or set(other.fgi) <= set(self.fgi)
        if not (set(other.sap) <= set(self.sap) and set(other.aea) <= covered_aea and fgi_ok):
            return False
        # RELIDO and FOUO loosen nothing; CUI limited dissemination is carried by a classified holder
        # through its CUI block, except NOFORN.
        needed = {c for c in other.controls if c not in ("RELIDO", "FOUO")}
        if other.level == Level.CUI and self.level.classified:
            needed = {c for c in needed if c == "NOFORN"}
        if not needed <= set(self.controls):
            return False
        # Media shared beyond the USA may only carry content released at least that widely. As in
        # the roll-up, only classified content decides a classified holder's REL TO.
        deciding = other.level.classified or (other.level == Level.CUI and self.level == Level.CUI)
        if deciding and self.rel_to:
            return bool(other.rel_to) and all(_released(other.rel_to, c) for c in self.rel_to)
        return True

    def to_str(self) -> str:
        return self.banner()

    @staticmethod
    def parse(text: str, within: Marking | None = None) -> Marking:
        """Parse a banner ('SECRET//REL TO USA, GBR') or portion ('(S//REL TO USA, GBR)') marking. The
        short portion form '(S//REL)' needs `within`, the banner whose REL TO list it stands for."""
        return _parse_cached(text, within)


UNCLASSIFIED = Marking()


# Every row read from the database parses its marking columns (a page of 200 submissions, every
# answer of an assessment), almost always the same few texts; a parse costs 80-230 us. Marking is
# frozen with tuple fields and the vocabulary is fixed for the process, so a result can be shared.
# Failures are not cached: a bad text raises each time.
@lru_cache(maxsize=4096)
def _parse_cached(text: str, within: Marking | None) -> Marking:
    return _parse(text, within)


def _split_fgi_portion(body: str, text: str) -> tuple[str, list[str]]:
    """'(//GBR S//NF)' -> level 'S', FGI ['GBR'], rest ['NF']."""
    head, *rest = body[2:].split("//")
    words = head.split()
    if len(words) < 2:
        raise ValidationError("marking", f"foreign portion {text!r} is written (//<country> <level>), e.g. (//GBR S)")
    # TOP SECRET has two words; a country code never is 'TOP'.
    if len(words) >= 3 and words[-2] == "TOP":
        return "TOP SECRET", ["FGI " + " ".join(words[:-2]), *rest]
    return words[-1], ["FGI " + " ".join(words[:-1]), *rest]


def _parse(text: str, within: Marking | None = None) -> Marking:
    v: Vocabulary = vocabulary()
    raw = " ".join(text.strip().split())
    if not raw:
        raise ValidationError("marking", "empty marking; write e.g. UNCLASSIFIED, CUI//SP-CTI, SECRET//NOFORN "
                                         "or (S//NF)")
    portion = raw.startswith("(") and raw.endswith(")")
    body = (raw[1:-1] if portion else raw).upper()
    if body.startswith("//"):
        level_word, cats = _split_fgi_portion(body, text)
    else:
        level_word, *cats = body.split("//")
    level_word = level_word.strip()
    if level_word not in v.level_words:
        raise _fail(level_word, text, "unknown classification level")
    level = Level(v.level_words[level_word])
    names = ("controls", "sci", "sap", "aea", "fgi", "rel_to", "cui")
    fields: dict[str, list[str]] = {k: [] for k in names}
    for cat in cats:
        cat = cat.strip()
        if not cat:
            raise ValidationError("marking", f"empty category between '//' in {text!r}")
        for value in (x.strip() for x in cat.split("/")):
            _place(value, level, fields, text, v, within)
    try:
        return Marking(level, *(tuple(fields[k]) for k in names))
    except ValidationError as exc:
        raise ValidationError("marking", f"{text!r}: {exc.reason}") from None


def _place(value: str, level: Level, fields: dict[str, list[str]], text: str, v: Vocabulary,
           within: Marking | None = None) -> None:
    """Put one '/'-separated value into its category, or refuse it naming the token and the known forms."""
    aea_by_name = {name: abbrev for abbrev, name in v.aea.items()}
    if not value:
        raise ValidationError("marking", f"empty value between '/' in {text!r}")
    if value == "REL":
        if within is None or not within.rel_to:
            raise ValidationError("marking", f"the short form REL in {text!r} stands for the REL TO list of the "
                                             "document's banner, and there is none here; write the list, e.g. "
                                             "REL TO USA, GBR")
        fields["rel_to"] += within.rel_to
        return
    if value.startswith("REL TO"):
        codes = [c.strip() for c in value[len("REL TO"):].split(",")]
        if not all(codes):
            raise ValidationError("marking", f"REL TO in {text!r} is written REL TO USA, GBR, AUS (comma-separated)")
        fields["rel_to"] += codes
    elif value.startswith("FGI"):
        # 'FGI GBR' names the source; 'FGI' alone (portion '(//FGI S)') says it is concealed.
        codes = value[3:].split()
        fields["fgi"] += codes or [CONCEALED_FGI]
    elif value.startswith("SAR-"):
        fields["sap"].append(value)
    elif value in v.aea or value in aea_by_name:
        fields["aea"].append(aea_by_name.get(value, value))
    elif level == Level.CUI and value in v.cui_categories:
        fields["cui"].append(value)
    elif value in v.controls or value in v.control_aliases:
        fields["controls"].append(value if value in v.controls else v.control_aliases[value])
    elif _sci_key(value)[0] in v.sci:
        fields["sci"].append(value)
    else:
        raise _fail(value, text, "unknown marking token")


def _classified_portions(markings: list[Marking], level: Level) -> list[Marking]:
    """The portions whose release controls decide the banner's: classified ones, or CUI in a CUI document."""
    if level.classified:
        return [m for m in markings if m.level.classified]
    return [m for m in markings if m.level == Level.CUI]


def rollup(markings: Iterable[Marking]) -> Marking:
    """Overall marking by the register's rules.

    Level: highest. SCI, SAP, AEA, FGI: union. NOFORN anywhere: NOFORN and no REL TO. REL TO:
    intersection of the lists of all classified portions, only if every one carries a list (an
    intersection of USA alone is NOFORN). RELIDO only if every classified portion has it. FOUO
    and CUI categories/limited dissemination do not appear in a classified banner (the CUI block
    names them).
    """
    ms = list(markings)
    if not ms:
        return UNCLASSIFIED
    v = vocabulary()
    level = max(m.level for m in ms)
    deciding = _classified_portions(ms, level)
    controls: set[str] = set()
    for c in {c for m in ms for c in m.controls}:
        ctl = v.controls[c]
        if ctl.rollup == "below_cui" and level >= Level.CUI:
            continue
        if ctl.family == "cui" and level != Level.CUI:
            continue
        if ctl.rollup == "all" and not all(c in m.controls for m in deciding):
            continue
        if ctl.applies == "classified" and not level.classified:
            continue
        controls.add(c)
    rel: tuple[str, ...] = ()
    if "NOFORN" not in controls and deciding and all(m.rel_to for m in deciding):
        common = set(rel_intersection(m.rel_to for m in deciding))
        if common - {"USA"}:
            rel = tuple(common | {"USA"})
        else:
            controls.add("NOFORN")
    classified = level.classified
    return Marking(
        level, tuple(controls),
        sci=tuple(s for m in ms for s in m.sci) if classified else (),
        sap=tuple(s for m in ms for s in m.sap) if classified else (),
        aea=tuple(s for m in ms for s in m.aea) if classified else (),
        fgi=tuple(s for m in ms for s in m.fgi) if classified else (),
        rel_to=rel,
        cui=tuple(c for m in ms for c in m.cui) if level == Level.CUI else (),
    )


def cui_categories(markings: Iterable[Marking]) -> tuple[str, ...]:
    """CUI categories of all CUI portions (for the CUI designation block of a classified document)."""
    return _normal_cui(c for m in markings for c in m.cui)


_DATE = re.compile(r"^\d{8}$")


def parse_declassify_on(text: str) -> str:
    """Check a 'Declassify On' line: a date, an exemption (with its date where required) or an event."""
    raw = " ".join(text.strip().split())
    v = vocabulary()
    forms = "; ".join(v.declass_forms)
    if not raw:
        raise ValidationError("declassify_on", f"empty; write one of: {forms}")
    head, _, tail = (p.strip() for p in raw.partition(","))
    if _DATE.match(head):
        _check_date(head, raw, forms)
        if tail:
            raise ValidationError("declassify_on", f"{raw!r}: a date stands alone; write one of: {forms}")
        return raw
    if head.upper() in v.exemptions:
        if head.upper().startswith("25X") or head.upper().startswith("75X"):
            if not _DATE.match(tail):
                raise ValidationError("declassify_on", f"{raw!r}: exemption {head.upper()} needs its date, "
                                                       f"e.g. {head.upper()}, 20751231")
            _check_date(tail, raw, forms)
            return f"{head.upper()}, {tail}"
        return head.upper()
    if re.match(r"^\d{2}X\d", head.upper()) or re.match(r"^\d", head):
        raise ValidationError("declassify_on", f"{head!r} in {raw!r} is neither a date (YYYYMMDD) nor a known "
                                               f"exemption ({', '.join(sorted(v.exemptions))})")
    if len(raw) < 8:
        raise ValidationError("declassify_on", f"{raw!r} is too short to name an event; write one of: {forms}")
    return raw


def _check_date(value: str, raw: str, forms: str) -> None:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise ValidationError("declassify_on", f"{value!r} in {raw!r} is not a date; write one of: {forms}") from None


def applicable_controls(level: Level) -> tuple[str, ...]:
    """The dissemination controls a portion at `level` may carry (for pickers)."""
    out = []
    for c in vocabulary().controls.values():
        ok = {"classified": level.classified, "unclassified": level == Level.UNCLASSIFIED,
              "cui": level == Level.CUI, "any": True}[c.applies]
        if ok and not (c.family == "cui" and level.classified):
            out.append(c.banner)
    return tuple(out)


def settle_marking(requested: Marking | None, floor: Marking, reason: str, what: str) -> tuple[Marking, bool]:
    """The marking a new or edited record gets, and whether that lowers it.

    `floor` is the marking of what the record is about (the submission, the run, the record as it
    was). A record starts there; a higher marking may be chosen freely; a lower one (lower level,
    or fewer controls, or wider release) only as an explicit act with a reason, which the caller
    audits.
    """
    if requested is None or requested.dominates(floor):
        return (requested or floor), False
    if not reason.strip():
        raise ValidationError("marking", f"{what} is about information marked {floor.banner()}; "
                                         f"{requested.banner()} would lower it. Lowering a marking is an explicit "
                                         "act: give the reason (it is audited), or keep the marking")
    return requested, True
