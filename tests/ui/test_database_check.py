"""After sign-in the whole database is checked on a worker thread (sign-in skips the results' bulk):
damage found there is shown at once, in a dialog over the main window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from app.services import results
from tests.conftest import plant_null, reviewer_with_submission
from ui.app import Shell
from ui.jobs import JobRunner

INSPECT = Path(__file__).parents[1] / "fixtures" / "inspect"


def _boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_damage_in_the_bulk_is_shown_after_sign_in_and_a_sound_database_says_nothing(qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    s, sid = reviewer_with_submission(workstation)
    assert results.import_files(s, [INSPECT / "intercode_ok.eval"], sid)[0].status == "imported"

    shell = Shell(workstation.data_dir, JobRunner(synchronous=True))
    main = shell.open_main(workstation.session("reviewer"))
    qtbot.addWidget(main)
    assert shell.database_problem == "" and not [b for b in _boxes() if b.windowTitle() == "Database damaged"]

    plant_null(s, "eval_samples", "sample_id")
    main = shell.open_main(workstation.session("reviewer"))  # sign-in itself succeeds
    qtbot.addWidget(main)
    assert "fails its integrity check" in shell.database_problem and "eval_samples" in shell.database_problem
    (box,) = [b for b in _boxes() if b.windowTitle() == "Database damaged"]
    assert box.parent() is main and "restore it from a backup" in box.text()
    box.close()


def test_signing_out_stops_the_check_and_shows_nothing(qtbot, workstation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.services import db_check

    seen: list[bool] = []

    def check(session, cancelled):  # type: ignore[no-untyped-def]
        main.signed_out.emit()  # the reviewer signs out while the check runs
        seen.append(cancelled())
        return ["page 7: btreeInitPage() returns error code 11"]

    monkeypatch.setattr(db_check, "check", check)
    shell = Shell(workstation.data_dir, JobRunner(synchronous=True))
    main = None

    def open_main(session):  # type: ignore[no-untyped-def]
        nonlocal main
        from ui.main_window import MainWindow

        main = MainWindow(shell.ctx_factory(session))
        qtbot.addWidget(main)
        shell._check_database(session, main)

    open_main(workstation.session("reviewer"))
    assert seen == [True] and shell.database_problem == ""


def test_quitting_stops_the_check_and_sign_ins_do_not_pile_up_quit_hooks(qtbot, workstation, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import SIGNAL

    from app.services import db_check

    app = QApplication.instance()
    seen: list[bool] = []

    def check(session, cancelled):  # type: ignore[no-untyped-def]
        if len(seen) == 2:
            app.aboutToQuit.emit()  # the application quits while the third session's check runs
        seen.append(cancelled())
        return []

    monkeypatch.setattr(db_check, "check", check)
    before = app.receivers(SIGNAL("aboutToQuit()"))
    shell = Shell(workstation.data_dir, JobRunner(synchronous=True))
    for _ in range(3):
        qtbot.addWidget(shell.open_main(workstation.session("reviewer")))
    assert app.receivers(SIGNAL("aboutToQuit()")) == before + 1  # one for the shell, not one per sign-in
    assert seen == [False, False, True]


def test_a_notice_is_shown_as_information_and_a_warning_as_an_alarm(qtbot, workstation) -> None:  # type: ignore[no-untyped-def]
    """A restored copy's notice is no alarm: it is not told to the security officer; a warning is."""
    shell = Shell(workstation.data_dir, JobRunner(synchronous=True))
    session = workstation.session("reviewer")
    session.notices.append("This is a copy of the workstation restored from a backup made 2026-12-01 09:00 UTC.")
    main = shell.open_main(session)
    qtbot.addWidget(main)
    (box,) = [b for b in _boxes() if b.windowTitle() == "About this workstation"]
    assert "restored from a backup" in box.text() and "security officer" not in box.text()
    assert box.icon() is QMessageBox.Icon.Information
    box.close()
    alarmed = workstation.session("reviewer")
    alarmed.integrity_warnings.append("The audit trail ends before event 31.")
    main = shell.open_main(alarmed)
    qtbot.addWidget(main)
    (box,) = [b for b in _boxes() if b.windowTitle() == "Integrity warning"]
    assert "security officer" in box.text()
    box.close()
