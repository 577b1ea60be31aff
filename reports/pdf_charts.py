"""Benchmark chart: horizontal bars on a 0-1 scale, one per distinct run, with 95% intervals
where a standard error exists. Drawn from shapes (fonts embedded, deterministic)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from app.model.report import BenchmarkRow
from reports.pdf_markings import FONT

MAX_BARS = 24
BAR_COLOUR = colors.HexColor("#1f4e79")
FLAG_COLOUR = colors.HexColor("#b7791f")
LABEL_SIZE = 7.0
Z95 = 1.96


@dataclass(frozen=True)
class Bar:
    row: BenchmarkRow
    label: str
    runs: int = 1  # identical results from several imports share one bar


def _key(r: BenchmarkRow) -> tuple[object, ...]:
    return (r.benchmark, r.task, r.task_version, r.metric, r.reducer, r.value, r.stderr, r.samples, r.epochs,
            r.submission_label)


def distinct_bars(rows: Sequence[BenchmarkRow]) -> list[Bar]:
    """One bar per distinct run: identical results (the same run imported twice) share a bar; bars
    that would carry the same label are told apart by submission, version, epochs, reducer, run."""
    chartable = [r for r in rows if r.value is not None and 0.0 <= r.value <= 1.0]
    groups: dict[tuple[object, ...], list[BenchmarkRow]] = {}
    for r in chartable:
        groups.setdefault(_key(r), []).append(r)
    firsts = [g[0] for g in groups.values()]
    base = [f"{r.benchmark} · {r.metric}" for r in firsts]
    labels = list(base)
    for extra in (lambda r: r.submission_label, lambda r: f"v{r.task_version}" if r.task_version else "",
                  lambda r: f"{r.epochs} epochs" if r.epochs > 1 else "", lambda r: r.reducer, lambda r: r.run_ref):
        dupes = {lab for lab in labels if labels.count(lab) > 1}
        if not dupes:
            break
        labels = [f"{lab} · {extra(r)}" if lab in dupes and extra(r) else lab for lab, r in zip(labels, firsts,
                                                                                              strict=True)]
    out = [Bar(r, lab + (f" ({len(groups[_key(r)])} runs)" if len(groups[_key(r)]) > 1 else ""),
               len(groups[_key(r)])) for r, lab in zip(firsts, labels, strict=True)]
    return out[:MAX_BARS]


def _fit(label: str, width: float) -> str:
    if stringWidth(label, FONT, LABEL_SIZE) <= width:
        return label
    while label and stringWidth(label + "…", FONT, LABEL_SIZE) > width:
        label = label[:-1]
    return label + "…"


def bar_chart(bars: Sequence[Bar], width: float) -> Drawing | None:
    if not bars:
        return None
    bar_h, gap = 10.0, 5.0
    label_w = min(240.0, width * 0.45)
    plot_x, plot_w = label_w + 6, width - label_w - 40
    top = 8.0
    height = top + len(bars) * (bar_h + gap) + 30
    d = Drawing(width, height)
    d.initialFontName = FONT  # otherwise the renderer selects Helvetica, which is not embedded
    axis_y = 24.0
    for k in range(6):
        x = plot_x + plot_w * k / 5
        d.add(Line(x, axis_y, x, height - top, strokeColor=colors.HexColor("#d0d5dd"), strokeWidth=0.4))
        d.add(String(x, axis_y - 9, f"{k / 5:.1f}", fontName=FONT, fontSize=7, textAnchor="middle"))
    for i, bar in enumerate(bars):
        r = bar.row
        y = height - top - (i + 1) * (bar_h + gap) + gap / 2
        value = float(r.value or 0.0)
        fill = FLAG_COLOUR if r.flagged else BAR_COLOUR
        d.add(Rect(plot_x, y, plot_w * value, bar_h, fillColor=fill, strokeColor=None))
        d.add(String(label_w, y + 2.5, _fit(bar.label, label_w - 4), fontName=FONT, fontSize=LABEL_SIZE,
                     textAnchor="end"))
        hi = value
        if r.stderr is not None and r.stderr > 0:
            lo, hi = max(0.0, value - Z95 * r.stderr), min(1.0, value + Z95 * r.stderr)
            mid = y + bar_h / 2
            for x0, y0, x1, y1 in ((lo, mid, hi, mid), (lo, mid - 3, lo, mid + 3), (hi, mid - 3, hi, mid + 3)):
                d.add(Line(plot_x + plot_w * x0, y0, plot_x + plot_w * x1, y1, strokeColor=colors.black,
                           strokeWidth=0.7))
        d.add(String(plot_x + plot_w * hi + 4, y + 2.5, f"{value:.2f}", fontName=FONT, fontSize=6.5))
    d.add(String(plot_x + plot_w / 2, 4, "score (0-1; see the table for each metric's direction)", fontName=FONT,
                 fontSize=7, textAnchor="middle"))
    return d
