"""Benchmark chart: a horizontal bar chart of scores on a 0-1 scale (fonts embedded, deterministic)."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from app.model.report import BenchmarkRow
from reports.pdf_markings import FONT

MAX_BARS = 24
BAR_COLOUR = colors.HexColor("#1f4e79")


def chartable(rows: Sequence[BenchmarkRow]) -> list[BenchmarkRow]:
    """Rows whose value is a proportion (accuracy, solve rate...): comparable on one axis."""
    return [r for r in rows if r.value is not None and 0.0 <= r.value <= 1.0][:MAX_BARS]


def bar_chart(rows: Sequence[BenchmarkRow], width: float) -> Drawing | None:
    data = chartable(rows)
    if not data:
        return None
    bar_h = 14
    label_w = min(220.0, width * 0.42)
    height = len(data) * bar_h + 40
    d = Drawing(width, height)
    d.initialFontName = FONT  # otherwise the renderer selects Helvetica, which is not embedded
    chart = HorizontalBarChart()
    chart.x = label_w
    chart.y = 24
    chart.width = width - label_w - 20
    chart.height = len(data) * bar_h
    # reportlab draws the first category at the bottom: reverse so the table order reads top-down.
    ordered = list(reversed(data))
    chart.data = [[float(r.value or 0.0) for r in ordered]]
    chart.categoryAxis.categoryNames = [f"{r.task} · {r.metric}"[:48] for r in ordered]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.valueMin = 0.0
    chart.valueAxis.valueMax = 1.0
    chart.valueAxis.valueStep = 0.2
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%.1f"
    chart.bars[0].fillColor = BAR_COLOUR
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    d.add(chart)
    d.add(String(label_w + chart.width / 2, 4, "score (0-1; see table for direction)", fontName=FONT, fontSize=7,
                 textAnchor="middle"))
    return d
