"""Pick evidence from lists instead of typing internal ids: the submission's runs, a run's samples
(natural order, filterable) and its stored files. Returns EvidenceRef strings (run:ID,
sample:RUN:SAMPLE, blob:SHA256) that the findings editor stores."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.results import EvalRun, SampleFilter
from app.services import results, submissions
from ui.banner import add_banners
from ui.context import UiContext
from ui.widgets.transcript_view import clean_text

REF_ROLE = Qt.ItemDataRole.UserRole
MAX_SAMPLES = 2000  # a list to pick from; the run page has them all


def run_label(run: EvalRun) -> str:
    name = run.benchmark or run.task
    return clean_text(f"run {run.id}: {name} · {run.model} · {run.status.value} · {run.sample_count:,} samples "
                      f"({run.original_name})", 300)


class EvidencePicker(QDialog):
    def __init__(self, ctx: UiContext, submission_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.setWindowTitle("Add evidence")
        self.resize(900, 560)
        self.runs = QListWidget()
        self.runs.setObjectName("evidenceRuns")
        self.runs.setAccessibleName("Runs of this submission")
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs.currentItemChanged.connect(self._run_changed)
        self.samples = QListWidget()
        self.samples.setObjectName("evidenceSamples")
        self.samples.setAccessibleName("Samples of the selected run")
        self.samples.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sample_filter = QLineEdit()
        self.sample_filter.setPlaceholderText("Filter samples by id…")
        self.sample_filter.setAccessibleName("Filter samples by id")
        self.sample_filter.textChanged.connect(self._filter_samples)
        self.files = QListWidget()
        self.files.setObjectName("evidenceFiles")
        self.files.setAccessibleName("Files stored with this submission")
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        cols = QHBoxLayout()
        for title, widgets in (("Runs", [self.runs]), ("Samples of the run", [self.sample_filter, self.samples]),
                               ("Files", [self.files])):
            col = QVBoxLayout()
            col.addWidget(QLabel(title))
            for w in widgets:
                col.addWidget(w)
            cols.addLayout(col, 1)
        hint = QLabel("Select one or more entries in any list (Ctrl+click), then Add.")
        hint.setObjectName("hint")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(cols, 1)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self._load()
        add_banners(self, submissions.get(ctx.session, submission_id).marking.banner())  # its runs' marking

    def _load(self) -> None:
        try:
            for run in results.list_runs(self.ctx.session, self.submission_id):
                item = QListWidgetItem(run_label(run))
                item.setData(REF_ROLE, f"run:{run.id}")
                self.runs.addItem(item)
            for art in submissions.artifacts(self.ctx.session, self.submission_id):
                item = QListWidgetItem(clean_text(f"{art.filename} ({art.kind}, SHA-256 {art.sha256[:12]}…)", 300))
                item.setData(REF_ROLE, f"blob:{art.sha256}")
                self.files.addItem(item)
        except FrontierError as exc:
            self.ctx.show_error(self, exc)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _run_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        self.samples.clear()
        if current is None:
            return
        run_id = int(str(current.data(REF_ROLE)).split(":", 1)[1])
        try:
            rows = results.page_samples(self.ctx.session, run_id, SampleFilter(), 0, MAX_SAMPLES, sort="sample_id")
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        # A sample is cited by its id (all its epochs): one line per id, in natural order.
        epochs: dict[str, list[str]] = {}
        for row in rows:
            score = "" if row.score is None else f" score {row.score:.3g}"
            epochs.setdefault(row.sample_id, []).append(f"epoch {row.epoch}{score}")
        for sample_id, parts in epochs.items():
            item = QListWidgetItem(clean_text(f"{sample_id} ({'; '.join(parts)})", 300))
            item.setData(REF_ROLE, f"sample:{run_id}:{sample_id}")
            self.samples.addItem(item)
        self._filter_samples(self.sample_filter.text())

    @Slot(str)
    def _filter_samples(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.samples.count()):
            item = self.samples.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def selected_refs(self) -> list[str]:
        refs: list[str] = []
        for lst in (self.runs, self.samples, self.files):
            refs += [str(i.data(REF_ROLE)) for i in lst.selectedItems() if not i.isHidden()]
        return refs
