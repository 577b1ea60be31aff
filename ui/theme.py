"""A clean, sober look: neutral greys, one accent, readable sizes. Colour carries meaning only in
banners and review-clock states."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.model.submissions import WindowState

ACCENT = "#1f4e79"
SIGNATURE_BROKEN = ("#ffebe9", "#a40e26")  # a record that does not hold its signature: background, text
# Review-clock states: the only place colour carries meaning besides the banners.
STATE_COLOURS = {
    WindowState.OVERDUE: "#b00020",
    WindowState.AT_RISK: "#b35c00",
    WindowState.ON_TRACK: "#1b6e2b",
    WindowState.DONE: "#555555",
}

STYLESHEET = f"""
QWidget {{ font-size: 13px; color: #1d1f21; }}
QMainWindow, QDialog, QWizard, QWidget#signInWindow {{ background: #f4f5f7; }}
QLabel#pageTitle {{ font-size: 19px; font-weight: 600; color: #14202e; }}
QLabel#sectionTitle {{ font-size: 14px; font-weight: 600; color: #14202e; margin-top: 6px; }}
QLabel#hint {{ color: #5b6470; }}
QLabel#recoveryKey {{ font-family: "DejaVu Sans Mono", monospace; font-size: 22px; background: #ffffff;
    border: 1px solid #c3c9d0; padding: 14px; letter-spacing: 1px; }}
QLabel#errorText {{ color: #b00020; }}
QLabel#okText {{ color: #1b6e2b; }}
QLabel#warningText {{ color: #8a5300; }}
QFrame#card {{ background: #ffffff; border: 1px solid #d8dce1; border-radius: 6px; padding: 10px; }}
QListWidget#nav {{ background: #1f2a36; color: #e6e9ed; border: none; padding-top: 8px; font-size: 14px;
    outline: 0; }}
