"""Reports: build, preview (QtPdf), sign, countersign, verify, print and export findings reports.

The screen draws only; every rule (roles, two-person countersigning, media labels, passphrase
re-entry) is enforced by app.services.reports. Native dialogs (printer, folder) go through
replaceable callables so tests run offscreen without modal windows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, Slot
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission, Role
from app.model.errors import FrontierError
from app.model.markings import Marking
from app.model.report_version import StoredReport
from app.model.verification import AWAITING, PackageVerification, PdfVerification
from app.model.workflow import Act, Overview
from app.services import reports as report_service
from app.services import review_overview, submissions
from app.services.reports import ExportOutcome
from ui import theme
from ui.banner import add_banners, portion_text
from ui.context import UiContext
from ui.dialogs import sealed_package as sealed_ui
from ui.printing import PrintPath
from ui.widgets import column_chooser, column_fit
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.sortable_table import SortableTable
from ui.widgets.submission_picker import SubmissionPicker
from ui.widgets.transcript_view import clean_text
from ui.widgets.workflow_hint import apply_action

COLUMNS = ["Control number", "Submission", "Version", "State", "Marking", "Built"]
MEDIA_LABELS = ["UNCLASSIFIED", "CUI", "CONFIDENTIAL", "SECRET", "SECRET//NOFORN", "TOP SECRET",
                "TOP SECRET//NOFORN", "TOP SECRET//SCI//NOFORN"]


RELEASE_NOTICE = ("This export releases the countersigned findings and closes the review: the submission's stage "
                  "becomes released · closed and its review clock stops. To change the findings afterwards, "
                  "a lead must reopen the assessment.")
NO_FOLDER = "Choose the destination folder on the removable media: the folder is empty."


class ExportDialog(QDialog):
    """Folder on the media plus the media's classification label (what is written on the device),
    and what the export does when it is more than a copy (`notice`: it releases the findings)."""

    def __init__(self, marking: str, parent: QWidget | None = None, notice: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export to removable media")
        form = QFormLayout(self)
        self.folder = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Destination folder", row)
        self.media = QComboBox()
        self.media.setEditable(True)
        self.media.addItems(MEDIA_LABELS)
        self.media.setCurrentText(marking)
        form.addRow("Media classification label", self.media)
        note = QLabel(f"The report is marked {marking}. Media labelled lower is refused.")
        note.setObjectName("hint")
        note.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow(note)
        # Said before OK, not only after: the export is the release when `notice` is given.
        self.notice = QLabel(notice)
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setStyleSheet(theme.NOTICE_BOX)
        self.notice.setVisible(bool(notice))
        form.addRow(self.notice)
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setStyleSheet(theme.ERROR_STRONG)
        self.problem.setVisible(False)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        add_banners(self, marking)

    def accept(self) -> None:
        """OK with no folder stays open and says what is missing (it used to close and do nothing)."""
        if not self.folder.text().strip():
            self.problem.setText(NO_FOLDER)
            self.problem.setVisible(True)
            self.folder.setFocus()
            return
        super().accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder on the removable media")
        if folder:
            self.folder.setText(folder)


def _choose_export(parent: QWidget, marking: str, notice: str = "") -> tuple[Path, str] | None:
    dlg = ExportDialog(marking, parent, notice)
    if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.folder.text().strip():
        return None
    return Path(dlg.folder.text().strip()), dlg.media.currentText().strip()


class _CompactSplitter(QSplitter):
    """Picker over reports: asks for no more height than the screen had before the picker, so the
    screen's scroll area (ui.widgets.screen_stack) never scrolls at 1280x800; the parts share it."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), min(hint.height(), 420))


class ReportScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None, submission_id: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.reports: list[StoredReport] = []
        self.current: StoredReport | None = None
        self.last_export: ExportOutcome | None = None
        # Replaced in tests: the real ones open native dialogs.
        # (parent, report marking, notice: what the export does besides writing, "" for a copy)
        self.choose_export: Callable[[QWidget, str, str], tuple[Path, str] | None] = _choose_export
        self.printing = PrintPath(ctx)  # registered printers only, checked against their labels
        self.choose_received: Callable[[QWidget], Path | None] = _choose_received
        self.choose_ca_file: Callable[[QWidget], Path | None] = _choose_ca_file
        self.choose_seal: Callable[..., sealed_ui.SealRequest | None] = sealed_ui.choose_seal
        self.choose_open: Callable[[QWidget], sealed_ui.OpenRequest | None] = sealed_ui.choose_open
        self._buffer: QBuffer | None = None

        layout = QVBoxLayout(self)
        bar = FlowLayout()  # wraps instead of widening the window
        # The global screen picks the submission from a list; a submission's own tab knows it.
        self.picker: SubmissionPicker | None = None
        if not submission_id:
            self.picker = SubmissionPicker(ctx)
            self.picker.picked.connect(self._picked)
        self.build_button = QPushButton("Build report")
        self.build_button.setObjectName("primary")
        self.build_button.setVisible(ctx.can(Permission.ASSESS))
        self.build_button.clicked.connect(self.build)
        bar.addWidget(self.build_button)
        bar.addStretch(1)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setVisible(ctx.can(Permission.SIGN))
        self.sign_button.clicked.connect(self.sign)
        self.countersign_button = QPushButton("Countersign…")
        self.countersign_button.setVisible(ctx.session.account.role is Role.LEAD)
        self.countersign_button.clicked.connect(self.countersign)
        self.verify_button = QPushButton("Verify")
        self.verify_button.clicked.connect(self.verify)
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_report)
        self.export_button = QPushButton("Export…")
        self.export_button.setVisible(ctx.can(Permission.EXPORT))
        self.export_button.clicked.connect(self.export)
        for b in (self.sign_button, self.countersign_button, self.verify_button, self.print_button,
                  self.export_button):
            bar.addWidget(b)
        layout.addLayout(bar)

        received = FlowLayout()
        self.verify_received_button = QPushButton("Verify a received package or PDF…")
        self.verify_received_button.clicked.connect(self.verify_received)
        received.addWidget(self.verify_received_button)
        self.trust_button = QPushButton("Trust a CA certificate…")
        self.trust_button.setVisible(ctx.can(Permission.IMPORT_TRUSTED) and ctx.can(Permission.MANAGE_USERS))
        self.trust_button.clicked.connect(self.trust_ca)
        received.addWidget(self.trust_button)
        self.seal_button = QPushButton("Seal for partners…")
        self.seal_button.setToolTip("Encrypt an exported package to registered partners' certificates")
        self.seal_button.setVisible(ctx.can(Permission.EXPORT))
        self.seal_button.clicked.connect(self.seal_for_partners)
        received.addWidget(self.seal_button)
        self.open_sealed_button = QPushButton("Open a sealed package…")
        self.open_sealed_button.clicked.connect(self.open_sealed)
        received.addWidget(self.open_sealed_button)
        received.addStretch(1)
        self.ca_label = QLabel("")
        self.ca_label.setObjectName("hint")
        self.ca_label.setTextFormat(Qt.TextFormat.PlainText)
        self.ca_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        received.addWidget(self.ca_label)
        layout.addLayout(received)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        if self.picker is not None:
            # Picker above the reports, in a splitter: both shrink with the window, neither scrolls it.
            pick_box = QWidget()
            pick_layout = QVBoxLayout(pick_box)
            pick_layout.setContentsMargins(0, 0, 0, 0)
            pick_row = QHBoxLayout()
            pick_title = QLabel("Submission")
            pick_title.setObjectName("sectionTitle")
            pick_row.addWidget(pick_title)
            pick_row.addStretch(1)
            self.show_all_button = QPushButton("All reports")
            self.show_all_button.setToolTip("Clear the chosen submission and list the latest reports of all")
            self.show_all_button.clicked.connect(self.picker.clear)
            pick_row.addWidget(self.show_all_button)
            pick_layout.addLayout(pick_row)
            pick_layout.addWidget(self.picker, 1)
            self.left_split = _CompactSplitter(Qt.Orientation.Vertical)
            self.left_split.addWidget(pick_box)
            self.left_split.setChildrenCollapsible(False)
            self.reports_title = QLabel("Latest reports of all submissions")
            self.reports_title.setObjectName("sectionTitle")
            self.reports_title.setTextFormat(Qt.TextFormat.PlainText)
            left_layout.addWidget(self.reports_title)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setObjectName("reportsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        # the control number ends in the version (-V2); the header's menu shows the column too
        column_chooser.install(self.table, (COLUMNS.index("Version"),))
        column_fit.install(self.table, (COLUMNS.index("Submission"), COLUMNS.index("State"), COLUMNS.index("Built")))
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        left_layout.addWidget(self.table, 2)
        self.info = QLabel("Build or select a report to preview it.")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left_layout.addWidget(self.info)
        # One line saying what the last verification concluded; the details follow below it.
        self.verdict = QLabel("")
        self.verdict.setObjectName("verdict")
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setWordWrap(True)
        self.verdict.setVisible(False)
        left_layout.addWidget(self.verdict)
        self.results = QPlainTextEdit()
        self.results.setReadOnly(True)
        self.results.setObjectName("verification")
        self.results.setPlaceholderText("Verification results appear here.")
        left_layout.addWidget(self.results, 1)
        if self.picker is not None:
            self.left_split.addWidget(left)
            self.left_split.setSizes([300, 400])
            split.addWidget(self.left_split)
        else:
            split.addWidget(left)

        self.pdf = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.pdf)
        split.addWidget(self.view)
        split.setStretchFactor(1, 3)
        split.setSizes([560, 840])
        layout.addWidget(split, 1)
        self.refresh()

    # -- data --------------------------------------------------------------------------------

    def picked_id(self) -> int | None:
        """The submission a report is built for: this tab's, or the one chosen in the list."""
        if self.submission_id:
            return self.submission_id
        return self.picker.selected_id() if self.picker is not None else None

    def pick(self, submission_id: int) -> bool:
        """Choose a submission in the list (as a click would); False if it is not listed."""
        return self.picker is not None and self.picker.select_id(submission_id)

    @Slot(object)
    def _picked(self, submission_id: int | None) -> None:
        if self.current is not None and self.current.submission_id != submission_id:
            self._clear_preview()
        self.refresh()

    def _clear_preview(self) -> None:
        self.current = None
        self.pdf.close()
        self.info.setText("Build or select a report to preview it.")
        self.results.clear()
        self.verdict.setVisible(False)

    def refresh(self) -> None:
        selected = self.current.id if self.current else None
        self._show_ca()
        if self.picker is not None and not self.ctx.session.locked:
            self.picker.blockSignals(True)  # the choice is kept; no second refresh from it
            try:
                self.picker.reload()
            finally:
                self.picker.blockSignals(False)
        sid = self.picked_id()
        if self.picker is not None:
            name = self.picker.name_of(sid) if sid else None
            self.reports_title.setText(clean_text(f"Reports of {name}", 200) if name
                                       else "Latest reports of all submissions")
        try:
            if sid:
                self.reports = report_service.for_submission(self.ctx.session, sid)
            else:
                self.reports = report_service.recent(self.ctx.session)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        names = {r.submission_id: self._submission_name(r.submission_id) for r in self.reports}
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.reports))
        for row, r in enumerate(self.reports):
            values = [r.control_number, names[r.submission_id], str(r.version), r.state, portion_text(r.marking),
                      r.built_at[:16]]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        column_fit.refit(self.table)
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def _submission_name(self, submission_id: int) -> str:
        name = self.picker.name_of(submission_id) if self.picker is not None else None
        if name is None:
            try:
                name = submissions.get(self.ctx.session, submission_id).display_name
            except FrontierError:
                name = f"submission {submission_id}"
        return clean_text(name, 200)

    def select(self, report_id: int) -> None:
        for row, r in enumerate(self.reports):
            if r.id == report_id:
                self.table.selectRow(self.table.view_row(row))
                self._show(r)
                return

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._show(self.reports[self.table.source_row(rows[0].row())])

    def _show(self, report: StoredReport) -> None:
        self.current = report
        try:
            data = report_service.pdf_bytes(self.ctx.session, report.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.load_pdf(data)
        signed = ", ".join(x for x in (
            f"signed by {report.signed_by} {report.signed_at[:16] if report.signed_at else ''}" if report.signed_by
            else "", f"countersigned by {report.countersigned_by}" if report.countersigned_by else "") if x)
        self.info.setText(f"{report.marking}  ·  {report.control_number} v{report.version}  ·  {report.state}"
                          f"{' (' + signed + ')' if signed else ''}\n{self.pdf.pageCount()} pages  ·  "
                          f"SHA-256 {report.sha256}")
        self.results.clear()
        self.verdict.setVisible(False)
        self._update_buttons()

    def load_pdf(self, data: bytes) -> None:
        """Load bytes into the preview (kept in memory: the report never touches the disk here)."""
        self.pdf.close()
        old = self._buffer
        # The buffer owns its copy of the bytes (setData), so nothing the document may still read
        # from can be freed under it; the previous buffer goes only after the document let go.
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(data))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.pdf.load(self._buffer)
        if old is not None:
            old.close()
            old.deleteLater()

    def _update_buttons(self) -> None:
        state = self.current.state if self.current else ""
        self.sign_button.setEnabled(state == "built")
        self.countersign_button.setEnabled(state == "signed")
        self.export_button.setEnabled(state == "countersigned")
        # The workflow rules decide (approval first, two persons); the tooltip says why not.
        build_sid = self.picked_id()
        if build_sid is None:
            self.build_button.setEnabled(False)
            self.build_button.setToolTip("Choose a submission in the list to build its report")
        else:
            report = self.current if self.current and self.current.submission_id == build_sid else None
            apply_action(self.build_button, self._overview(build_sid, report), Act.BUILD_REPORT,
                         "Render a new version of the findings report")
        if self.current is not None:
            ov = self._overview(self.current.submission_id, self.current)
            apply_action(self.sign_button, ov, Act.SIGN, "Sign as the reviewer (asks for your passphrase)")
            apply_action(self.countersign_button, ov, Act.COUNTERSIGN, "Countersign as a lead")
            apply_action(self.export_button, ov, Act.EXPORT, "Write the release package to labelled media")
        for b in (self.verify_button, self.print_button):
            b.setEnabled(self.current is not None)

    def _overview(self, submission_id: int, report: StoredReport | None) -> Overview | None:
        try:
            return review_overview.overview(self.ctx.session, submission_id, report)
        except FrontierError:
            return None

    # -- actions -----------------------------------------------------------------------------

    def build(self) -> None:
        sid = self.picked_id()
        if sid is None:
            return
        session = self.ctx.session

        def work(progress, cancel) -> StoredReport:  # type: ignore[no-untyped-def]
            submissions.get(session, sid)  # a clear "no such submission" before any work
            return report_service.build(session, sid, progress, cancel)

        self.ctx.jobs.run(work, self._built, lambda exc: self.ctx.show_error(self, exc), label="Building report",
                          parent=self)

    def _built(self, report: StoredReport) -> None:
        self.current = report
        self.refresh()
        self.select(report.id)
        self.ctx.events.status_message.emit(f"Report {report.control_number} built")

    def _sign(self, countersign: bool) -> None:
        if self.current is None:
            return
        verb = "Countersign" if countersign else "Sign"
        passphrase = self.ctx.ask_passphrase(self, f"{verb} report {self.current.control_number}: enter your "
                                                   "passphrase again")
        if passphrase is None:
            return
        pin = None
        from app.services import pki as pki_service

        info = pki_service.identity_info(self.ctx.session)
        if info is not None and info.source == "pkcs11":
            pin = self.ctx.ask_passphrase(self, f"PIN for token {info.token_label}")
            if pin is None:
                return
        # Key derivation and the PAdES signature take seconds: a job, the passphrase asked first.
        action = report_service.countersign if countersign else report_service.sign
        session, report_id = self.ctx.session, self.current.id
        self.ctx.jobs.run(lambda _p, _c: action(session, report_id, passphrase, pin), self._signed,
                          lambda exc: self.ctx.show_error(self, exc),
                          label=f"{verb}ing report {self.current.control_number}…", parent=self, cancellable=False)

    def _signed(self, report: StoredReport) -> None:
        self.current = report
        self.refresh()
        self.select(report.id)

    def sign(self) -> None:
        self._sign(False)

    def countersign(self) -> None:
        self._sign(True)

    def verify(self) -> None:
        if self.current is None:
            return
        try:
            result = report_service.verify(self.ctx.session, self.current.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._show_verification(result)

    def print_report(self) -> None:
        if self.current is None:
            return
        report = self.current
        self.printing.run(self, self.pdf, f"the report {report.control_number}", Marking.parse(report.marking),
                          lambda printer: report_service.clear_print(self.ctx.session, report.id, printer),
                          lambda clearance, copies, pages: report_service.record_print(self.ctx.session, clearance,
                                                                                       copies, pages))

    def export(self) -> None:
        if self.current is None:
            return
        report = self.current
        try:
            closes = report_service.export_closes_review(self.ctx.session, report.id)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        choice = self.choose_export(self, report.marking, RELEASE_NOTICE if closes else "")
        if choice is None:
            return
        folder, label = choice
        try:
            Marking.parse(label)
            # The media label before the passphrase: media labelled lower is refused at once.
            report_service.clear_export(self.ctx.session, report.id, folder, label)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        if closes and not self.ctx.confirm(
                self, "Release the findings and close the review",
                f"Exporting {report.control_number} to {folder} releases the countersigned findings of submission "
                f"{report.submission_id} and closes its review (stage released · closed, review clock stopped).\n\n"
                "Export and release?", "Export and release"):
            return
        passphrase = self.ctx.ask_passphrase(self, f"Export {report.control_number} to {folder}: enter "
                                                   "your passphrase again")
        if passphrase is None:
            return
        session, report_id = self.ctx.session, report.id
        self.ctx.jobs.run(lambda _p, _c: report_service.export(session, report_id, folder, label, passphrase),
                          lambda outcome: self._exported(outcome, closes), lambda exc: self.ctx.show_error(self, exc),
                          label=f"Exporting {report.control_number} to {folder}…", parent=self,
                          cancellable=False)

    def _exported(self, outcome: ExportOutcome, released: bool = False) -> None:
        self.last_export = outcome
        pkg = outcome.package
        what = (f"Released: the review of submission {outcome.report.submission_id} is now closed.\n"
                if released else "")
        self.results.setPlainText(f"{what}Package written to {pkg.path}\nmedia label {pkg.media.banner()}, content "
                                  f"{pkg.marking.banner()}\n" + "\n".join(f"{h}  {n}" for n, h in
                                                                           sorted(pkg.files.items())))


    # -- receiving side ----------------------------------------------------------------------

    def _show_ca(self) -> None:
        from app.services import pki as pki_service

        try:
            ca = pki_service.certificate_summary(pki_service.workstation_ca(self.ctx.session))
        except FrontierError:
            self.ca_label.setText("This workstation has no CA yet.")
            return
        self.ca_label.setText(f"This workstation's CA fingerprint (SHA-256): {ca.fingerprint}")

    def verify_received(self) -> None:
        """Verify a package folder or a PDF from media against this workstation's trusted roots."""
        from app.services import pki as pki_service

        path = self.choose_received(self)
        if path is None:
            return
        try:
            result = report_service.verify_path(path, pki_service.trusted_roots(self.ctx.session), self.ctx.session)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._show_verification(result)

    def _show_verification(self, result: PdfVerification | PackageVerification) -> None:
        """The same result as `frontier-review verify`: its verdict on top (final, awaiting the
        countersignature, or not valid), then every line of the check."""
        pdf = result if isinstance(result, PdfVerification) else result.pdf
        if isinstance(result, PackageVerification):
            text = "Package VERIFIED" if result.ok else "Package NOT VALID"
            text += f" — report {pdf.headline()}" if pdf is not None else ""
        else:
            text = f"Report {result.headline()}"
        state = "ok" if result.ok else "waiting" if pdf is not None and pdf.state == AWAITING else "bad"
        colour = {"ok": "#1b5e20", "waiting": "#8a5a00", "bad": "#b71c1c"}[state]
        self.verdict.setProperty("state", state)
        self.verdict.setStyleSheet(theme.coloured(colour, "bold"))
        self.verdict.setText(text)
        self.verdict.setVisible(True)
        self.results.setPlainText("\n".join(result.lines()))

    def trust_ca(self) -> None:
        """Administrator: trust another workstation's or agency's CA after comparing its fingerprint."""
        from app.services import pki as pki_service

        path = self.choose_ca_file(self)
        if path is None:
            return
        try:
            cert = pki_service.read_certificate_file(path)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        question = (f"Trust {cert.common_name}?\n\nSHA-256 fingerprint:\n{cert.fingerprint}\n\n"
                    "Compare it with the fingerprint the sender gave you through another channel.")
        if not self.ctx.confirm(self, "Trust CA certificate", question, "Trust"):
            return
        passphrase = self.ctx.ask_passphrase(self, "Trust a CA certificate: enter your passphrase again")
        if passphrase is None:
            return
        session = self.ctx.session
        self.ctx.jobs.run(lambda _p, _c: pki_service.import_trusted_root(session, path, passphrase),
                          lambda root: self.results.setPlainText(f"Now trusted: {root.subject}\n"
                                                                 f"SHA-256 {root.fingerprint}"),
                          lambda exc: self.ctx.show_error(self, exc), label="Trusting the CA certificate…",
                          parent=self, cancellable=False)


    def seal_for_partners(self) -> None:
        """Seal an exported package (the last one exported here, or one chosen) for registered partners."""
        folder = self.last_export.package.path if self.last_export is not None else None
        request = self.choose_seal(self, sealed_ui.partner_names(self.ctx), MEDIA_LABELS, folder)
        if request is None:
            return
        session = self.ctx.session
        self.ctx.jobs.run(lambda _p, _c: sealed_ui.seal(session, request), self.results.setPlainText,
                          lambda exc: self.ctx.show_error(self, exc), label="Sealing the package…", parent=self,
                          cancellable=False)

    def open_sealed(self) -> None:
        """Decrypt a sealed package from a partner or another workstation and verify what it holds."""
        request = self.choose_open(self)
        if request is None:
            return
        try:
            work = sealed_ui.opener(self.ctx, self, request)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        if work is None:
            return
        self.ctx.jobs.run(lambda _p, _c: work(), self._opened, lambda exc: self.ctx.show_error(self, exc),
                          label="Opening the sealed package…", parent=self, cancellable=False)

    def _opened(self, opened: sealed_ui.Opened) -> None:
        folder, result = opened
        self._show_verification(result)
        self.results.setPlainText(f"Opened into {folder}\n" + self.results.toPlainText())


def _choose_received(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Package folder on the media (cancel to pick a PDF)")
    if folder:
        return Path(folder)
    name, _ = QFileDialog.getOpenFileName(parent, "Signed report PDF", "", "PDF (*.pdf)")
    return Path(name) if name else None


def _choose_ca_file(parent: QWidget) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, "CA certificate", "", "Certificates (*.pem *.crt *.cer *.der)")
    return Path(name) if name else None


class ReportTab(ReportScreen):
    """The same screen restricted to one submission (for the submission detail tabs)."""

    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent, submission_id)
