"""Vulnerability register screen: windowed, sortable table with filters; CSAF export and import.

The table model fetches rows a page at a time from app.services (count + keyed pages), so a large
register never loads whole. Imports show the preview (diff and conflicts) before anything changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.vulnerabilities import CvssSeverity, Filters, VulnStatus
from app.services import csaf_exchange, csaf_merge, egress, printables
from app.services import vulnerabilities as vs
from app.services.csaf_merge import ActionKind, ImportPreview, ImportResult
from ui import theme
from ui.banner import add_banners, window_marking
from ui.context import UiContext
from ui.dialogs.csaf_export_dialog import CsafExportDialog, ExportRequest
from ui.dialogs.printable_preview import PrintablePreview, open_preview
from ui.errors import sanitize
from ui.models.paged_model import reload_keeping_selection
from ui.models.vulns_model import COLUMN_WIDTHS, HIDDEN_AT_START, ID_ROLE, TITLE_COLUMN, VulnTableModel
from ui.vuln_editor import VulnEditor
from ui.widgets import column_chooser, column_fit
from ui.widgets.flow_layout import FlowLayout


class VulnerabilitiesScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.model = VulnTableModel(ctx.session)
        self.last_export: csaf_exchange.ExportResult | None = None

        filters = FlowLayout()  # wraps instead of widening the window
        self.severity = QComboBox()
        self.severity.setObjectName("severityFilter")
        self.severity.addItem("Any severity", ())
        self.severity.addItem("High and above", (CvssSeverity.CRITICAL, CvssSeverity.HIGH))
        for s in reversed(list(CvssSeverity)):
            self.severity.addItem(s.value, (s,))
        self.status = QComboBox()
        self.status.setObjectName("statusFilter")
        self.status.addItem("Any status", ())
        for st in VulnStatus:
            self.status.addItem(st.value, (st,))
        self.embargo_soon = QCheckBox("Embargo ends within")
        self.embargo_soon.setObjectName("embargoSoon")
        self.embargo_days = QSpinBox()
        self.embargo_days.setRange(0, 365)
        self.embargo_days.setValue(7)
        self.embargo_days.setSuffix(" days")
        self.embargo_days.setAccessibleName("Embargo ends within (days)")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search id, title, vendor, product, CVE, CWE")
        self.search.setClearButtonEnabled(True)
        for w in (QLabel("Severity"), self.severity, QLabel("Status"), self.status, self.embargo_soon,
                  self.embargo_days):
            filters.addWidget(w)
        filters.addWidget(self.search, 1)

        buttons = FlowLayout()
        self.new_button = QPushButton("New vulnerability…")
        self.edit_button = QPushButton("Edit…")
        self.history_button = QPushButton("History…")
        self.export_button = QPushButton("Export CSAF…")
        self.import_button = QPushButton("Import CSAF…")
        self.import_package_button = QPushButton("Import package…")
        self.import_package_button.setToolTip("A signed export package (verified before anything is read)")
        self.print_button = QPushButton("Print register…")
        self.print_button.setToolTip("Preview the register as filtered here as a marked document; print it or save "
                                     "it as a PDF (printer and media labels checked)")
        for b in (self.new_button, self.edit_button, self.history_button, self.export_button, self.import_button,
                  self.import_package_button, self.print_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.summary = QLabel()
        self.summary.setObjectName("vulnSummary")
        buttons.addWidget(self.summary)
        manage = ctx.can(Permission.MANAGE_VULNS)
        for b in (self.new_button, self.edit_button, self.import_button, self.import_package_button):
            b.setEnabled(manage)
        self.export_button.setEnabled(manage and ctx.can(Permission.EXPORT))

        self.table = QTableView()
        self.table.setObjectName("vulnTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Fixed widths: sizing to contents would fetch every page of the windowed model.
        for col, width in enumerate(COLUMN_WIDTHS):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(TITLE_COLUMN, QHeaderView.ResizeMode.Stretch)
        column_fit.titles_fit(self.table)  # "Embargo until" in the theme's bold header font
        column_chooser.install(self.table, HIDDEN_AT_START)
        self.table.activated.connect(lambda _i: self.edit_selected())  # double-click or Enter

        layout = QVBoxLayout(self)
        title = QLabel("Vulnerability register — AI cybersecurity clearinghouse")
        title.setStyleSheet(theme.REGISTER_TITLE)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)

        self.severity.currentIndexChanged.connect(self.apply_filters)
        self.status.currentIndexChanged.connect(self.apply_filters)
        self.embargo_soon.toggled.connect(self.apply_filters)
        self.embargo_days.valueChanged.connect(self.apply_filters)
        self.search.textChanged.connect(self.apply_filters)
        self.new_button.clicked.connect(self.new_vulnerability)
        self.edit_button.clicked.connect(self.edit_selected)
        self.history_button.clicked.connect(self.show_history)
        self.export_button.clicked.connect(self._choose_export_folder)
        self.import_button.clicked.connect(self._choose_import_files)
        self.import_package_button.clicked.connect(self._choose_import_package)
        self.print_button.clicked.connect(self.print_register)
        self._update_summary()

    # -- filters ---------------------------------------------------------------------------
    def current_filters(self) -> Filters:
        return vs.filters(
            self.ctx.session, self.severity.currentData() or (), self.status.currentData() or (),
            self.embargo_days.value() if self.embargo_soon.isChecked() else None, self.search.text(),
        )

    def print_register(self) -> PrintablePreview | None:
        return open_preview(self.ctx, self, lambda: printables.vulnerability_register(
            self.ctx.session, self.current_filters(), self.summary.text()))

    @Slot()
    def apply_filters(self, *_: Any) -> None:
        try:
            self.model.soon_days = self.embargo_days.value()
            self.model.set_filters(self.current_filters())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
        self._update_summary()

    def refresh(self) -> None:
        reload_keeping_selection(self.table, self.model, self.model.reload)  # an edited row stays selected
        self._update_summary()

    def _update_summary(self) -> None:
        total = vs.count(self.ctx.session)
        soon = vs.count(self.ctx.session, vs.filters(self.ctx.session, embargo_within_days=self.embargo_days.value(),
                                                     open_only=True))
        self.summary.setText(f"{self.model.rowCount()} shown of {total} · {soon} open embargo(es) end within "
                             f"{self.embargo_days.value()} days")

    # -- selection / editing ---------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.data(self.model.index(r, 0), ID_ROLE) for r in rows]

    def editor_for(self, vid: str | None) -> VulnEditor:
        vuln = vs.get(self.ctx.session, vid) if vid else None
        editor = VulnEditor(self.ctx, vuln, self)
        editor.saved.connect(lambda _v: self.refresh())
        editor.signed.connect(lambda _vid: self.refresh())
        return editor

    def _open(self, editor: VulnEditor) -> VulnEditor:
        """Window-modal but not exec(): a lock hides the editor with its typed work and shows it again."""
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.setWindowModality(Qt.WindowModality.WindowModal)
        editor.open()
        return editor

    @Slot()
    def new_vulnerability(self) -> VulnEditor:
        return self._open(self.editor_for(None))

    @Slot()
    def edit_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        try:
            self._open(self.editor_for(ids[0]))
        except FrontierError as exc:
            self.ctx.show_error(self, exc)

    @Slot()
    def show_history(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        try:
            entries = vs.history(self.ctx.session, ids[0])
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        lines = []
        for h in entries:
            lines.append(f"r{h.revision}  {h.ts[:19].replace('T', ' ')}  {h.actor}  {h.action}")
            for name, change in h.changes.items():
                if name == "_event":
                    lines.append(f"    {change[1]}")
                else:
                    lines.append(f"    {name}: {str(change[0])[:120]!s} -> {str(change[1])[:120]!s}")
        dialog = QDialog(self)
        dialog.setWindowTitle(f"History of {ids[0]}")
        text = QPlainTextEdit(sanitize("\n".join(lines), 200_000))
        text.setReadOnly(True)
        lay = QVBoxLayout(dialog)
        lay.addWidget(text)
        dialog.resize(800, 500)
        dialog.exec()

    # -- CSAF exchange ---------------------------------------------------------------------
    @Slot()
    def _choose_export_folder(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.ctx.events.status_message.emit("Select the vulnerabilities to export first.")
            return
        try:
            dialog = CsafExportDialog(self.ctx, ids, self)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.run_export(dialog.request())

    def run_export(self, request: ExportRequest | None) -> None:
        """Carry out what the export dialog asked for."""
        if request is None:
            return
        ids = list(request.vuln_ids)
        if request.package:
            self.export_package(request.folder, request.media_label, request.recipient, request.override_reason, ids)
        else:
            try:
                media = Marking.parse(request.media_label)
            except FrontierError as exc:
                self.ctx.show_error(self, exc)
                return
            self.export_selected(request.folder, media, request.recipient, request.override_reason, ids)

    def export_package(self, folder: Path, media_label: str, recipient: str, override_reason: str = "",
                       ids: list[str] | None = None) -> None:
        """Signed-manifest package, as report exports: asks for the passphrase to sign the manifest."""
        ids = ids or self.selected_ids()
        passphrase = self.ctx.ask_passphrase(self, "Sign the CSAF package manifest")
        if not passphrase:
            return
        session = self.ctx.session

        def work(progress: Any, cancel: Any) -> csaf_exchange.ExportResult:
            return csaf_exchange.export_csaf_package(session, ids, folder, media_label, passphrase, progress=progress,
                                                     cancel=cancel, recipient=recipient,
                                                     override_reason=override_reason)

        def done(result: csaf_exchange.ExportResult) -> None:
            self.last_export = result
            self.ctx.events.status_message.emit(f"Wrote signed CSAF package {result.folder}")
            self.refresh()

        self.ctx.jobs.run(work, done, lambda exc: self.ctx.show_error(self, exc), label="Exporting CSAF",
                          parent=self)

    def export_selected(self, folder: Path, media_marking: Marking | None, recipient: str,
                        override_reason: str = "", ids: list[str] | None = None) -> None:
        ids = ids or self.selected_ids()
        session = self.ctx.session

        def work(progress: Any, cancel: Any) -> csaf_exchange.ExportResult:
            return csaf_exchange.export_csaf(session, ids, folder, media_marking=media_marking, progress=progress,
                                             cancel=cancel, recipient=recipient, override_reason=override_reason)

        def done(result: csaf_exchange.ExportResult) -> None:
            self.last_export = result
            self.ctx.events.status_message.emit(f"Wrote {len(result.files)} CSAF advisory file(s) to {folder}")
            self.refresh()

        self.ctx.jobs.run(work, done, lambda exc: self.ctx.show_error(self, exc), label="Exporting CSAF",
                          parent=self)

    @Slot()
    def _choose_import_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import CSAF advisories", "", "CSAF JSON (*.json)")
        media = self.ask_media_label() if paths else None
        if paths and media is not None:
            self.preview_import([Path(p) for p in paths], media)

    @Slot()
    def _choose_import_package(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a signed CSAF package")
        media = self.ask_media_label() if folder else None
        if folder and media is not None:
            self.preview_import([Path(folder)], media)

    def ask_media_label(self) -> Marking | None:
        """How the media the advisories came on is labelled, as the person says (never assumed): it
        marks every advisory that states no marking of its own. None when cancelled or unreadable."""
        answer = self.ctx.ask_text(self, "Import CSAF", "How is the media these advisories came on labelled? "
                                                        "(e.g. CUI, SECRET//NOFORN; it marks an advisory that "
                                                        "states no marking)")
        if answer is None:
            return None
        try:
            return egress.media_label(answer)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return None

    def preview_import(self, paths: list[Path], default_marking: Marking,
                       show: bool = True) -> ImportPreviewDialog | None:
        """Read and diff the files in the background, then show the preview dialog. `default_marking`
        is the media label the person gave (ask_media_label)."""
        session = self.ctx.session
        holder: dict[str, ImportPreviewDialog] = {}
        marking = default_marking

        def work(progress: Any, cancel: Any) -> ImportPreview:
            return csaf_merge.preview_import(session, paths, marking, progress, cancel)

        def done(preview: ImportPreview) -> None:
            dialog = ImportPreviewDialog(self.ctx, preview, self)
            dialog.applied.connect(lambda _r: self.refresh())
            holder["dialog"] = dialog
            if show:
                dialog.exec()

        self.ctx.jobs.run(work, done, lambda exc: self.ctx.show_error(self, exc), label="Reading CSAF",
                          parent=self)
        return holder.get("dialog")


class ImportPreviewDialog(QDialog):
    """What an import would do, per advisory entry, with conflicts to resolve field by field."""

    applied = Signal(object)

    def __init__(self, ctx: UiContext, preview: ImportPreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.preview = preview
        self.import_result: ImportResult | None = None
        self.setWindowTitle("CSAF import — preview (nothing has changed yet)")
        self.resize(1100, 650)
        summary = ", ".join(f"{n} {k}" for k, n in preview.summary.items()) or "nothing to import"
        layout = QVBoxLayout(self)
        head = QLabel(f"{len(preview.files)} file(s): {summary}. Conflicts keep the local value unless you "
                      "choose the incoming one.")
        head.setWordWrap(True)
        layout.addWidget(head)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("importPreview")
        self.table.setHorizontalHeaderLabels(["Action", "Entry", "Field", "Local", "Incoming", "Resolution"])
        self.table.setColumnWidth(1, 170)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.choices: dict[tuple[int, str], QComboBox] = {}
        for index, action in enumerate(preview.actions):
            head_row = self._add_row(action.kind.value.upper(), sanitize(
                f"{Path(action.file).name} {action.json_path}: {action.message}"
                + "".join(f" — {w}" for w in action.warnings), 1000))
            self.table.setSpan(head_row, 1, 1, 5)  # the entry's verdict reads across the row
            for change in action.changes:
                row = self._add_row("", action.local_id or action.title, change.field,
                                    sanitize(csaf_merge.shown(change.local), 600),
                                    sanitize(csaf_merge.shown(change.incoming), 600))
                field_item = self.table.item(row, 2)
                if change.baseline is not None and field_item is not None:
                    field_item.setToolTip(f"Last exchanged: {sanitize(csaf_merge.shown(change.baseline), 600)}")
                if change.conflict:
                    combo = QComboBox()
                    combo.addItem("Keep local", "local")
                    combo.addItem("Take incoming", "incoming")
                    self.table.setCellWidget(row, 5, combo)
                    self.choices[(index, change.field)] = combo
                else:
                    taken = change.field in action.taken
                    merged = taken and change.merged != change.incoming  # both sides' entries kept
                    item = QTableWidgetItem("merged" if merged else "incoming" if taken else "local kept")
                    if merged:
                        item.setToolTip(sanitize(csaf_merge.shown(change.merged), 600))
                    self.table.setItem(row, 5, item)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox()
        self.apply_button = buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setObjectName("applyImport")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button.setEnabled(any(a.kind in (ActionKind.NEW, ActionKind.UPDATE, ActionKind.CONFLICT)
                                         for a in preview.actions))
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        add_banners(self, window_marking(parent))

    def _add_row(self, *cells: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, col, item)
        return row

    def resolutions(self) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        for (index, name), combo in self.choices.items():
            out.setdefault(index, {})[name] = combo.currentData()
        return out

    @Slot()
    def apply(self) -> None:
        try:
            self.import_result = csaf_merge.apply_import(self.ctx.session, self.preview, self.resolutions())
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        r = self.import_result
        self.ctx.events.status_message.emit(
            f"CSAF import: {len(r.created)} created, {len(r.updated)} updated, {len(r.kept_local)} kept local")
        self.applied.emit(r)
        self.accept()
