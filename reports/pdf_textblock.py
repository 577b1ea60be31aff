"""A plain-text block: wrapped at spaces, drawn line by line, split between lines across pages.

Most of a findings report is plain text (descriptions, evidence references). reportlab's Paragraph
parses markup and lays out fragments for every paragraph, which made 500 findings with 2,500
evidence references take several seconds; this flowable wraps with one width sum per word and
draws with drawString, which is what plain text needs. Text is drawn literally: nothing in it is
ever interpreted as markup.
"""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import getAscent, stringWidth
from reportlab.platypus.flowables import Flowable

from reports.pdf_markings import strip_control


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """A single word wider than a whole line (rare: a pasted token) is cut by characters."""
    out, cur = [], ""
    for ch in word:
        if cur and stringWidth(cur + ch, font, size) > width:
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


Line = tuple[str, bool]  # text, and whether it continues the line above (drawn with the hanging indent)


def wrap_lines(text: str, font: str, size: float, width: float, hang: float = 0.0) -> list[Line]:
    """Greedy wrap at spaces; each source line starts flush, its continuation lines `hang` in."""
    space = stringWidth(" ", font, size)
    lines: list[Line] = []
    for raw in text.split("\n"):
        cur: list[str] = []
        cur_w = 0.0
        started = False
        for word in raw.split(" "):
            if not word:
                continue
            w = stringWidth(word, font, size)
            limit = width - (hang if started else 0.0)
            if cur and cur_w + space + w > limit:
                lines.append((" ".join(cur), started))
                started = True
                cur, cur_w = [], 0.0
                limit = width - hang
            if not cur and w > limit:
                pieces = _break_word(word, font, size, limit)
                for piece in pieces[:-1]:
                    lines.append((piece, started))
                    started = True
                word, w = pieces[-1], stringWidth(pieces[-1], font, size)
            cur_w = w if not cur else cur_w + space + w
            cur.append(word)
        if cur:
            lines.append((" ".join(cur), started))
    return lines


class TextBlock(Flowable):
    """Plain text in a paragraph style's font, size, leading and spacing. Each line of `text`
    ("\n"-separated) starts flush; its wrapped continuations are indented by `hang` (lists)."""

    def __init__(self, text: str, style: ParagraphStyle, hang: float = 0.0, lines: list[Line] | None = None
                 ) -> None:
        super().__init__()
        self.text = strip_control(text)
        self.style = style
        self.hang = hang
        self.lines: list[Line] = lines or []
        self._wrapped_for: float | None = None if lines is None else -1.0
        self._space_before = float(style.spaceBefore)
        self._space_after = float(style.spaceAfter)
        self.keepWithNext = bool(getattr(style, "keepWithNext", 0))

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        st = self.style
        if self._wrapped_for is not None and self._wrapped_for < 0:
            pass  # a part of a split block: its lines are fixed
        elif self._wrapped_for != available_width:
            self.lines = wrap_lines(self.text, st.fontName, st.fontSize, available_width - st.leftIndent, self.hang)
            self._wrapped_for = available_width
        self.width = available_width
        self.height = len(self.lines) * st.leading
        return available_width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        self.wrap(available_width, available_height)
        fit = int(available_height // self.style.leading)
        if fit <= 0:
            return []
        if fit >= len(self.lines):
            return [self]
        if self.hang:  # a list: break between items, so one reference never straddles two pages
            starts = [n for n in range(1, fit + 1) if not self.lines[n][1]]
            # no item boundary fits: move on to the next page, unless one item is itself a page long
            fit = starts[-1] if starts else (fit if available_height > 400 else 0)
            if fit == 0:
                return []
        head = TextBlock("", self.style, self.hang, self.lines[:fit])
        tail = TextBlock("", self.style, self.hang, self.lines[fit:])
        head._space_after = 0.0
        tail._space_before = 0.0
        return [head, tail]

    def getSpaceBefore(self) -> float:
        return self._space_before

    def getSpaceAfter(self) -> float:
        return self._space_after

    def draw(self) -> None:
        st = self.style
        c = self.canv
        c.setFont(st.fontName, st.fontSize)
        c.setFillColor(st.textColor)
        y = self.height - getAscent(st.fontName, st.fontSize)
        for text, continued in self.lines:
            c.drawString(st.leftIndent + (self.hang if continued else 0.0), y, text)
            y -= st.leading
