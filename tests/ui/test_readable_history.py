"""Readable audit details and history (issue 15, point 6): fields instead of raw JSON, status
labels instead of codes, local times."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.model.submissions import Submission
from app.services import submissions
from ui.readable import change_text, details_lines, details_text, local_time
from ui.screens.assessment_screen import AssessmentScreen


def test_details_are_fields_with_labels() -> None:
    details = {"item": "SUB-01", "changes": {"status": ["not_started", "satisfied"], "justification": ["", "ok"]},
               "approved": True, "files": ["a.eval", "b.json", "c.csv"]}
    assert details_lines(details) == [
        "approved: yes",
        "changes.justification: (none) → ok",
        "changes.status: Not started → Satisfied",
        "files: a.eval, b.json, c.csv",
        "item: SUB-01",
    ]
    assert "{" not in details_text(details) and "not_started" not in details_text(details)
    assert change_text({"status": ["not_started", "risk_accepted"]}) == "status: Not started → Risk accepted"


def test_times_are_local() -> None:
    ts = "2026-11-26T23:11:59+00:00"
    expected = datetime.fromisoformat(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    assert local_time(ts) == expected
    assert local_time("not a time") == "not a time"


def test_checklist_history_shows_labels_and_local_times(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    today = ctx.today()
    sid = submissions.create(ctx.session, Submission("Dev", "M", "1", today, today + timedelta(days=20))).id
    screen = AssessmentScreen(ctx, sid)
    qtbot.addWidget(screen)
    screen.start()
    screen.set_status_by_hotkey(3)  # Satisfied
    screen.show_item(screen.current)  # type: ignore[arg-type]
    lines = [screen.history_list.item(i).text() for i in range(screen.history_list.count())]
    assert any("status: Not started → Satisfied" in line for line in lines), lines
    assert not any("not_started" in line for line in lines)
    zone = datetime.now().astimezone().strftime("%Z")
    assert all(zone in line for line in lines), lines
