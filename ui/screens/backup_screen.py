"""Backups (administrators): write a signed, encrypted backup to removable media, verify one,
see the backup history. Plus the dashboard reminder when the last verified backup is too old."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.services import backup
from ui import theme
from ui.context import UiContext
from ui.errors import sanitize
from ui.widgets.sortable_table import SortableTable

COLUMNS = ("Time (UTC)", "By", "What", "Result", "Folder")
_WHAT = {"backup.create": "Backup written", "backup.verify": "Backup verified", "backup.failed": "Backup FAILED",
         "backup.restore": "Restored"}

FolderChooser = Callable[[QWidget, str], str]


def _choose_folder(parent: QWidget, title: str) -> str:
    return QFileDialog.getExistingDirectory(parent, title)


def status_text(last: str | None, overdue: bool, reminder_days: int) -> str:
    if last is None:
        return "No verified backup of this workstation exists yet."
    when = f"Last verified backup: {last[:19].replace('T', ' ')} UTC"
    return f"{when} — older than {reminder_days} days: make a new one." if overdue else when + "."


class BackupScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None,
                 choose_folder: FolderChooser = _choose_folder) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choose_folder = choose_folder
        self.last_result: backup.BackupResult | backup.VerifyReport | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        top = QHBoxLayout()
        title = QLabel("Backups")
        title.setObjectName("pageTitle")
        top.addWidget(title)
        top.addStretch(1)
        self.create_button = QPushButton("Back up to media…")
        self.create_button.setObjectName("primary")
        self.create_button.clicked.connect(self._create_clicked)
        self.verify_button = QPushButton("Verify a backup…")
        self.verify_button.clicked.connect(self._verify_clicked)
        top.addWidget(self.verify_button)
        top.addWidget(self.create_button)
        layout.addLayout(top)
        hint = QLabel("A backup is a folder holding the encrypted database (evidence included), the wrapped "
                      "key header, a SHA-256 manifest and its signature by the workstation CA. It is useless "
                      "without a passphrase or the recovery key. Restore with `frontier-review backup restore`.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        layout.addWidget(hint)
        self.status = QLabel("")
        self.status.setObjectName("backupStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.result = QLabel("")
        self.result.setObjectName("verifyResult")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.table = SortableTable(0, len(COLUMNS))
        self.table.setAccessibleName("Backups written from this workstation")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.refresh()

    def refresh(self) -> None:
        session = self.ctx.session
        if session.locked:
            return
        allowed = self.ctx.can(Permission.BACKUP)
        self.create_button.setEnabled(allowed)
        self.verify_button.setEnabled(allowed)
        last, overdue = backup.backup_status(session)
        self.status.setText(status_text(last, overdue, session.settings.backup_reminder_days))
        rows = backup.history(session) if allowed else []
        self.table.setRowCount(len(rows))
        for r, rec in enumerate(rows):
            result = ("ok, contents checked" if rec.ok and rec.contents_checked else "ok" if rec.ok else "FAILED")
            values = (rec.ts[:19].replace("T", " "), rec.actor, _WHAT.get(rec.action, rec.action), result,
                      sanitize(rec.folder, 300))
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)

    # -- create -------------------------------------------------------------------------------------

    @Slot()
    def _create_clicked(self) -> None:
        folder = self.choose_folder(self, "Choose the backup medium (a folder on it)")
        if folder:
            self.create_backup(Path(folder))

    def create_backup(self, dest: Path) -> None:
        system_high = self.ctx.session.settings.system_high
        label = self.ctx.ask_text(self, "Label of the backup medium",
                                  f"A backup holds everything on this workstation, marked up to {system_high}. "
                                  "The medium must be labelled at least that high.\n\nLabel of the medium:")
        if label is None:
            return
        passphrase = self.ctx.ask_passphrase(self, "Your passphrase is needed to sign the backup.")
        if passphrase is None:
            return

        def work(progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> backup.BackupResult:
            return backup.create(self.ctx.session, dest, passphrase, progress=progress, cancel=cancel,
                                 media_label=label)

        self.ctx.jobs.run(work, self._created, on_error=self._failed, label="Writing the backup…", parent=self)

    def _created(self, result: backup.BackupResult) -> None:
        self.last_result = result
        if result.verified:
            self.result.setText(f"Backup written and verified: {result.folder}\nSigned by {result.signer}; "
                                f"CA fingerprint {result.meta.ca_fingerprint}")
        else:
            self.result.setText(f"Backup written to {result.folder} but its check FAILED: "
                                + "; ".join(result.problems))
        self.ctx.events.status_message.emit("Backup written" if result.verified else "Backup check failed")
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.result.setText(f"No backup was kept: {exc}" if isinstance(exc, FrontierError) else "")
        self.ctx.show_error(self, exc)
        self.refresh()

    # -- verify -------------------------------------------------------------------------------------

    @Slot()
    def _verify_clicked(self) -> None:
        folder = self.choose_folder(self, "Choose the backup folder (frontier-backup-…)")
        if folder:
            self.verify_backup(Path(folder))

    def verify_backup(self, path: Path) -> None:
        passphrase = self.ctx.ask_passphrase(self, "Your passphrase is needed to decrypt and check the backup.")
        if passphrase is None:
            return

        def work(progress: Callable[[int, int, str], None], cancel: Callable[[], bool]) -> backup.VerifyReport:
            return backup.verify(self.ctx.session, path, passphrase, cancel=cancel)

        self.ctx.jobs.run(work, self._verified, label="Verifying the backup…", parent=self)

    def _verified(self, report: backup.VerifyReport) -> None:
        self.last_result = report
        self.result.setText(sanitize(report.summary(), 2000))
        self.refresh()


def backup_reminder_panel(ctx: UiContext) -> QWidget | None:
    """Dashboard panel (DASHBOARD_PANELS): shown only when the last verified backup is too old."""
    if not ctx.can(Permission.VIEW_CONTENT) or ctx.session.locked:
        return None
    last, overdue = backup.backup_status(ctx.session)
    if not overdue:
        return None
    text = status_text(last, overdue, ctx.session.settings.backup_reminder_days)
    who = " Use the Backups screen." if ctx.can(Permission.BACKUP) else " Ask an administrator to back it up."
    label = QLabel(text + who)
    label.setObjectName("backupReminder")
    label.setWordWrap(True)
    label.setStyleSheet(theme.NOTICE_BOX)
    return label
