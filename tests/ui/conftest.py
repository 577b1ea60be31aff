"""UI test fixtures: a UiContext on the shared `workstation` fixture, synchronous jobs, and
recorded dialogs (errors, passphrase prompts, confirmations) so nothing modal blocks offscreen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtWidgets import QWidget

from app.services.session import Session
from ui.context import UiContext
from ui.jobs import JobRunner
from ui.unsaved import Choice


@dataclass
class DialogRecorder:
    errors: list[BaseException] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    passphrases: list[str | None] = field(default_factory=list)  # answers, consumed in order
    confirmations: list[str] = field(default_factory=list)
    confirm_answer: bool = True
    texts: list[str | None] = field(default_factory=list)  # answers for ask_text, consumed in order
    unsaved: list[str] = field(default_factory=list)  # titles of editors asked Save / Discard / Cancel
    unsaved_answer: Choice = Choice.CANCEL

    def error(self, _parent: QWidget | None, exc: BaseException) -> None:
        self.errors.append(exc)

    def passphrase(self, _parent: QWidget | None, reason: str) -> str | None:
        self.prompts.append(reason)
        return self.passphrases.pop(0) if self.passphrases else None

    def confirm(self, _parent: QWidget | None, title: str, _text: str, _ok: str) -> bool:
        self.confirmations.append(title)
        return self.confirm_answer

    def text(self, _parent: QWidget | None, _title: str, label: str) -> str | None:
        self.prompts.append(label)
        return self.texts.pop(0) if self.texts else None

    def unsaved_prompt(self, _parent: QWidget | None, what: str) -> Choice:
        self.unsaved.append(what)
        return self.unsaved_answer

    def error_text(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def ui_context(session: Session, dialogs: DialogRecorder) -> UiContext:
    """A UiContext on `session`: synchronous jobs, every dialog answered by the recorder."""
    return UiContext(
        session=session,
        jobs=JobRunner(synchronous=True),
        error_sink=dialogs.error,
        passphrase_prompt=dialogs.passphrase,
        confirmer=dialogs.confirm,
        text_prompt=dialogs.text,
        unsaved_prompt=dialogs.unsaved_prompt,
    )


@pytest.fixture(autouse=True)
def plain_text_guard(qapp) -> None:  # type: ignore[no-untyped-def]
    """As in the application (ui/app.py): labels plain text, tooltips escaped."""
    from ui import plain_text

    plain_text.install(qapp)


@pytest.fixture
def dialogs() -> DialogRecorder:
    return DialogRecorder()


@pytest.fixture
def make_ctx(workstation, qtbot, dialogs: DialogRecorder) -> Iterator[Callable[[str], UiContext]]:  # type: ignore[no-untyped-def]
    """make_ctx("admin") -> a UiContext signed in as that fixture account."""

    def build(name: str = "reviewer") -> UiContext:
        return ui_context(workstation.session(name), dialogs)

    yield build


@pytest.fixture
def ctx(make_ctx: Callable[[str], UiContext]) -> UiContext:
    return make_ctx("reviewer")
