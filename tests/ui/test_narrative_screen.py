"""Narrative tab: the reviewer writes with the structured editor, the lead returns a part, the
reviewer sees the return and answers it by editing."""

from __future__ import annotations

from datetime import date

from PySide6.QtGui import QTextCursor

from app.model.markings import Marking
from app.model.narrative import Confidence
from app.model.submissions import Submission
from app.services import assessment, submissions
from app.services import narrative as narrative_service
from ui.screens.narrative_screen import NarrativeScreen


def _submission(workstation) -> int:  # type: ignore[no-untyped-def]
    rev = workstation.session("reviewer")
    s = submissions.create(rev, Submission(developer="Acme AI", model_name="Falcon", version="2.1",
                                           received=date(2026, 11, 2), planned_release=date(2026, 12, 1)))
    assessment.start(rev, int(s.id or 0))
    return int(s.id or 0)


def test_write_bullets_emphasis_judgments_and_lead_return(workstation, make_ctx, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _submission(workstation)
    screen = NarrativeScreen(make_ctx("reviewer"), sid)
    qtbot.addWidget(screen)
    assert not screen.return_button.isVisibleTo(screen)  # only leads return
    edit = screen.recommendations.edit
    edit.setPlainText("Delay agentic tools\nShare V-1")
    edit.selectAll()
    screen.recommendations.bullets_button.click()
    assert edit.toPlainText() == "- Delay agentic tools\n- Share V-1"
    bl = screen.bottom_line.edit
    bl.setPlainText("The model is capable.")
    cursor = bl.textCursor()
    cursor.setPosition(13)
    cursor.setPosition(20, QTextCursor.MoveMode.KeepAnchor)
    bl.setTextCursor(cursor)
    screen.bottom_line.emphasis_button.click()
    assert bl.toPlainText() == "The model is *capable*."
    row = screen.add_judgment()
    row.text.setPlainText("Meaningful uplift to novices.")
    row.confidence.setCurrentIndex(row.confidence.findData(Confidence.HIGH.value))
    row.marking.set_marking(Marking.parse("SECRET//NOFORN"))
    assert screen.is_modified()
    screen.save_button.click()
    assert not dialogs.errors, dialogs.error_text()
    stored = narrative_service.get(workstation.session("reviewer"), sid).narrative
    assert stored.bottom_line == "The model is *capable*."
    assert stored.judgments[0].confidence is Confidence.HIGH and stored.judgments[0].marking.banner() == "SECRET//NOFORN"
    assert not screen.is_modified()

    lead = NarrativeScreen(make_ctx("lead"), sid)
    qtbot.addWidget(lead)
    assert lead.return_button.isVisibleTo(lead)
    lead.part.setCurrentIndex(lead.part.findData("judgments"))
    lead.ask_comment = lambda _p, _t: "Say what the confidence rests on."
    assert lead.lead_comment(True)
    assert "returned key judgments: Say what the confidence rests on." in lead.history.toPlainText()

    screen.refresh()
    assert screen.judgments_returned.isVisibleTo(screen)
    assert "Say what the confidence rests on." in screen.judgments_returned.text()
    screen.judgment_rows[0].text.setPlainText("Meaningful uplift to novices (three CTF suites agree).")
    screen.save_button.click()
    assert not screen.judgments_returned.isVisibleTo(screen)
