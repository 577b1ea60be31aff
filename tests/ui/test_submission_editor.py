"""Submission editor and artifacts tab: field-named validation, window warning, save, attach/view/copy."""

from __future__ import annotations

import hashlib
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from app.model.errors import ValidationError
from app.model.markings import Marking
from app.model.submissions import Contact, Submission, SubmissionStatus
from app.services import audit, submissions
from ui.screens.artifacts import ArtifactsTab
from ui.screens.submission_editor import SubmissionEditor


def _qd(d):  # type: ignore[no-untyped-def]
    return QDate(d.year, d.month, d.day)


def _fill(editor: SubmissionEditor) -> None:
    editor.developer.setText("Northwind AI")
    editor.model_name.setText("Aurora")
    editor.version.setText("5.0-rc1")
    editor.training_flop.setText("4.2e26")


@pytest.fixture
def existing(ctx) -> Submission:  # type: ignore[no-untyped-def]
    today = ctx.today()
    return submissions.create(ctx.session, Submission(
        developer="Helix Labs", model_name="Helix-Coder", version="2.0", received=today,
        planned_release=today + timedelta(days=20), marking=Marking.parse("CUI")))


def test_missing_field_error_is_shown_next_to_that_field(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = SubmissionEditor(ctx, None)
    qtbot.addWidget(editor)
    editor.show()
    editor.model_name.setText("Aurora")
    editor.version.setText("1")
    assert editor.save() is None
    label = editor.error_labels["developer"]
    assert label.isVisible()
    assert label.text() == "Developer organisation: is required"
    assert editor.developer.property("invalid") is True
    assert not editor.error_labels["model_name"].isVisible()
    assert submissions.count(ctx.session) == 0  # nothing half-written


def test_release_before_receipt_and_bad_flop_name_their_fields(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = SubmissionEditor(ctx, None)
    qtbot.addWidget(editor)
    editor.show()
    _fill(editor)
    editor.training_flop.setText("lots")
    editor.save()
    assert editor.error_labels["training_flop"].isVisible()
    assert "'lots' is not a number" in editor.error_labels["training_flop"].text()
    editor.training_flop.setText("3e25")
    today = ctx.today()
    editor.received.setDate(_qd(today))
    editor.planned_release.setDate(_qd(today - timedelta(days=2)))
    assert "before the received date" in editor.window_info.text()
    editor.save()
    assert not editor.error_labels["training_flop"].isVisible()  # cleared on the next attempt
    assert editor.error_labels["planned_release"].isVisible()
    assert "Planned public release" in editor.error_labels["planned_release"].text()
    assert submissions.count(ctx.session) == 0


def test_window_over_30_days_warns_but_saves(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    changed: list[int] = []
    ctx.events.submission_changed.connect(changed.append)
    editor = SubmissionEditor(ctx, None)
    qtbot.addWidget(editor)
    editor.show()
    _fill(editor)
    today = ctx.today()
    editor.received.setDate(_qd(today))
    editor.planned_release.setDate(_qd(today + timedelta(days=45)))
    assert "45 days" in editor.window_info.text() and "Warning" in editor.window_info.text()
    editor.marking.set_marking(Marking.parse("SECRET//NOFORN"))
    editor.notes.setPlainText("Agreed cyber suite at intake.")
    editor.notes_marking.set_marking(Marking.parse("CUI"))
    editor._append_contact(Contact(name="Jo Release", organisation="Northwind AI", email="jo@northwind.example"))
    stored = editor.save()
    assert stored is not None and stored.id is not None
    assert "45 days" in editor.message.text()  # flagged after saving too
    fresh = submissions.get(ctx.session, stored.id)
    assert fresh.window_days == 45
    assert fresh.marking.banner() == "SECRET//NOFORN"
    assert fresh.notes_marking.banner() == "CUI"
    assert fresh.training_flop == pytest.approx(4.2e26)
    assert [c.name for c in fresh.contacts] == ["Jo Release"]
    assert changed == [stored.id]
    assert editor.save_button.text() == "Save changes"  # now editing the created record


def test_edit_existing_is_saved_and_audited(ctx, qtbot, existing, workstation) -> None:  # type: ignore[no-untyped-def]
    editor = SubmissionEditor(ctx, existing.id)
    qtbot.addWidget(editor)
    assert editor.developer.text() == "Helix Labs"
    assert not editor.is_modified()
    editor.version.setText("2.1")
    # The only status a person records is a withdrawal; the stage otherwise follows the work.
    assert editor.status.count() == 2
    editor.status.setCurrentIndex(editor.status.findData(SubmissionStatus.WITHDRAWN.value))
    assert editor.is_modified()
    assert editor.save() is not None
    assert submissions.get(ctx.session, existing.id).version == "2.1"
    ev = audit.events(workstation.session("auditor"), 5, action_prefix="submission.update")[0]
    assert ev.details["changes"]["version"] == ["2.0", "2.1"]
    assert ev.details["changes"]["status"] == ["received", "withdrawn"]
    editor.version.setText("junk")
    editor.load()  # Revert
    assert editor.version.text() == "2.1"


def test_marking_above_system_high_cannot_be_chosen(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = SubmissionEditor(ctx, None)
    qtbot.addWidget(editor)
    model = editor.marking.level.model()
    labels = {editor.marking.level.itemText(i): model.item(i).isEnabled()  # type: ignore[attr-defined]
              for i in range(editor.marking.level.count())}
    assert labels["SECRET"] is True and labels["TOP SECRET"] is False  # fixture system-high is SECRET//NOFORN


def test_auditor_sees_a_read_only_editor(make_ctx, qtbot, existing) -> None:  # type: ignore[no-untyped-def]
    auditor = make_ctx("auditor")
    editor = SubmissionEditor(auditor, existing.id)
    qtbot.addWidget(editor)
    assert editor.developer.isReadOnly()
    assert not editor.save_button.isEnabled()
    assert "Read-only" in editor.message.text()


# -- artifacts ----------------------------------------------------------------------------------

def test_attach_view_and_save_copy(ctx, qtbot, existing, tmp_path: Path, dialogs, workstation) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "model-card.txt"
    content = "Helix-Coder 2.0 model card\nEvaluations: Cybench, InterCode-CTF\n"
    card.write_text(content, encoding="utf-8")
    tab = ArtifactsTab(ctx, existing.id)
    qtbot.addWidget(tab)
    tab.attach_file(card, "model card", Marking.parse("CUI"))
    assert dialogs.errors == []
    assert tab.table.rowCount() == 1
    sha = hashlib.sha256(content.encode()).hexdigest()
    assert tab.table.item(0, 4).text() == sha  # type: ignore[union-attr]
    assert tab.table.item(0, 2).text() == "CUI"  # type: ignore[union-attr]
    assert sha in tab.message.text()

    tab.table.selectRow(0)
    viewer = tab.view_selected()
    assert viewer is not None
    qtbot.addWidget(viewer)
    assert viewer.text is not None and viewer.text.toPlainText() == content
    assert viewer.text.isReadOnly()

    dest = tmp_path / "out" / "copy.txt"
    dest.parent.mkdir()
    tab.choose_save = lambda _name: dest
    dialogs.texts = ["UNCLASSIFIED"]  # the media label: lower than the artifact's CUI
    tab.save_selected()
    assert "marked CUI but the media is labelled UNCLASSIFIED" in dialogs.error_text()
    assert not dest.exists()
    dialogs.texts = ["CUI"]
    tab.save_selected()
    assert "CUI" in dialogs.prompts[-1]
    assert dest.read_text(encoding="utf-8") == content
    assert (dest.parent / "MARKING.txt").read_text(encoding="utf-8").splitlines()[0] == "CUI"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    actions = [e.action for e in audit.events(workstation.session("auditor"), 10)]
    assert {"artifact.attach", "artifact.open", "artifact.export", "egress.refused", "egress.write"} <= set(actions)


def test_oversized_artifact_is_refused_with_a_message(ctx, qtbot, existing, tmp_path: Path, dialogs) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "weights.bin"
    limit_mb = ctx.session.settings.max_artifact_mb
    with open(big, "wb") as fh:  # sparse: no real disk use
        fh.truncate((limit_mb << 20) + 1)
    tab = ArtifactsTab(ctx, existing.id)
    qtbot.addWidget(tab)
    tab.attach_file(big, "other", existing.marking)
    assert len(dialogs.errors) == 1
    err = dialogs.errors[0]
    assert isinstance(err, ValidationError) and "weights.bin" in str(err) and "limit" in str(err)
    assert tab.table.rowCount() == 0
    assert submissions.artifacts(ctx.session, existing.id) == []


def test_binary_artifact_is_not_shown_inline(ctx, qtbot, existing, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blob = tmp_path / "eval.bin"
    blob.write_bytes(b"\x00\x01\x02binary")
    tab = ArtifactsTab(ctx, existing.id)
    qtbot.addWidget(tab)
    tab.attach_file(blob, "other", existing.marking)
    tab.table.selectRow(0)
    assert tab.view_selected() is None
    assert "Save a copy as" in tab.message.text()


def test_history_tab_lists_the_records_audit_events(ctx, qtbot, existing) -> None:  # type: ignore[no-untyped-def]
    from ui.screens.history_tab import HistoryTab

    editor = SubmissionEditor(ctx, existing.id)
    qtbot.addWidget(editor)
    editor.version.setText("2.0.1")
    editor.save()
    tab = HistoryTab(ctx, existing.id)
    qtbot.addWidget(tab)
    assert [e.action for e in tab.events] == ["submission.update", "submission.create"]
    assert tab.table.item(0, 1).text() == "reviewer"  # type: ignore[union-attr]
    assert "2.0.1" in tab.table.item(0, 3).text()  # type: ignore[union-attr]


def test_pdf_artifact_is_shown_from_memory(ctx, qtbot, existing, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "system-card.pdf"
    c = canvas.Canvas(str(pdf))
    c.drawString(72, 720, "System card")
    c.showPage()
    c.drawString(72, 720, "Page two")
    c.save()
    tab = ArtifactsTab(ctx, existing.id)
    qtbot.addWidget(tab)
    tab.attach_file(pdf, "system card", Marking.parse("CUI"))
    tab.table.selectRow(0)
    viewer = tab.view_selected()
    assert viewer is not None
    qtbot.addWidget(viewer)
    assert viewer.text is None
    qtbot.waitUntil(lambda: viewer.pdf.pageCount() == 2, timeout=3000)
    assert "(CUI)" in viewer.windowTitle()


def test_attaching_below_the_submission_marking_asks_a_reason(ctx, qtbot, existing, tmp_path: Path,
                                                               dialogs) -> None:  # type: ignore[no-untyped-def]
    """The attach dialog starts at the submission's marking (CUI); choosing UNCLASSIFIED asks why,
    and without a reason nothing is attached."""
    from app.services import audit
    from ui.screens.artifacts import AttachDialog

    card = tmp_path / "public-card.txt"
    card.write_text("Helix-Coder public card\n", encoding="utf-8")
    dlg = AttachDialog(card, Marking.parse("SECRET//NOFORN"), None, existing.marking)
    qtbot.addWidget(dlg)
    assert dlg.marking.marking() == Marking.parse("CUI")
    tab = ArtifactsTab(ctx, existing.id)
    qtbot.addWidget(tab)
    tab.attach_file(card, "model card", Marking())  # the person keeps the marking: nothing attached
    assert dialogs.prompts and "would lower it" in dialogs.prompts[-1]
    assert submissions.artifacts(ctx.session, existing.id) == []
    dialogs.texts = ["published by the developer"]
    tab.attach_file(card, "model card", Marking())
    assert not dialogs.errors, dialogs.error_text()
    assert [a.marking for a in submissions.artifacts(ctx.session, existing.id)] == [Marking()]
    lowered = [e for e in audit.object_history(ctx.session, "submission", existing.id) if e.action == "marking.lower"]
    assert lowered[0].details["reason"] == "published by the developer"
