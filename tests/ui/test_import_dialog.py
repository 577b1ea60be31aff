"""Import dialog: real fixture logs through the dialog (synchronous job runner), progress,
proposal by model id, Cancel that leaves nothing stored, and errors that name the file."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QProgressDialog

from app.model.submissions import Submission
from app.services import audit, results, submissions
from ui.context import UiContext
from ui.dialogs.import_dialog import ImportDialog

FIX = Path(__file__).resolve().parents[1] / "fixtures"
INTERCODE = FIX / "inspect" / "intercode_ok.eval"
WMDP_JSON = FIX / "inspect" / "wmdp_cyber_ok.json"
LM_EVAL = next((FIX / "lm_eval" / "offline__cyber-mini-7b").glob("results_*.json"))


def make_submission(ctx: UiContext, developer: str = "Offline", model: str = "cyber-mini", version: str = "7b") -> int:
    sub = submissions.create(ctx.session, Submission(developer, model, version, date(2026, 11, 1), date(2026, 11, 28)))
    assert sub.id is not None
    return sub.id


@pytest.fixture
def dialog(ctx: UiContext, qtbot) -> ImportDialog:  # type: ignore[no-untyped-def]
    make_submission(ctx, "Other Labs", "Zephyr", "1.0")
    sid = make_submission(ctx)
    dlg = ImportDialog(ctx, sid)
    qtbot.addWidget(dlg)
    return dlg


def test_imports_several_real_logs_in_one_go(dialog: ImportDialog, ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = dialog.submission_id()
    assert sid is not None
    dialog.add_files([str(INTERCODE), str(WMDP_JSON), str(LM_EVAL)])
    # the preview read each header: task and model shown per file
    texts = [dialog.row_texts(i)[1] for i in range(dialog.files_table.rowCount())]
    assert [dialog.row_texts(i)[2] for i in range(3)] == ["queued"] * 3
    assert "gdm_intercode_ctf" in texts[0] and "mockllm/model" in texts[0]
    assert "wmdp_cyber" in texts[2] and "cybermetric_80_mini" in texts[2]
    dialog.media_edit.setText("USB 0042")
    progress: list[tuple[int, int, str]] = []
    shown: list[str] = []
    dialog.progress_changed.connect(lambda d, t, m: (progress.append((d, t, m)), shown.append(dialog.counts_label.text())))
    ticks = iter(range(0, 10_000, 10))  # every reading of the clock is 10 s later
    dialog.clock = lambda: float(next(ticks))
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    outcomes = blocker.args[0]
    assert [o.status for o in outcomes] == ["imported", "imported", "imported"]
    # progress arrived with byte counts over the whole batch, ending at the total
    assert progress and progress[-1][0] == progress[-1][1] > 0
    assert any(m.startswith(f"{INTERCODE.name}: imported") for _, _, m in progress)
    # counts and time left are shown while it runs
    assert any(" of " in t and "KB" in t for t in shown)
    assert any(t.endswith("s left") or t.endswith("min left") for t in shown)
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    assert dialog.files_table.rowCount() == 3  # one table: the same rows carry the results
    assert dialog.row_texts(0)[0] == INTERCODE.name
    assert [dialog.row_texts(i)[2] for i in range(3)] == [f"imported {outcomes[0].samples:,} samples",
                                                          f"imported {outcomes[1].samples:,} samples",
                                                          f"imported {outcomes[2].samples:,} samples in 2 runs"]
    runs = results.list_runs(ctx.session, sid)
    assert sorted(r.task for r in runs) == ["cybermetric_80_mini", "gdm_intercode_ctf", "wmdp_cyber", "wmdp_cyber"]
    assert {r.media_label for r in runs} == {"USB 0042"}
    assert sum(r.sample_count for r in runs) == sum(o.samples for o in outcomes) > 0
    assert not dialog.is_running() and dialog.import_button.isEnabled()


def test_without_a_match_the_hint_says_where_the_import_goes_once_a_submission_is_chosen(ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    chosen = make_submission(ctx, "Acme", "ctf-model", "1")  # mockllm/model matches no submission
    dlg = ImportDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INTERCODE)])
    assert dlg.proposal_label.text() == "No submission matches the model id mockllm/model; choose one above."
    assert dlg.select_submission(chosen)  # it used to keep asking for a choice already made
    assert dlg.proposal_label.text() == ("No submission matches the model id mockllm/model; the import goes to "
                                         f"{dlg.submission_combo.currentText()}, as chosen.")


def test_proposes_submission_by_model_id(ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    make_submission(ctx, "Other Labs", "Zephyr", "1.0")
    wanted = make_submission(ctx, "Offline", "cyber-mini", "7b")
    dlg = ImportDialog(ctx)  # opened without a submission: nothing chosen yet
    qtbot.addWidget(dlg)
    assert dlg.submission_id() is None
    dlg.add_files([str(LM_EVAL)])
    assert "Offline cyber-mini 7b" in dlg.proposal_label.text()
    assert "offline/cyber-mini-7b" in dlg.proposal_label.text()
    assert not dlg.use_proposal_button.isHidden()
    dlg.use_proposal_button.click()
    assert dlg.submission_id() == wanted
    # Import is refused until a submission is chosen; here it is, so it goes through.
    with qtbot.waitSignal(dlg.imported, timeout=10_000):
        dlg.import_button.click()
    assert [r.task for r in results.list_runs(ctx.session, wanted)] != []


def test_import_without_submission_asks_for_one(ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    make_submission(ctx)
    dlg = ImportDialog(ctx)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INTERCODE)])
    dlg.submission_combo.setCurrentIndex(-1)
    dlg.import_button.click()
    assert "Choose the submission" in dlg.progress_label.text()
    assert dlg.outcomes == []


def test_cancel_leaves_nothing_behind(dialog: ImportDialog, ctx: UiContext, qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    sid = dialog.submission_id()
    assert sid is not None
    auditor = workstation.session("auditor")
    before = audit.count(auditor)
    dialog.add_files([str(INTERCODE), str(WMDP_JSON)])
    pressed: list[str] = []

    def press_cancel(_d: int, _t: int, _m: str) -> None:
        if not pressed:  # the reviewer presses Cancel as soon as the first figures appear
            pressed.append("x")
            dialog.cancel_button.click()

    dialog.progress_changed.connect(press_cancel)
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    outcomes = blocker.args[0]
    assert pressed
    assert [o.status for o in outcomes] == ["cancelled", "cancelled"]
    assert results.list_runs(ctx.session, sid) == []
    assert dialog.row_texts(0)[2] == "cancelled: Import cancelled; nothing was stored from this file."
    assert dialog.row_texts(1)[2] == "skipped: not started (import cancelled)"
    assert dialog.progress_label.text() == ("Import cancelled: nothing was stored from the file being read; "
                                            "1 file(s) not started.")
    assert audit.count(auditor) == before  # no import event written either


def test_bad_file_error_names_the_file_and_others_still_import(dialog: ImportDialog, ctx: UiContext,
                                                              qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken_run.eval"
    broken.write_bytes(INTERCODE.read_bytes()[:4000])  # truncated ZIP, as from a pulled USB stick
    good = tmp_path / "good.eval"
    shutil.copy(INTERCODE, good)
    dialog.add_files([str(broken), str(good)])
    assert dialog.row_texts(0)[0] == "broken_run.eval" and dialog.row_texts(0)[1].startswith("cannot be read")
    # Before Import the unreadable file already says it will be refused (not "queued"), in the
    # refusal colour, with the reason in its tooltip; the good one waits.
    before = dialog.files_table.item(0, 2)
    assert before.text() == "cannot be read: will be refused"
    assert before.foreground().color() == QColor("#cf222e")
    reason = dialog.row_texts(0)[1].removeprefix("cannot be read: ")
    assert reason and reason in before.toolTip() and "Status: cannot be read" in before.toolTip()
    assert dialog.row_texts(1)[2] == "queued" and dialog.import_button.isEnabled()
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    outcomes = blocker.args[0]
    assert [o.status for o in outcomes] == ["failed", "imported"]
    assert "broken_run.eval" in outcomes[0].message
    status = dialog.files_table.item(0, 2)
    assert status.text().startswith("refused: ") and "truncated" in status.text()
    assert "broken_run.eval" in status.toolTip()
    assert status.background().color() == QColor("#ffebe9")
    assert dialog.row_texts(1)[2].startswith("imported ")
    # the refusal is selected: its whole message (path included) is in the details pane
    details = dialog.details.toPlainText()
    assert details.startswith(str(broken)) and outcomes[0].message.removeprefix(f"{broken}: ") in details
    runs = results.list_runs(ctx.session, dialog.submission_id() or 0)
    assert [r.original_name for r in runs] == ["good.eval"]


def test_reimport_is_reported_as_duplicate(dialog: ImportDialog, ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog.add_files([str(INTERCODE)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    assert [o.status for o in blocker.args[0]] == ["duplicate"]
    assert dialog.row_texts(0)[2].startswith("skipped: already imported (same SHA-256) as run ")
    assert len(results.list_runs(ctx.session, dialog.submission_id() or 0)) == 1


def test_import_runs_off_the_gui_thread(ctx: UiContext, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """With the real (threaded) job runner: the service runs on a worker thread with its own
    connection, progress reaches the dialog through queued signals, the GUI stays responsive."""
    import threading

    from ui.jobs import JobRunner

    sid = make_submission(ctx)
    ctx.jobs = JobRunner(synchronous=False, slow_ms=0)  # would pop its generic progress window at once
    seen: list[tuple[str, object]] = []
    real = results.import_files

    def spy(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((threading.current_thread().name, session.db))
        return real(session, *args, **kwargs)

    monkeypatch.setattr(results, "import_files", spy)
    dlg = ImportDialog(ctx, sid)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INTERCODE), str(WMDP_JSON)])
    qtbot.waitUntil(lambda: "gdm_intercode_ctf" in dlg.row_texts(0)[1], timeout=10_000)
    other_windows: list[int] = []
    dlg.progress_changed.connect(lambda *_a: other_windows.append(len(
        [w for w in dlg.findChildren(QProgressDialog) if w.isVisible()])))  # the runner parents it to dlg
    with qtbot.waitSignal(dlg.imported, timeout=20_000) as blocker:
        dlg.import_button.click()
        assert dlg.is_running() and not dlg.import_button.isEnabled() and dlg.cancel_button.isEnabled()
    # progress arrived (queued from the worker) while the dialog's own bar, counts and Cancel were
    # the only progress display: the runner's generic window never appeared
    assert other_windows and set(other_windows) == {0}
    assert [o.status for o in blocker.args[0]] == ["imported", "imported"]
    assert len(seen) == 2  # one call per file, so each row shows its own status
    assert {name for name, _db in seen} != {threading.main_thread().name}
    assert all(db is not ctx.session.db for _name, db in seen)  # the worker used its own connection
    assert len(results.list_runs(ctx.session, sid)) == 2
    qtbot.waitUntil(lambda: not ctx.jobs.active, timeout=5000)


def test_hostile_file_name_is_never_rendered_as_markup(dialog: ImportDialog, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    evil = tmp_path / '<img src="x"><b>run.eval'
    evil.write_bytes(b"")  # empty file: rejected with a message naming it
    dialog.add_files([str(evil)])
    item = dialog.files_table.item(0, 0)
    assert item.text() == '<img src="x"><b>run.eval' and dialog.row_texts(0)[1].startswith("cannot be read")
    assert "<img" not in item.toolTip() and "&lt;img src=&quot;x&quot;&gt;" in item.toolTip()
    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    assert dialog.row_texts(0)[2].startswith("refused: ")
    assert dialog.row_texts(0)[0] == evil.name
    tip = dialog.files_table.item(0, 2).toolTip()
    assert "&lt;b&gt;run.eval" in tip and "<b>" not in tip and "<img" not in tip


def test_files_can_be_dropped_on_the_dialog(dialog: ImportDialog) -> None:
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(INTERCODE)), QUrl.fromLocalFile(str(WMDP_JSON))])
    event = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(event)
    assert dialog.paths() == [str(INTERCODE), str(WMDP_JSON)]
    dialog.dropEvent(event)  # dropping the same files again does not duplicate them
    assert dialog.files_table.rowCount() == 2


def test_cancel_after_a_finished_file_keeps_it_and_stores_nothing_of_the_rest(dialog: ImportDialog, ctx: UiContext,
                                                                             qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog.add_files([str(INTERCODE), str(WMDP_JSON), str(LM_EVAL)])

    def press_cancel(_d: int, _t: int, message: str) -> None:
        if message.startswith(f"{INTERCODE.name}: imported") and dialog.cancel_button.isEnabled():
            dialog.cancel_button.click()

    dialog.progress_changed.connect(press_cancel)
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    assert [o.status for o in blocker.args[0]] == ["imported", "cancelled", "cancelled"]
    assert [r.original_name for r in results.list_runs(ctx.session, dialog.submission_id() or 0)] == [INTERCODE.name]
    assert dialog.progress_label.text().endswith("1 file(s) finished before the cancel are kept.")


def test_asks_before_importing_a_log_whose_model_id_differs(ctx: UiContext, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The log names mockllm/model; a submission for another model gets a question first."""
    other = make_submission(ctx, "Other Labs", "Zephyr", "1.0")
    dlg = ImportDialog(ctx, other)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INTERCODE)])
    assert dlg.mismatched(other) == [(str(INTERCODE), "mockllm/model")]
    dialogs.confirm_answer = False
    dlg.start_import()
    assert dialogs.confirmations == ["Model id differs"]
    assert results.list_runs(ctx.session, other) == []  # refused: nothing stored
    assert "Not imported" in dlg.progress_label.text()
    dialogs.confirm_answer = True
    dlg.start_import()
    assert [o.status for o in dlg.outcomes] == ["imported"]
    assert len(results.list_runs(ctx.session, other)) == 1


