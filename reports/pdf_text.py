"""Reviewer-written structured text (app.model.narrative) as marked PDF paragraphs.

Every span is escaped before the writer adds its own <i> tags: text typed or imported by a
person is never interpreted as markup.
"""

from __future__ import annotations

from reportlab.platypus import Paragraph

from app.model.markings import Marking
from app.model.narrative import Block, blocks
from reports.pdf_markings import Styles, clean


def _markup(block: Block) -> str:
    return "".join(f"<i>{clean(s.text)}</i>" if s.emphasis else clean(s.text) for s in block.spans)


def structured(text: str, marking: Marking, st: Styles, lead: str = "") -> list[Paragraph]:
    """Paragraphs and bullet items, each a portion with its mark; `lead` (bold) opens the first."""
    bullet = st.bullet
    out: list[Paragraph] = []
    for n, block in enumerate(blocks(text)):
        head = f"<b>{clean(lead)}</b> " if lead and n == 0 else ""
        body = f"{marking.portion()} {head}{_markup(block)}"
        if block.kind == "bullet":
            out.append(Paragraph(body, bullet, bulletText="•"))
        else:
            out.append(Paragraph(body, st.body))
    return out
