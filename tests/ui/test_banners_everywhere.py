"""Walk every top-level window and dialog of the UI: each that can show marked content has the
classification banners on its first and last line (issue 12), the main window's above its menu bar."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QDialog, QMainWindow, QMessageBox, QWidget

import ui
from app.model.markings import Marking
from app.model.results import SampleRow
from app.model.submissions import Artifact
from app.services.csaf_merge import ImportPreview
from ui.banner import banners_of

# Windows that show nothing from the records: help text and version facts shipped with the program.
EXEMPT = {
    "ShortcutSheet": "the keyboard shortcuts, shipped text",
    "UserGuide": "the user guide, shipped text",
    "AboutDialog": "version and licence facts",
    "SetupWizard": "runs before the workstation holds any record; it previews the banner being chosen",
    "_PassphraseForm": "base class of RecoveryDialog and FirstPassphraseDialog, walked through them",
}

SNF = "SECRET//NOFORN"
Factories = dict[str, Callable[[], QWidget]]


def _factories(ctx: Any, tmp_path: Path, own_ctx: Callable[[], Any]) -> tuple[QMainWindow, Factories]:
    """The parent main window and a builder per window. `own_ctx` signs in anew: closing a main window
    signs its session out, and the MainWindow case closes the one it builds."""
    from app.model.findings import EvidenceRef
    from app.model.submissions import Submission
    from app.model.vulnerabilities import Vulnerability
    from app.services import submissions
    from app.services import vulnerabilities as vs
    from ui.context import confirm_box, text_dialog
    from ui.dialogs.cite_evidence import CiteDialog
    from ui.dialogs.csaf_export_dialog import CsafExportDialog
    from ui.dialogs.evidence_picker import EvidencePicker
    from ui.dialogs.import_dialog import ImportDialog
    from ui.dialogs.printable_preview import PrintablePreview, SavePdfDialog
    from ui.dialogs.sealed_package import OpenSealedDialog, SealDialog
    from ui.errors import error_box
    from ui.jobs import JobRunner
    from ui.main_window import MainWindow
    from ui.printing import PrinterChoiceDialog, PrinterOption
    from ui.screens.artifacts import ArtifactViewer, AttachDialog
    from ui.screens.report_screen import ExportDialog
    from ui.screens.results_tab import MapBenchmarkDialog
    from ui.screens.sign_in import FirstPassphraseDialog, RecoveryDialog, SignInWindow
    from ui.screens.submission_editor import NewSubmissionDialog
    from ui.screens.vulnerabilities_screen import ImportPreviewDialog
    from ui.unsaved import unsaved_box
    from ui.vuln_editor import VulnEditor
    from ui.widgets.passphrase_dialog import PassphraseDialog
    from ui.widgets.transcript_view import TranscriptDialog

    main = MainWindow(ctx)  # the parent of every dialog
    sid = submissions.create(ctx.session, Submission(
        developer="Northwind AI", model_name="Aurora", version="4.1", received=date(2026, 11, 2),
        planned_release=date(2026, 12, 1), marking=Marking.parse(SNF))).id
    vid = vs.create(ctx.session, Vulnerability(title="Sandbox escape", marking=Marking.parse(SNF))).id
    (tmp_path / "card.md").write_text("card")
    art = Artifact(1, 1, "model card", "card.md", "0" * 64, 4, "rita", "2026-11-20", Marking.parse("CUI"))
    row = SampleRow(1, 1, "s1", 1, 1.0, {}, "input", "target", "answer", "", None, None, None, None, None, False)
    return main, {
        "MainWindow": lambda: MainWindow(own_ctx()),
        "SignInWindow": lambda: SignInWindow(ctx.session.data_dir, JobRunner(synchronous=True)),
        "ImportDialog": lambda: ImportDialog(ctx, None, main),
        "VulnEditor": lambda: VulnEditor(ctx, None, main),
        "AttachDialog": lambda: AttachDialog(tmp_path / "card.md", Marking.parse(SNF), main),
        "ArtifactViewer": lambda: ArtifactViewer(art, b"card", main),
        "NewSubmissionDialog": lambda: NewSubmissionDialog(ctx, main),
        "ExportDialog": lambda: ExportDialog(SNF, main),
        "MapBenchmarkDialog": lambda: MapBenchmarkDialog("gdm_intercode_ctf", ["InterCode-CTF"], "", main),
        "RecoveryDialog": lambda: RecoveryDialog(main),
        "FirstPassphraseDialog": lambda: FirstPassphraseDialog(main),
        "ImportPreviewDialog": lambda: ImportPreviewDialog(ctx, ImportPreview((), ()), main),
        "CsafExportDialog": lambda: CsafExportDialog(ctx, [vid], main),
        "PassphraseDialog": lambda: PassphraseDialog("sign the report", main),
        "TranscriptDialog": lambda: TranscriptDialog(row, {"messages": []}, "sample", main, SNF),
        "error box": lambda: error_box(main, ValueError("quoted content")),
        "confirmation": lambda: confirm_box(main, "Delete", "Delete the finding?", "Delete")[0],
        "TextQuestion": lambda: text_dialog(main, "Reason", "Why?"),
        "unsaved changes": lambda: unsaved_box(main, "The finding"),
        "EvidencePicker": lambda: EvidencePicker(ctx, sid, main),
        "CiteDialog": lambda: CiteDialog(ctx, sid, EvidenceRef.parse("run:1"), main),
        "PrinterChoiceDialog": lambda: PrinterChoiceDialog("the report", Marking.parse(SNF),
                                                           [PrinterOption("hallway", None, True)], 3, main),
        "SavePdfDialog": lambda: SavePdfDialog(_printable(), main),
        "PrintablePreview": lambda: PrintablePreview(ctx, _printable(), main),
        "SealDialog": lambda: SealDialog(["Federal Test Lab"], [SNF], None, main),
        "OpenSealedDialog": lambda: OpenSealedDialog(main),
    }


def _printable():  # type: ignore[no-untyped-def]
    """A SECRET//NOFORN printable document (the checklist of a marked submission, no answers yet)."""
    from datetime import UTC, datetime

    from app.model.printable import DocumentKind, PrintableInput
    from app.services.printables import Printable
    from reports.pdf_printable import build_printable

    doc = PrintableInput(DocumentKind.CHECKLIST, "Assessment checklist: Aurora", Marking.parse(SNF), "FRW-T-1",
                         datetime(2026, 11, 20, tzinfo=UTC), "Test", "Rita")
    built = build_printable(doc)
    return Printable(doc.kind, doc.title, doc.reference, built.data, built.pages, built.marking, built.sha256,
                     ("submission", "1"))


