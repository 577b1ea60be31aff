"""Fonts, styles and the page furniture of a marked report.

Every page carries the overall marking banner at the top and bottom, the control number and
"Page X of Y". Page furniture is drawn when the document is saved (the page count is known
then), so one layout pass suffices; the contents page is filled in at the same moment, from
the page numbers recorded while the story was laid out.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph

from app.foundation.text import untrusted_text
from app.model.markings import Marking

FONT = "FRW-DejaVuSans"
FONT_BOLD = "FRW-DejaVuSans-Bold"
FONT_MONO = "FRW-DejaVuSansMono"
FONT_ITALIC = "FRW-DejaVuSans-Oblique"
_FONT_FILES = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf", FONT_MONO: "DejaVuSansMono.ttf",
               FONT_ITALIC: "DejaVuSans-Oblique.ttf"}

PAGE = LETTER
MARGIN_X = 0.75 * inch
MARGIN_TOP = 0.95 * inch  # room for the top banner
MARGIN_BOTTOM = 1.0 * inch  # room for the bottom banner and the footer line
BANNER_H = 0.26 * inch



def register_fonts() -> None:
    """Register the DejaVu fonts shipped in reports/fonts (embedded as subsets in every PDF)."""
    registered = set(pdfmetrics.getRegisteredFontNames())
    folder = resources.files("reports") / "fonts"
    for name, filename in _FONT_FILES.items():
        if name not in registered:
            with resources.as_file(folder / filename) as path:
                pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)


# Characters app.foundation.text.untrusted_text would change (controls incl. newline/tab, C1, bidi
# controls, line/paragraph separators, surrogates). Text without any, the usual case, is returned
# as is: the per-character policy runs only where it has work, which keeps big reports fast.
_NEEDS_POLICY = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def _policy(text: str) -> str:
    return untrusted_text(text) if _NEEDS_POLICY.search(text) else text


def clean(text: str) -> str:
    """Untrusted text as plain text (the one policy: app.foundation.text), markup escaped."""
    return escape(_policy(text or ""))


def strip_control(text: str) -> str:
    """Untrusted text drawn directly (never parsed as markup): the same policy as clean(), unescaped."""
    return _policy(text or "")


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    mono: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    title: ParagraphStyle
    cover: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    caption: ParagraphStyle
    bullet: ParagraphStyle
    table_caption: ParagraphStyle


def styles() -> Styles:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        mono=ParagraphStyle("mono", parent=body, fontName=FONT_MONO, fontSize=8, leading=10),
        h1=ParagraphStyle("h1", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19, spaceBefore=6,
                          spaceAfter=8, keepWithNext=1),
        h2=ParagraphStyle("h2", parent=body, fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=8,
                          spaceAfter=4, keepWithNext=1),
        h3=ParagraphStyle("h3", parent=body, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=6,
                          spaceAfter=2, keepWithNext=1),
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=22, leading=27, alignment=TA_CENTER,
                             spaceAfter=12),
        cover=ParagraphStyle("cover", parent=body, fontSize=11, leading=15, alignment=TA_CENTER),
        cell=ParagraphStyle("cell", parent=body, fontSize=8, leading=9.8, spaceAfter=0),
        cell_bold=ParagraphStyle("cellb", parent=body, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0),
        caption=ParagraphStyle("caption", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11, spaceBefore=4,
                               spaceAfter=3, keepWithNext=1),
        # bulletFontName: reportlab's default is Helvetica, which would not be embedded
        bullet=ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=4, spaceAfter=2, bulletFontName=FONT),
        table_caption=ParagraphStyle("tcaption", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11,
                                     spaceBefore=4, spaceAfter=3),
    )


def marked(marking: Marking, text: str, style: ParagraphStyle, markup: bool = False) -> Paragraph:
    """A portion: its portion mark first, then the (escaped) text."""
    body = text if markup else clean(text)
    return Paragraph(f"{marking.portion()} {body}", style)


@dataclass
class Heading:
    level: int
    text: str  # already carries its portion mark
    page: int = 0


@dataclass
class PageDecor:
    """What the canvas draws on every page when the document is saved."""

    banner: Marking
    control_number: str
    footer_note: str
    generated: datetime
    headings: list[Heading] = field(default_factory=list)
    toc_anchor: tuple[int, float, float, float] | None = None  # page, x, y top, width
    signature_boxes: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    signature_page: int = 0
    pages: int = 0
    header: str = ""  # a report profile's header line, under the top banner

    def draw(self, canv: Canvas, page: int, total: int) -> None:
        width, height = canv._pagesize  # PAGE, or landscape for wide tables (the printed dissemination log)
        bg, fg = self.banner.colours()
        text = self.banner.banner()
        canv.saveState()
        for y in (height - 0.35 * inch - BANNER_H, 0.35 * inch):
            canv.setFillColor(colors.HexColor(bg))
            canv.rect(MARGIN_X, y, width - 2 * MARGIN_X, BANNER_H, stroke=0, fill=1)
            canv.setFillColor(colors.HexColor(fg))
            canv.setFont(FONT_BOLD, 11)
            canv.drawCentredString(width / 2, y + 0.085 * inch, text)
        canv.setFillColor(colors.black)
        canv.setFont(FONT, 7.5)
        footer_y = 0.35 * inch + BANNER_H + 0.12 * inch
        canv.drawString(MARGIN_X, footer_y, f"Control No. {self.control_number}")
        canv.drawCentredString(width / 2, footer_y, self.footer_note)
        canv.drawRightString(width - MARGIN_X, footer_y, f"Page {page} of {total}")
        if self.header:
            canv.drawCentredString(width / 2, height - 0.35 * inch - BANNER_H - 0.16 * inch, self.header)
        if self.toc_anchor and self.toc_anchor[0] == page:
            self._draw_contents(canv)
        canv.restoreState()

    def _draw_contents(self, canv: Canvas) -> None:
        assert self.toc_anchor is not None
        _page, x, top, width = self.toc_anchor
        y = top - TOC_LINE
        for h in self.headings:
            indent = 0 if h.level == 1 else 14
            font, size = (FONT_BOLD, 9.5) if h.level == 1 else (FONT, 9.0)
            canv.setFont(font, size)
            canv.drawString(x + indent, y, h.text)
            canv.drawRightString(x + width, y, str(h.page))
            label_end = x + indent + pdfmetrics.stringWidth(h.text, font, size)
            canv.setStrokeColor(colors.grey)
            canv.setDash(1, 2)
            canv.line(label_end + 6, y + 2, x + width - 20, y + 2)
            canv.setDash()
            y -= TOC_LINE


TOC_LINE = 15.0


class ContentsPlaceholder(Flowable):
    """Reserves room for the contents; records where it landed so the canvas can fill it in."""

    def __init__(self, decor: PageDecor, entries: int) -> None:
        super().__init__()
        self.decor = decor
        self.entries = entries

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, (self.entries + 1) * TOC_LINE

    def draw(self) -> None:
        x, y = self.canv.absolutePosition(0, self.entries * TOC_LINE + TOC_LINE)
        self.decor.toc_anchor = (self.canv.getPageNumber(), x, y, self.width)


class HeadingMark(Flowable):
    """Zero-size flowable placed right before a heading: records the page it landed on."""

    def __init__(self, decor: PageDecor, heading: Heading) -> None:
        super().__init__()
        self.decor = decor
        self.heading = heading
        self.keepWithNext = True  # part of the heading's keep-with-next chain

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.heading.page = self.canv.getPageNumber()


class SignatureBox(Flowable):
    """An empty, labelled box where a PAdES signature appearance will be placed when signing."""

    def __init__(self, decor: PageDecor, field_name: str, label: str, width: float, height: float = 0.9 * inch,
                 ) -> None:
        super().__init__()
        self.decor = decor
        self.field_name = field_name
        self.label = label
        self.box_w = width
        self.box_h = height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.box_w, self.box_h + 14

    def draw(self) -> None:
        c = self.canv
        c.setFont(FONT, 8)
        c.drawString(0, self.box_h + 4, self.label)
        c.setStrokeColor(colors.grey)
        c.rect(0, 0, self.box_w, self.box_h, stroke=1, fill=0)
        x0, y0 = c.absolutePosition(0, 0)
        self.decor.signature_boxes[self.field_name] = (x0, y0, x0 + self.box_w, y0 + self.box_h)
        self.decor.signature_page = c.getPageNumber()


class JpegLogo(Flowable):
    """A profile's logo, centred. JPEG only: reportlab embeds it as is (DCT), no image library needed."""

    def __init__(self, data: bytes, height: float) -> None:
        super().__init__()
        from app.model.report_profile import jpeg_size

        self.data = data
        w, h = jpeg_size(data)
        self.draw_h = height
        self.draw_w = height * w / h if h else height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.avail = available_width
        return available_width, self.draw_h

    def draw(self) -> None:
        from reportlab.pdfbase.pdfdoc import PDFImageXObject

        x = (self.avail - self.draw_w) / 2
        name = "FRWLogo"
        doc = self.canv._doc
        reg = doc.getXObjectName(name)
        if reg not in doc.idToObject:  # embedded once, as the JPEG bytes themselves (as Canvas.drawImage does)
            xobj = PDFImageXObject(name)
            xobj.loadImageFromJPEG(io.BytesIO(self.data))
            xobj.name = name
            self.canv._setXObjects(xobj)
            doc.Reference(xobj, reg)
            doc.addForm(name, xobj)
        self.canv._code.append(f"q {self.draw_w:.2f} 0 0 {self.draw_h:.2f} {x:.2f} 0 cm /{reg} Do Q")
        self.canv._formsinuse.append(name)  # listed in this page's resources


def canvas_class(decor: PageDecor) -> Any:
    """A Canvas that defers page furniture to save(), when the page count is known."""

    fixed_date = decor.generated.strftime("D:%Y%m%d%H%M%S+00'00'")

    class ReportCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = FONT
            super().__init__(*args, **kwargs)
            self._pending: list[dict[str, Any]] = []
            # Dates come from the input, not the clock: the same input gives the same bytes.
            self.setDateFormatter(lambda *_a: fixed_date)

        def showPage(self) -> None:
            self._pending.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pending)
            decor.pages = total
            for state in self._pending:
                self.__dict__.update(state)
                decor.draw(self, self._pageNumber, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return ReportCanvas
