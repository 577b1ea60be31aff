"""Benchmarks screen (definitions, signed import, capability trend), conformance on the run page,
plan progress on the submission page, intervals and the noise verdict on the compare screen."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.model.submissions import Submission
from app.services import pki as pki_service
from app.services import results, submissions
from reports.detached import sign_detached
from ui.context import UiContext
from ui.screens.benchmarks_screen import BenchmarksScreen
from ui.screens.compare_screen import CompareScreen
from ui.screens.run_detail import RunDetail
from ui.screens.submission_detail import SubmissionDetail

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
DOC = {
    "format": "frontier-review/benchmarks", "format_version": 1, "document_id": "agency", "version": 1,
    "title": "Agency", "marking": "SECRET",
    "benchmarks": [{"id": "intercode-ctf", "name": "InterCode-CTF", "version": 2, "capability_area": "ctf_solving",
                    "tasks": {"inspect": ["gdm_intercode_ctf"]}, "dataset": {"sample_ids": ["ctf-1", "ctf-2", "ctf-3"]},
                    "metrics": [{"name": "accuracy", "direction": "higher"}],
                    "protocol": {"min_epochs": 2, "scorer": "includes"}}],
}


def _signed(admin_ctx: UiContext, tmp_path: Path) -> Path:
    pki_service.ensure_ready(admin_ctx.session)
    data = json.dumps(DOC).encode()
    path = tmp_path / "agency.json"
    path.write_bytes(data)
    ca = pki_service.load_ca(admin_ctx.session)
    path.with_name("agency.json.p7s").write_bytes(sign_detached(data, ca.key, ca.cert))
    return path


def _sub(ctx: UiContext, version: str, received: date) -> int:
    s = submissions.create(ctx.session, Submission("Offline", "model", version, received, date(2026, 11, 28)))
    assert s.id is not None
    return s.id


def test_import_definitions_and_see_the_trend(make_ctx, qtbot, tmp_path, dialogs) -> None:  # type: ignore[no-untyped-def]
    admin = make_ctx("admin")
    screen = BenchmarksScreen(admin)
    qtbot.addWidget(screen)
    assert screen.import_button.isVisibleTo(screen)
    ids = [screen.table.item(r, 0).text() for r in range(screen.table.rowCount())]
    assert "cybench" in ids and "intercode-ctf" in ids
    screen.choose_file = lambda _title: str(_signed(admin, tmp_path))
    screen.import_document()
    assert screen.result.text() == "Imported agency v1 (SECRET): intercode-ctf v2"
    rows = [(screen.table.item(r, 0).text(), screen.table.item(r, 1).text()) for r in range(screen.table.rowCount())]
    assert ("intercode-ctf", "2") in rows and ("intercode-ctf", "1") in rows

    reviewer = make_ctx("reviewer")
    old = _sub(reviewer, "1", date(2026, 9, 1))
    new = _sub(reviewer, "2", date(2026, 11, 1))
    results.import_files(reviewer.session, [str(FIX / "intercode_deflate.eval")], old)
    results.import_files(reviewer.session, [str(FIX / "intercode_ok.eval")], new)
    view = BenchmarksScreen(reviewer)
    qtbot.addWidget(view)
    assert not view.import_button.isVisibleTo(view)
    assert view.select("intercode-ctf")
    assert "at least 2 epoch(s)" in view.detail.toPlainText() and "scorer includes" in view.detail.toPlainText()
    assert view.points.rowCount() == 2 and view.chart.data() is not None
    assert view.points.item(1, 5).text() == "yes" and view.points.item(0, 5).text() == "no"
    view.points.selectRow(1)
    text = view.position.text()
    assert "Offline model 2" in text and "own previous version: Offline model 1" in text
    assert "not distinguishable from noise" in text
    view.resize(1280, 800)
    view.show()
    view.chart.render_image(600, 300)  # paints without error


def test_run_page_shows_conformance_and_interval(ctx: UiContext, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sid = _sub(ctx, "1", date(2026, 11, 1))
    [out] = results.import_files(ctx.session, [str(FIX / "intercode_error.eval")], sid)
    detail = RunDetail(ctx, out.run_id)
    qtbot.addWidget(detail)
    # read every sample: not before the first paint (issue 19), on a worker thread right after it
    assert detail.conformance_pending and detail.conformance.text().startswith("Checking conformance")
    detail.show()
    qtbot.waitUntil(lambda: not detail.conformance_pending, timeout=30_000)  # a loaded CI machine
    text = detail.conformance.text()
    assert "Does NOT conform to intercode-ctf v1" in text and "errors: expected at most 0 errored samples" in text
    # the run stopped at its failed sample: one sample stored, without a score
    assert "Mean per-sample score: no scored samples (1 samples, 1 without a score)" in text


def test_submission_page_shows_plan_progress_and_compare_shows_noise(ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    sid = _sub(ctx, "1", date(2026, 11, 1))
    detail = SubmissionDetail(ctx, sid)
    qtbot.addWidget(detail)
    assert "4 planned, 0 imported, 0 conforming, 4 missing" in detail.plan_label.text()
    a, b = (o.run_id for o in results.import_files(
        ctx.session, [str(FIX / "intercode_ok.eval"), str(FIX / "intercode_missing.eval")], sid))
    detail._update_header()
    assert "4 planned, 1 imported, 1 conforming, 3 missing" in detail.plan_label.text()
    compare = CompareScreen(ctx)
    qtbot.addWidget(compare)
    compare.refresh()
    assert compare.select_benchmark("InterCode-CTF")
    compare.set_pair(a, b)
    text = compare.stats_label.text()
    assert f"Run A ({a}):" in text and "n=3" in text and "not distinguishable from noise" in text


def test_coverage_screen_lead_keeps_flagged_determination(make_ctx, qtbot, tmp_path, dialogs) -> None:  # type: ignore[no-untyped-def]
    from app.model.submissions import Submission as Sub
    from app.services import coverage, rulesets
    from app.services.rulesets import builtin_ruleset_bytes
    from ui.screens.coverage_screen import CoverageScreen

    admin, rev, lead = make_ctx("admin"), make_ctx("reviewer"), make_ctx("lead")
    sid = submissions.create(rev.session, Sub("Offline", "model", "1", date(2026, 11, 1), date(2026, 11, 28),
                                              training_flop=3e25)).id
    det = coverage.record_determination(rev.session, sid, "Covered on compute.")
    coverage.approve_determination(lead.session, det.id)
    pki_service.ensure_ready(admin.session)
    doc = json.loads(builtin_ruleset_bytes())
    doc.update(ruleset_id="agency", version=1, label="classified", title="Agency")
    data = json.dumps(doc).encode()
    path = tmp_path / "r.json"
    path.write_bytes(data)
    ca = pki_service.load_ca(admin.session)
    path.with_name("r.json.p7s").write_bytes(sign_detached(data, ca.key, ca.cert))
    rulesets.import_ruleset(admin.session, path)
    screen = CoverageScreen(lead, sid)
    qtbot.addWidget(screen)
    assert screen.keep_button.isVisibleTo(screen) and "outcome would stay 'covered'" in screen.flags.text()
    dialogs.texts.append("Same compute thresholds.")
    screen.keep()
    assert not screen.flags.isVisibleTo(screen) and not screen.keep_button.isVisibleTo(screen)
    assert "Same compute thresholds." in screen.kept.text()
    assert not CoverageScreen(rev, sid).keep_button.isVisibleTo(screen)
