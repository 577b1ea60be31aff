"""The Release tab of a submission (issue 16, points 2, 3 and 7): build a releasable version for a
partner (or, first-class, for the submitting developer), compare the full and the released text
side by side, approve it as releasing official, and export it sealed to the partner.

The tab draws only; app.services.releases decides what is withheld, who may approve (a lead who did
not build it) and what may be exported. The side-by-side is filled through QTextCursor with plain
text and character formats (never HTML), so report text is never interpreted as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.partners import Partner
from app.model.release import Line
from app.model.release_record import StoredRelease
from app.services import partners, releases
from app.services.releases import ExportOutcome, SideBySide
from ui.banner import ClassificationBanner
from ui.context import UiContext
from ui.screens.report_screen import _choose_export
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.sortable_table import SortableTable

COLUMNS = ["Control number", "Partner", "State", "Marking", "Withheld", "Built by", "Approved by"]
WITHHELD_GREY = "#8a8a8a"


class TextPane(QWidget):
    """One side of the side-by-side: banners at its own marking around read-only portion text."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel(title)
        self.caption.setObjectName("sectionTitle")
        self.top = ClassificationBanner("UNCLASSIFIED")
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setAcceptRichText(False)
        self.bottom = ClassificationBanner("UNCLASSIFIED")
        for w in (self.caption, self.top, self.text, self.bottom):
            layout.addWidget(w, 1 if w is self.text else 0)

    def show_lines(self, marking: Marking, lines: tuple[Line, ...], strike_withheld: bool) -> None:
        self.top.set_marking(marking.banner())
        self.bottom.set_marking(marking.banner())
        self.text.clear()
        cursor = QTextCursor(self.text.document())
        first_withheld = -1
        normal, mark, struck, why = QTextCharFormat(), QTextCharFormat(), QTextCharFormat(), QTextCharFormat()
        mark.setFontWeight(600)
        struck.setFontStrikeOut(True)
        struck.setForeground(QColor(WITHHELD_GREY))
        why.setForeground(QColor(WITHHELD_GREY))
        why.setFontItalic(True)
        for i, line in enumerate(lines):
            if i:
                cursor.insertBlock()
            withheld = strike_withheld and line.withheld
            if withheld and first_withheld < 0:
                first_withheld = cursor.position()
            cursor.insertText(f"{line.marking.portion()} ", struck if withheld else mark)
            cursor.insertText(f"[{line.section}] {line.text}", struck if withheld else normal)
            if withheld:
                cursor.insertText(f"  — withheld: {'; '.join(line.reasons)}", why)
        # Open at the first withheld portion: what the releasing official has to look at.
        # (from the end upwards, so that portion lands at the top of the view)
        self.text.moveCursor(QTextCursor.MoveOperation.End)
        self.text.ensureCursorVisible()
        start = QTextCursor(self.text.document())
        start.setPosition(max(first_withheld, 0))
        self.text.setTextCursor(start)
        self.text.ensureCursorVisible()

    def clear(self) -> None:
        self.text.clear()
        self.top.set_marking("UNCLASSIFIED")
        self.bottom.set_marking("UNCLASSIFIED")


