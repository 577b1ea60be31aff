"""Classification markings: levels, dissemination controls, banners, portion marks, roll-up.

DOMAIN.md section 7: the overall marking is the highest portion marking with the
dissemination controls rolled up; it is always computed, never typed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.model.errors import ValidationError


class Level(enum.IntEnum):
    UNCLASSIFIED = 0
    CUI = 1
    CONFIDENTIAL = 2
    SECRET = 3
    TOP_SECRET = 4

    @property
    def banner_word(self) -> str:
        return {4: "TOP SECRET"}.get(self.value, self.name)

    @property
    def portion_abbrev(self) -> str:
        return ("U", "CUI", "C", "S", "TS")[self.value]


# Dissemination controls known to the workstation: banner form -> portion abbreviation.
CONTROLS: dict[str, str] = {
    "NOFORN": "NF",
    "ORCON": "OC",
    "PROPIN": "PR",
    "RELIDO": "RELIDO",
    "FOUO": "FOUO",
    "IMCON": "IMC",
    "FEDCON": "FEDCON",
    "NOCON": "NOCON",
    "DL ONLY": "DL ONLY",
    "SCI": "SCI",
}
_ABBREV_TO_CONTROL = {v: k for k, v in CONTROLS.items()}
# Controls that restrict release: NOFORN makes any REL TO meaningless, so it wins in a roll-up.
_LEVEL_WORDS = {
    "UNCLASSIFIED": Level.UNCLASSIFIED,
    "U": Level.UNCLASSIFIED,
    "CUI": Level.CUI,
    "CONTROLLED": Level.CUI,
    "CONFIDENTIAL": Level.CONFIDENTIAL,
    "C": Level.CONFIDENTIAL,
    "SECRET": Level.SECRET,
    "S": Level.SECRET,
    "TOP SECRET": Level.TOP_SECRET,
    "TS": Level.TOP_SECRET,
}

# Usual banner colours on screens (background, foreground).
BANNER_COLOURS: dict[Level, tuple[str, str]] = {
    Level.UNCLASSIFIED: ("#007a33", "#ffffff"),
    Level.CUI: ("#502b85", "#ffffff"),
    Level.CONFIDENTIAL: ("#0033a0", "#ffffff"),
    Level.SECRET: ("#c8102e", "#ffffff"),
    Level.TOP_SECRET: ("#ff8c00", "#000000"),
}
SCI_COLOURS = ("#fce83a", "#000000")


@dataclass(frozen=True, order=True)
class Marking:
    level: Level = Level.UNCLASSIFIED
    controls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [c for c in self.controls if c not in CONTROLS]
        if unknown:
            raise ValidationError("marking", f"unknown dissemination control {unknown[0]!r}")
        object.__setattr__(self, "controls", tuple(sorted(set(self.controls))))

    @property
    def is_sci(self) -> bool:
        return "SCI" in self.controls

    def banner(self) -> str:
        """Banner line, e.g. 'SECRET//NOFORN' or 'TOP SECRET//SCI//NOFORN'."""
        parts = [self.level.banner_word]
        if self.is_sci:
            parts.append("SCI")
        parts += [c for c in self.controls if c != "SCI"]
        return "//".join(parts)

    def portion(self) -> str:
        """Portion mark, e.g. '(S//NF)'."""
        parts = [self.level.portion_abbrev]
        if self.is_sci:
            parts.append("SCI")
        parts += [CONTROLS[c] for c in self.controls if c != "SCI"]
        return "(" + "//".join(parts) + ")"

    def colours(self) -> tuple[str, str]:
        if self.is_sci and self.level >= Level.SECRET:
            return SCI_COLOURS
        return BANNER_COLOURS[self.level]

    def dominates(self, other: Marking) -> bool:
        """True when content marked `other` may be placed under this marking (media rule)."""
        return self.level >= other.level and set(other.controls) <= set(self.controls)

    def to_str(self) -> str:
        return self.banner()

    @staticmethod
    def parse(text: str) -> Marking:
        """Parse a banner ('SECRET//NOFORN') or portion ('(S//NF)') marking."""
        raw = text.strip()
        if not raw:
            raise ValidationError("marking", "empty marking")
        portion = raw.startswith("(") and raw.endswith(")")
        body = raw[1:-1] if portion else raw
        parts = [p.strip().upper() for p in re.split(r"//", body) if p.strip()]
        if not parts:
            raise ValidationError("marking", f"cannot read marking {text!r}")
        level = _LEVEL_WORDS.get(parts[0])
        if level is None:
            raise ValidationError("marking", f"unknown classification level {parts[0]!r} in {text!r}")
        controls: list[str] = []
        for p in parts[1:]:
            name = p if p in CONTROLS else _ABBREV_TO_CONTROL.get(p)
            if name is None:
                raise ValidationError("marking", f"unknown dissemination control {p!r} in {text!r}")
            controls.append(name)
        return Marking(level, tuple(controls))


UNCLASSIFIED = Marking()


def rollup(markings: Iterable[Marking]) -> Marking:
    """Overall marking: highest level, union of dissemination controls."""
    level = Level.UNCLASSIFIED
    controls: set[str] = set()
    for m in markings:
        level = max(level, m.level)
        controls |= set(m.controls)
    # FOUO is subsumed by CUI and above.
    if level >= Level.CUI:
        controls.discard("FOUO")
    return Marking(level, tuple(controls))
