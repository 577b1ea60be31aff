"""Checklists & rule sets screen: an administrator imports a signed report profile and switches
between it and the default layout; reviewers see which one is in use."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from app.services import report_profiles
from tests.unit.test_assessment_service import _write_signed
from tests.unit.test_report_profiles import AGENCY
from ui.screens.rulesets_screen import RulesetsScreen


def _in_use(screen: RulesetsScreen) -> list[str]:
    t = screen.profiles
    return [t.item(r, 0).text() for r in range(t.rowCount()) if t.item(r, 3).text() == "yes"]


def test_import_use_and_default(make_ctx, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.services import pki as pki_service

    admin = make_ctx("admin")
    pki_service.ensure_ready(admin.session)
    screen = RulesetsScreen(admin)
    qtbot.addWidget(screen)
    assert _in_use(screen) == ["default"]
    unsigned = tmp_path / "plain.json"
    unsigned.write_text(json.dumps(AGENCY))
    screen.choose_file = lambda _title: str(unsigned)
    qtbot.mouseClick(screen.import_profile_button, Qt.MouseButton.LeftButton)
    assert "unsigned report profile refused" in screen.result.text()
    path = _write_signed(admin.session, tmp_path / "agency.json", AGENCY)
    screen.choose_file = lambda _title: str(path)
    qtbot.mouseClick(screen.import_profile_button, Qt.MouseButton.LeftButton)
    assert screen.result.text().startswith("Imported report profile agency-a v1")
    assert _in_use(screen) == ["agency-a"]
    qtbot.mouseClick(screen.default_profile_button, Qt.MouseButton.LeftButton)
    assert _in_use(screen) == ["default"] and report_profiles.active(admin.session).profile_id == "default"
    screen.profiles.selectRow(0)
    qtbot.mouseClick(screen.use_profile_button, Qt.MouseButton.LeftButton)
    assert _in_use(screen) == ["agency-a"]

    reviewer = RulesetsScreen(make_ctx("reviewer"))
    qtbot.addWidget(reviewer)
    assert reviewer.import_profile_button.isHidden() and _in_use(reviewer) == ["agency-a"]
