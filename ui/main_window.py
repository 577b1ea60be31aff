"""Main window: a thin composition root (banners, navigation, screen stack, status, lock).

Screens are registered in SCREENS (one line each); they are built on first use and receive the
UiContext. A screen may define `refresh()`; it is called whenever the screen is shown and after
unlock. Submission detail pages are opened through `ctx.events.open_submission(id)`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence, QScreen
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import AuthError, FrontierError, LockedOutError
from app.services import workstation
from ui import accessibility, window_size
from ui.banner import ClassificationBanner, remember_system_high
from ui.context import UiContext, resolve
from ui.lock_screen import IdleWatcher, LockPage
from ui.unsaved import any_modified, modified_title
from ui.widgets.screen_stack import ScreenStack


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    title: str
    factory: str | Callable[[UiContext], QWidget]  # "ui.screens.module:Class" or a callable
    permission: Permission | None = None  # hidden from roles without it (services still check)


SCREENS: list[ScreenSpec] = [
    ScreenSpec("dashboard", "Dashboard", "ui.screens.dashboard:DashboardScreen", Permission.VIEW_CONTENT),
    ScreenSpec("submissions", "Submissions", "ui.screens.submissions:SubmissionsScreen", Permission.VIEW_CONTENT),
    ScreenSpec("compare", "Compare", "ui.screens.compare_screen:CompareScreen", Permission.VIEW_CONTENT),
    ScreenSpec("benchmarks", "Benchmarks", "ui.screens.benchmarks_screen:BenchmarksScreen", Permission.VIEW_CONTENT),
    ScreenSpec("vulnerabilities", "Vulnerabilities", "ui.screens.vulnerabilities_screen:VulnerabilitiesScreen",
               Permission.VIEW_CONTENT),
    ScreenSpec("reports", "Reports", "ui.screens.report_screen:ReportScreen", Permission.VIEW_CONTENT),
    ScreenSpec("dissemination", "Dissemination log", "ui.screens.dissemination_screen:DisseminationScreen",
               Permission.VIEW_CONTENT),
    ScreenSpec("partners", "Partners", "ui.screens.partners_screen:PartnersScreen", Permission.VIEW_CONTENT),
    ScreenSpec("rulesets", "Checklists & rules", "ui.screens.rulesets_screen:RulesetsScreen", Permission.VIEW_CONTENT),
    ScreenSpec("audit", "Audit trail", "ui.screens.audit_screen:AuditScreen", Permission.VIEW_AUDIT),
    ScreenSpec("backup", "Backups", "ui.screens.backup_screen:BackupScreen", Permission.BACKUP),
    ScreenSpec("users", "Accounts", "ui.screens.users_screen:UsersScreen", None),
    ScreenSpec("settings", "Settings", "ui.screens.settings_screen:SettingsScreen", Permission.MANAGE_SETTINGS),
    ScreenSpec("printers", "Printers", "ui.screens.printers_screen:PrintersScreen", Permission.MANAGE_SETTINGS),
]

MAX_OPEN_SUBMISSIONS = 8
PREFERRED_SIZE = QSize(1280, 800)


def initial_size(screen: QScreen | None) -> QSize:
    """1280x800, or what the screen has room for: a 1080p display at 150 % is 1280x720 logical
    pixels, and a window taller than that would put the bottom banner off screen."""
    return window_size.fit(PREFERRED_SIZE, screen)
_KEY_ROLE = Qt.ItemDataRole.UserRole
_TITLE_ROLE = Qt.ItemDataRole.UserRole + 1  # the entry's title without the unsaved mark


class MainWindow(QMainWindow):
    signed_out = Signal()

    def __init__(self, ctx: UiContext, idle_clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        settings = ctx.session.settings
        account = ctx.session.account
        self.setWindowTitle(f"Frontier Review — {settings.workstation_name}[*]")  # [*]: unsaved edits
        self.resize(initial_size(QApplication.primaryScreen()))
        self.pages: dict[str, QWidget] = {}
        self.specs: dict[str, ScreenSpec] = {}
        self.locked = False
        self._signed_out = False
        self._hidden_windows: list[QWidget] = []
        self._help: dict[str, QWidget] = {}
        accessibility.install()
        self.user_label = f"{account.display_name} ({account.role.label})"
        self._build_layout(settings.system_high)
        self._build_navigation()
        self._build_actions()
        ctx.events.open_submission.connect(self.open_submission)
        ctx.events.lock_requested.connect(self.lock)
        ctx.events.status_message.connect(self.status_message.setText)
        ctx.events.settings_changed.connect(self._settings_changed)
        ctx.events.modified_changed.connect(self._update_modified_marks)
        ctx.jobs.idle.connect(self._show_running_jobs)
        self._shown_key: str | None = None
        self.idle = IdleWatcher(settings.idle_lock_minutes, idle_clock or time.monotonic)
        self.idle.idle.connect(lambda: self.lock("idle"))
        self.idle.start()
        if self.nav.count():
            self.nav.setCurrentRow(0)

    def menuBar(self) -> QMenuBar:
        """The menu bar under the top banner (QMainWindow would otherwise make its own)."""
        return self._menu_bar

    def _build_layout(self, system_high: str) -> None:
        """Banner / (content | lock page) / status row / banner."""
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        remember_system_high(system_high)
        self.top_banner = ClassificationBanner(system_high)
        self.bottom_banner = ClassificationBanner(system_high)
        # The top banner is the first line of the window, above the menu bar (issue 12): both live in
        # the main window's menu widget, and menuBar() returns this bar.
        self._menu_bar = QMenuBar()
        head = QWidget()
        head_layout = QVBoxLayout(head)
        head_layout.setContentsMargins(0, 0, 0, 0)
        head_layout.setSpacing(0)
        head_layout.addWidget(self.top_banner)
        head_layout.addWidget(self._menu_bar)
        self.setMenuWidget(head)
        self.root = QStackedWidget()  # the content, or the lock page that replaces all of it
        outer.addWidget(self.root, 1)

        self.content = QWidget()
        body = QHBoxLayout(self.content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(210)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.stack = ScreenStack()
        self.stack.setObjectName("screenStack")
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        self.root.addWidget(self.content)
        self.lock_page = LockPage(self.user_label)
        self.lock_page.unlock_requested.connect(self.try_unlock)
        self.lock_page.switch_user_requested.connect(self.switch_user)
        self.root.addWidget(self.lock_page)

        self.status = QWidget()
        self.status.setObjectName("statusRow")
        srow = QHBoxLayout(self.status)
        srow.setContentsMargins(10, 3, 10, 3)
        self.status_user = QLabel(f"Signed in: {self.user_label}")
        self.status_keys = QLabel(self._key_protection())
        self.status_message = QLabel("")
        for label in (self.status_user, self.status_keys, self.status_message):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names and messages are data, never markup
        srow.addWidget(self.status_user)
        srow.addSpacing(24)
        srow.addWidget(self.status_keys)
        srow.addStretch(1)
        srow.addWidget(self.status_message)
        outer.addWidget(self.status)
        outer.addWidget(self.bottom_banner)
        self.setCentralWidget(central)

    def _build_navigation(self) -> None:
        for spec in SCREENS:
            if spec.permission is None or self.ctx.can(spec.permission):
                self.specs[spec.key] = spec
                item = QListWidgetItem(spec.title)
                item.setData(_KEY_ROLE, spec.key)
                item.setData(_TITLE_ROLE, spec.title)
                self.nav.addItem(item)
        self.nav.currentItemChanged.connect(self._nav_changed)

    def _build_actions(self) -> None:
        self.lock_action = QAction("Lock", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.lock_action.triggered.connect(lambda: self.lock("on demand"))
        self.addAction(self.lock_action)
        for n in range(1, 10):  # Ctrl+1..9 jump to the n-th entry of the navigation
            jump = QAction(self)
            jump.setShortcut(QKeySequence(f"Ctrl+{n}"))
            jump.triggered.connect(lambda _checked=False, row=n - 1: self._jump(row))
            self.addAction(jump)
        focus_nav = QAction("Go to the navigation list", self)
        focus_nav.setShortcut(QKeySequence("Ctrl+0"))
        focus_nav.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        focus_nav.triggered.connect(lambda: None if self.locked else self.nav.setFocus())
        self.addAction(focus_nav)
        menu = self.menuBar().addMenu("&Session")
        menu.addAction(self.lock_action)
        sign_out = QAction("Sign out", self)
        sign_out.triggered.connect(lambda: self.sign_out())
        menu.addAction(sign_out)
        help_menu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("Keyboard shortcuts", self)
        self.shortcuts_action.setShortcut(QKeySequence("F1"))
        self.shortcuts_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)
        guide = QAction("User guide", self)
        guide.triggered.connect(self.show_guide)
        help_menu.addAction(guide)
        about = QAction("About Frontier Review", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)
        self.addAction(self.shortcuts_action)

    # -- help ------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        # F1 that no shortcut consumed (Qt's shortcut map can pass a bare F1 through as a key press,
        # e.g. with the focus in a list): it still opens the sheet.
        if event.key() == Qt.Key.Key_F1 and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.show_shortcuts()
            return
        super().keyPressEvent(event)

    def _help_window(self, key: str, build: Callable[[], QWidget]) -> QWidget:
        """One non-modal help window of each kind, raised again when asked twice."""
        existing = self._help.get(key)
        if existing is None:
            existing = build()
            self._help[key] = existing
        existing.show()
        existing.raise_()
        existing.activateWindow()
        return existing

    @Slot()
    def show_shortcuts(self) -> QWidget | None:
        if self.locked:
            return None
        from ui.help.shortcuts import ShortcutSheet

        return self._help_window("shortcuts", lambda: ShortcutSheet(self))

    @Slot()
    def show_guide(self) -> QWidget:
        from ui.help.guide import UserGuide

        return self._help_window("guide", lambda: UserGuide(self))

    @Slot()
    def show_about(self) -> QWidget:
        from ui.help.about import AboutDialog

        return self._help_window("about", lambda: AboutDialog(
            self.ctx.session.settings.workstation_name, str(self.ctx.session.data_dir), self))

    # -- navigation ------------------------------------------------------------------------
    def _key_protection(self) -> str:
        try:
            return workstation.key_protection(self.ctx.session.data_dir)
        except FrontierError as exc:
            return f"Key protection: unknown ({exc})"

    def page(self, key: str) -> QWidget:
        """The screen for `key`, built on first use."""
        if key not in self.pages:
            widget = resolve(self.specs[key].factory)(self.ctx)
            widget.setObjectName(f"screen_{key}")
            self.pages[key] = widget
            self.stack.addWidget(widget)
        return self.pages[key]

    def show_screen(self, key: str) -> QWidget:
        """Select `key` in the navigation; returns the widget now on display (the previous one if
        that screen could not be built)."""
        for row in range(self.nav.count()):
            if self.nav.item(row).data(_KEY_ROLE) == key:
                self.nav.setCurrentRow(row)
                break
        return self.pages.get(key) or self.stack.currentWidget() or self.content

    def _jump(self, row: int) -> None:
        if not self.locked and 0 <= row < self.nav.count():
            self.nav.setCurrentRow(row)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _nav_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        key = current.data(_KEY_ROLE)
        leaving = self.pages.get(self._shown_key) if self._shown_key else None
        if leaving is not None and key != self._shown_key and not self.ctx.settle(leaving, self):
            self._select_nav(self._shown_key)  # Cancel: stay where the edits are
            return
        try:
            widget = self.page(key)
        except Exception as exc:  # one broken screen must not take the shell down
            self.ctx.show_error(self, exc)
            return
        self._shown_key = key
        self.stack.setCurrentWidget(widget)
        self._refresh(widget)

    def _select_nav(self, key: str | None) -> None:
        self.nav.blockSignals(True)
        try:
            for row in range(self.nav.count()):
                if self.nav.item(row).data(_KEY_ROLE) == key:
                    self.nav.setCurrentRow(row)
        finally:
            self.nav.blockSignals(False)

    @Slot()
    def _update_modified_marks(self) -> None:
        """A '*' on each navigation entry whose screen holds unsaved edits, and in the window title."""
        marked = False
        for row in range(self.nav.count()):
            item = self.nav.item(row)
            page = self.pages.get(item.data(_KEY_ROLE))
            modified = page is not None and any_modified(page)
            marked = marked or modified
            item.setText(modified_title(item.data(_TITLE_ROLE) or item.text(), modified))
        self.setWindowModified(marked)

    def settle_all(self) -> bool:
        """Save / Discard / Cancel for every open screen holding edits (sign-out, quit)."""
        return all(self.ctx.settle(page, self) for page in list(self.pages.values()))

    def _refresh(self, widget: QWidget) -> None:
        refresh = getattr(widget, "refresh", None)
        if callable(refresh):
            try:
                refresh()
            except FrontierError as exc:
                self.ctx.show_error(self, exc)

    @Slot(int)
    def open_submission(self, submission_id: int) -> None:
        key = f"submission:{submission_id}"
        if key not in self.pages:
            from ui.screens.submission_detail import SubmissionDetail

            try:
                detail = SubmissionDetail(self.ctx, submission_id)
            except FrontierError as exc:
                self.ctx.show_error(self, exc)
                return
            detail.close_requested.connect(lambda k=key: self.close_page(k))
            self.pages[key] = detail
            self.stack.addWidget(detail)
            item = QListWidgetItem(f"  {detail.short_title()}")
            item.setData(_KEY_ROLE, key)
            item.setData(_TITLE_ROLE, f"  {detail.short_title()}")
            item.setToolTip(detail.title())
            self.nav.addItem(item)
            self._trim_open_submissions()
        self.show_screen(key)

    def _trim_open_submissions(self) -> None:
        opened = [k for k in self.pages if k.startswith("submission:")]
        for key in opened[:-MAX_OPEN_SUBMISSIONS]:
            if not any_modified(self.pages[key]):  # a page holding edits stays open
                self.close_page(key)

    def close_page(self, key: str) -> None:
        for row in range(self.nav.count()):
            if self.nav.item(row).data(_KEY_ROLE) == key:
                if self.nav.currentRow() == row:
                    self._shown_key = None  # closing what is shown: its edits were settled by the caller
                    self.nav.setCurrentRow(0)
                self.nav.takeItem(row)
                break
        widget = self.pages.pop(key, None)
        self.specs.pop(key, None)
        if widget is not None:
            self.stack.removeWidget(widget)
            widget.deleteLater()

    @Slot()
    def _settings_changed(self) -> None:
        self.ctx.session.reload_settings()
        self.idle.set_timeout_minutes(self.ctx.session.settings.idle_lock_minutes)

    # -- lock (AC-11) ------------------------------------------------------------------------
    @Slot(str)
    def lock(self, reason: str = "on demand") -> None:
        if self.locked:
            return
        self.locked = True
        # Hide everything first: even if auditing the lock fails, no content stays on screen.
        self.root.setCurrentWidget(self.lock_page)
        self.nav.clearFocus()
        self._hide_other_windows()
        self.menuBar().setEnabled(False)
        self.idle.enabled = False
        self.lock_page.reset()
        self._show_running_jobs()
        try:
            workstation.lock(self.ctx.session, reason)
        except FrontierError as exc:
            self.ctx.session.locked = True
            self.status_message.setText(f"Lock was not audited: {exc}")

    @Slot()
    def _show_running_jobs(self) -> None:
        self.lock_page.show_jobs([job.label for job in self.ctx.jobs.active])

    def _hide_other_windows(self) -> None:
        """Transient prompts (message boxes, questions, file pickers, passphrase prompts) are answered
        with Cancel; every other window (editors, the import dialog with its running job, progress) is
        hidden with its work and shown again after unlock. A lock never cancels running work."""
        self._hidden_windows = []
        for w in QApplication.topLevelWidgets():
            if w is self or not w.isVisible():
                continue
            transient = isinstance(w, (QMessageBox, QInputDialog, QFileDialog)) or w.property("rejectOnLock")
            if isinstance(w, QDialog) and transient and not w.property("keepOnLock"):
                w.reject()  # their loops return
            else:
                w.hide()
                self._hidden_windows.append(w)

    @Slot(str)
    def try_unlock(self, passphrase: str) -> None:
        try:
            workstation.unlock(self.ctx.session, passphrase)
        except LockedOutError as exc:
            self.lock_page.show_lockout(exc.seconds, wrong=exc.after_failure)
            return
        except AuthError as exc:
            self.lock_page.show_message(str(exc))
            return
        except FrontierError as exc:
            self.lock_page.show_message(str(exc))
            return
        self.locked = False
        self.lock_page.reset()
        self.root.setCurrentWidget(self.content)
        self.menuBar().setEnabled(True)
        for w in self._hidden_windows:
            with contextlib.suppress(RuntimeError):  # a window freed while locked stays gone
                if not w.property("finished"):
                    w.show()
        self._hidden_windows = []
        self.idle.touch()
        self.idle.enabled = True
        current = self.stack.currentWidget()
        if current is not None:
            self._refresh(current)
        self.ctx.show_deferred_errors()

    @Slot()
    def switch_user(self) -> bool:
        """From the lock screen: sign this account out so another person can sign in. Edits cannot be
        saved while locked, so the confirmation says what would be lost."""
        pending = sum(1 for page in self.pages.values() if any_modified(page))
        text = (f"Sign out {self.user_label}? Running work finishes first."
                + (f" Unsaved edits on {pending} screen(s) will be lost." if pending else ""))
        if not self.ctx.confirm(self, "Switch user", text, "Sign out"):
            return False
        self.sign_out(ask=False)
        return True

    # -- sign out / close ----------------------------------------------------------------------
    @Slot()
    def sign_out(self, ask: bool = True) -> None:
        if ask and not self.settle_all():
            return
        self.idle.stop()
        self._signed_out = True  # closeEvent must not sign out a second time
        with contextlib.suppress(Exception):
            workstation.sign_out(self.ctx.session)
        self.signed_out.emit()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._signed_out and not self.locked and not self.settle_all():
            event.ignore()
            return
        self.idle.stop()
        if not self._signed_out:
            self._signed_out = True
            self.ctx.jobs.wait(5000)
            with contextlib.suppress(Exception):
                workstation.sign_out(self.ctx.session)
        super().closeEvent(event)
