"""Submission tab "Narrative": the bottom line, key judgments and recommendations that open the
findings report, in a plain structured editor (paragraphs, "- " bullets, *emphasis*).

Everything is plain text: the editors are QPlainTextEdit and comments are shown as plain text,
so nothing typed or imported is ever rendered as HTML. Leads comment on a part or return it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.narrative import Confidence, KeyJudgment, Narrative
from app.services import narrative as narrative_service
from app.services.narrative import PART_LABELS, NarrativeView
from ui import theme
from ui.context import UiContext
from ui.unsaved import FormState
from ui.widgets.marking_picker import MarkingPicker

AskComment = Callable[[QWidget, str], str | None]
HINT = "Paragraphs: a blank line between them · bullets: start a line with \"- \" · emphasis: *like this*"


def make_bullets(edit: QPlainTextEdit) -> None:
    """Start each selected line (or the current one) with "- "."""
    cursor = edit.textCursor()
    start, end = sorted((cursor.selectionStart(), cursor.selectionEnd()))
    cursor.setPosition(start)
    cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
    cursor.beginEditBlock()
    while True:
        block = cursor.block()
        if block.text().strip() and not block.text().lstrip().startswith("- "):
            cursor.insertText("- ")
            end += 2
        if not cursor.movePosition(QTextCursor.MoveOperation.NextBlock) or cursor.position() > end:
            break
    cursor.endEditBlock()


def make_emphasis(edit: QPlainTextEdit) -> None:
    """Wrap the selection in *…* (or insert an empty pair at the cursor)."""
    cursor = edit.textCursor()
    text = cursor.selectedText()
    cursor.insertText(f"*{text.strip('*')}*" if text else "**")
    if not text:
        cursor.movePosition(QTextCursor.MoveOperation.Left)
        edit.setTextCursor(cursor)


class TextPart(QWidget):
    """One structured-text field with its toolbar and its own marking."""

    def __init__(self, name: str, ceiling: Marking, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QPlainTextEdit()
        self.edit.setObjectName(f"narrative_{name}")
        self.edit.setTabChangesFocus(True)
        self.edit.setPlaceholderText(HINT)
        self.edit.setMinimumHeight(110)
        self.marking = MarkingPicker(ceiling)
        self.bullets_button = bullets = QPushButton("• Bullets")
        self.emphasis_button = emphasis = QPushButton("Emphasis")
        bullets.setToolTip("Start the selected lines with \"- \"")
        emphasis.setToolTip("Wrap the selection in *asterisks* (printed in italics)")
        bullets.clicked.connect(lambda: make_bullets(self.edit))
        emphasis.clicked.connect(lambda: make_emphasis(self.edit))
        self.returned = QLabel()
        self.returned.setObjectName("returnedNote")
        self.returned.setTextFormat(Qt.TextFormat.PlainText)
        self.returned.setWordWrap(True)
        self.returned.setStyleSheet(theme.RETURNED_TEXT)
        tools = QHBoxLayout()
        tools.addWidget(bullets)
        tools.addWidget(emphasis)
        tools.addStretch(1)
        tools.addWidget(QLabel("Marking:"))
        tools.addWidget(self.marking)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.returned)
        layout.addLayout(tools)
        layout.addWidget(self.edit)


class JudgmentRow(QWidget):
    def __init__(self, ceiling: Marking, on_remove: Callable[[JudgmentRow], None], parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setObjectName("judgmentText")
        self.text.setTabChangesFocus(True)
        self.text.setFixedHeight(56)
        self.confidence = QComboBox()
        self.confidence.setObjectName("judgmentConfidence")
        for c in Confidence:
            self.confidence.addItem(c.label, c.value)
        self.confidence.setCurrentIndex(self.confidence.findData(Confidence.MODERATE.value))
        self.marking = MarkingPicker(ceiling)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: on_remove(self))
        side = QVBoxLayout()
        side.addWidget(self.confidence)
        side.addWidget(self.marking)
        side.addWidget(remove)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 3)
        layout.addLayout(side, 2)

    def judgment(self) -> KeyJudgment:
        return KeyJudgment(self.text.toPlainText().strip(), Confidence(self.confidence.currentData()),
                           self.marking.marking())

    def state_value(self) -> object:
        return (self.text.toPlainText(), self.confidence.currentIndex(), self.marking.marking())


class NarrativeScreen(QWidget):
    """Mount as a submission tab: NarrativeScreen(ctx, submission_id)."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.ask_comment: AskComment = self._ask_comment
        self.view: NarrativeView | None = None
        self.ceiling = Marking.parse(ctx.session.settings.system_high)
        self.status = QLabel()
        self.status.setObjectName("narrativeStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.bottom_line = TextPart("bottom_line", self.ceiling)
        self.recommendations = TextPart("recommendations", self.ceiling)
        self.judgment_rows: list[JudgmentRow] = []
        self.judgments_box = QVBoxLayout()
        self.judgments_returned = QLabel()
        self.judgments_returned.setTextFormat(Qt.TextFormat.PlainText)
        self.judgments_returned.setWordWrap(True)
        self.judgments_returned.setStyleSheet(theme.RETURNED_TEXT)
        self.add_judgment_button = QPushButton("Add key judgment")
        self.add_judgment_button.clicked.connect(lambda: self.add_judgment())
        self.save_button = QPushButton("Save narrative")
        self.save_button.setObjectName("saveNarrative")
        self.save_button.clicked.connect(self.save)
        self.part = QComboBox()
        for key, label in PART_LABELS.items():
            self.part.addItem(label, key)
        self.comment_button = QPushButton("Comment…")
        self.comment_button.clicked.connect(lambda: self.lead_comment(False))
        self.return_button = QPushButton("Return for changes…")
        self.return_button.setObjectName("returnNarrative")
        self.return_button.clicked.connect(lambda: self.lead_comment(True))
        self.history = QPlainTextEdit()
        self.history.setObjectName("narrativeComments")
        self.history.setReadOnly(True)
        self.history.setMaximumHeight(110)

        body = QWidget()
        col = QVBoxLayout(body)
        for title, widget in (("Bottom line", self.bottom_line), ("Recommendations", self.recommendations)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            col.addWidget(box)
            if title == "Bottom line":
                judgments = QGroupBox("Key judgments (each with its confidence and its own marking)")
                inner = QVBoxLayout(judgments)
                inner.addWidget(self.judgments_returned)
                inner.addLayout(self.judgments_box)
                inner.addWidget(self.add_judgment_button, 0, Qt.AlignmentFlag.AlignLeft)
                col.addWidget(judgments)
        col.addWidget(QLabel("Lead's comments:"))
        col.addWidget(self.history)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Lead:"))
        buttons.addWidget(self.part)
        buttons.addWidget(self.comment_button)
        buttons.addWidget(self.return_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        lead = ctx.can(Permission.APPROVE)
        for w in (self.part, self.comment_button, self.return_button):
            w.setVisible(lead)
        self.form_state = self._tracker()
        self.refresh()

    # -- unsaved changes (ui.unsaved) ----------------------------------------------------------
    def _tracker(self) -> FormState:
        state = FormState([self.bottom_line.edit, self.bottom_line.marking, self.recommendations.edit,
                           self.recommendations.marking, *self.judgment_rows], self)
        state.changed.connect(lambda _m: self.ctx.events.modified_changed.emit())
        return state

    def is_modified(self) -> bool:
        if not self.ctx.can(Permission.ASSESS) or self.view is None:
            return False
        return self.narrative() != self.view.narrative

    def commit(self) -> bool:
        return self.save()

    def discard(self) -> None:
        self.refresh()

    def unsaved_title(self) -> str:
        return "The report narrative"

    # -- judgments -----------------------------------------------------------------------------
    def add_judgment(self, judgment: KeyJudgment | None = None) -> JudgmentRow:
        row = JudgmentRow(self.ceiling, self._remove_judgment)
        if judgment is not None:
            row.text.setPlainText(judgment.text)
            row.confidence.setCurrentIndex(row.confidence.findData(judgment.confidence.value))
            row.marking.set_marking(judgment.marking)
        self.judgment_rows.append(row)
        self.judgments_box.addWidget(row)
        row.setEnabled(self.add_judgment_button.isEnabled())
        return row

    def _remove_judgment(self, row: JudgmentRow) -> None:
        self.judgment_rows.remove(row)
        self.judgments_box.removeWidget(row)
        row.deleteLater()

    # -- load and save -------------------------------------------------------------------------
    def narrative(self) -> Narrative:
        return Narrative(
            self.bottom_line.edit.toPlainText().strip(), self.bottom_line.marking.marking(),
            tuple(r.judgment() for r in self.judgment_rows if r.text.toPlainText().strip()),
            self.recommendations.edit.toPlainText().strip(), self.recommendations.marking.marking(),
        )

    def refresh(self) -> None:
        try:
            self.view = narrative_service.get(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        n = self.view.narrative
        self.bottom_line.edit.setPlainText(n.bottom_line)
        self.bottom_line.marking.set_marking(n.bottom_line_marking)
        self.recommendations.edit.setPlainText(n.recommendations)
        self.recommendations.marking.set_marking(n.recommendations_marking)
        for row in list(self.judgment_rows):
            self._remove_judgment(row)
        editable = self.ctx.can(Permission.ASSESS) and not self.view.locked
        for w in (self.bottom_line, self.recommendations, self.add_judgment_button, self.save_button):
            w.setEnabled(editable)
        for j in n.judgments:
            self.add_judgment(j)
        for part, label in ((self.bottom_line, "bottom_line"), (self.recommendations, "recommendations")):
            part.returned.setText(self._returned_text(label))
            part.returned.setVisible(bool(part.returned.text()))
        self.judgments_returned.setText(self._returned_text("judgments"))
        self.judgments_returned.setVisible(bool(self.judgments_returned.text()))
        self.history.setPlainText("\n".join(
            f"{c.created_at[:16]} {c.author} {'returned' if c.action == 'return' else 'commented on'} "
            f"{PART_LABELS[c.part].lower()}: {c.comment}" + (f" (answered by {c.resolved_by})" if c.resolved_at else "")
            for c in self.view.comments) or "No comments.")
        if self.view.locked:
            self.status.setText("Locked: the assessment is approved. A lead must reopen it to change the narrative.")
        elif self.view.updated_by:
            self.status.setText(f"Last edited by {self.view.updated_by} at {self.view.updated_at[:16]}.")
        else:
            self.status.setText("Write what the decision maker needs first: it opens the findings report.")
        self.form_state = self._tracker()

    def _returned_text(self, part: str) -> str:
        assert self.view is not None
        open_returns = self.view.returned(part)
        return "\n".join(f"Returned by {c.author}: {c.comment}" for c in open_returns)

    def save(self) -> bool:
        try:
            self.view = narrative_service.save(self.ctx.session, self.submission_id, self.narrative())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.refresh()
        self.ctx.events.status_message.emit("Narrative saved")
        return True

    # -- lead ----------------------------------------------------------------------------------
    def _ask_comment(self, parent: QWidget, title: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(parent, title, "Comment (what should change and why):")
        return text if ok else None

    def lead_comment(self, return_part: bool) -> bool:
        part = str(self.part.currentData())
        verb = "Return" if return_part else "Comment on"
        text = self.ask_comment(self, f"{verb} {PART_LABELS[part].lower()}")
        if text is None:
            return False
        try:
            self.view = narrative_service.comment(self.ctx.session, self.submission_id, part, text, return_part)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.refresh()
        return True
