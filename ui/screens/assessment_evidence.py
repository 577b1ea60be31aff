"""Evidence panel of the assessment tab: what backs the current item's answer.

Links runs, samples and stored files picked from lists (the submission's runs, the samples of a run
in natural order with a search, the files attached to the submission: no internal ids typed),
attaches a file from the media (stored encrypted in the database with its SHA-256, in a background
job), adds a written observation, removes a link with a reason. Every change goes through
app.services.assessment (history + audit).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.model.errors import FrontierError
from app.model.markings import Marking, rollup
from app.services import assessment_evidence, submissions
from ui.context import UiContext
from ui.dialogs.evidence_picker import EvidencePicker
from ui.widgets.marking_picker import ask_lower_reason
from ui.widgets.transcript_view import clean_text

ID_ROLE = Qt.ItemDataRole.UserRole
TextPrompt = Callable[[str, str], str | None]


class EvidencePanel(QGroupBox):
    changed = Signal()  # evidence was added or removed

    def __init__(self, ctx: UiContext, submission_id: int, ask_text: TextPrompt,
                 marking: Callable[[], Marking], parent: QWidget | None = None) -> None:
        super().__init__("Evidence", parent)
        self.ctx = ctx
        self.submission_id = submission_id
        self.ask_text = ask_text
        self.marking = marking  # evidence is marked like the answer it backs (changeable there)
        self.choose_file: Callable[[], str | None] = self._choose_file
        self.assessment_id: int | None = None
        self.item_id: str | None = None

        self.list = QListWidget()
        self.list.setObjectName("evidenceList")
        # about four rows: the buttons below stay in sight under the answer at 800 px (it scrolls)
        self.list.setMaximumHeight(self.list.fontMetrics().lineSpacing() * 4 + 14)
        self.picker: EvidencePicker | None = None  # the open "Pick evidence" dialog, if any
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("note or written observation")
        self.link_button = QPushButton("Pick runs, samples or files…")
        self.link_button.setToolTip("Choose from this submission's runs, their samples and its stored files")
        self.link_button.clicked.connect(self.pick)
        self.observe_button = QPushButton("Add observation")
        self.observe_button.clicked.connect(self.add_observation)
        self.file_button = QPushButton("Attach file…")
        self.file_button.clicked.connect(self.attach_file)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        r2 = QHBoxLayout()  # the usual way to add evidence first
        r2.addWidget(self.link_button)
        r2.addWidget(self.file_button)
        r2.addStretch(1)
        r2.addWidget(self.remove_button)
        layout.addLayout(r2)
        r1 = QHBoxLayout()
        r1.addWidget(self.note_edit, 1)
        r1.addWidget(self.observe_button)
        layout.addLayout(r1)

    @property
    def editors(self) -> list[QWidget]:
        return [self.link_button, self.observe_button, self.file_button, self.remove_button]

    def show_item(self, assessment_id: int, item_id: str) -> None:
        self.assessment_id, self.item_id = assessment_id, item_id
        self.list.clear()
        for e in assessment_evidence.evidence(self.ctx.session, assessment_id, item_id):
            li = QListWidgetItem(f"{e.marking.portion()} {clean_text(e.describe, 500)}  ({e.added_by})")
            li.setData(ID_ROLE, e.id)
            self.list.addItem(li)

    def _done(self) -> None:
        self.note_edit.clear()
        if self.assessment_id is not None and self.item_id is not None:
            self.show_item(self.assessment_id, self.item_id)
        self.changed.emit()

    def _call(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return
        self._done()

    def pick(self) -> EvidencePicker | None:
        """Open the list picker; Add links what is selected there to the current item."""
        if self.assessment_id is None or self.item_id is None:
            return None
        dlg = EvidencePicker(self.ctx, self.submission_id, self)
        dlg.setWindowTitle(f"Evidence for {self.item_id}")
        dlg.accepted.connect(lambda: self.link(dlg.selected_refs()))
        dlg.finished.connect(dlg.deleteLater)
        self.picker = dlg
        dlg.open()
        return dlg

    def link(self, refs: list[str]) -> None:
        """Link picked evidence (run:ID, sample:RUN:SAMPLE, blob:SHA256 of a stored file) to the item,
        all under one marking, in a background job (a stored file is copied into the evidence)."""
        aid, item_id = self.assessment_id, self.item_id
        if aid is None or item_id is None or not refs:
            return
        chosen = self._marking_and_reason()
        if chosen is None:
            return
        session, note, (marking, why) = self.ctx.session, self.note_edit.text(), chosen
        sid = self.submission_id

        def work(_progress: object, _cancel: object) -> int:
            artifacts = {a.sha256: a for a in submissions.artifacts(session, sid)}
            for ref in refs:
                kind, _, rest = ref.partition(":")
                if kind == "run":
                    assessment_evidence.add_run_evidence(session, aid, item_id, int(rest), note, marking, None, why)
                elif kind == "sample":
                    run_id, _, sample_id = rest.partition(":")
                    assessment_evidence.add_run_evidence(session, aid, item_id, int(run_id), note, marking, sample_id,
                                                         why)
                elif kind == "blob" and rest in artifacts:
                    art, data = submissions.read_artifact(session, int(artifacts[rest].id or 0))
                    # a copy of a marked file is marked at least as high as the file
                    assessment_evidence.add_stream_evidence(session, aid, item_id, io.BytesIO(data), art.filename,
                                                            rollup([marking, art.marking]), why)
            return len(refs)

        self.ctx.jobs.run(work, lambda _n: self._done(), lambda exc: self._failed(exc),
                          label="Linking evidence", parent=self)

    def _failed(self, exc: BaseException) -> None:
        self.ctx.show_error(self, exc)
        if self.assessment_id is not None and self.item_id is not None:
            self.show_item(self.assessment_id, self.item_id)  # what was linked before the problem
        self.changed.emit()

    def add_observation(self) -> None:
        aid, item_id = self.assessment_id, self.item_id
        if aid is None or item_id is None:
            return
        chosen = self._marking_and_reason()
        if chosen is None:
            return
        text, (marking, why) = self.note_edit.text(), chosen
        self._call(lambda: assessment_evidence.add_observation(self.ctx.session, aid, item_id, text, marking, why))

    def _marking_and_reason(self) -> tuple[Marking, str] | None:
        """Evidence is about the submission: below its marking only with a reason (None: cancelled)."""
        marking = self.marking()
        floor = submissions.get(self.ctx.session, self.submission_id).marking
        why = ask_lower_reason(self, self.ctx.ask_text, floor, marking, "This evidence")
        return None if why is None else (marking, why)

    def _choose_file(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Attach evidence file")
        return path or None

    def attach_file(self) -> None:
        aid, item_id = self.assessment_id, self.item_id
        if aid is None or item_id is None:
            return
        path = self.choose_file()
        if not path:
            return
        chosen = self._marking_and_reason()
        if chosen is None:
            return
        session, (marking, why) = self.ctx.session, chosen

        def work(_progress: object, _cancel: object) -> int:
            return assessment_evidence.add_file_evidence(session, aid, item_id, Path(path), marking, why)

        self.ctx.jobs.run(work, lambda _eid: self._done(), lambda exc: self.ctx.show_error(self, exc),
                          label="Storing evidence file", parent=self)

    def remove(self) -> None:
        li = self.list.currentItem()
        if li is None:
            return
        reason = self.ask_text("Remove evidence", "Why is this evidence removed? (kept in the history)")
        if reason is None:
            return
        evidence_id = int(li.data(ID_ROLE))
        self._call(lambda: assessment_evidence.remove_evidence(self.ctx.session, evidence_id, reason))
