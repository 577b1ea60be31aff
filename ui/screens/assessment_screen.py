"""Submission tab "Assessment": the guided, keyboard-first checklist review.

Left: sections with progress and their items (status marker per item, "*" when a justification
or expiry is still missing, "≠ suggestion" when the answer departs from the rule set's suggestion,
"✎" when a lead commented, "☑" when a lead approved the item). Right: the current item: guidance, status,
justification (autosaved), marking, risk expiry, evidence (right under the answer), the rule-set
suggestion with accept/override, review comments and the history.

Keys: in the list, 1-6 set the status and PageDown/PageUp or Ctrl+Right/Ctrl+Left walk item by
item; anywhere in the tab, Alt+1..6 set the status and Ctrl+PageDown/Ctrl+PageUp or
Alt+Right/Alt+Left walk (a text editor keeps Ctrl+arrows for moving by word).

Buttons reflect what app.services.assessment allows (role, state, two-person rule); the services
enforce it. Every change goes through the service, which records the history and the audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.approval import departs_from
from app.model.checklist import Answer, State, Status
from app.model.coverage import Suggestion
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.workflow import Act, Overview
from app.services import (
    assessment,
    assessment_review,
    assessment_suggestions,
    coverage,
    printables,
    review_overview,
)
from app.services.assessment import AssessmentView
from ui import theme
from ui.context import UiContext
from ui.dialogs.printable_preview import PrintablePreview, open_preview
from ui.readable import change_text, local_time
from ui.screens.assessment_evidence import EvidencePanel
from ui.widgets.comment_thread import CommentThread
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.marking_picker import MarkingPicker, ask_lower_reason
from ui.widgets.transcript_view import clean_text
from ui.widgets.workflow_hint import apply_action

ITEM_ROLE = Qt.ItemDataRole.UserRole
AUTOSAVE_MS = 600
MARKERS = {
    Status.NOT_STARTED: "○",
    Status.IN_PROGRESS: "◐",
    Status.SATISFIED: "✓",
    Status.NOT_SATISFIED: "✗",
    Status.NOT_APPLICABLE: "–",
    Status.RISK_ACCEPTED: "!",
}
TextPrompt = Callable[[str, str], str | None]  # (title, label) -> text or None when cancelled


def item_text(item_id: str, title: str, a: Answer, commented: bool = False, departs: bool = False,
              approved: bool = False) -> str:
    flag = " *" if a.status.complete and not a.complete else ""
    note = "  ✎" if commented else ""
    differs = "  ≠ suggestion" if departs else ""
    ok = "  ☑" if approved else ""
    return f"{MARKERS[a.status]}  {item_id}  {title}{flag}{differs}{note}{ok}"


class ChecklistTree(QTreeWidget):
    """The section/item list. Digits 1-6 set the status; PageDown/PageUp and Ctrl+Right/Left walk."""

    status_key = Signal(int)
    step = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if plain and Qt.Key.Key_1 <= key <= Qt.Key.Key_6:
            self.status_key.emit(key - Qt.Key.Key_0)
            return
        if key == Qt.Key.Key_PageDown or (key == Qt.Key.Key_Right and mods & Qt.KeyboardModifier.ControlModifier):
            self.step.emit(1)
            return
        if key == Qt.Key.Key_PageUp or (key == Qt.Key.Key_Left and mods & Qt.KeyboardModifier.ControlModifier):
            self.step.emit(-1)
            return
        super().keyPressEvent(event)


def _ask_text(parent: QWidget) -> TextPrompt:
    def ask(title: str, label: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(parent, title, label)
        return text if ok else None
    return ask


class AssessmentScreen(QWidget):
    """Mount as a submission tab: AssessmentScreen(ctx, submission_id)."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.view: AssessmentView | None = None
        self.current: str | None = None
        self.pending_comments: dict[str, str] = {}
        self.ask_text: TextPrompt = _ask_text(self)
        self.suggestion: Suggestion | None = None
        self.overview: Overview | None = None
        self._loading = False
        self._tree_items: dict[str, QTreeWidgetItem] = {}
        self._section_items: dict[str, QTreeWidgetItem] = {}
        self._commented: set[str] = set()
        self._suggestions: dict[str, Suggestion] = {}
        self._item_approved: set[str] = set()
        self._coverage_flags: list[str] = []
        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.flush)

        # -- header: state, progress, workflow buttons --------------------------------------------
        self.state_label = QLabel()
        self.state_label.setObjectName("assessmentState")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(200)
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%v / %m answered")
        self.progress.setVisible(False)  # shown with an assessment (an empty bar before Start says nothing)
        self.start_button = QPushButton("Start assessment")
        self.start_button.clicked.connect(self.start)
        self.submit_button = QPushButton("Submit for approval")
        self.submit_button.clicked.connect(self.submit)
        self.approve_button = QPushButton("Approve")
        self.approve_button.clicked.connect(self.approve)
        self.return_button = QPushButton("Return for changes…")
        self.return_button.clicked.connect(self.return_for_changes)
        self.reopen_button = QPushButton("Reopen…")
        self.reopen_button.clicked.connect(self.reopen)
        self.migrate_button = QPushButton("Move to newer template…")
        self.migrate_button.clicked.connect(self.migrate)
        self.print_button = QPushButton("Print checklist…")
        self.print_button.setToolTip("Preview the checklist (answers, statuses, justifications) as a marked "
                                     "document; print it or save it as a PDF (printer and media labels checked)")
        self.print_button.clicked.connect(self.print_checklist)
        # A lead sees five workflow buttons: the row wraps onto a second line instead of widening the
        # tab past a 1280-px screen (the whole tab would scroll sideways, the item pane cut off).
        header = FlowLayout()
        header.addWidget(self.state_label, 1)
        header.addWidget(self.progress)
        for b in (self.start_button, self.migrate_button, self.submit_button, self.approve_button,
                  self.return_button, self.reopen_button, self.print_button):
            header.addWidget(b)
        self.notice = QLabel()
        self.notice.setObjectName("assessmentNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setStyleSheet(theme.CAUTION_TEXT)

        # -- left: checklist ---------------------------------------------------------------------
        self.tree = ChecklistTree()
        self.tree.setObjectName("checklistTree")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._tree_changed)
        self.tree.status_key.connect(self.set_status_by_hotkey)
        self.tree.step.connect(self.step)

        # -- right: the item pane ----------------------------------------------------------------
        self.item_title = QLabel()
        self.item_title.setObjectName("itemTitle")
        self.item_title.setTextFormat(Qt.TextFormat.PlainText)
        self.item_title.setWordWrap(True)
        self.item_title.setStyleSheet(theme.ITEM_HEADING)
        self.guidance = QLabel()
        self.guidance.setObjectName("guidance")
        self.guidance.setTextFormat(Qt.TextFormat.PlainText)
        self.guidance.setWordWrap(True)
        self.guidance.setStyleSheet(theme.GUIDANCE_BOX)

        self.status_group = QButtonGroup(self)
        status_row = QGridLayout()  # 2 rows of 3: fits a narrow pane without scrolling
        for st in Status:
            rb = QRadioButton(f"{st.hotkey} {st.label}")  # no mnemonic: Alt+N is the screen shortcut
            rb.setToolTip(f"{st.label} — key {st.hotkey} in the list, Alt+{st.hotkey} anywhere")
            self.status_group.addButton(rb, st.hotkey)
            status_row.addWidget(rb, (st.hotkey - 1) // 3, (st.hotkey - 1) % 3)
        status_row.setColumnStretch(3, 1)
        self.status_group.idClicked.connect(self.set_status_by_hotkey)
        self.missing = QLabel()
        self.missing.setObjectName("missingHint")
        self.missing.setStyleSheet(theme.DANGER_TEXT)
        self.missing.setTextFormat(Qt.TextFormat.PlainText)

        self.justification = QPlainTextEdit()
        self.justification.setObjectName("justification")
        self.justification.setPlaceholderText("Justification: what was checked, what evidence shows, why this status")
        self.justification.setTabChangesFocus(True)
        # about five lines: it grows with spare height, but does not push the evidence below the fold
        self.justification.setMinimumHeight(self.justification.fontMetrics().lineSpacing() * 5 + 16)
        self.justification.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.justification.textChanged.connect(self._justification_edited)
        self.marking = MarkingPicker(Marking.parse(ctx.session.settings.system_high))
        self.marking.changed.connect(self._marking_changed)
        self.expiry = QDateEdit()
        self.expiry.setCalendarPopup(True)
        self.expiry.setDisplayFormat("yyyy-MM-dd")
        self.expiry.setAccessibleName("Risk acceptance expires on")
        self.expiry.dateChanged.connect(self._expiry_changed)
        self.approve_risk_button = QPushButton("Approve risk acceptance")
        self.approve_risk_button.clicked.connect(self.approve_risk)
        risk_row = QHBoxLayout()
        risk_row.addWidget(self.expiry)
        risk_row.addWidget(self.approve_risk_button)
        self.risk_state = QLabel()
        self.risk_state.setTextFormat(Qt.TextFormat.PlainText)
        risk_row.addWidget(self.risk_state, 1)
        form = QFormLayout()
        form.addRow("Marking:", self.marking)
        form.addRow("Risk expiry:", risk_row)
        self.form, self.risk_row = form, risk_row  # the expiry row shows only for 'Risk accepted'

        self.suggestion_box = QGroupBox("Suggestion from the active rule set")
        self.suggestion_text = QLabel()
        self.suggestion_text.setObjectName("suggestionText")
        self.suggestion_text.setTextFormat(Qt.TextFormat.PlainText)
        self.suggestion_text.setWordWrap(True)
        self.accept_button = QPushButton("Accept suggestion")
        self.accept_button.clicked.connect(self.accept_suggestion)
        self.override_button = QPushButton("Override…")
        self.override_button.clicked.connect(self.override_suggestion)
        sb = QVBoxLayout(self.suggestion_box)
        sb.addWidget(self.suggestion_text)
        sbr = QHBoxLayout()
        sbr.addWidget(self.accept_button)
        sbr.addWidget(self.override_button)
        sbr.addStretch(1)
        sb.addLayout(sbr)

        self.evidence = EvidencePanel(ctx, submission_id, lambda t, label: self.ask_text(t, label),
                                      lambda: self.marking.marking())
        self.evidence.changed.connect(self._evidence_changed)

        self.comments_box = QGroupBox("Review comments")
        self.comments_list = QListWidget()
        self.comments_list.setMaximumHeight(90)
        self.lead_comment = QLineEdit()
        self.lead_comment.setObjectName("leadComment")
        self.lead_comment.setPlaceholderText("Comment on this item for the reviewer (sent with Return)")
        self.lead_comment.textEdited.connect(self._lead_comment_edited)
        self.approve_item_button = QPushButton("Approve this item")
        self.approve_item_button.setObjectName("approveItem")
        self.approve_item_button.setToolTip("Approve this answer on its own (a later change voids it)")
        self.approve_item_button.clicked.connect(self.approve_item)
        cb = QVBoxLayout(self.comments_box)
        cb.addWidget(self.comments_list)
        lead_row = QHBoxLayout()
        lead_row.addWidget(self.lead_comment, 1)
        lead_row.addWidget(self.approve_item_button)
        cb.addLayout(lead_row)

        self.discussion_thread = CommentThread(ctx)

        self.history_box = QGroupBox("History")
        self.history_list = QListWidget()
        self.history_list.setObjectName("historyList")
        self.history_list.setMaximumHeight(140)
        QVBoxLayout(self.history_box).addWidget(self.history_list)

        pane = QWidget()
        pl = QVBoxLayout(pane)
        pl.addWidget(self.item_title)
        pl.addWidget(self.guidance)
        pl.addLayout(status_row)
        pl.addWidget(self.missing)
        pl.addWidget(self.justification, 1)
        pl.addLayout(form)
        pl.addWidget(self.evidence)  # right under the answer: reachable without scrolling at 800 px
        pl.addWidget(self.suggestion_box)
        pl.addWidget(self.comments_box)
        pl.addWidget(self.discussion_thread)
        pl.addWidget(self.history_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the pane wraps instead
        scroll.setWidget(pane)
        self.pane = pane
        # The pane never scrolls sideways, so it is never narrower than it can lay out: the list gives way.
        scroll.setMinimumWidth(pane.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                               + 2 * scroll.frameWidth())

        split = QSplitter()
        split.addWidget(self.tree)
        split.addWidget(scroll)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 800])
        self.empty = QLabel("No assessment yet for this submission.\nStart one to walk the checklist.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        layout.addWidget(self.empty, 1)
        self.split = split

        # -- shortcuts anywhere in the screen ------------------------------------------------------
        for st in Status:
            sc = QShortcut(QKeySequence(f"Alt+{st.hotkey}"), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda n=st.hotkey: self.set_status_by_hotkey(n))
        for seq, delta in (("Ctrl+PgDown", 1), ("Ctrl+PgUp", -1), ("Alt+Right", 1), ("Alt+Left", -1)):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda d=delta: self.step(d))
        self.refresh()

    # -- loading -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        self.flush()
        try:
            self.view = assessment.for_submission(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        has = self.view is not None
        self.split.setVisible(has)
        self.empty.setVisible(not has)
        self.progress.setVisible(has)
        if self.view is None:
            self.state_label.setText("Not started")
            self._update_buttons()
            return
        try:  # evaluated on refresh only: saves and navigation stay fast
            self._coverage_flags = coverage.reevaluation_flags(self.ctx.session, self.submission_id)
            det = coverage.current_determination(self.ctx.session, self.submission_id)
            if det is None:
                self._coverage_flags.append("no determination recorded yet (Coverage tab).")
            elif not det.approved_by:
                self._coverage_flags.append(f"the determination ({det.outcome}) awaits a lead's approval.")
        except FrontierError:
            self._coverage_flags = []
        self._commented = {c.item_id for c in assessment.comments(self.ctx.session, self.view.id) if c.item_id}
        try:
            self._suggestions = assessment_suggestions.suggestions(self.ctx.session, self.view.id)
            self._item_approved = set(assessment_review.item_approvals(self.ctx.session, self.view.id))
        except FrontierError:
            self._suggestions, self._item_approved = {}, set()
        self._build_tree()
        target = self.current if self.current and self.current in self.view.template else (
            assessment.first_open_item(self.view))
        self.current = None
        self.select(target)
        self._update_header()

    def _build_tree(self) -> None:
        assert self.view is not None
        self.tree.blockSignals(True)
        self.tree.clear()
        self._tree_items.clear()
        self._section_items.clear()
        for sec in self.view.template.sections:
            top = QTreeWidgetItem([sec.title])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._section_items[sec.id] = top
            self.tree.addTopLevelItem(top)
            for item in sec.items:
                child = QTreeWidgetItem([self._item_label(item.id)])
                child.setData(0, ITEM_ROLE, item.id)
                child.setToolTip(0, item.title)
                top.addChild(child)
                self._tree_items[item.id] = child
        self.tree.expandAll()
        self._update_sections()
        self.tree.blockSignals(False)

    def _item_label(self, item_id: str) -> str:
        assert self.view is not None
        a = self.view.answer(item_id)
        sug = self._suggestions.get(item_id)
        return item_text(item_id, self.view.template.item(item_id).title, a, item_id in self._commented,
                         sug is not None and departs_from(sug.status, a.status), item_id in self._item_approved)

    def _update_sections(self) -> None:
        assert self.view is not None
        progress = self.view.sections
        for sec in self.view.template.sections:
            p = progress[sec.id]
            self._section_items[sec.id].setText(0, f"{sec.id}  {sec.title}   {p.done}/{p.total}")

    def _update_header(self) -> None:
        v = self.view
        if v is None:
            return
        p = v.progress
        self.progress.setMaximum(p.total)
        self.progress.setValue(p.done)
        who = ""
        if v.state is State.SUBMITTED:
            who = f" by {v.submitted_by}"
        elif v.state is State.APPROVED:
            who = f" by {v.approved_by} — locked"
        self.state_label.setText(f"Assessment {v.id} · {v.state.label}{who} · template {v.template.label} · "
                                 f"{v.marking.banner()}")
        notes = []
        if v.newer_template:
            notes.append(f"Template version {v.newer_template[1]} is installed; this assessment stays on "
                         f"v{v.template.version} until you move it.")
        notes += [f"Coverage: {f}" for f in self._coverage_flags]
        if v.state is State.RETURNED:
            notes.append("Returned for changes: see the review comments on the items; your first change moves "
                         "it back to draft.")
        self.notice.setText(" ".join(notes))
        self.notice.setVisible(bool(notes))
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Every workflow button follows app.model.workflow: disabled with the reason as tooltip."""
        v = self.view
        can_assess, can_approve = self.ctx.can(Permission.ASSESS), self.ctx.can(Permission.APPROVE)
        try:
            self.overview = review_overview.overview(self.ctx.session, self.submission_id)
        except FrontierError:
            self.overview = None
        ov = self.overview
        self.start_button.setVisible(v is None and can_assess)
        apply_action(self.start_button, ov, Act.START_ASSESSMENT)
        for b in (self.submit_button, self.approve_button, self.return_button, self.reopen_button,
                  self.migrate_button, self.print_button):
            b.setVisible(v is not None)
        if v is None:
            return
        editable = v.state.editable and can_assess
        self.submit_button.setVisible(can_assess)
        apply_action(self.submit_button, ov, Act.SUBMIT, "Send the completed checklist to a lead for approval")
        self.approve_button.setVisible(can_approve)
        self.return_button.setVisible(can_approve)
        apply_action(self.approve_button, ov, Act.APPROVE, "Review the summary, then approve and lock")
        apply_action(self.return_button, ov, Act.RETURN, "Send it back to the reviewer with comments")
        self.reopen_button.setVisible(can_approve and v.state is State.APPROVED)
        apply_action(self.reopen_button, ov, Act.REOPEN)
        self.migrate_button.setVisible(bool(v.newer_template) and editable)
        editors: list[QWidget] = [self.justification, self.marking, self.expiry, *self.evidence.editors,
                                  self.accept_button, self.override_button, *self.status_group.buttons()]
        for w in editors:
            w.setEnabled(editable)
        review = ov is not None and ov.can(Act.RETURN)
        self.lead_comment.setVisible(review)
        self.approve_item_button.setVisible(review)

    # -- navigation ---------------------------------------------------------------------------------
    def select(self, item_id: str) -> None:
        node = self._tree_items.get(item_id)
        if node is not None:
            self.tree.setCurrentItem(node)

    @Slot(int)
    def step(self, delta: int) -> None:
        if self.view is None or self.current is None:
            return
        self.select(self.view.template.neighbour(self.current, delta))
        # Back to the item list: the next digit sets the next item's status instead of being typed
        # into its justification.
        self.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _tree_changed(self, node: QTreeWidgetItem | None, _prev: QTreeWidgetItem | None) -> None:
        if node is None:
            return
        item_id = node.data(0, ITEM_ROLE)
        if not item_id:
            # A section row: go to its first item.
            first = node.child(0) if node.childCount() else None
            if first is not None:
                self.tree.setCurrentItem(first)
            return
        self.flush()
        self.show_item(str(item_id))

    def show_item(self, item_id: str) -> None:
        assert self.view is not None
        self.current = item_id
        item = self.view.template.item(item_id)
        a = self.view.answer(item_id)
        self._loading = True
        try:
            self.item_title.setText(f"{item.id} — {item.title}")
            self.guidance.setText(item.guidance)
            btn = self.status_group.button(a.status.hotkey)
            if btn is not None:
                btn.setChecked(True)
            self.justification.setPlainText(a.justification)
            self.marking.set_marking(a.marking)
            expiry = a.risk_expiry or self.ctx.today().replace(year=self.ctx.today().year + 1)
            self.expiry.setDate(QDate(expiry.year, expiry.month, expiry.day))
            self.lead_comment.setText(self.pending_comments.get(item_id, ""))
            self._show_answer_state(a)
            self._load_suggestion(item.prefill is not None)
            self._load_lists()
        finally:
            self._loading = False

    def _show_answer_state(self, a: Answer) -> None:
        self.missing.setText(a.missing or "")
        self.missing.setVisible(bool(a.missing))
        risk = a.status is Status.RISK_ACCEPTED
        editable = bool(self.view and self.view.state.editable) and self.ctx.can(Permission.ASSESS)
        self.expiry.setEnabled(risk and editable)
        self.form.setRowVisible(self.risk_row, risk)
        if risk:
            self.risk_state.setText(f"approved by {a.risk_approved_by}" if a.risk_approved_by
                                    else "awaiting a lead's approval")
        else:
            self.risk_state.setText("")
        me = self.ctx.session.account.username
        self.approve_risk_button.setVisible(risk and a.risk_pending and self.ctx.can(Permission.APPROVE)
                                            and a.updated_by != me and self.view is not None
                                            and self.view.state is not State.APPROVED)

    def _load_suggestion(self, bound: bool) -> None:
        self.suggestion = None
        if bound and self.view is not None and self.current is not None:
            try:
                self.suggestion = assessment_suggestions.suggestion(self.ctx.session, self.view.id, self.current)
            except FrontierError as exc:
                self.suggestion_text.setText(f"No suggestion: {exc}")
        self.suggestion_box.setVisible(bound)
        if self.suggestion is not None:
            label = Status(self.suggestion.status).label if self.suggestion.status else "none yet (inputs missing)"
            portion = Marking.parse(self.suggestion.marking).portion()
            self.suggestion_text.setText(f"Suggested status: {label}\n{portion} "
                                         f"{clean_text(self.suggestion.text, 4000)}")
        elif bound:
            self.suggestion_text.setText("No suggestion yet: the rule set's inputs for this item have not been "
                                         "imported (or no rule binds it).")
        complete = self.suggestion is not None and bool(self.suggestion.status)
        self.accept_button.setVisible(complete)
        self.override_button.setVisible(complete)

    def _load_lists(self) -> None:
        assert self.view is not None and self.current is not None
        s, aid, item_id = self.ctx.session, self.view.id, self.current
        self.evidence.show_item(aid, item_id)
        self.discussion_thread.set_target("item", f"{self.submission_id}/{item_id}")
        self.comments_list.clear()
        item_comments = assessment.item_comments(s, aid, item_id)
        for c in item_comments:
            self.comments_list.addItem(f"{c.author} {c.created_at[:16]}: {clean_text(c.comment, 2000)}")
        self.comments_box.setVisible(bool(item_comments) or not self.lead_comment.isHidden())
        self.history_list.clear()
        for h in reversed(assessment.history(s, aid, item_id)):
            what = change_text(h.changes)  # labels, not codes ("Not started → Satisfied")
            why = f" — {clean_text(h.reason, 200)}" if h.reason else ""
            self.history_list.addItem(f"{local_time(h.changed_at)} {h.changed_by}: {what}{why}")

    # -- editing --------------------------------------------------------------------------------------
    def _save(self, **changes: object) -> Answer | None:
        if self.view is None or self.current is None:
            return None
        try:
            a = assessment.answer(self.ctx.session, self.view.id, self.current, **changes)  # type: ignore[arg-type]
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None
        self._after_save(a)
        return a

    def _after_save(self, a: Answer) -> None:
        assert self.view is not None
        self.view.answers[a.item_id] = a
        node = self._tree_items[a.item_id]
        node.setText(0, self._item_label(a.item_id))
        self._update_sections()
        if a.item_id == self.current:
            self._show_answer_state(a)
        if self.view.state is State.RETURNED:
            self.refresh_state()
        else:
            self._update_header()

    def print_checklist(self) -> PrintablePreview | None:
        return open_preview(self.ctx, self, lambda: printables.checklist(self.ctx.session, self.submission_id))

    def refresh_state(self) -> None:
        """Re-read the assessment (state may have moved, e.g. returned -> draft) keeping the position."""
        self.view = assessment.for_submission(self.ctx.session, self.submission_id)
        self._update_header()

    @Slot(int)
    def set_status_by_hotkey(self, n: int) -> None:
        if self.view is None or self.current is None or not self.view.state.editable:
            return
        status = list(Status)[n - 1]
        self.flush()
        sug = self._suggestions.get(self.current)
        if sug is not None and departs_from(sug.status, status) and status is not self.view.answer(self.current).status:
            # Departing from the rule set's suggestion is an override: it needs a reason (asked here).
            self._override_to(status)
            return
        changes: dict[str, object] = {"status": status}
        if status is Status.RISK_ACCEPTED:
            d = self.expiry.date()
            changes["risk_expiry"] = date(d.year(), d.month(), d.day())
        a = self._save(**changes)
        btn = self.status_group.button((a or self.view.answer(self.current)).status.hotkey)
        if btn is not None:
            btn.setChecked(True)
        if a is not None and a.missing and status.needs_justification:
            self.justification.setFocus()

    def _justification_edited(self) -> None:
        if not self._loading:
            self.autosave.start()

    def flush(self) -> None:
        """Save a pending justification edit now (autosave timer, navigation, leaving the screen)."""
        if not self.autosave.isActive() and not self._dirty_justification():
            return
        self.autosave.stop()
        if self._dirty_justification():
            self._save(justification=self.justification.toPlainText())

    def _dirty_justification(self) -> bool:
        if self.view is None or self.current is None or not self.view.state.editable:
            return False
        return self.justification.toPlainText() != self.view.answer(self.current).justification

    def _marking_changed(self, marking: Marking) -> None:
        if not self._loading and self.view is not None and self.current is not None:
            floor = self.view.answer(self.current).marking
            if marking != floor:
                why = ask_lower_reason(self, self.ctx.ask_text, floor, marking, f"The answer to {self.current}")
                if why is None:  # kept: show the marking it still has
                    self.marking.set_marking(floor)
                    return
                self._save(marking=marking, lower_reason=why)

    def _expiry_changed(self, d: QDate) -> None:
        if self._loading or self.view is None or self.current is None:
            return
        if self.view.answer(self.current).status is Status.RISK_ACCEPTED:
            self._save(risk_expiry=date(d.year(), d.month(), d.day()))

    def _lead_comment_edited(self, text: str) -> None:
        if self.current is not None:
            self.pending_comments[self.current] = text

    def hideEvent(self, event: object) -> None:
        self.flush()
        super().hideEvent(event)  # type: ignore[arg-type]

    # -- suggestions and risk ------------------------------------------------------------------------
    def accept_suggestion(self) -> None:
        self._decide(True)

    def override_suggestion(self) -> None:
        if self.suggestion is None:
            return
        current = self.view.answer(self.current).status if self.view and self.current else Status.IN_PROGRESS
        status = current if current.complete and current.value != self.suggestion.status else (
            Status.SATISFIED if self.suggestion.status == Status.NOT_SATISFIED.value else Status.NOT_SATISFIED)
        self._override_to(status)

    def _override_to(self, status: Status) -> None:
        sug = self.suggestion or (self._suggestions.get(self.current) if self.current else None)
        if sug is None or self.view is None or self.current is None:
            return
        reason = self.ask_text("Override suggestion",
                               f"The rule set suggests '{Status(sug.status).label}'. Why is the answer "
                               f"'{status.label}'? (recorded with the answer)")
        if reason is None or not reason.strip():
            btn = self.status_group.button(self.view.answer(self.current).status.hotkey)
            if btn is not None:
                btn.setChecked(True)
            return
        self._decide(False, status, reason)

    def _decide(self, accept: bool, status: Status | None = None, reason: str = "") -> None:
        if self.view is None or self.current is None:
            return
        self.flush()
        try:
            a = assessment_suggestions.decide_suggestion(self.ctx.session, self.view.id, self.current, accept, status,
                                                         reason)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._after_save(a)
        self.show_item(self.current)

    def approve_risk(self) -> None:
        if self.view is None or self.current is None:
            return
        try:
            a = assessment.approve_risk(self.ctx.session, self.view.id, self.current)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._after_save(a)
        self.show_item(self.current)

    def approve_item(self) -> None:
        if self.view is None or self.current is None:
            return
        try:
            assessment_review.approve_item(self.ctx.session, self.view.id, self.current)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._item_approved.add(self.current)
        self._tree_items[self.current].setText(0, self._item_label(self.current))
        self.ctx.events.status_message.emit(f"{self.current} approved")
        self.step(1)

    # -- evidence ------------------------------------------------------------------------------------
    def _evidence_changed(self) -> None:
        if self.view is not None:
            self.view = assessment.get(self.ctx.session, self.view.id)
            if self.current is not None:
                self._load_lists()
            self._update_header()

    # -- workflow ------------------------------------------------------------------------------------
    def _workflow(self, fn: Callable[[], object], message: str) -> None:
        self.flush()
        try:
            fn()
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.ctx.events.status_message.emit(message)
        self.refresh()

    def start(self) -> None:
        self._workflow(lambda: assessment.start(self.ctx.session, self.submission_id), "Assessment started")

    def submit(self) -> None:
        if self.view is not None:
            view = self.view
            self._workflow(lambda: assessment_review.submit(self.ctx.session, view.id),
                           "Submitted for a lead's approval")

    def approve(self) -> None:
        if self.view is None:
            return
        view = self.view
        try:
            summary = assessment_review.approval_summary(self.ctx.session, view.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        if not self.ctx.confirm(self, "Approve assessment",
                                "You are approving:\n\n" + str(summary) + "\n\nApprove and lock this assessment? "
                                "Reopening later is a recorded action.", "Approve"):
            return
        self._workflow(lambda: assessment_review.approve(self.ctx.session, view.id), "Assessment approved and locked")

    def return_for_changes(self) -> None:
        if self.view is None:
            return
        view = self.view
        comment = self.ask_text("Return for changes", "What must change? (item comments typed on items are "
                                "sent too)")
        if comment is None:
            return
        items = {k: v for k, v in self.pending_comments.items() if v.strip()}

        def do() -> None:
            assessment_review.return_for_changes(self.ctx.session, view.id, comment, items)
            self.pending_comments.clear()

        self._workflow(do, "Returned to the reviewer")

    def reopen(self) -> None:
        if self.view is None:
            return
        view = self.view
        reason = self.ask_text("Reopen approved assessment", "Why is it reopened? (recorded in the audit log)")
        if reason is None:
            return
        self._workflow(lambda: assessment_review.reopen(self.ctx.session, view.id, reason), "Assessment reopened")

    def migrate(self) -> None:
        if self.view is None or not self.view.newer_template:
            return
        view, newer = self.view, self.view.newer_template
        if not self.ctx.confirm(self, "Move to newer template",
                                f"Move this assessment from {view.template.label} to version "
                                f"{newer[1]}? Answers carry over where item ids match.", "Move"):
            return
        changes: list[str] = []

        def do() -> None:
            changes.extend(str(c) for c in assessment.migrate_template(self.ctx.session, view.id))

        self._workflow(do, "Moved to the newer template")
        if changes:
            self.notice.setText("Template changes: " + "; ".join(changes))
            self.notice.setVisible(True)
