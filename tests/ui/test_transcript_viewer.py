"""Transcript viewer at Inspect View's level (issue 15, point 5), on logs written by inspect-ai
itself: previous/next sample, events with timing (model calls, tool calls, errors), scores with the
scorer's name, answer and explanation, metadata, find with a match count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.model.submissions import Submission
from app.services import results, submissions
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate, derive_template
from tests.ui.conftest import copy_for_test
from ui.context import UiContext
from ui.screens.run_detail import RunDetail
from ui.widgets.transcript_view import event_blocks, score_value_text

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"


@pytest.fixture(scope="module")
def imported_template(workstation_template: WorkstationTemplate,
                      tmp_path_factory: pytest.TempPathFactory) -> tuple[WorkstationTemplate, int]:
    """The fixture workstation with a submission and two real Inspect logs imported by the reviewer,
    built once per module: a test that asks for `detail` starts from a copy of it and gets the id of
    intercode_ok.eval's run (three tests imported the same two logs each)."""
    def prepare(ws: Workstation) -> int:
        session = ws.session("reviewer")
        sub = submissions.create(session, Submission("Acme", "Falcon", "2.0", date(2026, 11, 1), date(2026, 11, 28)))
        assert sub.id is not None
        outcomes = results.import_files(session, [str(FIX / "intercode_ok.eval"), str(FIX / "intercode_error.eval")],
                                        sub.id)
        assert [o.status for o in outcomes] == ["imported", "imported"], [o.message for o in outcomes]
        run = next(r for r in results.list_runs(session, sub.id) if r.original_name == "intercode_ok.eval")
        assert run.id is not None
        return run.id

    return derive_template(tmp_path_factory.mktemp("transcripts"), workstation_template, prepare)


