"""The workflow in the UI: the next-step line and actions disabled with the reason as tooltip.

Both read app.services.workflow.overview, the same rules the services enforce.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from app.model.errors import FrontierError
from app.model.workflow import Act, Overview
from app.services import review_overview
from ui import theme
from ui.context import UiContext


def apply_action(button: QAbstractButton, overview: Overview | None, act: Act, tip: str = "") -> None:
    """Enable `button` when `act` is available now; otherwise disable it and say why in its tooltip."""
    if overview is None:
        button.setEnabled(False)
        return
    avail = overview.actions[act]
    button.setEnabled(avail.allowed)
    button.setToolTip(tip if avail.allowed else avail.reason[:1].upper() + avail.reason[1:])


class NextStepLabel(QLabel):
    """"Stage: … Next step: … (who)" for one submission; `refresh()` returns the overview it drew."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.overview: Overview | None = None
        self.setObjectName("nextStep")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setStyleSheet(theme.NEXT_STEP)

    def refresh(self) -> Overview | None:
        try:
            self.overview = review_overview.overview(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.setText(f"Next step unknown: {exc}")
            self.overview = None
            return None
        self.setText(self.overview.next_line)
        return self.overview