def _top_level_classes() -> set[str]:
    """Every QDialog / QMainWindow subclass defined in the ui package (new ones must join the walk)."""
    found = set()
    for info in pkgutil.walk_packages(ui.__path__, "ui."):
        if info.name in ("ui.screenshots", "ui.__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, QDialog | QMainWindow | QMessageBox):
                found.add(name)
    return found


@pytest.fixture(scope="module")
def walk(qapp, workstation_template, tmp_path_factory) -> Iterator[Factories]:  # type: ignore[no-untyped-def]
    """One reviewer session, parent main window and pair of SECRET//NOFORN records for the whole walk:
    building a window only reads them, so the cases share them (each still builds its window anew).
    Signing in, building the main window and creating the records per case cost more than the check."""
    from tests.conftest import fixture_conditions
    from tests.ui.conftest import DialogRecorder
    from ui import plain_text
    from ui.context import UiContext
    from ui.jobs import JobRunner

    root = tmp_path_factory.mktemp("banner-walk")
    with fixture_conditions(root) as backend:
        plain_text.install(qapp)
        ws = workstation_template.copy_to(root / "ws", backend)
        dialogs = DialogRecorder()

        def reviewer() -> UiContext:
            """Signs in with the walk's keyring secret and state folder, also from inside a test."""
            during_test = keyring.get_keyring()
            with pytest.MonkeyPatch.context() as inner:
                inner.setenv("FRW_STATE_DIR", str(root / "state"))
                keyring.set_keyring(backend)
                try:
                    session = ws.session("reviewer")
                finally:
                    keyring.set_keyring(during_test)
            return UiContext(session=session, jobs=JobRunner(synchronous=True), error_sink=dialogs.error,
                             passphrase_prompt=dialogs.passphrase, confirmer=dialogs.confirm,
                             text_prompt=dialogs.text, unsaved_prompt=dialogs.unsaved_prompt)

        main, factories = _factories(reviewer(), root, reviewer)
        try:
            yield factories
        finally:
            main.close()
            main.deleteLater()
            for s in ws.sessions:
                s.close()


def test_every_dialog_class_is_walked(walk: Factories) -> None:
    missing = _top_level_classes() - set(walk) - set(EXEMPT)
    assert not missing, f"add these windows to the banner walk: {sorted(missing)}"


def _y(w: QWidget, window: QWidget) -> int:
    return w.mapTo(window, QPoint(0, 0)).y()


def _shown(c: QWidget, window: QWidget) -> tuple[int, int] | None:
    """(top, bottom) of the part of `c` actually drawn (scroll areas clip their content)."""
    seen = c.visibleRegion().boundingRect()
    if seen.isEmpty():
        return None
    top = c.mapTo(window, seen.topLeft()).y()
    return top, top + seen.height()


@pytest.mark.parametrize("name", ["MainWindow", "SignInWindow", "ImportDialog", "VulnEditor", "AttachDialog",
                                  "ArtifactViewer", "NewSubmissionDialog", "ExportDialog", "MapBenchmarkDialog",
                                  "RecoveryDialog", "FirstPassphraseDialog", "ImportPreviewDialog",
                                  "CsafExportDialog", "PassphraseDialog", "TranscriptDialog",
                                  "error box", "confirmation", "TextQuestion", "unsaved changes",
                                  "EvidencePicker", "CiteDialog", "PrinterChoiceDialog", "SavePdfDialog",
                                  "PrintablePreview", "SealDialog", "OpenSealedDialog"])
def test_banners_top_and_bottom(name, qtbot, walk: Factories) -> None:  # type: ignore[no-untyped-def]
    w = walk[name]()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    banners = banners_of(w)
    assert len(banners) >= 2, name
    top, bottom = banners[0], banners[-1]
    assert top.isVisible() and bottom.isVisible()
    assert top.text() == bottom.text() and top.text() not in ("", "UNMARKED"), (name, top.text())
    spans = {c: _shown(c, w) for c in w.findChildren(QWidget) if c.isVisible() and c not in banners
             and c.window() is w and not any(b.isAncestorOf(c) for b in banners)}
    drawn = {c: span for c, span in spans.items() if span is not None}
    above = [c for c, (y0, _y1) in drawn.items() if y0 < _y(top, w)]
    below = [c for c, (_y0, y1) in drawn.items() if y1 > _y(bottom, w) + bottom.height()]
    assert not above and not below, (name, above[:3], below[:3])
    if isinstance(w, QMainWindow):
        assert _y(top, w) + top.height() <= _y(w.menuBar(), w)  # the menu bar sits below the top banner
    w.close()
