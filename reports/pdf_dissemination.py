"""The printed dissemination log (issue 16, point 4): one marked table of what left the workstation.

Every page carries the roll-up of the listed entries' markings at the top and bottom; each row
carries its entry's portion mark, since it names what was sent at that marking.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib import colors
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

from app.model.dissemination import DisseminationEntry
from app.model.markings import UNCLASSIFIED, Marking, rollup
from reports.pdf_markings import FONT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_X, PAGE, PageDecor, canvas_class, clean, styles

PRODUCER = "Frontier Review Workstation"
HEADERS = ("No.", "Sent", "What (portion mark first)", "To", "Marking / TLP / embargo", "Media", "Approved by",
           "Manifest SHA-256", "Receipt")
WIDTHS = (0.35, 0.75, 1.8, 1.05, 1.4, 0.85, 0.7, 1.95, 1.1)  # inches: the landscape frame's 10 inches
LANDSCAPE_PAGE = (PAGE[1], PAGE[0])


@dataclass(frozen=True)
class LogPdf:
    data: bytes
    pages: int
    marking: Marking


def _receipt(e: DisseminationEntry, today: date, overdue_days: int) -> str:
    days = e.unacknowledged_days(today)
    if days is None:
        assert e.receipt is not None
        return f"acknowledged {e.receipt.received_at[:10]}"
    refused = f"; stored receipt REFUSED: {e.receipt_problem}" if e.receipt_problem else ""
    return f"none for {days} d" + (" (OVERDUE)" if days > overdue_days else "") + refused


def _links(e: DisseminationEntry) -> str:
    parts = [f"ENTRY DOES NOT HOLD: {e.record_problem}"] if e.record_problem else []
    if e.supersedes is not None:
        parts.append(f"{'recalls' if e.kind.value == 'recall' else 'supersedes'} No. {e.supersedes}")
    if e.superseded_by is not None:
        parts.append(f"superseded by No. {e.superseded_by}")
    if e.recalled_by is not None:
        parts.append(f"recalled by No. {e.recalled_by}")
    if e.reason:
        parts.append(f"reason: {e.reason}")
    return ("; " + "; ".join(parts)) if parts else ""


def render(entries: Sequence[DisseminationEntry], *, workstation: str, filters_text: str, generated: datetime,
           printed_by: str, overdue_days: int) -> LogPdf:
    """The log as a PDF; the overall marking is the roll-up of the entries' markings."""
    s = styles()
    overall = rollup(e.marking for e in entries) if entries else UNCLASSIFIED
    decor = PageDecor(banner=overall, control_number=f"LOG-{generated:%Y%m%d-%H%M%S}",
                      footer_note=f"Dissemination log · {clean(workstation)}", generated=generated)
    inch = 72.0
    cell = s.cell
    rows: list[list[object]] = [[Paragraph(h, s.cell_bold) for h in HEADERS]]
    today = generated.date()
    for e in entries:
        what = f"{e.what}{_links(e)}"
        extra = " / ".join(x for x in (e.tlp and f"TLP:{e.tlp.value}",
                                       e.embargo_until and f"embargo {e.embargo_until.isoformat()}") if x)
        rows.append([Paragraph(str(e.id), cell), Paragraph(e.created_at[:10], cell),
                     Paragraph(clean(f"{e.marking.portion()} {e.kind.label}: {what}"), cell),
                     Paragraph(clean(e.partner_name), cell),
                     Paragraph(clean(e.marking.banner() + (f" / {extra}" if extra else "")), cell),
                     Paragraph(clean(e.media_label), cell), Paragraph(clean(e.approved_by), cell),
                     Paragraph(f"<font face='{s.mono.fontName}' size='6.5'>{e.manifest_sha256[:32]}<br/>"
                               f"{e.manifest_sha256[32:]}</font>", cell),
                     Paragraph(_receipt(e, today, overdue_days), cell)])
    table = Table(rows, colWidths=[w * inch for w in WIDTHS], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]))
    unacknowledged = sum(1 for e in entries if e.receipt is None)
    story = [
        Paragraph(f"(U) Dissemination log of {clean(workstation)}", s.h1),
        Paragraph(f"(U) {len(entries)} entries ({unacknowledged} unacknowledged); filter: {clean(filters_text)}. "
                  f"Printed {generated:%Y-%m-%d %H:%M} UTC by {clean(printed_by)}; receipts are overdue after "
                  f"{overdue_days} days.", s.body),
        Spacer(1, 6), table,
    ]
    if not entries:
        story.append(Paragraph("(U) No entries match the filter.", s.body))
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=LANDSCAPE_PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
                          bottomMargin=MARGIN_BOTTOM, title=f"{overall.banner()} dissemination log", author=PRODUCER,
                          creator=PRODUCER, producer=PRODUCER, invariant=1, initialFontName=FONT, lang="en-US")
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=canvas_class(decor))
    return LogPdf(out.getvalue(), decor.pages, overall)
