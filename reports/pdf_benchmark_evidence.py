"""Report content for a submission's benchmark evidence (issue 17), as flowables the report layout
places where it wants: intervals and conformance deviations per run, the evaluation plan, and one
capability-trend chart per planned benchmark with the submission's position. Every portion carries
the section's computed marking (app.model.benchmark_evidence)."""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.platypus import Flowable, Table, TableStyle

from app.model.benchmark_evidence import BenchmarkEvidence
from app.model.results import Direction
from app.model.trend import Trend
from reports.pdf_markings import FONT, Styles, marked

POINT = colors.HexColor("#0072B2")
FRONTIER = colors.HexColor("#E69F00")
GRID = colors.HexColor("#d0d5dd")


def trend_drawing(t: Trend, width: float, height: float = 170.0, highlight: int | None = None) -> Drawing | None:
    """Every reviewed model over time (95% interval whiskers where known) and the frontier step line;
    `highlight`: the submission whose point is drawn larger."""
    if not t.points:
        return None
    d = Drawing(width, height)
    d.initialFontName = FONT  # the default would be Helvetica, which is not embedded
    left, right, bottom, top = 34.0, 10.0, 30.0, 14.0
    pw, ph = width - left - right, height - bottom - top
    values = [p.value for p in t.points] + [v for p in t.points for v in (p.low, p.high) if v is not None]
    lo, hi = min(0.0, *values), max(1.0, *values)
    days = [p.when.toordinal() for p in t.points]
    d0, d1 = min(days), max(days)
    span = max(1, d1 - d0)

    def x(day: int) -> float:
        return left + (pw * (day - d0) / span if d1 > d0 else pw / 2)

    def y(v: float) -> float:
        return bottom + ph * (v - lo) / (hi - lo)

    for k in range(6):
        v = lo + (hi - lo) * k / 5
        d.add(Line(left, y(v), left + pw, y(v), strokeColor=GRID, strokeWidth=0.4))
        d.add(String(left - 3, y(v) - 2.5, f"{v:.1f}", fontName=FONT, fontSize=6.5, textAnchor="end"))
    # frontier: a step line through the running best
    steps: list[float] = []
    for p, best in zip(t.points, t.frontier_at(), strict=True):
        if steps:
            steps += [x(p.when.toordinal()), steps[-1]]
        steps += [x(p.when.toordinal()), y(best)]
    steps += [left + pw, steps[-1]]
    d.add(PolyLine(steps, strokeColor=FRONTIER, strokeWidth=1.4))
    for p in t.points:
        px = x(p.when.toordinal())
        if p.low is not None and p.high is not None:
            d.add(Line(px, y(p.low), px, y(p.high), strokeColor=POINT, strokeWidth=0.6))
        big = p.submission_id == highlight
        d.add(Circle(px, y(p.value), 3.2 if big else 2.0, fillColor=colors.black if big else POINT,
                     strokeColor=None))
    d.add(String(left, 6, t.points[0].when.isoformat(), fontName=FONT, fontSize=6.5))
    d.add(String(left + pw, 6, t.points[-1].when.isoformat(), fontName=FONT, fontSize=6.5, textAnchor="end"))
    better = "lower is more capable" if t.direction is Direction.LOWER else "higher is more capable"
    d.add(String(left + pw / 2, 17, f"{t.metric} ({better}); dots: reviewed models with 95% CI; orange: frontier",
                 fontName=FONT, fontSize=6.5, textAnchor="middle"))
    return d


def flowables(ev: BenchmarkEvidence, st: Styles, width: float) -> list[Flowable]:
    """The section body: plan, per-run intervals and conformance, trend charts with the position."""
    m = ev.marking
    out: list[Flowable] = [
        marked(m, "Benchmark evidence: intervals, conformance and capability trend", st.h2),
        marked(m, f"Evaluation plan: {ev.plan_progress}.", st.body),
    ]
    out += [marked(m, line, st.bullet) for line in ev.plan]
    rows: list[list[Flowable]] = [[marked(m, "Run", st.cell_bold), marked(m, "Mean per-sample score", st.cell_bold),
                                   marked(m, "Conformance", st.cell_bold)]]
    flagged = []
    for r in ev.runs:
        conf = r.conformance + ("" if not r.deviations else " — " + "; ".join(r.deviations))
        rows.append([marked(m, f"run {r.run_id}: {r.benchmark} ({r.task})", st.cell), marked(m, r.interval, st.cell),
                     marked(m, conf, st.cell)])
        if r.conforming is False:
            flagged.append(len(rows) - 1)
    if ev.runs:
        table = Table(rows, colWidths=[width * 0.25, width * 0.4, width * 0.35], repeatRows=1)
        style = [("GRID", (0, 0), (-1, -1), 0.4, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5"))]
        style += [("BACKGROUND", (2, i), (2, i), colors.HexColor("#fff4e5")) for i in flagged]
        table.setStyle(TableStyle(style))
        out.append(table)
    else:
        out.append(marked(m, "No evaluation runs imported.", st.body))
    for t, pos in zip(ev.trends, ev.positions, strict=True):
        out.append(marked(m, f"Capability trend: {t.benchmark}", st.caption))
        drawing = trend_drawing(t, width, highlight=ev.submission_id)
        if drawing is not None:
            out.append(drawing)
        out += [marked(m, line, st.small) for line in pos]
    return out
