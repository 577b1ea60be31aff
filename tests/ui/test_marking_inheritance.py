"""New records start at the submission's marking in the editors; lowering asks for a reason (issue 12)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from app.model.markings import Marking
from app.model.submissions import Submission
from app.services import assessment, audit, submissions
from ui.screens.assessment_screen import AssessmentScreen
from ui.screens.findings_screen import FindingsScreen

SNF = Marking.parse("SECRET//NOFORN")


def _secret(ctx) -> int:  # type: ignore[no-untyped-def]
    return submissions.create(ctx.session, Submission(
        developer="Northwind AI", model_name="Aurora", version="4.1", received=date(2026, 11, 1),
        planned_release=date(2026, 11, 28), marking=SNF)).id


def test_answer_marking_starts_at_the_submission_and_lowering_asks_why(qtbot, ctx, dialogs, workstation):  # type: ignore[no-untyped-def]
    sid = _secret(ctx)
    screen = AssessmentScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.mouseClick(screen.start_button, Qt.MouseButton.LeftButton)
    assert screen.current == "SUB-01"
    assert screen.marking.marking() == SNF  # not UNCLASSIFIED

    dialogs.texts = [None]  # the reviewer cancels: nothing is lowered
    screen.marking.set_marking(Marking())
    screen.marking.changed.emit(Marking())
    assert dialogs.prompts and "SECRET//NOFORN" in dialogs.prompts[-1]
    assert screen.marking.marking() == SNF
    assert assessment.for_submission(ctx.session, sid).answer("SUB-01").marking == SNF

    dialogs.texts = ["Item text is public guidance"]
    screen.marking.set_marking(Marking())
    screen.marking.changed.emit(Marking())
    assert not dialogs.errors, dialogs.error_text()
    assert assessment.for_submission(ctx.session, sid).answer("SUB-01").marking == Marking()
    events = audit.events(workstation.session("auditor"), action_prefix="marking.lower")
    assert [e.details["reason"] for e in events] == ["Item text is public guidance"]
    assert not dialogs.errors, dialogs.error_text()


def test_new_finding_starts_at_the_submission_marking(qtbot, ctx, dialogs):  # type: ignore[no-untyped-def]
    sid = _secret(ctx)
    assessment.start(ctx.session, sid)
    screen = FindingsScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.new()
    assert screen.marking.marking() == SNF
    screen.title.setText("Autonomous exploitation")
    screen.description.setPlainText("Exploited the range.")
    assert screen.save(), dialogs.error_text()
    assert screen.editing is not None and screen.editing.marking == SNF
    assert not dialogs.prompts  # nothing was lowered, nothing asked
