"""Compare screen: one benchmark across submissions and versions (table, chart, per-sample deltas)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.model.comparison import version_key
from app.model.results import Direction, SampleFilter
from app.model.submissions import Submission
from app.services import results, submissions
from app.services.session import Session
from tests.conftest import MemoryKeyring, Workstation, WorkstationTemplate, derive_template
from ui.context import UiContext
from ui.screens.compare_screen import BETTER, WORSE, CompareScreen
from ui.widgets.chart import ChartKind

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"


def _sub(session: Session, developer: str, model: str, version: str) -> int:
    s = submissions.create(session, Submission(developer, model, version, date(2026, 11, 1), date(2026, 11, 28)))
    assert s.id is not None
    return s.id


def _csv(path: Path, task: str, model: str, metrics: dict[str, float], scores: dict[str, float]) -> Path:
    rows = ["task,model,metric,value,stderr,sample_id,epoch,score"]
    rows += [f"{task},{model},{m},{v},0.05,,," for m, v in metrics.items()]
    rows += [f"{task},{model},,,,{sid},1,{sc}" for sid, sc in scores.items()]
    path.write_text("\n".join(rows) + "\n")
    return path


def _import(session: Session, sid: int, *paths: Path) -> list[int]:
    out = results.import_files(session, [str(p) for p in paths], sid)
    assert all(o.status == "imported" for o in out), [o.message for o in out]
    return [o.run_id for o in out if o.run_id is not None]


@pytest.fixture(scope="module")
def compared_template(workstation_template: WorkstationTemplate,
                      tmp_path_factory: pytest.TempPathFactory) -> WorkstationTemplate:
    """The fixture workstation with three submissions and five runs imported by the reviewer, built
    once per module: a test that asks for `screen` starts from a copy of it (the five imports cost
    more than most of the tests)."""
    root = tmp_path_factory.mktemp("compare-loaded")

    def prepare(ws: Workstation) -> None:
        session = ws.session("reviewer")
        v1 = _sub(session, "Acme", "Falcon", "1.0")
        v2 = _sub(session, "Acme", "Falcon", "2.0")
        other = _sub(session, "Borealis", "Q", "1.0")
        _import(session, v1, FIX / "intercode_deflate.eval")
        _import(session, v2, FIX / "intercode_ok.eval")
        _import(session, other, FIX / "intercode_interrupted.eval")
        # CTIBench CVSS prediction: accuracy (higher better) and mean absolute deviation (lower better)
        _import(session, v1, _csv(root / "cti_v1.csv", "cti_bench_vsp", "acme/falcon-1.0",
                                  {"accuracy": 0.5, "mean_absolute_deviation": 1.8},
                                  {"s1": 1, "s2": 0, "s3": 1, "s4": 0}))
        _import(session, v2, _csv(root / "cti_v2.csv", "cti_bench_vsp", "acme/falcon-2.0",
                                  {"accuracy": 0.5, "mean_absolute_deviation": 1.2},
                                  {"s1": 1, "s2": 1, "s3": 0, "s4": 0}))

    return derive_template(root, workstation_template, prepare)[0]


@pytest.fixture
def workstation(request: pytest.FixtureRequest, tmp_path: Path, workstation_template: WorkstationTemplate,
                memory_keyring: MemoryKeyring) -> Iterator[Workstation]:
    """As tests/conftest.py's, but a test that asks for `screen` gets a copy of the compared workstation."""
    wanted = "screen" in request.fixturenames
    template = request.getfixturevalue("compared_template") if wanted else workstation_template
    ws = template.copy_to(tmp_path / "ws", memory_keyring)
    yield ws
    for s in ws.sessions:
        s.close()


@pytest.fixture
def screen(ctx: UiContext, qtbot) -> CompareScreen:  # type: ignore[no-untyped-def]
    w = CompareScreen(ctx)
    qtbot.addWidget(w)
    w.refresh()  # what the main window does when the screen is shown
    return w


