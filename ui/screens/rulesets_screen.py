"""Screen "Checklists & rule sets": installed checklist template versions, coverage rule sets and
report profiles, which rule set and profile are in use, and (administrators) import of a signed new
version from media."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.accounts import Permission
from app.model.errors import FrontierError
from app.services import assessment_templates, report_profiles, rulesets
from ui.context import UiContext
from ui.widgets.screen_stack import fitting_height
from ui.widgets.sortable_table import SortableTable

T_COLUMNS = ["Template", "Version", "Origin", "SHA-256", "Signed by", "Imported"]
R_COLUMNS = ["Rule set", "Version", "Label", "Active", "Origin", "SHA-256", "Signed by", "Imported"]
P_COLUMNS = ["Report profile", "Version", "Name", "In use", "SHA-256", "Signed by", "Imported"]


def _table(columns: list[str], name: str) -> QTableWidget:
    t = SortableTable(0, len(columns))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(columns)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    # the three tables share the screen's height; each keeps its header and two rows in sight
    t.setMinimumHeight(t.horizontalHeader().sizeHint().height() + 2 * t.verticalHeader().defaultSectionSize() + 6)
    return t


def _origin(origin: str) -> str:
    return "shipped" if origin == "builtin" else origin


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, text in enumerate(values):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


class RulesetsScreen(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.choose_file: Callable[[str], str | None] = self._choose_file
        can_import = ctx.can(Permission.IMPORT_TRUSTED)
        note = QLabel("New versions come from media with a detached signature FILE.p7s beside FILE, by a "
                      "certificate that chains to a trusted root (this workstation's CA or an imported agency CA). "
                      "An assessment stays on the template version it started with; a newly imported rule set "
                      "becomes the active one.")
        note.setWordWrap(True)
        self.templates = _table(T_COLUMNS, "templatesTable")
        self.rulesets = _table(R_COLUMNS, "rulesetsTable")
        self.import_template_button = QPushButton("Import template…")
        self.import_template_button.clicked.connect(self.import_template)
        self.import_ruleset_button = QPushButton("Import rule set…")
        self.import_ruleset_button.clicked.connect(self.import_ruleset)
        self.profiles = _table(P_COLUMNS, "profilesTable")
        self.import_profile_button = QPushButton("Import report profile…")
        self.import_profile_button.clicked.connect(self.import_profile)
        self.use_profile_button = QPushButton("Use selected profile")
        self.use_profile_button.clicked.connect(lambda: self.use_profile(self._selected_profile()))
        self.default_profile_button = QPushButton("Use default layout")
        self.default_profile_button.clicked.connect(lambda: self.use_profile(None))
        self.profile_pks: list[int] = []
        for b in (self.import_template_button, self.import_ruleset_button, self.import_profile_button,
                  self.use_profile_button, self.default_profile_button):
            b.setVisible(can_import)
        self.result = QLabel()
        self.result.setObjectName("importResult")
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        title = QLabel("Checklists & rules")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        note.setObjectName("hint")
        layout.addWidget(note)
        row = QHBoxLayout()
        row.addWidget(self._section("Checklist templates"), 1)
        row.addWidget(self.import_template_button)
        layout.addLayout(row)
        layout.addWidget(self.templates, 1)
        row2 = QHBoxLayout()
        row2.addWidget(self._section("Coverage rule sets"), 1)
        row2.addWidget(self.import_ruleset_button)
        layout.addLayout(row2)
        layout.addWidget(self.rulesets, 1)
        row3 = QHBoxLayout()
        row3.addWidget(self._section("Report profiles (layout of new findings reports)"), 1)
        row3.addWidget(self.default_profile_button)
        row3.addWidget(self.use_profile_button)
        row3.addWidget(self.import_profile_button)
        layout.addLayout(row3)
        layout.addWidget(self.profiles, 1)
        layout.addWidget(self.result)
        self.refresh()

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("sectionTitle")
        return label

    def heightForWidth(self, width: int) -> int:  # the tables shrink to fit the window, no page scroll
        return fitting_height(self, width)

    def refresh(self) -> None:
        try:
            templates = assessment_templates.list_templates(self.ctx.session)
            stored = rulesets.list_rulesets(self.ctx.session)
            active = rulesets.active_ruleset(self.ctx.session)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        trows = [[d.doc_id, str(d.version), _origin(d.origin), d.sha256[:16] + "…", d.signer or "—",
                  d.imported_at[:16]] for d in templates]
        shipped = assessment_templates.shipped_template()
        if not any(d.doc_id == shipped.template_id and d.version == shipped.version for d in templates):
            # stored when the first assessment starts; until then it is the one assessments start on
            trows.append([shipped.template_id, str(shipped.version), "shipped", shipped.sha256[:16] + "…", "—", "—"])
        _fill(self.templates, trows)
        rows = [self._ruleset_row(d) for d in stored]
        if not stored:
            rows.append([active.ruleset_id, str(active.version), active.label.caption, "yes", "shipped",
                         active.sha256[:16] + "…", "—", "—"])
        _fill(self.rulesets, rows)
        try:
            profiles = report_profiles.list_profiles(self.ctx.session)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.profile_pks = [d.pk for d in profiles]
        prow = [[d.profile_id, str(d.version), d.name, "yes" if d.active else "", d.sha256[:16] + "…", d.signer,
                 d.imported_at[:16]] for d in profiles]
        prow.append(["default", "1", "Built-in layout", "" if any(d.active for d in profiles) else "yes", "", "", ""])
        _fill(self.profiles, prow)

    @staticmethod
    def _ruleset_row(d: Any) -> list[str]:
        label = "Reference indicators, not the classified threshold" if d.label == "reference" else "Official"
        return [d.doc_id, str(d.version), label, "yes" if d.active else "", _origin(d.origin), d.sha256[:16] + "…",
                d.signer or "—", d.imported_at[:16]]

    def _choose_file(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", "JSON (*.json)")
        return path or None

    def import_template(self) -> None:
        path = self.choose_file("Import signed checklist template")
        if path:
            self._import(lambda: assessment_templates.import_template(self.ctx.session, Path(path)), "template")

    def import_ruleset(self) -> None:
        path = self.choose_file("Import signed coverage rule set")
        if path:
            self._import(lambda: rulesets.import_ruleset(self.ctx.session, Path(path)), "rule set")

    def import_profile(self) -> None:
        path = self.choose_file("Import signed report profile")
        if path:
            self._import(lambda: report_profiles.import_profile(self.ctx.session, Path(path)), "report profile",
                         lambda d: f"{d.profile_id} v{d.version}")

    def _selected_profile(self) -> int | None:
        row = self.profiles.currentRow()
        return self.profile_pks[row] if 0 <= row < len(self.profile_pks) else None

    def use_profile(self, pk: int | None) -> None:
        try:
            profile = report_profiles.use(self.ctx.session, pk)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self.result.setText(f"New reports use the profile {profile.name} ({profile.label})")
        self.refresh()

    def _import(self, fn: Callable[[], Any], what: str, label: Callable[[Any], str] | None = None) -> None:
        try:
            doc = fn()
        except FrontierError as exc:
            self.result.setText(f"Refused: {exc}")
            self.ctx.show_error(self, exc)
            return
        name = label(doc) if label else f"{doc.doc_id} v{doc.version}"
        self.result.setText(f"Imported {what} {name}, signed by {doc.signer}")
        self.ctx.events.status_message.emit(f"Imported {what} {name}")
        self.refresh()