@pytest.fixture
def workstation(request: pytest.FixtureRequest, tmp_path: Path, workstation_template: WorkstationTemplate,
                memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    """As tests/conftest.py's, but a test that asks for `detail` gets a copy of the imported workstation."""
    yield from copy_for_test(request, tmp_path, workstation_template, memory_keyring, "detail", "imported_template")


@pytest.fixture
def detail(ctx: UiContext, imported_template: tuple[WorkstationTemplate, int], qtbot) -> RunDetail:  # type: ignore[no-untyped-def]
    view = RunDetail(ctx, imported_template[1])
    qtbot.addWidget(view)
    return view


def test_events_scores_and_metadata_of_a_real_inspect_sample(detail: RunDetail, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = detail.open_row(0)
    assert dlg is not None
    qtbot.addWidget(dlg)
    text = dlg.view.plain_text()
    count = int(re.search(r"EVENTS \((\d+)\)", text).group(1))  # type: ignore[union-attr]
    assert count >= 10  # all events recorded in the log are counted ...
    # ... and shown: model calls and tool calls with their time from the sample's start and duration
    assert re.search(r"\+\s*\d+\.\d{3} s  model call: mockllm/model, [\d,]+ tokens \(\d+\.\d{3} s\)", text), text
    assert re.search(r"\+\s*\d+\.\d{3} s  tool call: bash\(cmd: [^)]*\) \(\d+\.\d{3} s\)", text), text
    # scores: the scorer's name, the value spelled out, its answer and explanation (no bare "I"/"C")
    assert re.search(r"includes: (in)?correct \([CI]\) \(answer .*; explanation: ", text), text
    assert re.search(r"score: includes: (in)?correct", text)
    assert "METADATA" in text and "category: " in text


def test_previous_next_walk_the_table_order(detail: RunDetail, qtbot) -> None:  # type: ignore[no-untyped-def]
    total = detail.model.rowCount()
    assert total == 6
    dlg = detail.open_row(0)
    assert dlg is not None
    qtbot.addWidget(dlg)
    first = dlg.row
    assert dlg.position_label.text() == f"Sample 1 of {total}"
    assert not dlg.prev_button.isEnabled() and dlg.next_button.isEnabled()
    seen = [first.sample_id]  # type: ignore[union-attr]
    while dlg.next_button.isEnabled():
        dlg.next_button.click()
        seen.append(dlg.row.sample_id)  # type: ignore[union-attr]
        assert dlg.row.sample_id in dlg.view.plain_text()  # type: ignore[union-attr]
        assert dlg.row.sample_id in dlg.windowTitle()  # type: ignore[union-attr]
    assert seen == [detail.model.row_at(i).sample_id for i in range(total)]  # type: ignore[union-attr]
    assert dlg.position_label.text() == f"Sample {total} of {total}" and dlg.go(1) is False
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    dlg.view.text.setFocus()
    qtbot.keyClick(dlg.windowHandle(), Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert dlg.position == total - 2


def test_sample_ids_sort_naturally(ctx: UiContext, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sub = submissions.create(ctx.session, Submission("Acme", "Owl", "1", date(2026, 11, 1), date(2026, 11, 28)))
    assert sub.id is not None
    ids = ["ctf-10", "ctf-2", "ctf-1", "9", "10", "ctf-11", "ctf-3", "2"]
    csv = tmp_path / "natural.csv"
    csv.write_text("task,model,metric,value,stderr,sample_id,epoch,score,answer,target,input,error\n"
                   "owl_ctf,acme/owl-1,accuracy,0.5,0.1,,,,,,,\n"
                   + "".join(f"owl_ctf,acme/owl-1,,,,{i},1,1,a,a,q,\n" for i in ids))
    assert [o.status for o in results.import_files(ctx.session, [str(csv)], sub.id)] == ["imported"]
    run = results.list_runs(ctx.session, sub.id)[0]
    assert run.id is not None
    view = RunDetail(ctx, run.id)
    qtbot.addWidget(view)
    column = next(c for c in range(view.model.columnCount())
                  if "sample" in str(view.model.headerData(c, Qt.Orientation.Horizontal)).lower())
    view.model.sort(column, Qt.SortOrder.AscendingOrder)
    shown = [view.model.row_at(i).sample_id for i in range(view.model.rowCount())]  # type: ignore[union-attr]
    assert shown == ["2", "9", "10", "ctf-1", "ctf-2", "ctf-3", "ctf-10", "ctf-11"]
    view.model.sort(column, Qt.SortOrder.DescendingOrder)
    shown = [view.model.row_at(i).sample_id for i in range(view.model.rowCount())]  # type: ignore[union-attr]
    assert shown == ["ctf-11", "ctf-10", "ctf-3", "ctf-2", "ctf-1", "10", "9", "2"]


def test_find_counts_matches_and_steps_both_ways(detail: RunDetail, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = detail.open_row(0)
    assert dlg is not None
    qtbot.addWidget(dlg)
    view = dlg.view
    expected = view.plain_text().casefold().count("bash")
    assert expected >= 2
    view.find_box.setText("BASH")
    assert view.find_status.text() == f"{expected} matches"
    view.find_next()
    assert view.find_status.text() == f"1 of {expected}"
    view.find_next()
    assert view.find_status.text() == f"2 of {expected}"
    view.find_previous()
    assert view.find_status.text() == f"1 of {expected}"
    view.find_previous()  # wraps to the last
    assert view.find_status.text() == f"{expected} of {expected}"
    dlg.go(1)  # the search stays, counted again for the next sample
    assert view.find_box.text() == "BASH" and view.find_status.text().endswith("matches")


def test_error_events_are_shown_with_their_time() -> None:
    events = [
        {"event": "sample_init", "timestamp": "2026-11-26T23:11:59.000+00:00"},
        {"event": "tool", "timestamp": "2026-11-26T23:11:59.500+00:00", "function": "bash",
         "arguments": {"cmd": "cat /nope"}, "error": {"type": "file_not_found", "message": "No such file"},
         "working_time": 0.25},
        {"event": "error", "timestamp": "2026-11-26T23:12:01.000+00:00",
         "error": {"message": "RuntimeError: sandbox died", "traceback": "..."}},
    ]
    text = "\n".join(b.text for b in event_blocks(events, {}))
    assert "EVENTS (3)" in text
    assert "+   0.500 s  tool call: bash(cmd: cat /nope) (0.250 s)" in text
    assert "+   0.500 s  tool error: No such file" in text
    assert "+   2.000 s  error: RuntimeError: sandbox died" in text
    assert score_value_text("I") == "incorrect (I)" and score_value_text(0.5) == "0.5"