QListWidget#nav::item {{ padding: 8px 14px; color: #e6e9ed; }}
QListWidget#nav::item:selected {{ background: {ACCENT}; color: #ffffff; }}
QListWidget#nav::item:hover:!selected {{ background: #2c3a4a; }}
QWidget#statusRow {{ background: #e6e8eb; border-top: 1px solid #d0d4d9; }}
QWidget#statusRow QLabel {{ color: #3b4450; font-size: 12px; }}
QStackedWidget#screenStack > QWidget {{ background: #f4f5f7; }}
QTableView, QTreeView, QListView {{ background: #ffffff; alternate-background-color: #f7f8fa;
    gridline-color: #e3e6ea; border: 1px solid #d8dce1; selection-background-color: #cfe0f1;
    selection-color: #111111; }}
QHeaderView::section {{ background: #eceef1; border: none; border-right: 1px solid #d8dce1;
    border-bottom: 1px solid #d8dce1; padding: 4px 6px; font-weight: 600; }}
QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QSpinBox, QDateEdit, QDoubleSpinBox {{
    background: #ffffff; border: 1px solid #c3c9d0; border-radius: 4px; padding: 4px 6px; }}
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QDateEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit[readOnlyField="true"], QPlainTextEdit[readOnlyField="true"] {{ background: #f0f1f3; color: #3b4450;
    border: 1px solid #d8dce1; }}
QComboBox:disabled, QDateEdit:disabled, QSpinBox:disabled {{ background: #f0f1f3; color: #5b6470; }}
QLineEdit[invalid="true"], QDateEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 1px solid #b00020; }}
QPushButton {{ background: #ffffff; border: 1px solid #b9c0c8; border-radius: 4px; padding: 5px 14px; }}
QPushButton:hover {{ background: #eef2f6; }}
QPushButton:default, QPushButton#primary {{ background: {ACCENT}; color: #ffffff; border: 1px solid {ACCENT}; }}
QPushButton:disabled {{ color: #9aa1a9; background: #f0f1f3; }}
QTabWidget::pane {{ border: 1px solid #d8dce1; background: #ffffff; top: -1px; }}
QTabBar::tab {{ background: #e9ecef; border: 1px solid #d8dce1; padding: 6px 14px; margin-right: 2px; }}
QTabBar::tab:selected {{ background: #ffffff; border-bottom-color: #ffffff; }}
QGroupBox {{ border: 1px solid #d8dce1; border-radius: 6px; margin-top: 14px; padding: 8px;
    background: #ffffff; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; font-weight: 600; }}
QMenuBar {{ background: #e6e8eb; }}
"""


# -- named styles of single widgets ---------------------------------------------------------------
# The style sheet above styles whole classes; these are the few looks one widget takes on (a hint,
# an error line, a notice box), named by role so every screen spells them the same way.
MUTED = "color: #57606a;"
MUTED_NOTE = "color: #57606a; padding: 0 2px;"
EMPTY_STATE = "color: #57606a; padding: 40px;"
NEUTRAL_TEXT = "color: #3b4450;"
OK_TEXT = "color: #1b6e2b;"
OK_STRONG = "color: #1b6e2b; font-weight: 600;"
ERROR_TEXT = "color: #b00020;"
ERROR_STRONG = "color: #b00020; font-weight: 600;"
WARNING_TEXT = "color: #8a5300;"
WARNING_STRONG = "color: #8a5300; font-weight: 600;"
CAUTION_TEXT = "color: #9a6700;"
CAUTION_STRONG = "color: #9a6700; font-weight: 600;"
DANGER_TEXT = "color: #cf222e;"
DANGER_STRONG = "color: #cf222e; font-weight: bold;"
RETURNED_TEXT = "color: #9b1c1c;"  # a lead's return, on the narrative
INVALID_TEXT = "color: #a40e26;"
INVALID_STRONG = "color: #a40e26; font-weight: 600;"
STRONG = "font-weight: 600;"
NEXT_STEP = "color: #0b3d91; font-weight: 600;"
ITEM_HEADING = "font-size: 15px; font-weight: 600;"
REGISTER_TITLE = "font-size: 16px; font-weight: 600;"
GUIDANCE_BOX = "color: #24292f; background: #f6f8fa; padding: 8px;"
NOTICE_BOX = "background: #fff4d6; border: 1px solid #e0b34a; padding: 8px; color: #5a4300;"
FLAG_BOX = "background: #fff8c5; color: #9a6700; padding: 6px; font-weight: 600;"
WARNING_BOX = "background: #fff8c5; color: #4d2d00; padding: 6px; border-radius: 3px;"
MARKING_REFUSED = "background: #fff3cd; color: #7a0000; font-weight: 600;"


def ok_or_error(ok: bool) -> str:
    return OK_TEXT if ok else ERROR_TEXT


def coloured(colour: str, weight: int | str = 600) -> str:
    """Text in a colour that carries meaning (review clock, verdict, overdue)."""
    return f"color: {colour}; font-weight: {weight};"


def coloured_note(colour: str) -> str:
    return f"color: {colour}; padding: 0 2px;"


def badge(background: str, foreground: str) -> str:
    """A coloured chip (CVSS severity, marking preview)."""
    return f"background: {background}; color: {foreground}; font-weight: 600; border-radius: 3px;"


def big_figure(colour: str) -> str:
    """The number on a dashboard card."""
    return f"font-size: 26px; font-weight: 700; color: {colour};"


def banner(background: str, foreground: str) -> str:
    """A classification banner line (colours from app.model.markings by level)."""
    return (f"QLabel#classificationBanner {{ background: {background}; color: {foreground}; font-weight: bold;"
            " letter-spacing: 1px; font-size: 12px; }")


OVERDUE_CARD = "QFrame#overdueReceipts { background: #fdecee; border: 1px solid #e3a1aa; }"


def apply(app: QApplication) -> None:
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    font = QFont()
    font.setFamilies(["Noto Sans", "DejaVu Sans", "Segoe UI", "Helvetica Neue", "Arial"])
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
