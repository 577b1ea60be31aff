"""Pick evidence from lists instead of typing internal ids: the submission's runs, a run's samples
(natural order, filterable; an exact id beyond the first rows is looked up) and its stored files.
Returns EvidenceRef strings (run:ID, sample:RUN:SAMPLE, blob:SHA256) that the findings editor and
the checklist's evidence panel store."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.results import EvalRun, SampleFilter, SampleRow
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
        self.sample_count = QLabel("")
        self.sample_count.setObjectName("hint")
        self.sample_count.setTextFormat(Qt.TextFormat.PlainText)
        self.sample_count.setWordWrap(True)
        self._run_id: int | None = None
        self._sample_total = 0
        self.files = QListWidget()
        self.files.setObjectName("evidenceFiles")
        self.files.setAccessibleName("Files stored with this submission")
        self.files.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # A run's label (benchmark, model, status, samples, file) and a file's name wrap in their lists,
        # never cut off behind a sideways scroll bar; the runs get the widest column.
        for listing in (self.runs, self.files):
            listing.setWordWrap(True)
            listing.setTextElideMode(Qt.TextElideMode.ElideNone)
            listing.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            listing.setResizeMode(QListView.ResizeMode.Adjust)
        cols = QHBoxLayout()
        sample_column: list[QWidget] = [self.sample_filter, self.samples, self.sample_count]
        for title, widgets, stretch in (("Runs", [self.runs], 3), ("Samples of the run", sample_column, 2),
                                        ("Files", [self.files], 2)):
            col = QVBoxLayout()
            col.addWidget(QLabel(title))
            for w in widgets:
                col.addWidget(w)
            cols.addLayout(col, stretch)
        hint = QLabel("Select one or more entries in any list (Ctrl+click), then Add. A selected run is cited "
                      "whole unless one of its samples is selected.")
        hint.setWordWrap(True)
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
                item.setToolTip(run_label(run))
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
        self._run_id = None
        self.sample_count.setText("")
        if current is None:
            return
        run_id = int(str(current.data(REF_ROLE)).split(":", 1)[1])
        try:
            self._sample_total = results.count_samples(self.ctx.session, run_id)
            rows = results.page_samples(self.ctx.session, run_id, SampleFilter(), 0, MAX_SAMPLES, sort="sample_id")
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._run_id = run_id
        self._add_samples(run_id, rows)
        shown = len(rows)
        self.sample_count.setText(f"{self._sample_total:,} sample rows" if shown >= self._sample_total else
                                  f"First {shown:,} of {self._sample_total:,} sample rows (natural order); type an "
                                  "exact id to find any other")
        self._filter_samples(self.sample_filter.text())

    def _add_samples(self, run_id: int, rows: list[SampleRow]) -> None:
        # A sample is cited by its id (all its epochs): one line per id, in natural order.
        epochs: dict[str, list[str]] = {}
        for row in rows:
            score = "" if row.score is None else f" score {row.score:.3g}"
            epochs.setdefault(row.sample_id, []).append(f"epoch {row.epoch}{score}")
        for sample_id, parts in epochs.items():
            item = QListWidgetItem(clean_text(f"{sample_id} ({'; '.join(parts)})", 300))
            item.setData(REF_ROLE, f"sample:{run_id}:{sample_id}")
            self.samples.addItem(item)

    @Slot(str)
    def _filter_samples(self, text: str) -> None:
        needle = text.strip().casefold()
        known = {str(self.samples.item(i).data(REF_ROLE)).split(":", 2)[2] for i in range(self.samples.count())}
        if (needle and self._run_id is not None and self._sample_total > MAX_SAMPLES
                and text.strip() not in known):
            # Beyond the listed rows: look the exact id up in the database.
            try:
                rows = results.page_samples(self.ctx.session, self._run_id, SampleFilter(sample_id=text.strip()),
                                            0, 100)
            except FrontierError:
                rows = []
            self._add_samples(self._run_id, rows)
        for i in range(self.samples.count()):
            item = self.samples.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def selected_refs(self) -> list[str]:
        """What is selected, in list order. Selecting a run also opens its samples: once one of its
        samples is chosen, the run itself is not cited as well (the sample says it)."""
        samples = [str(i.data(REF_ROLE)) for i in self.samples.selectedItems() if not i.isHidden()]
        runs_with_samples = {"run:" + ref.split(":")[1] for ref in samples}
        runs = [str(i.data(REF_ROLE)) for i in self.runs.selectedItems()]
        files = [str(i.data(REF_ROLE)) for i in self.files.selectedItems()]
        return [r for r in runs if r not in runs_with_samples] + samples + files
