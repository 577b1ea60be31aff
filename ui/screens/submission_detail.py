"""One submission: a header (name, marking, review clock) over a registry of tabs.

Other engineers add their tab with one line in SUBMISSION_TABS. A tab factory receives
(ctx, submission_id) and returns a QWidget; tabs are built when first shown, and an optional
`refresh()` is called each time the tab is shown again or the submission changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.submissions import Submission, WindowState
from app.services import submission_signatures, submissions
from ui import theme
from ui.context import UiContext, resolve
from ui.theme import STATE_COLOURS
from ui.widgets.signature_state import SignatureState
from ui.widgets.workflow_hint import NextStepLabel


@dataclass(frozen=True)
class TabSpec:
    title: str
    factory: str | Callable[[UiContext, int], QWidget]  # "ui.screens.module:Class" or a callable
    permission: Permission | None = Permission.VIEW_CONTENT


SUBMISSION_TABS: list[TabSpec] = [
    TabSpec("Overview", "ui.screens.submission_editor:SubmissionEditor"),
    TabSpec("Artifacts", "ui.screens.artifacts:ArtifactsTab"),
    TabSpec("History", "ui.screens.history_tab:HistoryTab"),
    TabSpec("Results", "ui.screens.results_tab:ResultsTab"),
    TabSpec("Assessment", "ui.screens.assessment_screen:AssessmentScreen"),
    TabSpec("Coverage", "ui.screens.coverage_screen:CoverageScreen"),
    TabSpec("Findings", "ui.screens.findings_screen:FindingsScreen"),
    TabSpec("Narrative", "ui.screens.narrative_screen:NarrativeScreen"),
    TabSpec("Report", "ui.screens.report_screen:ReportTab"),
    TabSpec("Release", "ui.screens.release_tab:ReleaseTab"),
    TabSpec("Team", "ui.screens.team_tab:TeamTab"),
]

def plan_text(ctx: UiContext, submission_id: int) -> str:
    """Progress against the submission's evaluation plan (planned, imported, conforming, missing)."""
    from app.services import benchmarks

    try:
        view = benchmarks.plan(ctx.session, submission_id)
    except FrontierError as exc:
        return f"Evaluation plan unavailable: {exc}"
    if not view.items:
        return "Evaluation plan: no benchmark planned"
    # a no-break space: a wrapped line never leaves a version alone at the start of the next
    missing = [f"{i.benchmark_id}\u00a0v{i.version}" for i in view.items if not i.runs]
    return (f"Evaluation plan: {view.progress_text}"
            + (f" · missing: {', '.join(missing)}" if missing else ""))


def countdown_text(sub: Submission, state: WindowState, days: int, stage: str = "") -> str:
    if state is WindowState.DONE:
        return f"{(stage or sub.status.value).capitalize()} — review clock stopped"
    if days < 0:
        return f"Overdue by {-days} day{'s' if days != -1 else ''} (release was {sub.planned_release.isoformat()})"
    if days == 0:
        return "Public release is today"
    return f"{days} day{'s' if days != 1 else ''} to public release ({sub.planned_release.isoformat()})"


