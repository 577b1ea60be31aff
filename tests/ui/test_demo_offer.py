"""`make run` on a fresh machine: the first-run wizard offers a demo workstation instead."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

import app.services.demo as demo
from app.services import workstation
from ui.app import Shell
from ui.jobs import JobRunner
from ui.screens.setup_wizard import SetupWizard
from ui.screens.sign_in import SignInWindow


def test_fresh_machine_offers_a_demo_and_never_touches_the_data_folder(tmp_path: Path, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = tmp_path / "real-data-folder"
    demo_root = tmp_path / "demo"
    monkeypatch.setattr(demo.tempfile, "mkdtemp", lambda prefix="": str(demo_root.mkdir() or demo_root))
    shell = Shell(real, JobRunner(synchronous=True))
    wizard = shell.start()
    qtbot.addWidget(wizard)
    assert isinstance(wizard, SetupWizard)
    button = wizard.findChild(QPushButton, "openDemo")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert isinstance(shell.window, SignInWindow)
    qtbot.addWidget(shell.window)
    assert shell.data_dir == demo_root / "workstation" and shell.demo_cleanup == demo_root
    assert workstation.is_initialized(shell.data_dir)
    assert not workstation.is_initialized(real)
    assert "rivera" in shell.demo_hint
    shutil.rmtree(demo_root)
