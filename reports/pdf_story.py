"""The story of a report: headings that feed the contents, marked paragraphs, captions, and
tables whose columns are sized from their content so that no word is ever broken mid-word."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import CondPageBreak, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from app.model.markings import UNCLASSIFIED, Marking
from app.model.report import ClassificationBlock, CuiBlock
from reports.pdf_markings import (
    FONT,
    FONT_BOLD,
    MARGIN_X,
    PAGE,
    Heading,
    HeadingMark,
    PageDecor,
    Styles,
    clean,
    marked,
    strip_control,
)
from reports.pdf_text import structured
from reports.pdf_textblock import TextBlock

_U = UNCLASSIFIED
CELL_PAD = 3.0
CELL_SIZE = 8.0

Style = list[tuple[object, ...]]


def text_width() -> float:
    return PAGE[0] - 2 * MARGIN_X


def _longest_word(text: str, font: str, size: float) -> float:
    # Split where reportlab may break a line: ordinary spaces and newlines, never no-break spaces.
    words = text.replace("\n", " ").replace("\t", " ").split(" ")
    return max((stringWidth(w, font, size) for w in words), default=0.0)


def _cell_text(cell: object) -> tuple[str, str]:
    """The words of a ready-made cell paragraph (e.g. a coloured severity), in its font."""
    if isinstance(cell, Paragraph):
        return cell.getPlainText(), str(cell.style.fontName)
    return "", FONT


def fit_widths(header: Sequence[str], rows: Sequence[Sequence[object]], total: float,
               weights: Sequence[float] | None = None) -> list[float]:
    """Column widths: each column at least as wide as its longest word (so no word is split),
    the rest shared in proportion to how much text each column holds (or to `weights`)."""
    n = len(header)
    need = [_longest_word(h, FONT_BOLD, CELL_SIZE) for h in header]
    want = [stringWidth(h, FONT_BOLD, CELL_SIZE) for h in header]
    for row in rows:
        for i, v in enumerate(row):
            text, font = (v, FONT) if isinstance(v, str) else _cell_text(v)
            if text:
                need[i] = max(need[i], _longest_word(text, font, CELL_SIZE))
                want[i] = max(want[i], min(stringWidth(text, font, CELL_SIZE), 4 * inch))
    need = [w + 2 * CELL_PAD + 1 for w in need]
    want = [max(w + 2 * CELL_PAD + 1, m) for w, m in zip(want, need, strict=True)]
    if sum(need) >= total:  # cannot fit every word whole (a CVSS vector is one long word):
        need = [min(w, total / 4) for w in need]  # a word wider than a quarter of the page wraps
        if sum(need) >= total:
            return _cap_widest(need, total)
    spare = total - sum(need)
    share = list(weights) if weights else [max(w - m, 0.0) for w, m in zip(want, need, strict=True)]
    if sum(want) <= total and not weights:  # everything fits on one line: give the slack to the widest
        share = [w for w in want]
    if sum(share) == 0:
        share = [1.0] * n
    return [m + spare * s / sum(share) for m, s in zip(need, share, strict=True)]


def _cap_widest(need: Sequence[float], total: float) -> list[float]:
    """Narrow only the widest columns, to one common width, until the table fits: a short word
    (a portion mark, an identifier) is never split, a long one wraps inside its own column."""
    order = sorted(need)
    rest = total
    for k, w in enumerate(order):
        cap = rest / (len(order) - k)  # the width left, shared by this column and every wider one
        if w > cap:
            return [min(n, cap) for n in need]
        rest -= w
    return list(need)


class Story:
    """Collects flowables and the headings that go into the contents."""

    def __init__(self, decor: PageDecor, st: Styles) -> None:
        self.decor = decor
        self.st = st
        self.items: list[Flowable] = []
        self.table_no = 0
        self.figure_no = 0

    def add(self, *flowables: Flowable) -> None:
        self.items.extend(flowables)

    def authority_blocks(self, classification: ClassificationBlock | None, cui: CuiBlock | None,
                         space_after: float) -> None:
        """The classification authority and CUI designation boxes of a marked document's first page."""
        blocks: list[tuple[str, list[tuple[str, str]]]] = []
        if classification:
            blocks.append(("Classification authority", classification.lines()))
        if cui:
            blocks.append(("CUI designation indicator", cui.lines()))
        for title, rows in blocks:
            data = [[Paragraph(f"<b>{clean(k)}:</b>", self.st.cell), Paragraph(clean(v), self.st.cell)]
                    for k, v in rows if v]
            t = Table(data, colWidths=[1.9 * inch, 3.2 * inch], hAlign="LEFT")
            t.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.6, colors.black),
                                   ("FONTNAME", (0, 0), (-1, -1), FONT),
                                   ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
            self.add(Paragraph(clean(title), self.st.caption), t, Spacer(1, space_after))

    def heading(self, level: int, text: str, marking: Marking = _U, toc: bool = True) -> None:
        label = f"{marking.portion()} {text}"
        if toc:
            h = Heading(level, label)
            self.decor.headings.append(h)
            self.items.append(HeadingMark(self.decor, h))
        style = {1: self.st.h1, 2: self.st.h2}.get(level, self.st.h3)
        self.items.append(Paragraph(clean(label), style))

    def para(self, marking: Marking, text: str) -> None:
        """Plain text: every paragraph (blank-line separated) is its own marked portion."""
        for chunk in [c for c in (text or "").split("\n\n") if c.strip()]:
            self.items.append(TextBlock(f"{marking.portion()} {' '.join(chunk.split())}", self.st.body))

    def listing(self, lines: list[str]) -> None:
        """Lines that each start flush (a heading line, then "• " items); wrapped parts hang in."""
        self.items.append(TextBlock("\n".join(" ".join(x.split()) for x in lines), self.st.body, hang=10))

    def rich(self, marking: Marking, text: str, lead: str = "") -> None:
        """Reviewer-written structured text (paragraphs, bullets, *emphasis*), escaped first."""
        for flowable in structured(text, marking, self.st, lead):
            self.items.append(flowable)

    def caption(self, kind: str, marking: Marking, text: str) -> None:
        if kind == "Table":
            self.table_no += 1
            n = self.table_no
        else:
            self.figure_no += 1
            n = self.figure_no
        self.items.append(marked(marking, f"{kind} {n}: {text}", self.st.caption))

    def _cell(self, v: object, room: float) -> object:
        """A cell: text that fits on one line is drawn as is (no paragraph layout: a 500-row table
        stays fast); anything longer becomes a wrapping paragraph."""
        if isinstance(v, Flowable):
            return v
        text = strip_control(str(v))
        if "\n" not in text and stringWidth(text, FONT, CELL_SIZE) <= room:
            return text
        return Paragraph(clean(text).replace("\n", "<br/>"), self.st.cell)

    def table(self, marking: Marking, caption: str, header: list[str], rows: Sequence[Sequence[object]],
              weights: Sequence[float] | None = None, style: Style | None = None,
              widths: Sequence[float] | None = None) -> None:
        """A portion-marked table: caption with the table's roll-up marking, header repeated on each page.

        The caption is not kept with the whole table (that would push a long table to the next page,
        leaving a gap); a conditional break keeps it from being stranded at the foot of a page."""
        self.items.append(CondPageBreak(1.0 * inch))
        self.table_no += 1
        self.items.append(marked(marking, f"Table {self.table_no}: {caption}", self.st.table_caption))
        bold = self.st.cell_bold
        cols = list(widths) if widths else fit_widths(header, rows, text_width(), weights)
        data: list[list[object]] = [[Paragraph(clean(h), bold) for h in header]]
        room = [w - 2 * CELL_PAD - 0.5 for w in cols]
        for r in rows:
            data.append([self._cell(v, room[i]) for i, v in enumerate(r)])
        # splitInRow: a row taller than a page (a long justification) continues on the next page.
        t = Table(data, colWidths=cols, repeatRows=1, hAlign="LEFT", splitInRow=1)
        t.setStyle(TableStyle([
            ("FONTNAME", (0, 0), (-1, -1), FONT),
            ("FONTSIZE", (0, 0), (-1, -1), CELL_SIZE),
            ("LEADING", (0, 0), (-1, -1), self.st.cell.leading),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ef")),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa3b0")),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            *(style or []),
        ]))
        self.items.append(t)
        self.items.append(Spacer(1, 6))
