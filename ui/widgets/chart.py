"""A small QPainter chart: grouped bars (runs side by side) and lines over versions.

QtCharts is deliberately not a dependency (it lives in PySide6-Addons); what reviewers need is a
readable comparison of a handful of runs, with error bars, axis labels, a legend and a note on
which direction of the metric is better. The data is plain Python so screens and tests build it
without Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QHelpEvent, QImage, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.model.results import Direction
from ui.widgets.transcript_view import plain_tooltip

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, prints well in grey.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


class ChartKind(StrEnum):
    BARS = "bars"  # categories on x, one bar per series within each category
    LINES = "lines"  # categories are ordered versions on x, one line per series


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # one per category; None = no data
    errors: tuple[float | None, ...] = ()  # stderr per category, drawn as whiskers

    def error(self, i: int) -> float | None:
        return self.errors[i] if i < len(self.errors) else None


@dataclass(frozen=True)
class ChartData:
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    kind: ChartKind = ChartKind.BARS
    x_label: str = ""
    y_label: str = ""
    direction: Direction = Direction.UNKNOWN
    notes: tuple[str, ...] = field(default=())
    # Bars of a single series can be coloured by group (e.g. one colour per model line); the
    # legend then lists the groups. One entry per category.
    groups: tuple[str, ...] = ()

    def legend(self) -> tuple[str, ...]:
        if self.grouped_bars:
            return tuple(dict.fromkeys(self.groups))
        return tuple(s.name for s in self.series)

    @property
    def grouped_bars(self) -> bool:
        return self.kind == ChartKind.BARS and len(self.series) == 1 and len(self.groups) == len(self.categories)

    @property
    def is_empty(self) -> bool:
        return not any(v is not None for s in self.series for v in s.values)

    def value_range(self) -> tuple[float, float]:
        """Axis range covering every value and its error bar; anchored at 0 when sensible."""
        lows: list[float] = []
        highs: list[float] = []
        for s in self.series:
            for i, v in enumerate(s.values):
                if v is None or not math.isfinite(v):
                    continue
                e = s.error(i) or 0.0
                e = e if math.isfinite(e) else 0.0
                lows.append(v - e)
                highs.append(v + e)
        if not lows:
            return 0.0, 1.0
        lo, hi = min(lows), max(highs)
        # Proportions (accuracy, solve rate) read best on a fixed 0..1 axis.
        if lo >= 0.0 and hi <= 1.0:
            return 0.0, 1.0
        lo = min(lo, 0.0)
        hi = max(hi, 0.0)
        if hi == lo:
            hi = lo + 1.0
        return lo, hi


def direction_note(direction: Direction) -> str:
    if direction == Direction.HIGHER:
        return "↑ higher is better"
    if direction == Direction.LOWER:
        return "↓ lower is better"
    return "direction of metric unknown"


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick positions (1, 2, 2.5, 5 x 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = mag
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw:
            step = m * mag
            break
    start = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-6:
        if t >= lo - step * 1e-6:
            ticks.append(round(t, 12))
        t += step
    return ticks


def format_value(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.3f}".rstrip("0").rstrip(".")


class ChartWidget(QWidget):
    """Draws a ChartData. Hovering a bar or point shows its exact value and stderr."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: ChartData | None = None
        self._hits: list[tuple[QRectF, str]] = []
        self.setMinimumSize(360, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setAccessibleName("Chart")

    # -- data ----------------------------------------------------------------------------------
    def set_data(self, data: ChartData | None) -> None:
        self._data = data
        self.setAccessibleDescription(self.describe())
        self.update()

    def data(self) -> ChartData | None:
        return self._data

    def describe(self) -> str:
        """Text equivalent of the chart (accessibility, tests, copy to clipboard)."""
        d = self._data
        if d is None or d.is_empty:
            return "No data"
        lines = [d.title, direction_note(d.direction)]
        for s in d.series:
            parts = []
            for i, c in enumerate(d.categories):
                v = s.values[i] if i < len(s.values) else None
                if v is None:
                    continue
                e = s.error(i)
                parts.append(f"{c}: {format_value(v)}" + (f" ± {format_value(e)}" if e else ""))
            lines.append(f"{s.name}: " + "; ".join(parts))
        return "\n".join(lines)

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    # -- output --------------------------------------------------------------------------------
    def render_image(self, width: int, height: int) -> QImage:
        """Render off-screen at a given size (screenshots, export to a report)."""
        img = QImage(width, height, QImage.Format.Format_ARGB32)
        img.fill(QColor("white"))
        p = QPainter(img)
        try:
            self._paint(p, QRectF(0, 0, width, height))
        finally:
            p.end()
        return img

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("white"))
            self._paint(p, QRectF(self.rect()))
        finally:
            p.end()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            pos = QPointF(e.pos())
            for rect, text in self._hits:
                if rect.contains(pos):
                    # names come from logs and submissions: never let a tooltip render them as markup
                    QToolTip.showText(e.globalPos(), plain_tooltip(text), self)
                    return True
            QToolTip.hideText()
            e.ignore()
            return True
        return super().event(e)

    # -- painting ------------------------------------------------------------------------------
    def _paint(self, p: QPainter, area: QRectF) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._hits = []
        d = self._data
        base = QFont(self.font())
        base.setPointSizeF(max(base.pointSizeF(), 9.0))
        title_font = QFont(base)
        title_font.setBold(True)
        title_font.setPointSizeF(base.pointSizeF() * 1.15)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.9)
        fm = QFontMetricsF(base)
        fm_small = QFontMetricsF(small)
        line_h = fm.height()

        pad = 12.0
        top = area.top() + pad
        text_pen = QColor("#1f2328")
        muted = QColor("#57606a")
        if d is None or d.is_empty:
            p.setFont(base)
            p.setPen(muted)
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "No results to chart")
            return

        # Title and direction note.
        p.setFont(title_font)
        p.setPen(text_pen)
        title_h = QFontMetricsF(title_font).height()
        p.drawText(QRectF(area.left() + pad, top, area.width() - 2 * pad, title_h),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, d.title)
        top += title_h + 2
        p.setFont(small)
        p.setPen(muted)
        note = direction_note(d.direction)
        if d.notes:
            note += "   ·   " + "   ·   ".join(d.notes)
        p.drawText(QRectF(area.left() + pad, top, area.width() - 2 * pad, fm_small.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, note)
        top += fm_small.height() + 6

        # Legend: wraps across lines under the title.
        legend_rows = self._layout_legend(d, fm_small, area.width() - 2 * pad)
        p.setFont(small)
        for row in legend_rows:
            x = area.left() + pad
            for idx, name, w in row:
                color = QColor(PALETTE[idx % len(PALETTE)])
                sw = fm_small.height() * 0.7
                p.fillRect(QRectF(x, top + (fm_small.height() - sw) / 2, sw, sw), color)
                p.setPen(text_pen)
                p.drawText(QRectF(x + sw + 4, top, w, fm_small.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
                x += sw + 4 + w + 16
            top += fm_small.height() + 2
        top += 6

        lo, hi = d.value_range()
        ticks = nice_ticks(lo, hi)
        if ticks:
            lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
        tick_w = max(fm_small.horizontalAdvance(format_value(t)) for t in ticks) if ticks else 20.0
        y_label_w = line_h + 4 if d.y_label else 0.0
        left = area.left() + pad + y_label_w + tick_w + 8
        right = area.right() - pad
        x_label_h = line_h + 4 if d.x_label else 0.0
        cat_label_h = self._category_label_height(d, fm_small, (right - left))
        bottom = area.bottom() - pad - x_label_h - cat_label_h
        top += line_h / 2  # room for the top tick label and value labels above the tallest bar
        plot = QRectF(left, top, max(right - left, 10.0), max(bottom - top, 10.0))

        def y_of(v: float) -> float:
            return plot.bottom() - (v - lo) / (hi - lo) * plot.height()

        # Grid and y ticks.
        p.setFont(small)
        for t in ticks:
            y = y_of(t)
            p.setPen(QPen(QColor("#d0d7de"), 1, Qt.PenStyle.SolidLine if t == 0 else Qt.PenStyle.DotLine))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(muted)
            p.drawText(QRectF(plot.left() - tick_w - 8, y - line_h / 2, tick_w + 4, line_h),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, format_value(t))
        p.setPen(QPen(QColor("#8c959f"), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.topLeft(), plot.bottomLeft())

        # Axis titles.
        p.setFont(base)
        p.setPen(text_pen)
        if d.y_label:
            p.save()
            p.translate(area.left() + pad + line_h / 2 + 1, plot.center().y())
            p.rotate(-90)
            p.drawText(QRectF(-plot.height() / 2, -line_h / 2, plot.height(), line_h),
                       Qt.AlignmentFlag.AlignCenter, d.y_label)
            p.restore()
        if d.x_label:
            p.drawText(QRectF(plot.left(), area.bottom() - pad - line_h, plot.width(), line_h),
                       Qt.AlignmentFlag.AlignCenter, d.x_label)

        n = max(len(d.categories), 1)
        slot = plot.width() / n
        p.setFont(small)
        for i, c in enumerate(d.categories):
            p.setPen(text_pen)
            r = QRectF(plot.left() + i * slot + 2, plot.bottom() + 4, slot - 4, cat_label_h)
            p.drawText(r, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                       self._elide(c, fm_small, slot - 4, cat_label_h))

        if d.kind == ChartKind.BARS:
            self._paint_bars(p, d, plot, slot, y_of, lo)
        else:
            self._paint_lines(p, d, plot, slot, y_of)

    def _paint_bars(self, p: QPainter, d: ChartData, plot: QRectF, slot: float, y_of: object, lo: float) -> None:
        assert callable(y_of)
        k = max(len(d.series), 1)
        group_w = slot * 0.78
        bar_w = group_w / k
        base_v = 0.0 if lo <= 0.0 else lo
        group_index = {g: n for n, g in enumerate(d.legend())} if d.grouped_bars else {}
        for i, c in enumerate(d.categories):
            gx = plot.left() + i * slot + (slot - group_w) / 2
            for si, s in enumerate(d.series):
                v = s.values[i] if i < len(s.values) else None
                if v is None or not math.isfinite(v):
                    continue
                ci = group_index[d.groups[i]] if group_index else si
                color = QColor(PALETTE[ci % len(PALETTE)])
                x = gx + si * bar_w
                y0, y1 = y_of(base_v), y_of(v)
                rect = QRectF(x + 1, min(y0, y1), max(bar_w - 2, 1.0), max(abs(y0 - y1), 1.0))
                p.fillRect(rect, color)
                e = s.error(i)
                label = format_value(v)
                fm = QFontMetricsF(p.font())
                if fm.horizontalAdvance(label) + 4 <= bar_w and not e:
                    p.setPen(QColor("#1f2328"))
                    p.drawText(QRectF(x, rect.top() - fm.height() - 1, bar_w, fm.height()),
                               Qt.AlignmentFlag.AlignCenter, label)
                tip = f"{s.name} — {c}: {format_value(v)}" + (f" ± {format_value(e)}" if e else "")
                self._hits.append((rect.adjusted(-2, -6, 2, 6), tip))
                if e and math.isfinite(e) and e > 0:
                    cx = x + bar_w / 2
                    p.setPen(QPen(QColor("#24292f"), 1.2))
                    ya, yb = y_of(v - e), y_of(v + e)
                    p.drawLine(QPointF(cx, ya), QPointF(cx, yb))
                    cap = min(bar_w / 4, 6.0)
                    p.drawLine(QPointF(cx - cap, ya), QPointF(cx + cap, ya))
                    p.drawLine(QPointF(cx - cap, yb), QPointF(cx + cap, yb))

    def _paint_lines(self, p: QPainter, d: ChartData, plot: QRectF, slot: float, y_of: object) -> None:
        assert callable(y_of)
        for si, s in enumerate(d.series):
            color = QColor(PALETTE[si % len(PALETTE)])
            path = QPainterPath()
            started = False
            points: list[tuple[QPointF, int]] = []
            for i, v in enumerate(s.values):
                if v is None or not math.isfinite(v):
                    started = False  # a gap: missing version for this series
                    continue
                pt = QPointF(plot.left() + (i + 0.5) * slot, y_of(v))
                if started:
                    path.lineTo(pt)
                else:
                    path.moveTo(pt)
                    started = True
                points.append((pt, i))
            p.setPen(QPen(color, 2.2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            for pt, i in points:
                v = s.values[i]
                assert v is not None
                e = s.error(i)
                if e and math.isfinite(e) and e > 0:
                    p.setPen(QPen(color, 1.0))
                    p.drawLine(QPointF(pt.x(), y_of(v - e)), QPointF(pt.x(), y_of(v + e)))
                p.setPen(QPen(QColor("white"), 1.5))
                p.setBrush(color)
                p.drawEllipse(pt, 4.5, 4.5)
                tip = f"{s.name} — {d.categories[i]}: {format_value(v)}" + (f" ± {format_value(e)}" if e else "")
                self._hits.append((QRectF(pt.x() - 7, pt.y() - 7, 14, 14), tip))
            p.setBrush(Qt.BrushStyle.NoBrush)

    # -- layout helpers ------------------------------------------------------------------------
    @staticmethod
    def _layout_legend(d: ChartData, fm: QFontMetricsF, width: float) -> list[list[tuple[int, str, float]]]:
        rows: list[list[tuple[int, str, float]]] = [[]]
        x = 0.0
        for i, name in enumerate(d.legend()):
            w = min(fm.horizontalAdvance(name), width * 0.6)
            item_w = fm.height() * 0.7 + 4 + w + 16
            if rows[-1] and x + item_w > width:
                rows.append([])
                x = 0.0
            rows[-1].append((i, fm.elidedText(name, Qt.TextElideMode.ElideRight, w), w))
            x += item_w
        return [r for r in rows if r]

    @staticmethod
    def _category_label_height(d: ChartData, fm: QFontMetricsF, width: float) -> float:
        slot = width / max(len(d.categories), 1)
        widest = max((fm.horizontalAdvance(c) for c in d.categories), default=0.0)
        lines = min(3, max(1, math.ceil(widest * 1.15 / max(slot - 4, 1.0))))
        return fm.height() * lines + 6

    @staticmethod
    def _elide(text: str, fm: QFontMetricsF, width: float, height: float) -> str:
        lines = max(int(height // fm.height()), 1)
        if fm.horizontalAdvance(text) <= width * lines:
            return text
        return fm.elidedText(text, Qt.TextElideMode.ElideRight, width * lines - fm.averageCharWidth())