def _column(screen: CompareScreen, title: str) -> list[str]:
    col = screen.lines_model.COLUMNS.index(title)
    return [screen.runs_proxy.index(r, col).data() for r in range(screen.runs_proxy.rowCount())]


def test_lists_runs_across_submissions_with_chart(screen: CompareScreen, ctx: UiContext) -> None:
    names = [screen.benchmark_combo.itemText(i) for i in range(screen.benchmark_combo.count())]
    assert names == ["CTIBench", "InterCode-CTF"]  # only benchmarks that have runs
    assert screen.select_benchmark("InterCode-CTF")
    assert _column(screen, "Submission") == ["Acme Falcon 1.0", "Acme Falcon 2.0", "Borealis Q 1.0"]
    assert _column(screen, "Value ± stderr")[:2] == ["0.667 ± 0.333", "0.500 ± 0.289"]
    assert _column(screen, "Status")[2] == "interrupted (incomplete)"
    assert screen.current_metric() == "accuracy"
    assert screen.direction_label.text() == "↑ higher is better"
    data = screen.chart.data()
    assert data is not None and data.kind == ChartKind.BARS
    # the interrupted run reports "mean", not "accuracy": it has no bar for this metric
    assert len(data.categories) == 2 and data.categories[0].startswith("Falcon 1.0 (run ")
    assert data.legend() == ("Acme Falcon",)  # bars coloured by model line
    assert data.series[0].values == pytest.approx((2 / 3, 0.5))
    assert data.series[0].errors == pytest.approx((1 / 3, 0.2886751345948129))
    assert "Falcon 2.0 (run " in screen.chart.describe()


