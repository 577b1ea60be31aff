"""The report narrative a reviewer writes: bottom line, key judgments, recommendations.

Text is plain structured text, never HTML: paragraphs separated by a blank line, bullet items
on lines starting with "- ", and *emphasis* between single asterisks. The parser returns plain
spans; writers escape the text and add their own emphasis, so nothing from the text is ever
interpreted as markup.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from app.model.errors import ValidationError
from app.model.markings import UNCLASSIFIED, Marking

MAX_TEXT = 20_000
MAX_JUDGMENTS = 50
_EMPHASIS = re.compile(r"\*([^*\n]+)\*")


class Confidence(enum.StrEnum):
    """Analytic confidence of a key judgment (the usual three-level scale)."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"

    @property
    def label(self) -> str:
        return f"{self.value.capitalize()} confidence"


@dataclass(frozen=True)
class Span:
    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class Block:
    kind: str  # "para" | "bullet"
    spans: tuple[Span, ...]

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.spans)


def _spans(text: str) -> tuple[Span, ...]:
    out: list[Span] = []
    pos = 0
    for m in _EMPHASIS.finditer(text):
        if m.start() > pos:
            out.append(Span(text[pos:m.start()]))
        out.append(Span(m.group(1), True))
        pos = m.end()
    if pos < len(text):
        out.append(Span(text[pos:]))
    return tuple(out)


def blocks(text: str) -> list[Block]:
    """Structured text -> paragraphs and bullet items (lines of a paragraph are joined)."""
    out: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(Block("para", _spans(" ".join(para))))
            para.clear()

    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith(("- ", "• ")):
            flush()
            out.append(Block("bullet", _spans(line[2:].strip())))
        elif out and out[-1].kind == "bullet" and not para and raw.startswith("  "):
            prev = out.pop()  # an indented continuation line belongs to the bullet above
            out.append(Block("bullet", _spans(prev.plain + " " + line)))
        else:
            para.append(line)
    flush()
    return out


@dataclass(frozen=True)
class KeyJudgment:
    text: str
    confidence: Confidence
    marking: Marking = UNCLASSIFIED


@dataclass(frozen=True)
class Narrative:
    """What the reviewer tells the decision maker; each part carries its own marking."""

    bottom_line: str = ""
    bottom_line_marking: Marking = UNCLASSIFIED
    judgments: tuple[KeyJudgment, ...] = ()
    recommendations: str = ""
    recommendations_marking: Marking = UNCLASSIFIED

    @property
    def empty(self) -> bool:
        return not (self.bottom_line.strip() or self.judgments or self.recommendations.strip())

    def markings(self) -> list[Marking]:
        out = []
        if self.bottom_line.strip():
            out.append(self.bottom_line_marking)
        out += [j.marking for j in self.judgments]
        if self.recommendations.strip():
            out.append(self.recommendations_marking)
        return out

    def validate(self) -> Narrative:
        for name in ("bottom_line", "recommendations"):
            if len(getattr(self, name)) > MAX_TEXT:
                raise ValidationError(name.replace("_", " "), f"must be at most {MAX_TEXT:,} characters")
        if len(self.judgments) > MAX_JUDGMENTS:
            raise ValidationError("key judgments", f"at most {MAX_JUDGMENTS}")
        for n, j in enumerate(self.judgments, start=1):
            if not j.text.strip():
                raise ValidationError(f"key judgment {n}", "is empty")
            if len(j.text) > MAX_TEXT:
                raise ValidationError(f"key judgment {n}", f"must be at most {MAX_TEXT:,} characters")
        return self


@dataclass(frozen=True)
class StoredNarrative:
    """A submission's narrative as saved, with who saved it last and when."""

    narrative: Narrative
    updated_by: str
    updated_at: str


@dataclass(frozen=True)
class NarrativeComment:
    id: int
    part: str
    action: str  # comment | return
    comment: str
    author: str
    created_at: str
    resolved_by: str
    resolved_at: str

    @property
    def open_return(self) -> bool:
        return self.action == "return" and not self.resolved_at
