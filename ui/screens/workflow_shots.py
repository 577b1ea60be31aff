"""Screenshots of the review workflow for docs/screenshots (called from ui/screenshots.py):

    from ui.screens.workflow_shots import render_screenshots as workflow_shots
    workflow_shots(lead, window, lambda w, name, size: _snap(app, w, out, name, size))

The lead's dashboard with its "Awaiting my decision" queue and stages, the Team tab with the
assignments and discussion, the next-step line over a submission, and the summary a lead reads
before approving (of the demo's released Aurora 4.0 review).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from app.services import assessment, assessment_review, discussion, submissions
from ui.context import UiContext

Snap = Callable[[QWidget, str, tuple[int, int]], None]


def render_screenshots(lead: UiContext, window: QWidget, snap: Snap) -> None:
    s = lead.session
    current = submissions.page(s, 0, 1, search="4.1-preview")[0]
    assert current.id is not None
    view = assessment.for_submission(s, current.id)
    if view is not None:
        discussion.add(s, "item", discussion.item_ref(current.id, "CAP-02"),
                       "Does the 4.0 comparison use the same scaffold and token limit?")
    window.show_screen("dashboard")  # type: ignore[attr-defined]
    snap(window, "workflow_dashboard_queues", (1280, 800))
    window.open_submission(current.id)  # type: ignore[attr-defined]
    detail = window.pages[f"submission:{current.id}"]  # type: ignore[attr-defined]
    detail.tab("Team")
    snap(window, "workflow_team_tab", (1280, 800))
    screen = detail.tab("Assessment")
    screen.select("CAP-02")
    snap(window, "workflow_next_step_and_thread", (1280, 900))
    old = next((x for x in submissions.page(s, 0, 20, search="Aurora") if x.version == "4.0"), None)
    done = assessment.for_submission(s, old.id) if old is not None and old.id is not None else None
    if done is not None:
        text = "You are approving:\n\n" + str(assessment_review.approval_summary(s, done.id)) + (
            "\n\nApprove and lock this assessment? Reopening later is a recorded action.")
        box = QMessageBox(QMessageBox.Icon.Question, "Approve assessment", text, QMessageBox.StandardButton.Cancel)
        box.addButton("Approve", QMessageBox.ButtonRole.AcceptRole)
        snap(box, "workflow_approval_summary", (760, 420))
        box.close()
