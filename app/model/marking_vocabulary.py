"""The marking vocabulary, read from marking_vocabulary.json shipped in the package.

Agencies keep their own token lists (DOMAIN.md section 7), so every token the parser knows
lives in that data file, not in code. This module turns it into lookup tables and into the
"what is known" text that every refusal quotes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

SAP_ID = re.compile(r"^SAR-[A-Z0-9]{2,12}$")


@dataclass(frozen=True)
class Control:
    """A dissemination control: banner form, portion form, where it may appear, how it rolls up."""

    banner: str
    portion: str
    family: str  # "ic" | "non_ic" | "cui"
    applies: str  # "classified" | "unclassified" | "any" | "cui"
    rollup: str  # "any" | "all" | "below_cui"


@dataclass(frozen=True)
class Vocabulary:
    level_words: dict[str, int]  # banner words, portion abbreviations and aliases -> rank
    level_banner: tuple[str, ...]
    level_portion: tuple[str, ...]
    sci: dict[str, frozenset[str]]  # control system -> compartments
    aea: dict[str, str]  # abbreviation (banner and portion form) -> full name
    aea_supersedes: dict[str, frozenset[str]]
    controls: dict[str, Control]  # banner form -> control (IC, non-IC and CUI limited dissemination)
    control_aliases: dict[str, str]  # portion forms and aliases -> banner form
    dissemination_order: tuple[str, ...]
    cui_categories: dict[str, str]
    countries: dict[str, str]
    organisations: dict[str, str]
    exemptions: frozenset[str]
    declass_forms: tuple[str, ...]
    members: dict[str, frozenset[str]] = field(default_factory=dict)  # fixed-membership organisations

    def describe_known(self) -> str:
        """The allowed forms, quoted in every refusal of an unknown token."""
        sci = ", ".join(s + (" (" + ", ".join(f"{s}-{c}" for c in sorted(cs)) + ")" if cs else "")
                        for s, cs in sorted(self.sci.items()))
        ic = ", ".join(f"{c.banner} ({c.portion})" if c.portion != c.banner else c.banner
                       for c in self.controls.values() if c.family == "ic")
        non_ic = ", ".join(f"{c.banner} ({c.portion})" if c.portion != c.banner else c.banner
                           for c in self.controls.values() if c.family == "non_ic")
        cui_ldc = ", ".join(c.banner for c in self.controls.values() if c.family == "cui")
        return ("levels: " + ", ".join(f"{b} ({p})" for b, p in zip(self.level_banner, self.level_portion, strict=True))
                + f"; SCI control systems: {sci}; SAP: SAR-<program id>; AEA: "
                + ", ".join(f"{b} ({p})" for b, p in self.aea.items())
                + "; FGI <country trigraphs> (FGI alone: source concealed); dissemination: " + ic
                + "; REL TO USA, <ISO 3166 alpha-3 trigraphs>, <organisations: "
                + ", ".join(sorted(self.organisations)) + ">; non-IC dissemination: " + non_ic
                + "; CUI categories: " + ", ".join(sorted(self.cui_categories))
                + "; CUI limited dissemination: " + cui_ldc
                + ", REL TO")


def _controls(data: dict[str, Any]) -> tuple[dict[str, Control], dict[str, str]]:
    controls: dict[str, Control] = {}
    aliases: dict[str, str] = {}
    for family, key in (("ic", "dissemination"), ("non_ic", "non_ic_dissemination")):
        for banner, spec in data[key].items():
            controls[banner] = Control(banner, spec["portion"], family, spec["applies"], spec["rollup"])
            aliases[spec["portion"]] = banner
            for alias in spec.get("aliases", []):
                aliases[alias] = banner
    for banner, spec in data["cui_limited_dissemination"].items():
        if banner in controls:  # NOFORN serves classified and CUI alike
            continue
        controls[banner] = Control(banner, spec["portion"], "cui", "cui", "any")
        aliases[spec["portion"]] = banner
    return controls, aliases


@cache
def vocabulary() -> Vocabulary:
    data = json.loads(resources.files("app.model").joinpath("marking_vocabulary.json").read_text("utf-8"))
    levels = sorted(data["levels"], key=lambda x: x["rank"])
    words: dict[str, int] = {}
    for lv in levels:
        for w in [lv["banner"], lv["portion"], *lv.get("aliases", [])]:
            words[w] = lv["rank"]
    controls, aliases = _controls(data)
    return Vocabulary(
        level_words=words,
        level_banner=tuple(lv["banner"] for lv in levels),
        level_portion=tuple(lv["portion"] for lv in levels),
        sci={k: frozenset(v["compartments"]) for k, v in data["sci_control_systems"].items()},
        aea={k: v["name"] for k, v in data["aea"].items()},
        aea_supersedes={k: frozenset(v["supersedes"]) for k, v in data["aea"].items()},
        controls=controls,
        control_aliases=aliases,
        dissemination_order=tuple(data["dissemination_order"]),
        cui_categories=dict(data["cui_categories"]),
        countries=dict(data["countries"]),
        organisations=dict(data["rel_to_organisations"]),
        exemptions=frozenset(data["declassification"]["exemptions"]),
        declass_forms=tuple(data["declassification"]["forms"]),
        members={k: frozenset(v) for k, v in data.get("organisation_members", {}).items() if not k.startswith("_")},
    )