def test_one_table_good_corrupt_and_mismatching_file_each_with_its_status(ctx: UiContext, dialogs, qtbot,
                                                                          tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A good log, a corrupt one and one naming another model, imported together: the model-id question
    is asked for the mismatching file alone, and each row ends with its own status, whole."""
    sid = make_submission(ctx, "Offline", "cyber-mini", "7b")  # the lm-eval log names offline/cyber-mini-7b
    corrupt = tmp_path / "pulled_stick.eval"
    corrupt.write_bytes(INTERCODE.read_bytes()[:3000])
    dlg = ImportDialog(ctx, sid)
    qtbot.addWidget(dlg)
    dlg.add_files([str(LM_EVAL), str(corrupt), str(INTERCODE)])
    assert [dlg.row_texts(r)[0] for r in range(3)] == [LM_EVAL.name, corrupt.name, INTERCODE.name]
    assert dlg.row_texts(1)[1].startswith("cannot be read") and dlg.row_texts(2)[1].startswith("gdm_intercode_ctf")
    assert [dlg.row_texts(r)[2] for r in range(3)] == ["queued", "cannot be read: will be refused", "queued"]
    assert dlg.mismatched(sid) == [(str(INTERCODE), "mockllm/model")]
    seen: list[list[str]] = []
    dlg.progress_changed.connect(lambda *_a: seen.append([dlg.row_texts(r)[2] for r in range(3)]))
    dialogs.confirm_answer = False  # "no" for the mismatching file: it alone is skipped
    with qtbot.waitSignal(dlg.imported, timeout=10_000) as blocker:
        dlg.import_button.click()
    assert dialogs.confirmations == ["Model id differs"]
    assert ["reading", "cannot be read: will be refused", "skipped: its model id mockllm/model does not match Offline cyber-mini 7b "
            f"(#{sid}); not imported (your choice)."] in seen  # the first file is being read, the next waits
    outcomes = blocker.args[0]
    assert [o.status for o in outcomes] == ["imported", "failed", "skipped"]
    statuses = [dlg.row_texts(r)[2] for r in range(3)]
    assert statuses[0] == f"imported {outcomes[0].samples:,} samples in 2 runs"
    refusal = outcomes[1].message.removeprefix(f"{corrupt}: ")
    assert statuses[1] == f"refused: {refusal}" and len(refusal) > 40  # the whole message, not cut
    assert statuses[2].startswith("skipped: its model id mockllm/model does not match")
    for r in range(3):  # every cell's tooltip carries the row's whole status
        assert dlg.files_table.item(r, 0).toolTip().count("Status: ") == 1
    assert "mockllm/model" in dlg.files_table.item(2, 1).toolTip()
    assert dlg.files_table.selectionModel().selectedRows()[0].row() == 1  # the refusal, shown in full
    assert f"Status: refused: {refusal}" in dlg.details.toPlainText()
    assert str(corrupt) in dlg.details.toPlainText()
    # one line per file (several files in sight): a long status is elided, whole in the tooltip
    dlg.resize(800, 700)
    dlg.show()
    qtbot.waitExposed(dlg)
    assert dlg.files_table.rowHeight(1) < 2 * dlg.files_table.fontMetrics().lineSpacing()
    assert refusal in dlg.files_table.item(1, 2).toolTip()
    assert [r.original_name for r in results.list_runs(ctx.session, sid)] != []
    assert {r.original_name for r in results.list_runs(ctx.session, sid)} == {LM_EVAL.name}


def test_the_checksum_runs_beside_the_import_and_the_bar_moves_meanwhile(dialog: ImportDialog, ctx: UiContext, qtbot,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Each file is read whole for its SHA-256 (the duplicate check). That pass used to come first: from
    removable media seconds for a large log (ctf_40000.eval, 250 MB: 1.3 s from a warm disk, 8 s at
    30 MB/s) with nothing stored meanwhile. It now runs on a thread beside the import, so the samples
    count up while it runs; the run records the hash once it is known."""
    from app.foundation import files

    real = results.sha256_file
    ended: list[int] = []
    labels: list[str] = []

    def slow(path, *args):  # type: ignore[no-untyped-def]
        time.sleep(0.6)  # media slower than the samples' reading
        out = real(path, *args)
        ended.append(len(labels))
        return out

    monkeypatch.setattr(results, "sha256_file", slow)
    dialog.progress_changed.connect(lambda *_a: labels.append(dialog.progress_label.text()))
    dialog.add_files([str(INTERCODE)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    assert [o.status for o in blocker.args[0]] == ["imported"]
    assert labels[0].endswith(": reading"), labels
    counted = [i for i, t in enumerate(labels) if t.endswith(" samples")]
    assert counted and ended and counted[0] < ended[0], (labels, ended)  # samples stored before the hash ended
    run = results.get_run(ctx.session, blocker.args[0][0].run_id)
    assert run.file_sha256 == files.sha256_file(INTERCODE)[0]


def test_a_truncated_json_log_is_called_truncated(dialog: ImportDialog, ctx: UiContext, qtbot,
                                                  tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An Inspect .json log cut in the middle of its samples (an interrupted copy) was refused with the
    JSON parser's words for the last byte, e.g. 'samples[499]: invalid JSON at byte 20298163: Expecting
    property name enclosed in double quotes' (ctf_1000.json cut in half): nothing said the file was cut
    short. It is refused as truncated, as a truncated .eval is, and nothing is stored."""
    data = WMDP_JSON.read_bytes()
    assert data.find(b'"samples"') < len(data) // 2  # the cut falls inside the samples
    cut = tmp_path / "wmdp_cut.json"
    for end in (len(data) // 2, data.rfind(b"{", 0, len(data) // 2) + 1, data.rfind(b",", 0, len(data) // 2) + 1):
        cut.write_bytes(data[:end])
        dialog.add_files([str(cut)])
        with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
            dialog.import_button.click()
        outcome = blocker.args[0][0]
        assert outcome.status == "failed" and outcome.message.startswith(f"{cut}: samples[")
        status = dialog.row_texts(dialog.row_of(str(cut)))[2]
        assert f"file ends unexpectedly at byte {end} (truncated JSON" in status, status
    assert results.list_runs(ctx.session, dialog.submission_id() or 0) == []


def test_time_left_is_reckoned_from_when_the_bytes_start_moving(dialog: ImportDialog, qtbot,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The first file is hashed whole before any byte figure moves. Counting that pass in, the first
    estimates were several times too long: 'about 2 min left' at the first figure of ctf_40000.eval,
    imported 6 s later, and from a slow stick (8 s of hashing) too long throughout. Here the first
    file's hash takes 60 s a figure of the dialog's clock, reading and storing 1 s a figure."""
    from app.foundation import files

    monkeypatch.setattr(files, "BLOCK", 512)  # figures during the SHA-256 pass of these small logs
    now = [0.0]
    dialog.clock = lambda: now[0]
    shown: list[str] = []

    def tick(_d: int, _t: int, text: str) -> None:
        shown.append(dialog.counts_label.text())
        if text.startswith(f"{INTERCODE.name}: checking"):
            now[0] += 60.0  # the first file's hash, before any byte figure moves: slow media
        elif "checking" not in text:
            now[0] += 1.0  # reading and storing

    dialog.progress_changed.connect(tick)
    dialog.add_files([str(INTERCODE), str(WMDP_JSON), str(LM_EVAL)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    estimates = [t for t in shown if t.endswith(" left")]
    assert estimates and not [t for t in estimates if "min left" in t], shown


def test_an_lm_eval_import_fills_the_bar_as_its_samples_are_read(dialog: ImportDialog, qtbot,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """An lm-eval results file is small; its samples are in the .jsonl files beside it. The bar was
    measured against the results file alone, so it was full ('2.8 KB of 2.8 KB', no time left) from
    the first figure on while the 108 MB of samples of lm_eval_40000 were read (2.2 s here). The
    samples files are counted and their bytes move the bar."""
    monkeypatch.setattr(results, "BATCH", 1)  # a figure after the first stored sample
    figures: list[tuple[int, int, str]] = []
    dialog.progress_changed.connect(lambda d, t, m: figures.append((d, t, m)))
    dialog.add_files([str(LM_EVAL)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    assert [o.status for o in blocker.args[0]] == ["imported"]
    reading = [(d, t) for d, t, m in figures if m.endswith(" samples")]
    assert reading and all(0 < d < t for d, t in reading), figures
    read = LM_EVAL.stat().st_size + sum(p.stat().st_size for p in LM_EVAL.parent.glob("samples_*.jsonl"))
    assert figures[-1][0] == figures[-1][1] == read
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()


def test_a_truncated_lm_eval_samples_file_is_called_truncated(dialog: ImportDialog, ctx: UiContext, qtbot,
                                                              tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """lm_eval_40000's samples .jsonl cut in half (an interrupted copy) was refused with 'line 20020:
    invalid JSON at line 1 column 1019: Unterminated string starting at'. It names the samples file
    and says the file ends in the middle of that line; nothing is stored."""
    folder = tmp_path / "lm"
    shutil.copytree(LM_EVAL.parent, folder)
    samples = next(folder.glob("samples_wmdp_cyber_*.jsonl"))
    data = samples.read_bytes()
    lines = data.count(b"\n")
    samples.write_bytes(data[:len(data) // 2])
    cut_line = data[:len(data) // 2].count(b"\n") + 1
    assert 1 < cut_line <= lines
    dialog.add_files([str(folder / LM_EVAL.name)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    outcome = blocker.args[0][0]
    assert outcome.status == "failed" and outcome.message.startswith(f"{samples}: line {cut_line}: ")
    assert dialog.row_texts(0)[2] == (f"refused: {samples}: line {cut_line}: the file ends in the middle of this "
                                      "line (truncated, or the media was removed)")
    assert results.list_runs(ctx.session, dialog.submission_id() or 0) == []


def test_the_file_column_shows_an_lm_eval_results_name_whole(dialog: ImportDialog, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """lm-eval names its results results_<date and time>.json: in a 190 px column the name was cut at
    'results_2026-12-03T07-55-4', so two results files of one day looked the same. The column widens."""
    other = tmp_path / LM_EVAL.name.replace("23-12-37", "23-59-01")
    shutil.copy(LM_EVAL, other)
    dialog.resize(900, 720)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.add_files([str(LM_EVAL), str(other), str(INTERCODE)])
    table = dialog.files_table
    for row in range(3):
        name = dialog.row_texts(row)[0]
        index = table.model().index(row, 0)
        assert table.sizeHintForIndex(index).width() <= table.columnWidth(0), name
    assert table.columnWidth(2) > 200  # the status column keeps room for its messages


def test_the_lm_eval_samples_files_are_hashed_with_figures_and_cancel(dialog: ImportDialog, ctx: UiContext, qtbot,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """An lm-eval results file's samples files are hashed whole when it is opened, before its own
    checksum: lm_eval_40000's 104 MB (3.5 s at a stick's 30 MB/s; a minute for 2 GB) passed under a
    bare 'checking (SHA-256)' and Cancel waited for the end. Each samples file's pass is counted up
    by name, and Cancel stops it there: nothing stored."""
    from app.foundation import files

    monkeypatch.setattr(files, "BLOCK", 64)  # figures (and cancel checks) within the fixture's small files
    labels: list[str] = []

    def watch(_d: int, _t: int, _m: str) -> None:
        labels.append(dialog.progress_label.text())
        if "samples_wmdp_cyber_" in labels[-1] and dialog.cancel_button.isEnabled():
            dialog.cancel_button.click()

    dialog.progress_changed.connect(watch)
    dialog.add_files([str(LM_EVAL)])
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as blocker:
        dialog.import_button.click()
    shown = [t for t in labels if "(SHA-256), " in t and ".jsonl" in t]
    assert shown and shown[0].startswith(f"{LM_EVAL.name}: checking samples_"), labels
    assert any("samples_wmdp_cyber_" in t for t in shown)
    assert [o.status for o in blocker.args[0]] == ["cancelled"]
    assert not any(t.endswith(" samples") for t in labels)  # stopped before any sample was stored
    assert results.list_runs(ctx.session, dialog.submission_id() or 0) == []


def test_the_dialog_starts_the_parser_processes_when_it_opens_and_stops_them_when_it_closes(
        dialog: ImportDialog, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The .eval parser processes start while the reviewer picks files (parse_process.warm), so an
    import does not wait for them; a dialog closed without importing leaves none running."""
    from app.services import parse_process

    assert len(parse_process._idle) == parse_process.PARSER_PROCESSES
    assert parse_process.wait_ready() == parse_process.PARSER_PROCESSES  # started up, waiting
    waiting = [c.proc for c in parse_process._idle]
    dialog.reject()
    assert parse_process.ready() == 0 and all(p.returncode is not None for p in waiting)


def test_a_log_already_imported_is_not_asked_about_its_model_first(ctx: UiContext, dialogs, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The same file again (same SHA-256) is only reported as a duplicate: asking "Model id differs …
    Import anyway?" first would be a pointless question."""
    other = make_submission(ctx, "Other Labs", "Zephyr", "1.0")
    first = ImportDialog(ctx, other)
    qtbot.addWidget(first)
    first.add_files([str(INTERCODE)])
    first.start_import()  # asked once (the recorder answers yes): imported
    assert dialogs.confirmations == ["Model id differs"] and [o.status for o in first.outcomes] == ["imported"]
    again = ImportDialog(ctx, other)
    qtbot.addWidget(again)
    again.add_files([str(INTERCODE)])
    assert again.mismatched(other) == [(str(INTERCODE), "mockllm/model")]
    again.start_import()
    assert dialogs.confirmations == ["Model id differs"]  # not asked again
    assert [o.status for o in again.outcomes] == ["duplicate"]
    assert "already imported (same SHA-256)" in again.status_of(str(INTERCODE))


def test_the_dialog_and_the_cli_share_one_model_check(ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    other = make_submission(ctx, "Other Labs", "Zephyr", "1.0")
    runs = results.preview_file(ctx.session, INTERCODE)
    assert results.model_mismatch(ctx.session, runs, other) == "mockllm/model"
    dlg = ImportDialog(ctx, other)
    qtbot.addWidget(dlg)
    dlg.add_files([str(INTERCODE)])
    calls: list[int] = []
    real = results.model_mismatch

    def spy(session, runs, submission_id):  # type: ignore[no-untyped-def]
        calls.append(submission_id)
        return real(session, runs, submission_id)

    import pytest as _pytest

    with _pytest.MonkeyPatch.context() as mp:
        mp.setattr(results, "model_mismatch", spy)
        assert dlg.mismatched(other) == [(str(INTERCODE), "mockllm/model")]
    assert calls == [other]