class SubmissionDetail(QWidget):
    close_requested = Signal()

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.submission = submissions.get(ctx.session, submission_id)
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        text = QVBoxLayout()
        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.clock = QLabel()
        self.clock.setObjectName("countdown")
        self.next_step = NextStepLabel(ctx, submission_id)
        text.addWidget(self.heading)
        text.addWidget(self.clock)
        text.addWidget(self.next_step)
        self.plan_label = QLabel()
        self.plan_label.setObjectName("planProgress")
        self.plan_label.setTextFormat(Qt.TextFormat.PlainText)
        self.plan_label.setWordWrap(True)  # the list of missing benchmarks must not widen the window
        text.addWidget(self.plan_label)
        # quiet while it holds; a submission edited around the application says so at the top of its page
        self.signature = SignatureState(
            ctx, submission_signatures.standing(ctx.session, submission_id), f"submission {submission_id}",
            "New work about it starts at the marking its editors signed, and no report or release about it is "
            "signed, until a person who edits submissions reviews it and signs it.",
            ctx.can(Permission.EDIT_SUBMISSIONS),
            lambda shown: submission_signatures.sign_reviewed(ctx.session, submission_id, shown.problem), quiet=True)
        text.addWidget(self.signature)
        header.addLayout(text, 1)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Remove this submission from the register (kept in the audit trail)")
        self.delete_button.setVisible(ctx.can(Permission.EDIT_SUBMISSIONS))
        self.delete_button.clicked.connect(self.delete)
        header.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignTop)
        close = QPushButton("Close")
        close.setToolTip("Close this submission's page")
        close.clicked.connect(self.request_close)
        header.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("submissionTabs")
        self.factories: list[Callable[..., QWidget]] = []
        self.built: dict[int, QWidget] = {}
        for spec in SUBMISSION_TABS:
            if spec.permission is not None and not ctx.can(spec.permission):
                continue
            self.factories.append(resolve(spec.factory))
            placeholder = QWidget()  # replaced by the real tab when first shown
            self.tabs.addTab(placeholder, spec.title)
        layout.addWidget(self.tabs, 1)
        self.tabs.currentChanged.connect(self._tab_changed)
        ctx.events.submission_changed.connect(self._submission_changed)
        self._update_header()
        self._tab_changed(self.tabs.currentIndex())

    @Slot()
    def request_close(self) -> bool:
        """Close, after Save / Discard / Cancel for any tab holding edits."""
        if not self.ctx.settle(self):
            return False
        self.close_requested.emit()
        return True

    def title(self) -> str:
        return f"{self.marking.portion()} {self.submission.display_name}"

    def short_title(self) -> str:
        name = self.submission.display_name
        return name if len(name) <= 24 else name[:23] + "…"

    def tab(self, title: str) -> QWidget:
        """The tab widget with this title (built if needed): used by tests and deep links."""
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i) == title:
                self.tabs.setCurrentIndex(i)
                return self.built[i]
        raise KeyError(title)

    def _update_header(self) -> None:
        sub = self.submission
        # never a lowered row's marking: what its editors signed (app/services/submission_signatures.py)
        self.marking = submission_signatures.shown_marking(self.ctx.session, self.submission_id)
        today = self.ctx.today()
        overview = self.next_step.refresh()
        stage = overview.stage if overview is not None else None
        state = sub.window_state(today, self.ctx.session.settings.at_risk_days, stage)
        days = sub.days_remaining(today)
        self.heading.setText(self.title())
        label = stage.label if stage is not None else sub.status.value
        self.clock.setText(f"{state.value.upper()} · {countdown_text(sub, state, days, label)} · stage: {label}")
        self.clock.setStyleSheet(theme.coloured(STATE_COLOURS[state]))
        self.plan_label.setText(plan_text(self.ctx, self.submission_id))
        self.signature.show_standing(submission_signatures.standing(self.ctx.session, self.submission_id))

    @Slot(int)
    def _tab_changed(self, index: int) -> None:
        if index < 0:
            return
        if index not in self.built:
            try:
                widget = self.factories[index](self.ctx, self.submission_id)
            except Exception as exc:  # one broken tab must not take the page down
                self.ctx.show_error(self, exc)
                return
            title = self.tabs.tabText(index)
            old = self.tabs.widget(index)
            self.tabs.blockSignals(True)
            self.tabs.removeTab(index)
            # In a scroll area: a tall tab scrolls on a small screen instead of growing the window.
            host = QScrollArea()
            host.setWidgetResizable(True)
            host.setFrameShape(QFrame.Shape.NoFrame)
            self.tabs.insertTab(index, host, title)  # empty first: the built tab is reparented once
            host.setWidget(widget)
            self.tabs.setCurrentIndex(index)
            self.tabs.blockSignals(False)
            if old is not None:
                old.deleteLater()
            self.built[index] = widget
        else:
            self._refresh_tab(self.built[index])

    def _refresh_tab(self, widget: QWidget) -> None:
        refresh = getattr(widget, "refresh", None)
        if callable(refresh):
            try:
                refresh()
            except FrontierError as exc:
                self.ctx.show_error(self, exc)

    @Slot(int)
    def _submission_changed(self, submission_id: int) -> None:
        if submission_id != self.submission_id:
            return
        try:
            self.submission = submissions.get(self.ctx.session, submission_id)
        except FrontierError:
            return
        self._update_header()

    def refresh(self) -> None:
        self.submission = submissions.get(self.ctx.session, self.submission_id)
        self._update_header()
        current = self.built.get(self.tabs.currentIndex())
        if current is not None:
            self._refresh_tab(current)

    @Slot()
    def delete(self) -> bool:
        name = self.submission.display_name
        reason = self.ctx.ask_text(self, "Delete submission", f"Why is '{name}' being deleted? (recorded in the "
                                   "audit trail)")
        if reason is None:
            return False
        if not self.ctx.confirm(self, "Delete submission", f"Delete '{name}' from the register?", "Delete"):
            return False
        try:
            submissions.delete(self.ctx.session, self.submission_id, reason)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.close_requested.emit()
        return True