def test_activating_a_run_opens_its_submission(screen: CompareScreen, ctx: UiContext, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen.select_benchmark("InterCode-CTF")
    row = _column(screen, "Submission").index("Borealis Q 1.0")
    with qtbot.waitSignal(ctx.events.open_submission, timeout=1000) as blocker:
        screen.runs_table.activated.emit(screen.runs_proxy.index(row, 0))
    borealis = next(ln for ln in screen.lines if ln.who == "Borealis Q 1.0")
    assert blocker.args == [borealis.run.submission_id]


def test_trend_over_versions(screen: CompareScreen) -> None:
    screen.select_benchmark("InterCode-CTF")
    screen.chart_combo.setCurrentIndex(1)
    data = screen.chart.data()
    assert data is not None and data.kind == ChartKind.LINES
    assert data.categories == ("1.0", "2.0")
    acme = next(s for s in data.series if s.name == "Acme Falcon")
    assert acme.values == pytest.approx((2 / 3, 0.5))
    assert version_key("1.10") > version_key("1.9") > version_key("1.0")


def test_per_sample_deltas_where_sample_ids_match(screen: CompareScreen, ctx: UiContext) -> None:
    screen.select_benchmark("InterCode-CTF")
    lines = {ln.who: ln.run_id for ln in screen.lines}
    a, b = lines["Acme Falcon 1.0"], lines["Acme Falcon 2.0"]
    # by default the previous and the newest version of the model line with most runs are compared
    assert (screen.run_a.currentData(), screen.run_b.currentData()) == (a, b)
    screen.set_pair(b, a)
    assert screen.run_a.currentData() == b
    screen.set_pair(a, b)
    # expected from the stored samples themselves: (sample id, epoch) present in both runs
    rows_a = {(r.sample_id, r.epoch): r.score for r in results.page_samples(ctx.session, a, SampleFilter(), 0, 100)}
    rows_b = {(r.sample_id, r.epoch): r.score for r in results.page_samples(ctx.session, b, SampleFilter(), 0, 100)}
    shared = {k for k in rows_a.keys() & rows_b.keys() if rows_a[k] is not None and rows_b[k] is not None}
    assert len(shared) == 3  # ctf-1..3 epoch 1; epoch 2 exists only in the 2.0 run
    assert screen.deltas_proxy.rowCount() == len(shared)
    shown = {(screen.deltas_proxy.index(r, 0).data(), int(screen.deltas_proxy.index(r, 1).data()))
             for r in range(screen.deltas_proxy.rowCount())}
    assert shown == shared
    assert screen.delta_summary.text().startswith("3 samples scored in both runs")


def test_deltas_counted_in_metric_direction(screen: CompareScreen) -> None:
    screen.select_benchmark("CTIBench")
    lines = {ln.who: ln.run_id for ln in screen.lines}
    screen.set_pair(lines["Acme Falcon 1.0"], lines["Acme Falcon 2.0"])
    assert screen.delta_summary.text() == ("4 samples scored in both runs: 1 better in B, 1 worse, 2 unchanged "
                                           "(higher score is better).")
    screen.changed_only.setChecked(True)
    assert screen.deltas_proxy.rowCount() == 2
    colours = {screen.deltas_proxy.index(r, 0).data(): screen.deltas_proxy.index(r, 4).data(
        Qt.ItemDataRole.ForegroundRole) for r in range(2)}
    assert colours == {"s2": BETTER, "s3": WORSE}
    # switch to the lower-is-better metric: values, chart and the meaning of a delta follow
    screen.metric_combo.setCurrentText("mean_absolute_deviation")
    assert screen.direction() == Direction.LOWER
    assert screen.direction_label.text() == "↓ lower is better"
    assert _column(screen, "Value ± stderr") == ["1.800 ± 0.050", "1.200 ± 0.050"]
    data = screen.chart.data()
    assert data is not None and data.series[0].values == pytest.approx((1.8, 1.2))
    assert data.direction == Direction.LOWER
    assert "1 better in B, 1 worse" in screen.delta_summary.text()  # s3 went 1 -> 0: better when lower is better
    colours = {screen.deltas_proxy.index(r, 0).data(): screen.deltas_proxy.index(r, 4).data(
        Qt.ItemDataRole.ForegroundRole) for r in range(2)}
    assert colours == {"s2": WORSE, "s3": BETTER}


def test_empty_workstation_shows_hint(make_ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    screen = CompareScreen(make_ctx("auditor"))
    qtbot.addWidget(screen)
    screen.refresh()
    assert screen.benchmark_combo.count() == 0
    assert not screen.empty.isHidden() and screen.main_area.isHidden()


def test_comparison_loads_off_the_gui_thread_and_last_choice_wins(screen: CompareScreen, ctx: UiContext,
                                                                   qtbot) -> None:  # type: ignore[no-untyped-def]
    from ui.jobs import JobRunner

    ctx.jobs = JobRunner(synchronous=False, slow_ms=60_000)
    screen.benchmark_combo.setCurrentText("InterCode-CTF")
    screen.benchmark_combo.setCurrentText("CTIBench")  # changed again before the first load finished
    assert screen.loading
    qtbot.waitUntil(lambda: not screen.loading and not ctx.jobs.active, timeout=30_000)  # a loaded CI machine
    assert screen.comparison is not None and screen.comparison.benchmark == "CTIBench"
    assert {ln.run.task for ln in screen.lines} == {"cti_bench_vsp"}


def test_chart_paints_bars_lines_and_empty_state(screen: CompareScreen) -> None:
    from PySide6.QtGui import QColor

    from ui.widgets.chart import PALETTE

    def colours(img) -> set[str]:  # type: ignore[no-untyped-def]
        return {QColor(img.pixel(x, y)).name() for x in range(0, img.width(), 3) for y in range(0, img.height(), 3)}

    screen.select_benchmark("InterCode-CTF")
    bars = screen.chart.render_image(640, 360)
    assert PALETTE[0].lower() in colours(bars)  # the Acme bars are painted in the first colour
    screen.chart_combo.setCurrentIndex(1)
    lines = screen.chart.render_image(640, 360)
    assert PALETTE[0].lower() in colours(lines)
    screen.chart.set_data(None)
    empty = screen.chart.render_image(320, 200)
    assert colours(empty) - {"#ffffff"}  # the "No results to chart" text
    assert screen.chart.describe() == "No data"
