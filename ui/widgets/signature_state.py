"""Whether a record holds its last editor's signature, and "Sign as reviewed…" when it does not
(app/services/record_signatures.py): on the vulnerability editor and a submission's page."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.model.errors import FrontierError
from app.services.record_signatures import Standing
from ui import theme
from ui.context import UiContext


class SignatureState(QWidget):
    """`sign` signs the record as it stands (after the person confirms; it is given the standing shown)
    and returns its new standing;
    `quiet`: show nothing while the record holds (a page header), instead of who signed it."""

    signed = Signal()

    def __init__(self, ctx: UiContext, standing: Standing, what: str, consequence: str, allowed: bool,
                 sign: Callable[[Standing], Standing], quiet: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.what, self.consequence, self.sign_now, self.quiet = ctx, what, consequence, sign, quiet
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("signatureState")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.button = QPushButton("Sign as reviewed…")
        self.button.setObjectName("signReviewed")
        self.button.setToolTip(f"Sign {what} as it stands now, after reviewing every field (audited)")
        self.button.setEnabled(allowed)
        self.button.clicked.connect(self.sign_reviewed)
        row.addWidget(self.label, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignTop)
        self.show_standing(standing)

    def show_standing(self, st: Standing) -> None:
        self.standing = st
        if st.holds:
            self.label.setText(f"Holds: {st.describe().removeprefix('holds: ')}")
            self.label.setStyleSheet(theme.OK_TEXT)
        else:
            signed = st.signed_lines(80)
            self.label.setText(f"DOES NOT HOLD its signature: {st.problem}. {self.consequence}"
                               + ("\nAs signed: " + "; ".join(signed) if signed else ""))
            self.label.setStyleSheet(theme.INVALID_STRONG)
        self.button.setVisible(not st.holds)
        self.setVisible(not (self.quiet and st.holds))

    @Slot()
    def sign_reviewed(self) -> bool:
        if not self.ctx.confirm(self, "Sign as reviewed",
                                f"Sign {self.what} as it is stored now? Your signature says you reviewed every "
                                "field; what was wrong is kept in the audit trail."):
            return False
        try:
            st = self.sign_now(self.standing)  # what the person was shown: refused if it changed since
        except FrontierError as exc:
            self.ctx.show_error(self, exc)
            return False
        self.show_standing(st)
        self.signed.emit()
        self.ctx.events.status_message.emit(f"Signed {self.what} as reviewed")
        return st.holds
