"""Untrusted text is never interpreted as markup (issue 11 point 7): every label is plain text and
every tooltip (widget, item model, header) is shown escaped, across the real screens too."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTableView, QToolTip, QWidget

from app.model.submissions import Submission
from app.services import submissions
from ui.main_window import MainWindow
from ui.plain_text import plain_tooltip

# What an imported file name or model output might carry: an image Qt would load and scale.
HOSTILE = "report<img src='/dev/zero' width=90000 height=90000><b>bold</b>.eval"


def _tooltip_shown(widget: QWidget, pos: QPoint) -> str:
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text()


def test_widget_tooltip_is_shown_escaped(qtbot) -> None:  # type: ignore[no-untyped-def]
    button = QPushButton("Open")
    qtbot.addWidget(button)
    button.setToolTip(HOSTILE)
    button.show()
    shown = _tooltip_shown(button, QPoint(5, 5))
    assert shown == plain_tooltip(HOSTILE)
    assert "&lt;img src=" in shown and "<img" not in shown and "<b>" not in shown


def test_item_model_and_header_tooltips_are_shown_escaped(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = QStandardItemModel(1, 1)
    item = QStandardItem("file")
    item.setToolTip(HOSTILE)
    model.setItem(0, 0, item)
    header = QStandardItem("Path")
    header.setToolTip("<h1>" + HOSTILE + "</h1>")
    model.setHorizontalHeaderItem(0, header)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    qtbot.waitExposed(view)
    cell = view.visualRect(model.index(0, 0)).center()
    assert _tooltip_shown(view.viewport(), cell) == plain_tooltip(HOSTILE)
    head = view.horizontalHeader()
    shown = _tooltip_shown(head.viewport(), QPoint(head.sectionPosition(0) + 3, 3))
    assert "&lt;h1&gt;" in shown and "<h1>" not in shown


def test_labels_are_plain_text(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel(HOSTILE)
    qtbot.addWidget(label)
    label.show()
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == HOSTILE


def test_every_label_of_every_screen_is_plain_text(qtbot, make_ctx) -> None:  # type: ignore[no-untyped-def]
    ctx = make_ctx("reviewer")
    sid = submissions.create(ctx.session, Submission(developer=HOSTILE, model_name="<i>Falcon</i>", version="2",
                                                     received=date(2026, 11, 2),
                                                     planned_release=date(2026, 12, 1))).id
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    for key in list(w.specs):
        w.show_screen(key)
    w.open_submission(sid)
    labels = w.findChildren(QLabel)
    assert labels
    rich = [f"{type(lb).__name__} {lb.objectName()!r}: {lb.text()[:60]!r}" for lb in labels
            if lb.textFormat() != Qt.TextFormat.PlainText]
    assert not rich, rich
    assert any(HOSTILE in lb.text() or "<i>Falcon</i>" in lb.text() for lb in labels)