class ReleaseTab(QWidget):
    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.rows: list[StoredRelease] = []
        self.partners: list[Partner] = []
        self.current: StoredRelease | None = None
        self.side: SideBySide | None = None
        self.last_export: ExportOutcome | None = None
        # Replaced in tests: the real one opens a native folder dialog.
        self.choose_export: Callable[[QWidget, str], tuple[Path, str] | None] = _choose_export

        layout = QVBoxLayout(self)
        bar = FlowLayout()
        bar.addWidget(QLabel("Partner"))
        self.partner_box = QComboBox()
        self.partner_box.setObjectName("partnerChooser")
        self.partner_box.setToolTip("Partners come from the partner register (an administrator keeps it)")
        bar.addWidget(self.partner_box)
        self.build_button = QPushButton("Build release…")
        self.build_button.setToolTip("Compute what this partner may receive, render and sign it (asks your "
                                     "passphrase)")
        self.build_button.clicked.connect(self.build)
        self.developer_button = QPushButton("Release to developer…")
        self.developer_button.setObjectName("primary")
        self.developer_button.setToolTip("Build the release for the developer that submitted this model")
        self.developer_button.clicked.connect(self.build_for_developer)
        for b in (self.build_button, self.developer_button):
            b.setVisible(ctx.can(Permission.ASSESS))
            bar.addWidget(b)
        bar.addStretch(1)
        self.approve_button = QPushButton("Approve…")
        self.approve_button.clicked.connect(self.approve)
        self.approve_button.setVisible(ctx.can(Permission.APPROVE))
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export)
        self.export_button.setVisible(ctx.can(Permission.EXPORT))
        bar.addWidget(self.approve_button)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)

        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("releasesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMaximumHeight(160)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table)
        self.info = QLabel("Build a release, or select one to compare the full and the released text.")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info)

        row = QHBoxLayout()
        split = QSplitter(Qt.Orientation.Horizontal)
        self.full_pane = TextPane("Full report (withheld portions struck through, with the reason)")
        self.released_pane = TextPane("Release (what the partner receives)")
        split.addWidget(self.full_pane)
        split.addWidget(self.released_pane)
        row.addWidget(split)
        layout.addLayout(row, 1)
        self.refresh()

    # -- data --------------------------------------------------------------------------------

    def refresh(self) -> None:
        selected = self.current.id if self.current else None
        try:
            self.partners = [p for p in partners.list_all(self.ctx.session) if p.active]
            self.rows = releases.list_releases(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        chosen = self.partner_box.currentText()
        self.partner_box.clear()
        for p in self.partners:
            self.partner_box.addItem(f"{p.name} ({p.kind.value}; up to {p.max_level.banner_word})", p.id)
        if chosen:
            self.partner_box.setCurrentText(chosen)
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            values = [r.control_number, r.partner_name + (" (developer)" if r.own else ""), r.state, r.marking,
                      str(r.withheld.get("total", 0)), r.built_by, r.approved_by or ""]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.table.setItem(i, col, item)
        self.table.blockSignals(False)
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def select(self, release_id: int) -> None:
        for i, r in enumerate(self.rows):
            if r.id == release_id:
                self.table.selectRow(self.table.view_row(i))
                self._show(r)
                return

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._show(self.rows[self.table.source_row(rows[0].row())])

    def _show(self, row: StoredRelease) -> None:
        try:
            self.side = releases.side_by_side(self.ctx.session, row.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.current = self.side.release
        self.full_pane.show_lines(self.side.full_marking, self.side.full, True)
        self.released_pane.show_lines(self.side.released_marking, self.side.released, False)
        w = row.withheld
        sections = ", ".join(f"{s} {n}" for s, n in w.get("sections", {}).items()) or "nothing"
        reasons = ", ".join(f"{s} {n}" for s, n in w.get("reasons", {}).items())
        who = row.partner_name + (" (the submitting developer)" if row.own else "")
        self.info.setText(f"{row.control_number} for {who} · {row.state} · marked {row.marking}\n"
                          f"Withheld: {w.get('total', 0)} portions "
                          f"({sections}){' · because ' + reasons if reasons else ''}\nBuilt by {row.built_by}"
                          f"{' · approved by ' + row.approved_by if row.approved_by else ''}"
                          f"{' · exported to ' + row.export_path if row.export_path else ''}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        try:
            why = releases.build_problem(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            why = str(exc)
        if why is None and self.partner_box.count() == 0:
            why = "no partner in the register yet: an administrator adds partners first"
        self.build_button.setEnabled(why is None)
        self.developer_button.setEnabled(why is None)
        self.build_button.setToolTip("Compute what this partner may receive, render and sign it (asks your "
                                     "passphrase)" if why is None else f"Not possible: {why}")
        self.developer_button.setToolTip("Build the release for the developer that submitted this model"
                                         if why is None else f"Not possible: {why}")
        row = self.current
        problem = "select a release first" if row is None else releases.approve_problem(self.ctx.session, row.id)
        self.approve_button.setEnabled(problem is None)
        self.approve_button.setToolTip("Approve and countersign after comparing both texts (asks your passphrase)"
                                       if problem is None else f"Not possible: {problem}")
        ok = row is not None and row.state == "approved"
        self.export_button.setEnabled(ok)
        self.export_button.setToolTip("Write the release, signed and sealed to the partner, to labelled media"
                                      if ok else "Only an approved release is exported")

    # -- actions -----------------------------------------------------------------------------

    def _run_build(self, partner_id: int | None, what: str) -> None:
        passphrase = self.ctx.ask_passphrase(self, f"Build the release {what}: enter your passphrase again")
        if passphrase is None:
            return
        session, sid = self.ctx.session, self.submission_id

        def work(progress, cancel) -> StoredRelease:  # type: ignore[no-untyped-def]
            if partner_id is None:
                return releases.build_for_developer(session, sid, passphrase, progress=progress)
            return releases.build(session, sid, partner_id, passphrase, progress=progress)

        self.ctx.jobs.run(work, self._built, lambda exc: self.ctx.show_error(self, exc), label="Building release",
                          parent=self)

    def build(self) -> None:
        pid = self.partner_box.currentData()
        if pid is None:
            return
        self._run_build(int(pid), f"for {self.partner_box.currentText()}")

    def build_for_developer(self) -> None:
        try:  # the developer must be in the partner register: said before the passphrase is asked
            developer = releases.developer_partner(self.ctx.session, self.submission_id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._run_build(None, f"for the submitting developer, {developer.name}")

    def _built(self, row: StoredRelease) -> None:
        self.current = row
        self.refresh()
        self.select(row.id)
        self.ctx.events.status_message.emit(f"Release {row.control_number} built for {row.partner_name}")

    def approve(self) -> None:
        row = self.current
        if row is None:
            return
        passphrase = self.ctx.ask_passphrase(self, f"Approve release {row.control_number} to {row.partner_name} "
                                                   "(you compared both texts): enter your passphrase again")
        if passphrase is None:
            return
        # Key derivation and the countersignature take seconds: a job, the passphrase asked first.
        session, rid = self.ctx.session, row.id
        self.ctx.jobs.run(lambda _p, _c: releases.approve(session, rid, passphrase), self._approved,
                          lambda exc: self.ctx.show_error(self, exc),
                          label=f"Approving release {row.control_number}…", parent=self, cancellable=False)

    def _approved(self, row: StoredRelease) -> None:
        self.current = row
        self.refresh()

    def export(self) -> None:
        row = self.current
        if row is None:
            return
        choice = self.choose_export(self, row.marking)
        if choice is None:
            return
        folder, label = choice
        passphrase = self.ctx.ask_passphrase(self, f"Export release {row.control_number} to {folder}: enter your "
                                                   "passphrase again")
        if passphrase is None:
            return
        session, rid = self.ctx.session, row.id
        self.ctx.jobs.run(lambda _p, _c: releases.export(session, rid, folder, label, passphrase), self._exported,
                          lambda exc: self.ctx.show_error(self, exc),
                          label=f"Sealing release {row.control_number} to {row.partner_name}…", parent=self,
                          cancellable=False)

    def _exported(self, outcome: ExportOutcome) -> None:
        self.last_export = outcome
        self.current = outcome.release
        self.refresh()
        self.ctx.events.status_message.emit(f"Release {outcome.release.control_number} sealed to "
                                            f"{outcome.release.partner_name} in {outcome.sealed.path}")
