"""A discussion thread on one target (checklist item, finding, vulnerability, determination):
every comment with its author, time and portion mark, and a line to add one. Comments are kept
(the service refuses edits and deletions) and audited."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.services import discussion
from ui.context import UiContext
from ui.widgets.transcript_view import clean_text


class CommentThread(QGroupBox):
    posted = Signal()

    def __init__(self, ctx: UiContext, title: str = "Discussion", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.ctx = ctx
        self.target: tuple[str, str] | None = None
        self.setObjectName("commentThread")
        self.list = QListWidget()
        self.list.setObjectName("threadList")
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(120)
        self.input = QLineEdit()
        self.input.setObjectName("threadInput")
        self.input.setPlaceholderText("Add to the discussion (kept in the record; Enter posts)")
        self.input.returnPressed.connect(self.post)
        self.post_button = QPushButton("Post")
        self.post_button.clicked.connect(self.post)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.post_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list)
        lay.addLayout(row)
        can = ctx.can(Permission.ASSESS)
        for w in (self.input, self.post_button):
            w.setEnabled(can)
            if not can:
                w.setToolTip(f"Your role ({ctx.session.account.role.label}) reads discussions but does not post.")

    def set_target(self, target_type: str | None, ref: str = "") -> None:
        self.target = (target_type, ref) if target_type else None
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        if self.target is None:
            self.setEnabled(False)
            return
        self.setEnabled(True)
        try:
            comments = discussion.thread(self.ctx.session, *self.target)
        except FrontierError as exc:
            self.list.addItem(f"(thread unavailable: {exc})")
            return
        for c in comments:
            self.list.addItem(f"{c.marking.portion()} {c.author} {c.created_at[:16].replace('T', ' ')}: "
                              f"{clean_text(c.body, 2000)}")
        self.setTitle(f"Discussion ({len(comments)})")
        if comments:
            self.list.scrollToBottom()

    def post(self) -> None:
        text = self.input.text().strip()
        if self.target is None or not text:
            return
        try:
            discussion.add(self.ctx.session, self.target[0], self.target[1], text)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.input.clear()
        self.refresh()
        self.posted.emit()



